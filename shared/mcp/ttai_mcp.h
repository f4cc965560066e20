
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

/*
 * The stateless revision: a request that names it in its _meta is served
 * without initialize and without a session (ttai_mcp_stateless.c)
 */
#define TTAI_MCP_STATELESS_VERSION  "2026-07-28"

/* JSON-RPC and MCP error codes */
#define TTAI_MCP_PARSE_ERROR      -32700
#define TTAI_MCP_INVALID_REQUEST  -32600
#define TTAI_MCP_METHOD_NOT_FOUND -32601
#define TTAI_MCP_INVALID_PARAMS   -32602
#define TTAI_MCP_INTERNAL_ERROR   -32603
#define TTAI_MCP_TRANSPORT_ERROR  -32000
#define TTAI_MCP_SESSION_NOT_FOUND -32001
#define TTAI_MCP_RESOURCE_NOT_FOUND -32002
#define TTAI_MCP_HEADER_MISMATCH  -32020
#define TTAI_MCP_MISSING_CAPABILITY -32021
#define TTAI_MCP_UNSUPPORTED_VERSION -32022

/* a W3C traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex */
#define TTAI_MCP_TRACEPARENT_LEN  55

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

    /* the time; 0: the system's clock */
    time_t               now;

    /* the Mcp-Method and Mcp-Name headers, NULL when absent */
    const char          *method_header;
    const char          *name_header;

    /* the Mcp-Param-* headers: the names past "Mcp-Param-", the values */
    const char *const   *param_names;
    const char *const   *param_values;
    size_t               nparams;

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

    /*
     * 1 when the shell sends reply->tail after reply->body: an answer
     * that ends with text the server keeps (tools/list's) is then not
     * copied.  0: reply->body holds all of the answer.
     */
    int                  split;

    /* the session as stored, when it was found */
    const char          *session_version;    /* negotiated at initialize */
    const char          *session_client;     /* clientInfo JSON text */

    /*
     * The capabilities the session's client declared that ttai uses, as
     * the JSON text reply->client_caps gave at initialize, or NULL
     */
    const char          *session_caps;
    const char          *session_log_level;
    time_t               session_created;

    /*
     * The toolsets the location exposes, a mask of ttai_toolsets[] bits
     * (ttai_tools.h); 0: all of them.  Another tool is neither listed nor
     * called: it is unknown there.
     */
    unsigned             toolsets;

    /* 1: the test fixtures are listed and served too (development) */
    int                  fixtures;

    /*
     * 1: a tool call may become a task (the tasks extension), since this
     * server runs the workflows behind them and keeps a database
     */
    int                  tasks;

    /*
     * Where alert webhooks may go (ttai_alert_webhooks): each entry a
     * "scheme://host[:port][/path]" that a rule's URL must begin with
     */
    const char *const   *webhooks;
    size_t               nwebhooks;

    /*
     * Trading (README, "Trading safely"): NULL where the location does
     * not trade (ttai_trading off), else the operator's settings
     * (ttai_order.h), with the key that confirmations are made under.
     * The trading toolset is listed and called only when trading is set
     * and the user granted it (trade_granted: the token's scope and the
     * user's own permission, which the shell looked up).
     */
    const struct ttai_order_conf_s  *trading;
    const unsigned char             *trading_key;
    int                              trade_granted;

    /*
     * 1: the agents' toolset is listed and called (ttai_agents on, where
     * the workflows behind them run)
     */
    int                              agents;
} ttai_mcp_call_t;


/*
 * What a subscriptions/listen stream may be told (its filter), and the
 * kinds of notification ttai sends on one
 */
#define TTAI_LISTEN_TOOLS         0x01  /* notifications/tools/list_changed */
#define TTAI_LISTEN_PROMPTS       0x02  /* .../prompts/list_changed */
#define TTAI_LISTEN_RESOURCES     0x04  /* .../resources/list_changed */
#define TTAI_LISTEN_UPDATED       0x08  /* .../resources/updated, by URI */

/*
 * notifications/tasks, for the taskIds a stream names (the tasks
 * extension); its change's "uri" is "<taskId> <status>"
 */
#define TTAI_LISTEN_TASKS         0x10


/* a subscriptions/listen request accepted: what the shell holds open */
typedef struct {
    unsigned             kinds;        /* TTAI_LISTEN_* honoured */

    /*
     * A 2025 session's GET stream: its events are not tagged, and which
     * resources it hears of is the session's resources/subscribe (the
     * shell keeps them); id, ack and end are NULL
     */
    int                  legacy;
    char               **uris;         /* resourceSubscriptions honoured */
    size_t               nuris;
    char               **tasks;        /* taskIds honoured */
    size_t               ntasks;
    char                *id;           /* the request's id, as JSON text */
    char                *ack;          /* the first event */
    char                *end;          /* the last, on a graceful close */
} ttai_mcp_listen_t;


/* a change the shell tells the listening streams about */
typedef struct {
    unsigned             kind;         /* one TTAI_LISTEN_* */
    char                *uri;          /* TTAI_LISTEN_UPDATED, else NULL */
    int                  user_only;    /* only the calling user's streams */
} ttai_mcp_change_t;


/* a client's response to a request of ttai's, for the call that asked */
typedef struct {
    char                *id;           /* the request's id, a string */
    char                *text;         /* the whole response, JSON text */
} ttai_mcp_answer_t;


/* a KV write the shell makes before it goes on */
typedef struct {
    char                *key;
    char                *value;
    size_t               len;
    long                 ttl;          /* seconds, > 0; -1: delete key */
} ttai_mcp_store_t;


typedef struct {
    int                  status;       /* HTTP: 200, 202, 400, 404 */
    char                *body;         /* JSON text, NULL for no body */
    size_t               len;

    /*
     * With call->split, the rest of the body, or NULL: text that the
     * server owns and keeps until it is freed or its tools change
     */
    const char          *tail;
    size_t               tail_len;

    /* initialize succeeded: the shell makes a session with these */
    int                  new_session;
    char                 version[16];  /* the negotiated version */
    char                *client_info;  /* JSON text, or NULL */
    char                *client_caps;  /* JSON text, or NULL */

    /* logging/setLevel succeeded: the session's new level */
    char                 log_level[16];

    /*
     * Served in the stateless revision: no session is made, looked at
     * or touched, and Mcp-Session-Id is not sent
     */
    int                  stateless;

    /* the request's OpenTelemetry traceparent when valid, or "" */
    char                 traceparent[TTAI_MCP_TRACEPARENT_LEN + 1];

    /* KV writes to make first, with a pending reply as with a final one */
    ttai_mcp_store_t    *stores;
    size_t               nstores;

    /* a tool waits for data; status, body and the session are unset */
    ttai_mcp_pending_t  *pending;

    /*
     * Notifications about the request made since the last reply
     * (progress, log messages), each a JSON-RPC message as text, to send
     * before the answer on a text/event-stream response; a pending reply
     * may carry some too
     */
    char               **events;
    size_t               nevents;

    /* subscriptions/listen: hold the stream open (status, body unset) */
    ttai_mcp_listen_t   *listen;

    /* changes the call made, for the listening streams */
    ttai_mcp_change_t   *changes;
    size_t               nchanges;

    /*
     * resources/subscribe (1) or unsubscribe (0) succeeded in a 2025
     * session: the shell records it for the session's GET stream
     */
    char                *subscribe_uri;
    int                  subscribe;

    /*
     * Responses a 2025 session's client POSTed to requests ttai sent it
     * (TTAI_PENDING_ASK): the shell hands each to the call that waits
     */
    ttai_mcp_answer_t   *answers;
    size_t               nanswers;
} ttai_mcp_reply_t;


/* where a pending HTTP request goes */
#define TTAI_SERVICE_TASTYTRADE   0    /* the TastyTrade API, as the user */
#define TTAI_SERVICE_WORKER       1    /* the worker service (the seed's
                                          Python worker), as the user */
/*
 * An LLM provider's embeddings: body {"model"?, "input": [texts]}; the
 * response {"model", "vectors": [[...], ...]} (ttai_llm.h)
 */
#define TTAI_SERVICE_LLM          2

/* what a waiting tool needs */
#define TTAI_PENDING_HTTP         0    /* one request, maybe cached */
#define TTAI_PENDING_CACHE        1    /* KV values, by key */
#define TTAI_PENDING_WAIT         2    /* time to pass: resumed after ms */

/*
 * The user's answers, in a 2025 session: the requests to the client are
 * the reply's events (elicitation/create, sent on the POST's stream), and
 * the shell resumes the call with the client's responses to ask_ids, each
 * POSTed to any worker, or with none after ms (resp->error says why)
 */
#define TTAI_PENDING_ASK          3

/*
 * Statements on the database (the seed's D1): body is a batch, JSON text
 * [{"sql","params"},...], which the shell runs in one transaction on its
 * thread pool; the response's body is the batch's results as JSON text
 * (ttai_d1.h), or status 0 with the reason.  The statements come from
 * the core's own builders (ttai_monitor.h), never from a client's text.
 */
#define TTAI_PENDING_D1           4

/* how the ids of those requests begin, 32 hex digits following */
#define TTAI_MCP_ASK_PREFIX       "ttai-ask-"
#define TTAI_MCP_ASK_ID_LEN       (sizeof(TTAI_MCP_ASK_PREFIX) - 1 + 32)


struct ttai_mcp_pending_s {
    int                  kind;

    /* TTAI_PENDING_HTTP */
    int                  service;
    char                 method[8];    /* "GET" or "POST" */
    char                *path;         /* with its query, percent-encoded */
    char                *body;         /* JSON text, or NULL */

    /*
     * A KV key, or NULL: with one, the shell answers from KV when it
     * can, and stores a 200's body there for cache_ttl seconds
     */
    char                *cache_key;
    long                 cache_ttl;

    /*
     * 1: the shell says whether a fresh body differs from the one it
     * fetched last for cache_key (resp->changed), so that the tool can
     * tell the listening streams that its resource changed
     */
    int                  watch;

    /* TTAI_PENDING_CACHE */
    char               **keys;
    size_t               nkeys;

    /* TTAI_PENDING_WAIT: milliseconds; the response is empty */
    long                 ms;

    /* TTAI_PENDING_ASK: the ids of the requests, and ms the longest wait */
    char               **ask_ids;
    size_t               nasks;

    /*
     * 1: a request that got no response still reaches the tool (status
     * 0, with error), for a tool that must find out whether what it sent
     * arrived; otherwise the core answers with the reason
     */
    int                  failures;

    /* the core's own continuation: the tool, its arguments, the id */
    void                *state;
};


/* what the shell got for a pending request */
typedef struct {
    /* TTAI_PENDING_HTTP */
    int                  status;       /* HTTP status; 0: no response */
    const char          *body;
    size_t               len;
    const char          *error;        /* status 0: why, a sentence */
    int                  cached;       /* the body came from KV */
    int                  changed;      /* watched, and not as last time */

    /* TTAI_PENDING_CACHE: values[i] is keys[i]'s value, NULL: absent */
    const char         **values;
    const size_t        *lens;

    /*
     * TTAI_PENDING_ASK: answers[i] is the response to ask_ids[i] as the
     * client sent it, JSON text; NULL answers: none came (error: why)
     */
    const char         **answers;
    const size_t        *answer_lens;
} ttai_mcp_response_t;


/* cache lifetimes, in seconds */
typedef struct {
    long                 quote;
    long                 metrics;
    long                 chain;
    long                 account;      /* accounts, balances, positions */
} ttai_cache_ttl_t;


/* NULL version: TTAI_VERSION; NULL instructions: ttai's own */
ttai_mcp_server_t *ttai_mcp_server_create(const char *version,
    const char *instructions);
void ttai_mcp_server_free(ttai_mcp_server_t *srv);

/*
 * The key requestState is sealed with (32 bytes, the same for every
 * server that may continue another's call) and how long a state lasts,
 * in seconds (0: ten minutes).  Without one, no tool can ask the user.
 */
void ttai_mcp_server_state_key(ttai_mcp_server_t *srv,
    const unsigned char *key, long ttl);

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

/* cache lifetimes the tools use; the defaults are 5, 60, 600 and 5 */
void ttai_mcp_server_cache_ttl(ttai_mcp_server_t *srv,
    const ttai_cache_ttl_t *ttl);

/*
 * Continues a pending tool with what the shell got for it.  For HTTP,
 * a status of 0 means the request failed without a response (timeout,
 * refused connection, a limit); resp->error then says why, as a
 * sentence the model can act on, and the core answers with it.
 * Consumes reply->pending and fills the reply, which may be pending
 * again (the tool's next step, or the next tool call of a batch).
 * Returns -1 when out of memory or when nothing was pending.
 */
int ttai_mcp_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_reply_t *reply, const ttai_mcp_response_t *resp);

void ttai_mcp_reply_free(ttai_mcp_reply_t *reply);

/* frees the reply's events, once the shell has sent them */
void ttai_mcp_reply_events_free(ttai_mcp_reply_t *reply);

/*
 * The event of a change for a listening stream, as JSON text tagged with
 * its subscriptionId, or NULL when its filter does not ask for it (or
 * when out of memory: *oom is set then)
 */
char *ttai_mcp_listen_event(const ttai_mcp_listen_t *l, unsigned kind,
    const char *uri, int *oom);
void ttai_mcp_listen_free(ttai_mcp_listen_t *l);

/* what a 2025 session's GET stream hears of, or NULL when out of memory */
ttai_mcp_listen_t *ttai_mcp_listen_legacy(void);

/*
 * For tools: pending requests, every string copied (body and cache_key
 * may be NULL), or NULL when out of memory.  The core frees them.
 */
ttai_mcp_pending_t *ttai_mcp_pending_http(int service, const char *method,
    const char *path, const char *body, const char *cache_key,
    long cache_ttl);
ttai_mcp_pending_t *ttai_mcp_pending_cache(const char *const *keys,
    size_t nkeys);
ttai_mcp_pending_t *ttai_mcp_pending_wait(long ms);

/* takes the reference to batch, even when it fails */
ttai_mcp_pending_t *ttai_mcp_pending_d1(json_t *batch);
void ttai_mcp_pending_free(ttai_mcp_pending_t *pending);

void ttai_mcp_stores_free(ttai_mcp_store_t *stores, size_t n);


#endif /* _TTAI_MCP_H_INCLUDED_ */
