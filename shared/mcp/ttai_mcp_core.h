
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
 *   ttai_mcp_stateless.c  the 2026-07-28 revision's edge: which era a
 *                       request is, its _meta and headers, and what its
 *                       results carry besides
 *   ttai_mcp_methods.c  the methods other than tools/call
 *   ttai_mcp_call.c     tools/call: validation, running, resuming
 *   ttai_mcp_input.c    a tool that asks the user: input_required, the
 *                       sealed requestState, and the call's retry
 *   ttai_mcp_quick.c    the most common requests, without a JSON tree
 *   ttai_mcp_plan.c     what remembered tool calls ask for, by their text
 *   ttai_tools.c        the tool registry and the result helpers
 */

#define TTAI_MCP_TITLE  "ttai \xe2\x80\x94 TastyTrade for AI assistants"

#define TTAI_MCP_ERRLEN      256

/* how long a requestState may be brought back, in seconds */
#define TTAI_MCP_STATE_TTL   600
#define TTAI_MCP_PAGE_SIZE   50

/* answers remembered per server (per nginx worker) for TTAI_TOOL_MEMO */
#define TTAI_MCP_MEMO        64

/* and the KV keys their calls ask for, by the params as sent */
#define TTAI_MCP_PLANS       64
#define TTAI_MCP_PLAN_MAX    2048


typedef struct {
    uint64_t                    hash;
    char                       *key;          /* tool, args, values */
    size_t                      klen;
    char                       *result;       /* the CallToolResult text */
    size_t                      rlen;
    uint64_t                    used;
} ttai_mcp_memo_t;


/*
 * A plan: what a TTAI_TOOL_MEMO tool asked for the first time it got
 * these params, text for text (ttai_mcp_plan.c)
 */
typedef struct {
    uint64_t                    hash;
    char                       *params;       /* as sent, a JSON object */
    size_t                      plen;
    char                       *args;         /* ttai_json_dumps() text */
    size_t                      alen;
    size_t                      tool;
    char                      **keys;         /* its KV step */
    size_t                      nkeys;
    uint64_t                    used;
} ttai_mcp_plan_t;


/* a selection of toolsets: what indexes the tools/list pages */
#define TTAI_MCP_SELECTIONS  (1 << TTAI_TOOLSETS_MAX)

/* stateless tools/list params texts remembered, and the longest one */
#define TTAI_MCP_LIST_PARAMS       4
#define TTAI_MCP_LIST_PARAMS_MAX   1024

/*
 * The fixtures' bit: the last of a selection, which no named toolset
 * takes (ttai_toolsets[] has fewer than TTAI_TOOLSETS_MAX), and which a
 * directive cannot name: only ttai_mcp_call_t.fixtures sets it
 */
#define TTAI_MCP_FIXTURES    (1u << (TTAI_TOOLSETS_MAX - 1))


typedef struct {
    ttai_prompt_t               prompt;       /* a copy */
    json_t                     *descriptor;   /* its prompts/list entry */
    unsigned                    toolset;
} ttai_mcp_prompt_entry_t;


typedef struct {
    ttai_resource_t             res;          /* a copy */
    json_t                     *descriptor;   /* its list entry */
    int                         is_template;
    unsigned                    toolset;
} ttai_mcp_resource_entry_t;


typedef struct {
    ttai_tool_t                 tool;         /* a copy */
    json_t                     *input;        /* the parsed schemas */
    json_t                     *output;       /* NULL: none */
    json_t                     *descriptor;   /* its tools/list entry */
    json_t                     *headers;      /* x-mcp-header, or NULL */
    unsigned                    toolset;      /* its bit; 0: always listed */
    const char                 *workflow;     /* as a task; NULL: none */
    int                         task_required;
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
     * and building it is most of what tools/list costs.  Each text ends
     * with the "}" that closes the response around it, so that the shell
     * can send it as it is (ttai_mcp_call_t.split).
     */
    char                       *tools_pages[TTAI_MCP_SELECTIONS];
    size_t                      tools_pages_len[TTAI_MCP_SELECTIONS];

    /* the same in the stateless revision, with what its results carry */
    char                       *tools_pages_2026[TTAI_MCP_SELECTIONS];
    size_t                      tools_pages_2026_len[TTAI_MCP_SELECTIONS];

    /*
     * The params texts of stateless tools/list requests the general way
     * checked and answered with a first page: the same bytes again are
     * answered without a JSON tree (ttai_mcp_quick.c)
     */
    char                       *list_params[TTAI_MCP_LIST_PARAMS];
    size_t                      list_params_len[TTAI_MCP_LIST_PARAMS];
    size_t                      list_params_next;

    /* TTAI_TOOL_MEMO answers, least recently used replaced first */
    ttai_mcp_memo_t             memo[TTAI_MCP_MEMO];
    uint64_t                    memo_clock;

    /* and their plans, the same way */
    ttai_mcp_plan_t             plans[TTAI_MCP_PLANS];
    uint64_t                    plan_clock;

    ttai_mcp_prompt_entry_t    *prompts;
    size_t                      nprompts;
    ttai_mcp_resource_entry_t  *resources;
    size_t                      nresources;

    /* requestState's sealing key (ttai_mcp_input.c) */
    unsigned char               state_key[32];
    int                         state_keyed;
    long                        state_ttl;

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

    /*
     * Served in the stateless revision (one message, never a batch):
     * the methods are that era's, and ttai_mcp_stateless_result() gives
     * the answer what it carries there
     */
    int                         stateless;
    char                        traceparent[TTAI_MCP_TRACEPARENT_LEN + 1];

    /*
     * The client's capabilities: the stateless request's
     * clientCapabilities, or what a 2025 session's client declared at
     * initialize; NULL when none
     */
    json_t                     *caps;

    /*
     * A 2025 session's call that waits for the user (TTAI_PENDING_ASK):
     * the ids of the requests sent and the inputRequests keys they answer,
     * and whether a prompt asks (run->tool is then the prompt's index)
     */
    json_t                     *ask_ids;
    json_t                     *ask_keys;
    int                         ask_prompt;

    /* responses to such requests that this POST carries, for the shell */
    json_t                     *answers;

    /* subscriptions/listen accepted, and changes calls made */
    ttai_mcp_listen_t          *listen;
    json_t                     *changes;

    /* resources/subscribe or unsubscribe, in a 2025 session */
    char                       *subscribe_uri;
    int                         subscribe;

    /* notifications made and not yet handed to the shell */
    json_t                     *events;
    json_t                     *progress_token;
    int                         log_min;

    /*
     * the step resumed was a wait (its response is empty on purpose), or
     * a request whose failure the tool wants to see (pending->failures)
     */
    int                         waited;

    /*
     * A task's statements wait (ttai_mcp_tasks.c): which, and the task;
     * its answer is the method's, not a tool's
     */
    int                         task_op;
    char                        task_id[40];

    /* a tool that runs to read this resource, or NULL: see resources */
    char                       *reading;
    char                       *reading_mime;
    size_t                      next;         /* the message being answered */
    json_t                     *responses;

    /* what the reply tells the shell, once every message is answered */
    int                         new_session;
    char                        version[16];
    char                       *client_info;
    char                       *client_caps;
    char                        log_level[16];

    /*
     * A single answer's result, already serialized (tools/list, a
     * remembered tool result), whose response is then the request's id
     * alone; raw_kept: the text is followed by "}" and kept by the
     * server for as long as the server lives
     */
    const char                 *raw_result;
    size_t                      raw_len;
    int                         raw_kept;
    int                         raw_stateless;  /* already the 2026 form */

    /* the tool that waits: its index, arguments, and the request id */
    size_t                      tool;
    json_t                     *args;
    json_t                     *id;
    json_t                     *state;        /* the tool's, across steps */
    size_t                      nkeys;        /* of the KV step resumed */

    /* KV writes asked for and not yet handed to the shell */
    json_t                     *stores;

    /*
     * A call made from a plan: its params as sent and its arguments as
     * the memo writes them, in one allocation; args stays NULL unless the
     * tool has to run after all (the values are not the memo's)
     */
    char                       *plan_params;
    size_t                      plan_plen;
    const char                 *plan_args;
    size_t                      plan_alen;

    /*
     * In ttai_mcp_handle() only: the params of a single message in plain
     * form, as sent, for the plan of a call made the general way
     */
    const char                 *params_text;
    size_t                      params_len;
} ttai_mcp_run_t;


typedef enum {
    TTAI_MCP_MSG_INVALID = 0,
    TTAI_MCP_MSG_REQUEST,
    TTAI_MCP_MSG_NOTIFICATION,
    TTAI_MCP_MSG_RESPONSE
} ttai_mcp_msg_e;


/* ttai_mcp.c */
void ttai_mcp_run_free(ttai_mcp_run_t *run);
int ttai_mcp_reply_error(ttai_mcp_reply_t *reply, int status, json_t *id,
    int code, json_t *data, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int ttai_mcp_log_level(const char *name);

/* ttai_mcp_rpc.c */
ttai_mcp_msg_e ttai_mcp_rpc_classify(json_t *msg, const char **why);
json_t *ttai_mcp_rpc_id(json_t *msg);
json_t *ttai_mcp_rpc_result(json_t *id, json_t *result);
int ttai_mcp_rpc_raw(ttai_mcp_reply_t *reply, const char *id, size_t id_len,
    const char *result, size_t len, int tail);
json_t *ttai_mcp_rpc_error(json_t *id, int code, json_t *data,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_t *ttai_mcp_rpc_verror(json_t *id, int code, json_t *data,
    const char *fmt, va_list args);
void ttai_mcp_utf8_clean(char *s);

/* ttai_mcp_stateless.c */
int ttai_mcp_stateless_claim(json_t *msg);
int ttai_mcp_stateless_check(const ttai_mcp_call_t *call, json_t *root,
    ttai_mcp_reply_t *reply);
int ttai_mcp_stateless_result(ttai_mcp_server_t *srv, ttai_mcp_run_t *run,
    json_t **response, int *status);
int ttai_mcp_stateless_params(const ttai_mcp_call_t *call, json_t *headers,
    json_t *args, json_t *id, json_t **response);
int ttai_mcp_stateless_decorate(ttai_mcp_server_t *srv, const char *method,
    json_t *result);
int ttai_mcp_server_discover(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);

/* ttai_mcp_input.c: what asks the user, and what its state is bound to */
typedef struct {
    const char                 *method;       /* tools/call, prompts/get */
    const char                 *target;       /* the tool or the prompt */
    const char                 *name;         /* "Tool x", for messages */
    ttai_tool_input_pt          input;
    int                         no_state;     /* TTAI_TOOL_INPUT_NO_STATE */
    int                         prompt;       /* 1: a prompt asks */
    size_t                      index;        /* the tool's or the prompt's */
} ttai_mcp_asker_t;

int ttai_mcp_input_asked(json_t *result);
int ttai_mcp_input_answer(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const ttai_mcp_asker_t *asker, json_t *id, json_t *args, json_t *result,
    json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_input_resume(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const ttai_mcp_response_t *resp, json_t **response,
    ttai_mcp_pending_t **pending);
json_t *ttai_mcp_input_caps(json_t *declared, const char *version);
int ttai_mcp_tools_input(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *responses,
    const char *failed, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_prompts_input(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *responses,
    const char *failed, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_input_retry(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const ttai_mcp_asker_t *asker, json_t *id, json_t *params, json_t *args,
    ttai_tool_ctx_t *ctx, json_t **result, ttai_mcp_pending_t **pending,
    json_t **response);

/* ttai_mcp_methods.c */
int ttai_mcp_dispatch(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *msg, json_t **response,
    ttai_mcp_pending_t **pending);
const char *ttai_mcp_negotiate(const char *requested);
extern const char  *ttai_mcp_log_levels[];

/* ttai_mcp_call.c */
int ttai_mcp_tools_call(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending);
void ttai_mcp_tools_ctx(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, ttai_tool_ctx_t *ctx);
int ttai_mcp_tools_resume(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const ttai_mcp_response_t *resp, json_t **response,
    ttai_mcp_pending_t **pending);

void ttai_mcp_memo_free(ttai_mcp_server_t *srv);

/* ttai_mcp_tasks.c */
int ttai_mcp_tasks_wanted(const ttai_mcp_call_t *call, ttai_mcp_run_t *run);
int ttai_mcp_tasks_refuse(json_t *id, json_t **response);
int ttai_mcp_tasks_create(const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const char *tool, const char *workflow, json_t *id, json_t *args,
    ttai_mcp_pending_t **pending);
int ttai_mcp_tasks_get(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending);
int ttai_mcp_tasks_update(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_tasks_cancel(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_tasks_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_response_t *resp, json_t **response);

/* ttai_mcp_quick.c */
int ttai_mcp_quick_stateless(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, const char *body, size_t len,
    ttai_mcp_reply_t *reply, const char **params, size_t *plen);
void ttai_mcp_quick_forget(ttai_mcp_server_t *srv);
void ttai_mcp_quick_learn(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, const ttai_mcp_reply_t *reply,
    const char *params, size_t plen);
int ttai_mcp_quick(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, ttai_mcp_reply_t *reply,
    const char **params, size_t *plen);

/* ttai_mcp_plan.c */
ttai_mcp_plan_t *ttai_mcp_plan_find(ttai_mcp_server_t *srv,
    const char *params, size_t len);
void ttai_mcp_plan_keep(ttai_mcp_server_t *srv, ttai_mcp_run_t *run,
    json_t *params, const ttai_mcp_pending_t *pending);
int ttai_mcp_plan_call(ttai_mcp_server_t *srv, ttai_mcp_plan_t *plan,
    json_t *id, ttai_mcp_reply_t *reply);
void ttai_mcp_plans_free(ttai_mcp_server_t *srv);
uint64_t ttai_mcp_hash(const char *text, size_t len);

/* ttai_mcp_listen.c */
int ttai_mcp_subscriptions_listen(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_resources_subscribe(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);

/* ttai_mcp_methods.c: a list of one page takes no cursor but "" */
int ttai_mcp_list_cursor_ok(ttai_mcp_run_t *run, json_t *params);

/* ttai_mcp_prompts.c */
int ttai_mcp_prompts_list(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_prompts_get(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_complete(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
void ttai_mcp_prompts_free(ttai_mcp_server_t *srv);

/* ttai_mcp_resources.c */
int ttai_mcp_resources_list(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_templates_list(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_resources_read(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
int ttai_mcp_resource_answer(ttai_mcp_run_t *run, json_t **response);
void ttai_mcp_resources_free(ttai_mcp_server_t *srv);
ttai_mcp_resource_entry_t *ttai_mcp_resource_match(ttai_mcp_server_t *srv,
    unsigned toolsets, const char *uri, json_t **vars);

/* ttai_tools.c */
unsigned ttai_mcp_toolset_of(const char *name);
ttai_mcp_tool_entry_t *ttai_mcp_tool_find(ttai_mcp_server_t *srv,
    const char *name, size_t *index);
void ttai_mcp_tools_free(ttai_mcp_server_t *srv);
void ttai_mcp_tools_pages_free(ttai_mcp_server_t *srv);

/* the selection a call makes: its toolsets, all of them for 0 */
unsigned ttai_mcp_toolsets(const ttai_mcp_call_t *call);

/* 1 when the entry is listed in that selection */
int ttai_mcp_tool_listed(const ttai_mcp_tool_entry_t *e, unsigned toolsets);


#endif /* _TTAI_MCP_CORE_H_INCLUDED_ */
