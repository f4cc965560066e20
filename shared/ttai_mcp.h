
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_MCP_H_INCLUDED_
#define _TTAI_MCP_H_INCLUDED_


#include <stddef.h>
#include <time.h>

#include <jansson.h>


/*
 * The MCP core: JSON-RPC over the Streamable HTTP transport, without the
 * I/O.  The nginx shell checks the HTTP side (method, auth, headers,
 * body size), looks the session up, and hands the body here; the core
 * answers with the HTTP status and body to send, and tells the shell what
 * to change in the session.  A tool that needs TastyTrade data does not
 * fetch it: the reply carries the request it needs ("pending"), and the
 * shell calls ttai_mcp_resume() with the response.
 */

#define TTAI_MCP_LATEST_VERSION   "2025-11-25"
#define TTAI_MCP_BATCH_VERSION    "2025-03-26"

/* JSON-RPC and MCP error codes */
#define TTAI_MCP_PARSE_ERROR      -32700
#define TTAI_MCP_INVALID_REQUEST  -32600
#define TTAI_MCP_METHOD_NOT_FOUND -32601
#define TTAI_MCP_INVALID_PARAMS   -32602
#define TTAI_MCP_INTERNAL_ERROR   -32603
#define TTAI_MCP_TRANSPORT_ERROR  -32000
#define TTAI_MCP_SESSION_NOT_FOUND -32001
#define TTAI_MCP_RESOURCE_NOT_FOUND -32002

/* the largest clientInfo, as compact JSON, kept with a session */
#define TTAI_MCP_MAX_CLIENT_INFO  1024


typedef struct ttai_mcp_server_s   ttai_mcp_server_t;
typedef struct ttai_mcp_pending_s  ttai_mcp_pending_t;


/* what the shell knows about one POST /mcp */
typedef struct {
    /* the verified JWT's claims */
    const char          *sub;
    const char          *email;              /* NULL when absent */

    /* the MCP-Protocol-Version header, NULL when absent */
    const char          *protocol_header;

    /* the Mcp-Session-Id header, NULL when absent */
    const char          *session_id;

    /*
     * 1 when that id is unknown, ended, expired or another user's (the
     * shell looked it up); then the core answers 404
     */
    int                  session_unknown;

    /*
     * 1 for a one-shot call that carries neither Mcp-Session-Id nor
     * MCP-Protocol-Version, as a plain curl does: it is answered without
     * a session instead of with 400, since no MCP client past initialize
     * omits both
     */
    int                  stateless;

    /* the session as stored, when it was found */
    const char          *session_version;    /* negotiated at initialize */
    const char          *session_client;     /* clientInfo JSON text */
    const char          *session_log_level;
    time_t               session_created;
} ttai_mcp_call_t;


typedef struct {
    int                  status;       /* HTTP: 200, 202, 400, 404 */
    char                *body;         /* JSON text, NULL for no body */
    size_t               len;

    /* initialize succeeded: the shell makes a session with these */
    int                  new_session;
    char                 version[16];  /* the negotiated version */
    char                *client_info;  /* JSON text, or NULL */

    /* logging/setLevel succeeded: the session's new level */
    char                 log_level[16];

    /* a tool waits for upstream data; the other fields are unset */
    ttai_mcp_pending_t  *pending;
} ttai_mcp_reply_t;


/* the upstream request a waiting tool needs */
struct ttai_mcp_pending_s {
    char                 method[8];    /* "GET" or "POST" */
    char                *path;         /* with its query, percent-encoded */
    char                *body;         /* JSON text, or NULL */
    char                *cache_key;    /* a KV key, or NULL: no caching */
    long                 cache_ttl;    /* seconds */

    /* the core's own continuation: the tool, its arguments, the id */
    void                *state;
};


/* NULL version: TTAI_VERSION; NULL instructions: ttai's own */
ttai_mcp_server_t *ttai_mcp_server_create(const char *version,
    const char *instructions);
void ttai_mcp_server_free(ttai_mcp_server_t *srv);

/* why the last ttai_mcp_register_tool() failed */
const char *ttai_mcp_server_error(const ttai_mcp_server_t *srv);

/* tools/list pages; the default is 50 */
void ttai_mcp_server_page_size(ttai_mcp_server_t *srv, size_t n);

/* 1 for a protocol version this server speaks */
int ttai_mcp_version_supported(const char *version, size_t len);

/*
 * Handles one POST body.  Returns 0 with a reply to send (free it with
 * ttai_mcp_reply_free), or -1 when out of memory.
 */
int ttai_mcp_handle(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, ttai_mcp_reply_t *reply);

/*
 * Continues a pending tool with the upstream response: status is the
 * HTTP status, or 0 when the request failed without one (timeout,
 * connection refused); error is then a short reason for the model.
 * Consumes reply->pending and fills the reply, which may be pending
 * again (the next tool call of a batch).  Returns -1 when out of memory
 * or when nothing was pending.
 */
int ttai_mcp_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_reply_t *reply, int status, const char *body, size_t len,
    const char *error);

void ttai_mcp_reply_free(ttai_mcp_reply_t *reply);

/*
 * For tools: a pending request, every string copied (body, cache_key
 * may be NULL), or NULL when out of memory.  The core frees it.
 */
ttai_mcp_pending_t *ttai_mcp_pending_create(const char *method,
    const char *path, const char *body, const char *cache_key,
    long cache_ttl);
void ttai_mcp_pending_free(ttai_mcp_pending_t *pending);


#endif /* _TTAI_MCP_H_INCLUDED_ */
