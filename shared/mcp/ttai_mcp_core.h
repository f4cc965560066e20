
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_MCP_CORE_H_INCLUDED_
#define _TTAI_MCP_CORE_H_INCLUDED_


#include <stdarg.h>
#include <stdint.h>

#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


/*
 * The insides of the MCP core, shared by its files and by nothing else:
 * the shell sees only ttai_mcp.h and ttai_tools.h.
 *
 *   ttai_mcp.c          one POST: transport checks, the message loop, the
 *                       reply, pending and resume
 *   ttai_mcp_rpc.c      JSON-RPC envelopes: classifying, results, errors
 *   ttai_mcp_methods.c  the methods other than tools/call
 *   ttai_mcp_call.c     tools/call: validation, running, resuming
 *   ttai_tools.c        the tool registry and the result helpers
 */

#define TTAI_MCP_ERRLEN      256
#define TTAI_MCP_PAGE_SIZE   50

/* answers remembered per server (per nginx worker) for TTAI_TOOL_MEMO */
#define TTAI_MCP_MEMO        64


typedef struct {
    uint64_t                    hash;
    char                       *key;          /* tool, args, values */
    size_t                      klen;
    char                       *result;       /* the CallToolResult text */
    uint64_t                    used;
} ttai_mcp_memo_t;


/* a selection of toolsets: what indexes the tools/list pages */
#define TTAI_MCP_SELECTIONS  (1 << TTAI_TOOLSETS_MAX)


typedef struct {
    ttai_tool_t                 tool;         /* a copy */
    json_t                     *input;        /* the parsed schemas */
    json_t                     *output;       /* NULL: none */
    json_t                     *descriptor;   /* its tools/list entry */
    unsigned                    toolset;      /* its bit; 0: always listed */
} ttai_mcp_tool_entry_t;


struct ttai_mcp_server_s {
    char                       *version;
    char                       *instructions;
    size_t                      page_size;
    ttai_cache_ttl_t            ttl;

    ttai_mcp_tool_entry_t      *tools;
    size_t                      ntools;
    size_t                      nalloc;

    /*
     * The first page of tools/list for each selection of toolsets,
     * serialized once: it is the same for every client of a location,
     * and building it is most of what tools/list costs
     */
    char                       *tools_pages[TTAI_MCP_SELECTIONS];

    /* TTAI_TOOL_MEMO answers, least recently used replaced first */
    ttai_mcp_memo_t             memo[TTAI_MCP_MEMO];
    uint64_t                    memo_clock;

    char                        error[TTAI_MCP_ERRLEN];
};


/*
 * The messages of one POST, answered in order.  When a tool waits for
 * upstream data, this is the continuation that ttai_mcp_resume() picks
 * up: the rest of a batch is answered after it.
 */
typedef struct {
    json_t                     *messages;     /* an array, even of one */
    int                         batch;        /* the body was an array */
    size_t                      next;         /* the message being answered */
    json_t                     *responses;

    /* what the reply tells the shell, once every message is answered */
    int                         new_session;
    char                        version[16];
    char                       *client_info;
    char                        log_level[16];

    /* a single answer's result, already serialized (tools/list) */
    const char                 *raw_result;

    /* the tool that waits: its index, arguments, and the request id */
    size_t                      tool;
    json_t                     *args;
    json_t                     *id;
    json_t                     *state;        /* the tool's, across steps */
    size_t                      nkeys;        /* of the KV step resumed */

    /* KV writes asked for and not yet handed to the shell */
    json_t                     *stores;
} ttai_mcp_run_t;


typedef enum {
    TTAI_MCP_MSG_INVALID = 0,
    TTAI_MCP_MSG_REQUEST,
    TTAI_MCP_MSG_NOTIFICATION,
    TTAI_MCP_MSG_RESPONSE
} ttai_mcp_msg_e;


/* ttai_mcp_rpc.c */
ttai_mcp_msg_e ttai_mcp_rpc_classify(json_t *msg, const char **why);
json_t *ttai_mcp_rpc_id(json_t *msg);
json_t *ttai_mcp_rpc_result(json_t *id, json_t *result);
json_t *ttai_mcp_rpc_error(json_t *id, int code, json_t *data,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_t *ttai_mcp_rpc_verror(json_t *id, int code, json_t *data,
    const char *fmt, va_list args);
void ttai_mcp_utf8_clean(char *s);

/* ttai_mcp_methods.c */
int ttai_mcp_dispatch(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *msg, json_t **response,
    ttai_mcp_pending_t **pending);
const char *ttai_mcp_negotiate(const char *requested);

/* ttai_mcp_call.c */
int ttai_mcp_tools_call(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending);
int ttai_mcp_tools_resume(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const ttai_mcp_response_t *resp, json_t **response,
    ttai_mcp_pending_t **pending);

void ttai_mcp_memo_free(ttai_mcp_server_t *srv);

/* ttai_tools.c */
ttai_mcp_tool_entry_t *ttai_mcp_tool_find(ttai_mcp_server_t *srv,
    const char *name, size_t *index);
void ttai_mcp_tools_free(ttai_mcp_server_t *srv);
void ttai_mcp_tools_pages_free(ttai_mcp_server_t *srv);

/* the selection a call makes: its toolsets, all of them for 0 */
unsigned ttai_mcp_toolsets(const ttai_mcp_call_t *call);

/* 1 when the entry is listed in that selection */
int ttai_mcp_tool_listed(const ttai_mcp_tool_entry_t *e, unsigned toolsets);


#endif /* _TTAI_MCP_CORE_H_INCLUDED_ */
