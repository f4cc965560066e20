
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * tools/call.  The arguments are validated against the tool's input
 * schema before it runs; a failure is a result with isError, which the
 * model reads and corrects (SEP-1303), not a JSON-RPC error, which it
 * would not see.  A tool may wait for upstream data; its result is then
 * made when the shell resumes it.  Either way, a result that breaks the
 * tool's own output schema is not sent as such.
 */

#define TTAI_MCP_ERROR_REASON_MAX  400


static void ttai_mcp_tools_asker(ttai_mcp_server_t *srv,
    ttai_mcp_tool_entry_t *entry, ttai_mcp_asker_t *asker, char *name,
    size_t len);
static int ttai_mcp_tools_replay(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    ttai_mcp_tool_entry_t *entry, json_t **result);
static int ttai_mcp_tools_answer(ttai_mcp_run_t *run,
    ttai_mcp_tool_entry_t *entry, json_t *id, json_t *result,
    json_t **response);
static json_t *ttai_mcp_tools_check(ttai_mcp_tool_entry_t *entry,
    json_t *result);
static json_t *ttai_mcp_tools_unreachable(const char *name,
    const char *error);
static char *ttai_mcp_memo_key(ttai_mcp_run_t *run,
    const ttai_mcp_response_t *resp, size_t nkeys, size_t *len,
    uint64_t *hash);
static ttai_mcp_memo_t *ttai_mcp_memo_find(ttai_mcp_server_t *srv,
    const char *key, size_t len, uint64_t hash);
static void ttai_mcp_memo_keep(ttai_mcp_server_t *srv, char *key,
    size_t len, uint64_t hash, json_t *result);


int
ttai_mcp_tools_call(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int                     rc, retry;
    char                    err[TTAI_MCP_ERRLEN], label[160];
    size_t                  index;
    json_t                 *name, *args, *result, *refusal;
    ttai_mcp_asker_t        asker;
    ttai_tool_ctx_t         ctx;
    ttai_mcp_pending_t     *p;
    unsigned                trading;
    ttai_mcp_tool_entry_t  *entry;

    name = json_object_get(params, "name");

    if (!json_is_string(name)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: name, the tool to "
                                       "call, is required");
        return 0;
    }

    entry = ttai_mcp_tool_find(srv, json_string_value(name), &index);

    /* a tool outside the location's toolsets does not exist there */
    if (entry == NULL
        || !ttai_mcp_tool_listed(entry, ttai_mcp_toolsets(call)))
    {
        trading = ttai_toolset(TTAI_TOOLSET_TRADING,
                               sizeof(TTAI_TOOLSET_TRADING) - 1);

        if (entry != NULL && entry->toolset == trading
            && (call->toolsets == 0 || (call->toolsets & trading)))
        {
            /* the model is told why, so that it stops trying */
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS,
                            NULL, "Tool %.128s is not available: %s",
                            json_string_value(name),
                            call->trading == NULL
                            ? "this server does not trade (the operator's "
                              "ttai_trading is off)"
                            : "the user has not granted trading (sign in "
                              "again and allow trading, or the operator "
                              "runs \"ttai users trading enable\")");
            return 0;
        }

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Unknown tool: %.128s",
                                       json_string_value(name));
        return 0;
    }

    args = json_object_get(params, "arguments");

    /* absent and null both mean no arguments */
    args = (args == NULL || json_is_null(args)) ? json_object()
                                                : json_incref(args);
    if (args == NULL) {
        return -1;
    }

    if (ttai_schema_validate(entry->input, args, err, sizeof(err)) != 0) {
        json_decref(args);

        return ttai_mcp_tools_answer(run, entry, id,
                   ttai_tool_error_result("Invalid arguments for tool %s: "
                                          "%s.  Correct them and call it "
                                          "again.", entry->tool.name, err),
                   response);
    }

    /* what the client repeated in Mcp-Param-* headers, as sent */
    if (run->stateless && entry->headers != NULL) {
        if (ttai_mcp_stateless_params(call, entry->headers, args, id,
                                      response)
            != 0)
        {
            json_decref(args);
            return -1;
        }

        if (*response != NULL) {
            json_decref(args);
            return 0;
        }
    }

    /* a client that takes tasks gets one, durable before it is answered */
    if (entry->workflow != NULL && ttai_mcp_tasks_wanted(call, run)) {
        rc = ttai_mcp_tasks_create(call, run, entry->tool.name,
                                   entry->workflow, id, args, pending);
        json_decref(args);
        run->params_text = NULL;
        return rc;
    }

    /* a tool that runs only as a task, for a client that takes none */
    if (entry->workflow != NULL && entry->task_required) {
        json_decref(args);
        run->params_text = NULL;
        return ttai_mcp_tasks_refuse(id, response);
    }

    json_decref(run->state);
    run->state = json_object();
    if (run->state == NULL) {
        json_decref(args);
        return -1;
    }

    ttai_mcp_tools_ctx(srv, call, run, &ctx);

    result = NULL;
    p = NULL;
    refusal = NULL;

    /* the user answered what the tool asked: its input step goes on */
    retry = (json_object_get(params, "requestState") != NULL
             || json_object_get(params, "inputResponses") != NULL);

    if (retry) {
        ttai_mcp_tools_asker(srv, entry, &asker, label, sizeof(label));
        rc = ttai_mcp_input_retry(srv, call, run, &asker, id, params, args,
                                  &ctx, &result, &p, &refusal);

    } else {
        rc = entry->tool.run(&ctx, args, &result, &p);
    }

    if (rc != 0 || refusal != NULL) {
        json_decref(args);
        json_decref(result);
        ttai_mcp_pending_free(p);
        run->params_text = NULL;
        *response = refusal;
        return rc;
    }

    if (p != NULL && entry->tool.resume != NULL && result == NULL) {
        /* the continuation: ttai_mcp_continue() hangs the run on p */
        run->tool = index;
        run->args = args;
        run->id = json_incref(id);
        *pending = p;

        if ((entry->tool.annotations & TTAI_TOOL_MEMO) && !retry
            && run->reading == NULL)
        {
            ttai_mcp_plan_keep(srv, run, params, p);
        }

        run->params_text = NULL;

        return 0;
    }

    run->params_text = NULL;

    if (p != NULL) {
        json_decref(args);
        ttai_mcp_pending_free(p);
        json_decref(result);

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: tool %s asked for "
                                       "data it cannot take",
                                       entry->tool.name);
        return 0;
    }

    if (result == NULL) {
        json_decref(args);
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: tool %s returned no "
                                       "result", entry->tool.name);
        return 0;
    }

    if (ttai_mcp_input_asked(result)) {
        ttai_mcp_tools_asker(srv, entry, &asker, label, sizeof(label));
        rc = ttai_mcp_input_answer(srv, call, run, &asker, id, args, result,
                                   response, pending);

    } else {
        rc = ttai_mcp_tools_answer(run, entry, id, result, response);
    }

    json_decref(args);

    return rc;
}


int
ttai_mcp_tools_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_response_t *resp, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int                     rc;
    char                   *key, label[160];
    size_t                  klen;
    json_t                 *result, *id, *args;
    ttai_mcp_asker_t        asker;
    uint64_t                hash;
    ttai_mcp_memo_t        *memo;
    ttai_tool_ctx_t         ctx;
    ttai_mcp_pending_t     *p;
    ttai_mcp_tool_entry_t  *entry;

    if (run->tool >= srv->ntools) {
        return -1;
    }

    entry = &srv->tools[run->tool];
    result = NULL;
    p = NULL;
    key = NULL;
    klen = 0;
    hash = 0;

    if ((entry->tool.annotations & TTAI_TOOL_MEMO) && !run->batch
        && run->reading == NULL && resp->values != NULL && run->nkeys > 0)
    {
        key = ttai_mcp_memo_key(run, resp, run->nkeys, &klen, &hash);
        memo = key ? ttai_mcp_memo_find(srv, key, klen, hash) : NULL;

        if (memo != NULL) {
            /* the same call on the same values: the same answer */
            free(key);
            memo->used = ++srv->memo_clock;
            run->raw_result = memo->result;
            run->raw_len = memo->rlen;

            id = run->id;
            run->id = NULL;
            json_decref(run->args);
            run->args = NULL;

            *response = id;

            return *response ? 0 : -1;
        }
    }

    if (resp->status == 0 && resp->values == NULL && !run->waited) {
        result = ttai_mcp_tools_unreachable(entry->tool.name, resp->error);
        rc = result ? 0 : -1;

    } else if (run->args == NULL
               && ttai_mcp_tools_replay(srv, call, run, entry, &result)
                  != 0)
    {
        rc = -1;

    } else if (result == NULL) {
        ttai_mcp_tools_ctx(srv, call, run, &ctx);

        rc = entry->tool.resume(&ctx, run->args, resp, &result, &p);

    } else {
        /* the tool answered at once this time: no answer to the values */
        free(key);
        key = NULL;
        rc = 0;
    }

    if (rc == 0 && p != NULL && result == NULL) {
        /* another step: the run keeps its arguments and id */
        free(key);
        *pending = p;
        return 0;
    }

    ttai_mcp_pending_free(p);

    id = run->id;
    run->id = NULL;
    args = run->args;
    run->args = NULL;

    if (rc != 0) {
        free(key);
        json_decref(result);
        json_decref(id);
        json_decref(args);
        return -1;
    }

    if (result == NULL) {
        free(key);
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: tool %s returned no "
                                       "result", entry->tool.name);
        rc = *response ? 0 : -1;

    } else if (ttai_mcp_input_asked(result)) {
        /* after the data it fetched, the tool asks the user */
        free(key);
        ttai_mcp_tools_asker(srv, entry, &asker, label, sizeof(label));
        rc = ttai_mcp_input_answer(srv, call, run, &asker, id, args, result,
                                   response, pending);

    } else {
        rc = ttai_mcp_tools_answer(run, entry, id, result, response);

        if (rc == 0 && key != NULL) {
            /* only an answer that passed the checks is remembered */
            ttai_mcp_memo_keep(srv, key, klen, hash,
                               json_object_get(*response, "result"));
            key = NULL;
        }

        free(key);
    }

    json_decref(id);
    json_decref(args);

    return rc;
}


/*
 * A call from a plan whose answer the memo does not have: the tool's
 * first step is run again on the params kept with the call, as the
 * general way ran it, for the arguments and the state its next step
 * needs.  The KV step it asks for is the one already made.  Returns 0,
 * with *result set when the tool answered at once, or -1.
 */

static int
ttai_mcp_tools_replay(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, ttai_mcp_tool_entry_t *entry, json_t **result)
{
    int                  rc;
    json_t              *params, *args;
    ttai_tool_ctx_t      ctx;
    ttai_mcp_pending_t  *p;

    params = json_loadb(run->plan_params, run->plan_plen, 0, NULL);
    args = json_object_get(params, "arguments");

    args = (params == NULL) ? NULL
           : (args == NULL || json_is_null(args)) ? json_object()
                                                  : json_incref(args);
    json_decref(params);

    json_decref(run->state);
    run->state = json_object();

    if (args == NULL || run->state == NULL) {
        json_decref(args);
        return -1;
    }

    run->args = args;

    ttai_mcp_tools_ctx(srv, call, run, &ctx);

    p = NULL;

    rc = entry->tool.run(&ctx, args, result, &p);

    ttai_mcp_pending_free(p);

    if (rc != 0 || (*result == NULL && p == NULL)) {
        json_decref(*result);
        *result = NULL;
        return -1;
    }

    return 0;
}


static void
ttai_mcp_tools_asker(ttai_mcp_server_t *srv, ttai_mcp_tool_entry_t *entry,
    ttai_mcp_asker_t *asker, char *label, size_t len)
{
    snprintf(label, len, "Tool %s", entry->tool.name);

    asker->prompt = 0;
    asker->index = entry - srv->tools;

    asker->method = "tools/call";
    asker->target = entry->tool.name;
    asker->name = label;
    asker->input = entry->tool.input;
    asker->no_state = (entry->tool.annotations & TTAI_TOOL_INPUT_NO_STATE)
                      != 0;
}


/*
 * A 2025 session's client answered what the tool asked (or failed to):
 * the tool's input step goes on with the answers, as after a retry in
 * 2026-07-28
 */

int
ttai_mcp_tools_input(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *responses, const char *failed,
    json_t **response, ttai_mcp_pending_t **pending)
{
    int                     rc;
    char                    label[160];
    json_t                 *result, *id, *args;
    ttai_tool_ctx_t         ctx;
    ttai_mcp_asker_t        asker;
    ttai_mcp_pending_t     *p;
    ttai_mcp_tool_entry_t  *entry;

    if (run->tool >= srv->ntools) {
        return -1;
    }

    entry = &srv->tools[run->tool];
    id = run->id;
    run->id = NULL;
    args = run->args;
    run->args = NULL;

    result = NULL;
    p = NULL;

    if (failed != NULL) {
        result = ttai_tool_error_result("%s could not go on: %s.  Call it "
                                        "again to ask once more.",
                                        entry->tool.name, failed);
        rc = (result != NULL) ? 0 : -1;

    } else {
        ttai_mcp_tools_ctx(srv, call, run, &ctx);
        rc = entry->tool.input(&ctx, args, responses, &result, &p);
    }

    if (rc == 0 && p != NULL && result == NULL
        && entry->tool.resume != NULL)
    {
        /* the answers lead to data: the tool's steps go on */
        run->id = id;
        run->args = args;
        *pending = p;
        return 0;
    }

    ttai_mcp_pending_free(p);

    if (rc != 0) {
        json_decref(result);
        rc = -1;

    } else if (result == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: tool %s returned no "
                                       "result", entry->tool.name);
        rc = (*response != NULL) ? 0 : -1;

    } else if (ttai_mcp_input_asked(result)) {
        /* another round of questions */
        ttai_mcp_tools_asker(srv, entry, &asker, label, sizeof(label));
        rc = ttai_mcp_input_answer(srv, call, run, &asker, id, args, result,
                                   response, pending);

    } else {
        rc = ttai_mcp_tools_answer(run, entry, id, result, response);
    }

    json_decref(id);
    json_decref(args);

    return rc;
}


/* what a tool, prompt or resource sees of the call and its run */

void
ttai_mcp_tools_ctx(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, ttai_tool_ctx_t *ctx)
{
    ctx->call = call;
    ctx->server_version = srv->version;
    ctx->ttl = &srv->ttl;
    ctx->state = run->state;
    ctx->stores = run->stores;
    ctx->caps = run->caps;
    ctx->events = run->events;
    ctx->progress_token = run->progress_token;
    ctx->log_min = run->log_min;
    ctx->changes = run->changes;
}


/* takes the reference to result; NULL result: out of memory */

static int
ttai_mcp_tools_answer(ttai_mcp_run_t *run, ttai_mcp_tool_entry_t *entry,
    json_t *id, json_t *result, json_t **response)
{
    if (result == NULL) {
        return -1;
    }

    result = ttai_mcp_tools_check(entry, result);

    *response = ttai_mcp_rpc_result(id, result);

    if (*response == NULL) {
        return -1;
    }

    /* the tool ran to read a resource: its answer is the resource's */
    return run->reading ? ttai_mcp_resource_answer(run, response) : 0;
}


/*
 * A CallToolResult needs its content; and MCP: a tool that declares an
 * outputSchema MUST return structuredContent that conforms to it.  A
 * tool that breaks either has a bug, which the model is told about
 * rather than handed data its client would reject.
 */

static json_t *
ttai_mcp_tools_check(ttai_mcp_tool_entry_t *entry, json_t *result)
{
    char     err[TTAI_MCP_ERRLEN];
    json_t  *sc;

    if (!json_is_object(result)
        || !json_is_array(json_object_get(result, "content")))
    {
        snprintf(err, sizeof(err), "it has no content");

    } else if (entry->output == NULL
               || json_is_true(json_object_get(result, "isError")))
    {
        return result;

    } else {
        sc = json_object_get(result, "structuredContent");

        if (sc == NULL) {
            snprintf(err, sizeof(err), "it has no structuredContent");

        } else if (ttai_schema_validate_output(entry->output, sc, err,
                                               sizeof(err))
                   == 0)
        {
            return result;
        }
    }

    json_decref(result);

    return ttai_tool_error_result("Tool %s made a result that breaks its "
                                  "own output schema (%s).  This is a bug "
                                  "in ttai, not in your call.",
                                  entry->tool.name, err);
}


/*
 * The request never got an answer: the shell's sentence says why (it
 * knows whether it timed out, was refused or was too large), cleaned
 */

static json_t *
ttai_mcp_tools_unreachable(const char *name, const char *error)
{
    char    reason[TTAI_MCP_ERROR_REASON_MAX + 1];
    size_t  i;

    snprintf(reason, sizeof(reason), "%s",
             (error != NULL && *error != '\0') ? error : "no response");

    for (i = 0; reason[i] != '\0'; i++) {
        if ((unsigned char) reason[i] < 0x20
            || (unsigned char) reason[i] >= 0x7f)
        {
            reason[i] = '?';
        }
    }

    return ttai_tool_error_result("Tool %s failed: %s", name, reason);
}


/*
 * The memo of TTAI_TOOL_MEMO answers.  A tool so marked answers a KV step
 * from its arguments and those values (or their absence) alone,
 * so the text of one answer serves every later call with the same
 * arguments on the same values: it skips the tool, the output-schema
 * check and serialization.  The values are part of the key, so a value
 * that changes in KV (a new quote) is a miss by itself; entries only
 * ever go out of use.  Per server, that is per nginx worker.
 */

static char *
ttai_mcp_memo_key(ttai_mcp_run_t *run, const ttai_mcp_response_t *resp,
    size_t nkeys, size_t *len, uint64_t *hash)
{
    char    *args, *key, *p;
    size_t   i, alen, n;

    /*
     * An absent key is part of the key too (a byte no JSON begins with):
     * a tool that answers at once without it answers so again, and one
     * that goes upstream for it has no answer here to remember
     */
    for (i = 0, n = 0; i < nkeys; i++) {
        n += (resp->values[i] ? resp->lens[i] : 1) + 1;
    }

    /* a call from a plan has them as text already */
    if (run->args != NULL) {
        args = ttai_json_dumps(run->args, &alen);
        if (args == NULL) {
            return NULL;
        }

    } else {
        args = (char *) run->plan_args;
        alen = run->plan_alen;
    }

    n += sizeof(size_t) + alen + 1;

    key = malloc(n);

    if (key != NULL) {
        memcpy(key, &run->tool, sizeof(size_t));
        p = key + sizeof(size_t);
        memcpy(p, args, alen + 1);
        p += alen + 1;
    }

    if (run->args != NULL) {
        free(args);
    }

    if (key == NULL) {
        return NULL;
    }

    for (i = 0; i < nkeys; i++) {
        if (resp->values[i] == NULL) {
            *p++ = '\1';

        } else {
            memcpy(p, resp->values[i], resp->lens[i]);
            p += resp->lens[i];
        }

        *p++ = '\0';
    }

    *len = n;
    *hash = ttai_mcp_hash(key, n);

    return key;
}


static ttai_mcp_memo_t *
ttai_mcp_memo_find(ttai_mcp_server_t *srv, const char *key, size_t len,
    uint64_t hash)
{
    size_t            i;
    ttai_mcp_memo_t  *m;

    for (i = 0; i < TTAI_MCP_MEMO; i++) {
        m = &srv->memo[i];

        if (m->key != NULL && m->hash == hash && m->klen == len
            && memcmp(m->key, key, len) == 0)
        {
            return m;
        }
    }

    return NULL;
}


/* takes key; a result that cannot be kept is simply not remembered */

static void
ttai_mcp_memo_keep(ttai_mcp_server_t *srv, char *key, size_t len,
    uint64_t hash, json_t *result)
{
    char             *text;
    size_t            i, tlen;
    ttai_mcp_memo_t  *m, *old;

    if (result == NULL || json_is_true(json_object_get(result, "isError"))) {
        free(key);
        return;
    }

    text = ttai_json_dumps(result, &tlen);
    if (text == NULL) {
        free(key);
        return;
    }

    old = &srv->memo[0];

    for (i = 0; i < TTAI_MCP_MEMO; i++) {
        m = &srv->memo[i];

        if (m->key == NULL) {
            old = m;
            break;
        }

        if (m->used < old->used) {
            old = m;
        }
    }

    free(old->key);
    free(old->result);

    old->key = key;
    old->klen = len;
    old->hash = hash;
    old->result = text;
    old->rlen = tlen;
    old->used = ++srv->memo_clock;
}


void
ttai_mcp_memo_free(ttai_mcp_server_t *srv)
{
    size_t  i;

    for (i = 0; i < TTAI_MCP_MEMO; i++) {
        free(srv->memo[i].key);
        free(srv->memo[i].result);
        srv->memo[i].key = NULL;
        srv->memo[i].result = NULL;
    }
}
