
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TOOLS_H_INCLUDED_
#define _TTAI_TOOLS_H_INCLUDED_


#include <jansson.h>

#include "ttai_mcp.h"


/*
 * The tool registry.  A tool declares its name, description, input
 * schema (validated before it runs: a failure is a tool result with
 * isError, never a JSON-RPC error), annotations and, where useful, an
 * output schema that its structuredContent follows.
 */

#define TTAI_TOOL_READ_ONLY    0x01
#define TTAI_TOOL_DESTRUCTIVE  0x02
#define TTAI_TOOL_IDEMPOTENT   0x04
#define TTAI_TOOL_OPEN_WORLD   0x08

/*
 * Not an MCP annotation: the tool's answer to a KV step depends on its
 * arguments and those values (an absent key counting as one) alone, so
 * the core may answer the same call on the same values with the same
 * text (see ttai_mcp_call.c)
 */
#define TTAI_TOOL_MEMO         0x100

/*
 * Not an MCP annotation: the tool's questions protect nothing, so its
 * input step may also run on inputResponses sent without a requestState,
 * from an empty state (MRTR allows it).  Never for a tool whose answer
 * confirms anything: without the sealed state, a client could send an
 * answer to a question nobody asked.
 */
#define TTAI_TOOL_INPUT_NO_STATE  0x200


typedef struct {
    const ttai_mcp_call_t     *call;
    const char                *server_version;
    const ttai_cache_ttl_t    *ttl;

    /*
     * An object the tool keeps across its steps (it starts empty), and
     * the KV writes it asks for: see ttai_tool_store()
     */
    json_t                    *state;
    json_t                    *stores;

    /*
     * What the client can answer if asked (2026-07-28: this request's
     * clientCapabilities), or NULL when it is not known
     */
    json_t                    *caps;

    /*
     * Notifications for the client about this request: see
     * ttai_tool_progress() and ttai_tool_log().  progress_token is the
     * request's _meta.progressToken or NULL; log_min the least severity
     * the client asked for (an index of ttai_mcp_log_levels), -1: none.
     */
    json_t                    *events;
    json_t                    *progress_token;
    int                        log_min;

    /* changes to tell the listening streams about: ttai_tool_changed() */
    json_t                    *changes;
} ttai_tool_ctx_t;


/*
 * run: returns 0 with *result set to a CallToolResult object, or 0 with
 * *pending set when it needs data (resume then gets it), or -1 when out
 * of memory.
 */
typedef int (*ttai_tool_run_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);

/*
 * resume: gets what the shell fetched for the last pending request, and
 * returns like run: a result, or the next pending request.  A request
 * that got no response never reaches the tool: the core answers with
 * the shell's reason.
 */
typedef int (*ttai_tool_resume_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);


/*
 * input: the step after the user answered.  A tool asks by returning
 * ttai_tool_input_required(requests) as its result, from run or resume;
 * ctx->state goes with the question, sealed, and comes back here with
 * the responses (an object: the requests' keys to the client's answers,
 * some maybe missing).  Returns like run.
 */
typedef int (*ttai_tool_input_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);


typedef struct {
    const char                *name;
    const char                *title;
    const char                *description;
    const char                *input_schema;     /* JSON text */
    const char                *output_schema;    /* JSON text, or NULL */
    unsigned                   annotations;
    ttai_tool_run_pt           run;
    ttai_tool_resume_pt        resume;           /* NULL: never pending */

    /* the toolset that lists it (ttai_toolsets[]), or NULL: always listed */
    const char                *toolset;

    ttai_tool_input_pt         input;            /* NULL: never asks */
} ttai_tool_t;


/*
 * Toolsets: a server at one location may expose only some of the tools
 * (the ttai_mcp_toolsets directive).  A selection is a mask whose bit i
 * is ttai_toolsets[i]; ttai_mcp_call_t.toolsets carries it, and 0 selects
 * every toolset.  A tool of no toolset is always listed.
 */

#define TTAI_TOOLSETS_MAX      6

/*
 * The toolset of the tools that change an account: listed only where
 * trading is on and the user granted it (ttai_mcp_call_t.trading)
 */
#define TTAI_TOOLSET_TRADING   "trading"

/*
 * The agents' toolset (analyses and the journal): listed only where the
 * workflows behind them run (ttai_mcp_call_t.agents)
 */
#define TTAI_TOOLSET_AGENTS    "agents"

/* the names, in bit order, ending with NULL */
extern const char *const  ttai_toolsets[];

/* the bit of the toolset named name[0 .. len - 1], or 0: no such one */
unsigned ttai_toolset(const char *name, size_t len);

/* every toolset's bit */
unsigned ttai_toolsets_all(void);


/*
 * A shipped tool is two halves joined by name when it registers: what it
 * is, declared in shared/tools/schemas/<name>.json, which
 * scripts/gen-tools turns into ttai_tool_decls[] at build time, and what
 * it does, in shared/tools/ttai_tool_*.c.
 */

typedef struct {
    ttai_tool_t                tool;             /* run and resume NULL */

    /*
     * The most bytes its tools/list entry may take: every client sends
     * the whole list to its model in every conversation
     */
    size_t                     budget;
} ttai_tool_decl_t;

typedef struct {
    const char                *name;
    ttai_tool_run_pt           run;
    ttai_tool_resume_pt        resume;           /* NULL: never pending */
    unsigned                   flags;            /* TTAI_TOOL_MEMO */
    ttai_tool_input_pt         input;            /* NULL: never asks */
} ttai_tool_impl_t;


/* the generated declarations, ending with one whose name is NULL */
extern const ttai_tool_decl_t  ttai_tool_decls[];


/*
 * The tool is copied, but the strings it points to must outlive the
 * server.  Returns -1 on a bad name, a duplicate, or a bad schema;
 * ttai_mcp_server_error() says which.
 */
int ttai_mcp_register_tool(ttai_mcp_server_t *srv, const ttai_tool_t *tool);

/*
 * The registered tool's work may run as a task (the tasks extension of
 * 2026-07-28): a client that declares the extension gets a task, an
 * instance of workflow (ttai_workflow.h, a static string) with the
 * arguments as its params, whose output is the CallToolResult; any
 * other client's call runs the tool, unless required: then it is
 * refused with -32021, naming the extension.  -1: no such tool.
 */
int ttai_mcp_tool_task(ttai_mcp_server_t *srv, const char *tool,
    const char *workflow, int required);

/* registers every tool ttai ships */
int ttai_tools_register_all(ttai_mcp_server_t *srv);

/* the tools ttai ships */
extern const ttai_tool_impl_t  ttai_tool_get_session_info;

/* the account tools */
extern const ttai_tool_impl_t  ttai_tool_get_accounts;
extern const ttai_tool_impl_t  ttai_tool_get_balances;
extern const ttai_tool_impl_t  ttai_tool_get_positions;
extern const ttai_tool_impl_t  ttai_tool_get_transactions;
extern const ttai_tool_impl_t  ttai_tool_get_orders;
extern const ttai_tool_impl_t  ttai_tool_preview_order;

/* the trading tools (ttai_tool_place.c, ...) */
extern const ttai_tool_impl_t  ttai_tool_place_order;
extern const ttai_tool_impl_t  ttai_tool_replace_order;
extern const ttai_tool_impl_t  ttai_tool_cancel_order;
extern const ttai_tool_impl_t  ttai_tool_place_complex_order;
extern const ttai_tool_impl_t  ttai_tool_create_watchlist;
extern const ttai_tool_impl_t  ttai_tool_update_watchlist;
extern const ttai_tool_impl_t  ttai_tool_delete_watchlist;
extern const ttai_tool_impl_t  ttai_tool_get_watchlists;

/* the alert monitor's tools (ttai_tool_alerts.c, ..._position_history.c) */
extern const ttai_tool_impl_t  ttai_tool_create_alert;
extern const ttai_tool_impl_t  ttai_tool_list_alerts;
extern const ttai_tool_impl_t  ttai_tool_delete_alert;
extern const ttai_tool_impl_t  ttai_tool_get_alerts;
extern const ttai_tool_impl_t  ttai_tool_get_position_history;

/* the market-data tools */
extern const ttai_tool_impl_t  ttai_tool_get_quotes;
extern const ttai_tool_impl_t  ttai_tool_get_market_metrics;
extern const ttai_tool_impl_t  ttai_tool_get_option_chain;
extern const ttai_tool_impl_t  ttai_tool_search_symbols;
extern const ttai_tool_impl_t  ttai_tool_get_market_sessions;

/* the market-data stream's tools (ttai_tool_greeks.c, _strikes.c, ...) */
extern const ttai_tool_impl_t  ttai_tool_get_greeks;
extern const ttai_tool_impl_t  ttai_tool_find_strikes_by_delta;
extern const ttai_tool_impl_t  ttai_tool_get_candles;
extern const ttai_tool_impl_t  ttai_tool_get_position_greeks;

/* the agents (ttai_tool_agents.c) and the journal (ttai_tool_notes.c) */
extern const ttai_tool_impl_t  ttai_tool_analyze_portfolio;
extern const ttai_tool_impl_t  ttai_tool_review_trade;
extern const ttai_tool_impl_t  ttai_tool_daily_brief;
extern const ttai_tool_impl_t  ttai_tool_save_note;
extern const ttai_tool_impl_t  ttai_tool_search_notes;

/* the agents' tools run as tasks: their workflows, by the same names */
int ttai_tool_agents_register(ttai_mcp_server_t *srv);

/*
 * Prompts: templates a user picks from a menu.  get fills *result with a
 * GetPromptResult ({"messages": [...]}, maybe a description) from the
 * arguments (an object of strings, the required ones checked), or with
 * ttai_tool_input_required() to ask the user first (then input takes the
 * answers, as a tool's does).  complete gives the values an argument may
 * take that begin with value (a JSON array of strings), or NULL: none.
 */

typedef struct {
    const char                *name;
    const char                *description;
    int                        required;
} ttai_prompt_arg_t;

typedef int (*ttai_prompt_get_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
typedef json_t *(*ttai_complete_pt)(const char *arg, const char *value,
    json_t *args);

typedef struct {
    const char                *name;
    const char                *title;
    const char                *description;
    const ttai_prompt_arg_t   *args;             /* ends with a NULL name */
    ttai_prompt_get_pt         get;
    ttai_complete_pt           complete;         /* NULL: no completions */
    const char                *toolset;          /* as a tool's */
    ttai_tool_input_pt         input;            /* NULL: never asks */
} ttai_prompt_t;


/*
 * Resources: what a client can read by URI.  uri is a URI, or a template
 * whose {name} parts match one path segment each (listed by
 * resources/templates/list).  A resource is read either by calling the
 * tool named tool, with the template's parts as its arguments, and
 * giving its structuredContent as JSON; or by read, which fills
 * *contents with the ResourceContents array.
 */

typedef int (*ttai_resource_read_pt)(ttai_tool_ctx_t *ctx, const char *uri,
    json_t *vars, json_t **contents);

typedef struct {
    const char                *uri;
    const char                *name;
    const char                *title;
    const char                *description;
    const char                *mime_type;
    const char                *tool;             /* or NULL, and read */
    ttai_resource_read_pt      read;
    const char                *toolset;          /* as a tool's */
} ttai_resource_t;


/*
 * Copied, as tools are; the strings must outlive the server.  Returns
 * -1 on a duplicate, a bad template or a missing function, with
 * ttai_mcp_server_error().
 */
int ttai_mcp_register_prompt(ttai_mcp_server_t *srv,
    const ttai_prompt_t *prompt);
int ttai_mcp_register_resource(ttai_mcp_server_t *srv,
    const ttai_resource_t *resource);

/* the prompts and resources ttai ships */
int ttai_prompts_register_all(ttai_mcp_server_t *srv);
int ttai_resources_register_all(ttai_mcp_server_t *srv);

/*
 * The toolset of test fixtures (the conformance suites' tools, prompts
 * and resources): listed only where ttai_mcp_call_t.fixtures is set
 */
#define TTAI_TOOLSET_FIXTURES  "conformance"
int ttai_fixtures_register_all(ttai_mcp_server_t *srv);

/* the tasks scenarios' fixtures (ttai_fixtures_tasks.c) */
int ttai_fixtures_tasks_register(ttai_mcp_server_t *srv);


/*
 * Helpers for tools: a text result, an error result a model can act on.
 * text_result takes the reference to structured (NULL: none).  Both
 * return NULL when out of memory.
 */
json_t *ttai_tool_text_result(const char *text, json_t *structured);

/*
 * Text that comes from TastyTrade or from a user (a symbol's
 * description, a watchlist's name, a note, a broker's warning) is data,
 * never instructions (README, "Trading safely"): a tool writes it quoted
 * as a JSON string, so that it cannot begin a line of its own or pass
 * for ttai's words, and marks its result.  quote returns the quoted
 * text, malloc'd, or NULL; mark_untrusted appends a line that says so to
 * the result's text, and _meta "ttai/untrusted-text": true; it returns
 * result, or NULL when out of memory (result is then freed).
 */
#define TTAI_TOOL_UNTRUSTED_META  "ttai/untrusted-text"

char *ttai_tool_quote(const char *s);
json_t *ttai_tool_mark_untrusted(json_t *result);
json_t *ttai_tool_error_result(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Asking the user (ttai_mcp_input.c).  input_required takes the
 * reference to requests, an object of key -> request; the elicitation
 * requests take the reference to schema.  NULL when out of memory.
 */
json_t *ttai_tool_input_required(json_t *requests);
json_t *ttai_tool_elicit_form(const char *message, json_t *schema);
json_t *ttai_tool_elicit_url(const char *message, const char *url);

/*
 * The answer to the request named key: "accept", "decline" or "cancel"
 * (with *content, when not NULL, the form's values on accept), or NULL
 * when it was not answered
 */
const char *ttai_tool_input_action(json_t *responses, const char *key,
    json_t **content);

/*
 * Notifications during a call, sent before its answer on a
 * text/event-stream response: progress, when the request gave a
 * progressToken (progress must grow; total < 0 and message NULL leave
 * them out), and a log message at a level the client asked for (one of
 * debug ... emergency).  Nothing is sent when not asked for.  -1: no
 * memory.
 */
int ttai_tool_progress(ttai_tool_ctx_t *ctx, double progress, double total,
    const char *message);
int ttai_tool_log(ttai_tool_ctx_t *ctx, const char *level, const char *text);

/*
 * Tells the streams that listen (subscriptions/listen) of a change:
 * kind is one TTAI_LISTEN_* (ttai_mcp.h), uri the resource for
 * TTAI_LISTEN_UPDATED, user_only 1 when only the calling user's streams
 * are to hear of it.  -1: no memory.
 */
int ttai_tool_changed(ttai_tool_ctx_t *ctx, unsigned kind, const char *uri,
    int user_only);

/* asks the shell to write key = value in KV for ttl seconds; -1: no memory */
int ttai_tool_store(ttai_tool_ctx_t *ctx, const char *key, const char *value,
    size_t len, long ttl);

/*
 * asks the shell to delete key from KV: a cached answer that a change
 * the tool made has made stale; -1: no memory
 */
int ttai_tool_forget(ttai_tool_ctx_t *ctx, const char *key);

/*
 * The JSON Schema subset tools use: type, properties, required,
 * additionalProperties, enum, const, minimum, maximum, minLength,
 * maxLength, pattern-free strings, items, minItems, maxItems.  Returns 0,
 * or -1 with a message that names the argument.
 */
int ttai_schema_validate(json_t *schema, json_t *value, char *err,
    size_t errlen);

/* the same for structuredContent, whose parts are called "field" */
int ttai_schema_validate_output(json_t *schema, json_t *value, char *err,
    size_t errlen);

/*
 * Checks that a schema uses only that subset, each keyword with a value
 * of the right type (annotations such as description are allowed): a
 * keyword that would be ignored is refused.  Returns 0, or -1 with why.
 */
int ttai_schema_check(json_t *schema, char *err, size_t errlen);


#endif /* _TTAI_TOOLS_H_INCLUDED_ */
