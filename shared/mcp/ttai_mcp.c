
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"
#include "ttai_version.h"


/*
 * One POST /mcp: the checks of the Streamable HTTP transport, in the
 * order the SDK makes them (protocol header, body, session), then every
 * message answered in turn.  A tool that waits for upstream data stops
 * the loop; ttai_mcp_resume() takes it up again where it stopped.
 */


static int ttai_mcp_precheck(const ttai_mcp_call_t *call, json_t *root,
    ttai_mcp_reply_t *reply);
static const char *ttai_mcp_batch_version(const ttai_mcp_call_t *call,
    json_t *messages);
static int ttai_mcp_is_initialize(json_t *msg);
static int ttai_mcp_continue(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static int ttai_mcp_finish(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static int ttai_mcp_reply_stores(ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static int ttai_mcp_body_claims(const char *body, size_t len);
static int ttai_mcp_reply_events(ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static int ttai_mcp_reply_answers(ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static int ttai_mcp_reply_changes(ttai_mcp_run_t *run,
    ttai_mcp_reply_t *reply);
static void ttai_mcp_notify_setup(const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run);
static int ttai_mcp_reply_raw(ttai_mcp_reply_t *reply, json_t *id,
    ttai_mcp_run_t *run, int split);
static int ttai_mcp_reply_json(ttai_mcp_reply_t *reply, int status,
    json_t *json);


/* newest first: the first is the one answered to an unknown request */
static const char  *ttai_mcp_versions[] = {
    TTAI_MCP_LATEST_VERSION,
    "2025-06-18",
    TTAI_MCP_BATCH_VERSION,
    NULL
};

static const char  ttai_mcp_default_instructions[] =
    "ttai connects you to the user's TastyTrade brokerage account.  Call "
    "get_session_info to see which account is signed in.  Tool results "
    "come as text, and as structuredContent where a tool declares an "
    "output schema.  A result with isError explains what went wrong and "
    "how to correct the call.";


ttai_mcp_server_t *
ttai_mcp_server_create(const char *version, const char *instructions)
{
    ttai_mcp_server_t  *srv;

    srv = calloc(1, sizeof(ttai_mcp_server_t));
    if (srv == NULL) {
        return NULL;
    }

    srv->version = strdup(version ? version : TTAI_VERSION);
    srv->instructions = strdup(instructions ? instructions
                                            : ttai_mcp_default_instructions);
    srv->page_size = TTAI_MCP_PAGE_SIZE;
    srv->ttl.quote = 5;
    srv->ttl.metrics = 60;
    srv->ttl.chain = 600;
    srv->ttl.account = 5;

    if (srv->version == NULL || srv->instructions == NULL) {
        ttai_mcp_server_free(srv);
        return NULL;
    }

    return srv;
}


void
ttai_mcp_server_free(ttai_mcp_server_t *srv)
{
    if (srv == NULL) {
        return;
    }

    ttai_mcp_tools_free(srv);
    ttai_mcp_prompts_free(srv);
    ttai_mcp_resources_free(srv);
    ttai_mcp_memo_free(srv);
    ttai_mcp_plans_free(srv);
    ttai_mcp_tools_pages_free(srv);
    ttai_mcp_quick_forget(srv);
    free(srv->version);
    free(srv->instructions);
    free(srv);
}


const char *
ttai_mcp_server_error(const ttai_mcp_server_t *srv)
{
    return srv->error;
}


void
ttai_mcp_server_cache_ttl(ttai_mcp_server_t *srv, const ttai_cache_ttl_t *ttl)
{
    srv->ttl = *ttl;
}


void
ttai_mcp_server_page_size(ttai_mcp_server_t *srv, size_t n)
{
    srv->page_size = (n > 0) ? n : TTAI_MCP_PAGE_SIZE;

    /* the first page of tools/list is another one now */
    ttai_mcp_tools_pages_free(srv);
}


int
ttai_mcp_version_supported(const char *version, size_t len)
{
    const char  **v;

    if (version == NULL) {
        return 0;
    }

    for (v = ttai_mcp_versions; *v != NULL; v++) {
        if (strlen(*v) == len && memcmp(*v, version, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
ttai_mcp_handle(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, ttai_mcp_reply_t *reply)
{
    int              rc, stateless, stateless_header;
    size_t           plen, list_plen;
    json_t          *root, *msg;
    const char      *params, *list_params;
    json_error_t     jerr;
    ttai_mcp_run_t  *run;

    memset(reply, 0, sizeof(ttai_mcp_reply_t));

    stateless_header = (call->protocol_header != NULL
                        && strcmp(call->protocol_header,
                                  TTAI_MCP_STATELESS_VERSION) == 0);

    /*
     * A body that names its version in _meta is judged by that, and the
     * header is then compared with it (ttai_mcp_stateless.c)
     */
    if (call->protocol_header != NULL && !stateless_header
        && !ttai_mcp_version_supported(call->protocol_header,
                                       strlen(call->protocol_header))
        && !ttai_mcp_body_claims(body, len))
    {
        return ttai_mcp_reply_error(reply, 400, NULL,
                   TTAI_MCP_TRANSPORT_ERROR,
                   json_pack("{s:[s,s,s]}", "supported", ttai_mcp_versions[0],
                             ttai_mcp_versions[1], ttai_mcp_versions[2]),
                   "Bad Request: unsupported MCP-Protocol-Version \"%.32s\"; "
                   "supported versions: %s, %s, %s (through initialize), "
                   "and %s per request", call->protocol_header,
                   ttai_mcp_versions[0], ttai_mcp_versions[1],
                   ttai_mcp_versions[2], TTAI_MCP_STATELESS_VERSION);
    }

    list_params = NULL;
    list_plen = 0;

    if (!stateless_header) {
        rc = ttai_mcp_quick(srv, call, body, len, reply, &params, &plen);

    } else {
        rc = ttai_mcp_quick_stateless(srv, call, body, len, reply,
                                      &list_params, &list_plen);
        params = NULL;
        plen = 0;
    }

    if (rc != 0) {
        return (rc > 0) ? 0 : -1;
    }

    root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);

    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return -1;
        }

        return ttai_mcp_reply_error(reply, 400, NULL, TTAI_MCP_PARSE_ERROR,
                                    NULL, "Parse error: the body is not "
                                    "valid JSON (line %d, column %d)",
                                    jerr.line, jerr.column);
    }

    stateless = ttai_mcp_stateless_check(call, root, reply);

    if (stateless == -1 || reply->status != 0) {
        json_decref(root);
        return (stateless == -1) ? -1 : 0;
    }

    if (!stateless) {
        rc = ttai_mcp_precheck(call, root, reply);

        if (rc != 0 || reply->status != 0) {
            json_decref(root);
            return rc;
        }
    }

    run = calloc(1, sizeof(ttai_mcp_run_t));
    if (run == NULL) {
        json_decref(root);
        return -1;
    }

    if (json_is_array(root)) {
        run->messages = root;
        run->batch = 1;

    } else {
        run->messages = json_array();

        if (run->messages == NULL || json_array_append_new(run->messages,
                                                           root) != 0)
        {
            ttai_mcp_run_free(run);
            return -1;
        }
    }

    run->responses = json_array();
    run->stores = json_array();
    run->events = json_array();
    run->changes = json_array();
    if (run->responses == NULL || run->stores == NULL || run->events == NULL
        || run->changes == NULL)
    {
        ttai_mcp_run_free(run);
        return -1;
    }

    /*
     * For the plan of a tools/call, while the body is there to read; a
     * stateless call makes none, since the quick way never answers one
     */
    run->params_text = stateless ? NULL : params;
    run->params_len = stateless ? 0 : plen;

    run->stateless = stateless;
    memcpy(run->traceparent, reply->traceparent, sizeof(run->traceparent));

    ttai_mcp_notify_setup(call, run);

    if (stateless) {
        /* what the client can answer, for a tool that asks the user */
        msg = json_array_get(run->messages, 0);
        run->caps = json_incref(json_object_get(json_object_get(
                        json_object_get(msg, "params"), "_meta"),
                        "io.modelcontextprotocol/clientCapabilities"));

    } else if (call->session_caps != NULL) {
        /* what the session's client declared, as kept (never large) */
        run->caps = json_loads(call->session_caps, 0, NULL);
    }

    rc = ttai_mcp_continue(srv, call, run, reply);

    if (rc == 0 && list_params != NULL && reply->pending == NULL) {
        ttai_mcp_quick_learn(srv, call, reply, list_params, list_plen);
    }

    return rc;
}


int
ttai_mcp_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_reply_t *reply, const ttai_mcp_response_t *resp)
{
    int                  rc, asked;
    json_t              *response;
    ttai_mcp_run_t      *run;
    ttai_mcp_pending_t  *pending, *next;

    pending = reply->pending;

    if (pending == NULL || pending->state == NULL) {
        return -1;
    }

    run = pending->state;
    pending->state = NULL;
    run->nkeys = (pending->kind == TTAI_PENDING_CACHE) ? pending->nkeys : 0;
    run->waited = (pending->kind == TTAI_PENDING_WAIT || pending->failures);
    asked = (pending->kind == TTAI_PENDING_ASK);
    ttai_mcp_reply_free(reply);

    response = NULL;
    next = NULL;

    rc = asked ? ttai_mcp_input_resume(srv, call, run, resp, &response, &next)
         : run->task_op ? ttai_mcp_tasks_resume(srv, call, run, resp,
                                                &response)
         : ttai_mcp_tools_resume(srv, call, run, resp, &response, &next);
    if (rc != 0) {
        ttai_mcp_run_free(run);
        return -1;
    }

    if (next != NULL) {
        /* the same tool's next step */
        next->state = run;
        reply->pending = next;
        reply->stateless = run->stateless;
        memcpy(reply->traceparent, run->traceparent,
               sizeof(reply->traceparent));
        return (ttai_mcp_reply_events(run, reply) != 0) ? -1
               : ttai_mcp_reply_stores(run, reply);
    }

    if (json_array_append_new(run->responses, response) != 0) {
        ttai_mcp_run_free(run);
        return -1;
    }

    run->next++;

    return ttai_mcp_continue(srv, call, run, reply);
}


void
ttai_mcp_reply_events_free(ttai_mcp_reply_t *reply)
{
    size_t  i;

    for (i = 0; i < reply->nevents; i++) {
        free(reply->events[i]);
    }

    free(reply->events);
    reply->events = NULL;
    reply->nevents = 0;
}


void
ttai_mcp_reply_free(ttai_mcp_reply_t *reply)
{
    size_t  i;

    ttai_mcp_reply_events_free(reply);
    ttai_mcp_listen_free(reply->listen);
    free(reply->subscribe_uri);

    for (i = 0; i < reply->nchanges; i++) {
        free(reply->changes[i].uri);
    }

    free(reply->changes);
    free(reply->body);
    free(reply->client_info);
    free(reply->client_caps);

    for (i = 0; i < reply->nanswers; i++) {
        free(reply->answers[i].id);
        free(reply->answers[i].text);
    }

    free(reply->answers);
    ttai_mcp_stores_free(reply->stores, reply->nstores);
    ttai_mcp_pending_free(reply->pending);

    memset(reply, 0, sizeof(ttai_mcp_reply_t));
}


ttai_mcp_pending_t *
ttai_mcp_pending_http(int service, const char *method, const char *path,
    const char *body, const char *cache_key, long cache_ttl)
{
    ttai_mcp_pending_t  *p;

    if (method == NULL || path == NULL
        || strlen(method) >= sizeof(p->method))
    {
        return NULL;
    }

    p = calloc(1, sizeof(ttai_mcp_pending_t));
    if (p == NULL) {
        return NULL;
    }

    p->kind = TTAI_PENDING_HTTP;
    p->service = service;
    strcpy(p->method, method);
    p->path = strdup(path);
    p->body = body ? strdup(body) : NULL;
    p->cache_key = cache_key ? strdup(cache_key) : NULL;
    p->cache_ttl = cache_ttl;

    if (p->path == NULL || (body && p->body == NULL)
        || (cache_key && p->cache_key == NULL))
    {
        ttai_mcp_pending_free(p);
        return NULL;
    }

    return p;
}


ttai_mcp_pending_t *
ttai_mcp_pending_cache(const char *const *keys, size_t nkeys)
{
    size_t               i;
    ttai_mcp_pending_t  *p;

    if (nkeys == 0) {
        return NULL;
    }

    p = calloc(1, sizeof(ttai_mcp_pending_t));
    if (p == NULL) {
        return NULL;
    }

    p->kind = TTAI_PENDING_CACHE;
    p->keys = calloc(nkeys, sizeof(char *));

    if (p->keys == NULL) {
        free(p);
        return NULL;
    }

    p->nkeys = nkeys;

    for (i = 0; i < nkeys; i++) {
        p->keys[i] = strdup(keys[i]);

        if (p->keys[i] == NULL) {
            ttai_mcp_pending_free(p);
            return NULL;
        }
    }

    return p;
}


ttai_mcp_pending_t *
ttai_mcp_pending_wait(long ms)
{
    ttai_mcp_pending_t  *p;

    if (ms < 0) {
        return NULL;
    }

    p = calloc(1, sizeof(ttai_mcp_pending_t));
    if (p == NULL) {
        return NULL;
    }

    p->kind = TTAI_PENDING_WAIT;
    p->ms = ms;

    return p;
}


ttai_mcp_pending_t *
ttai_mcp_pending_d1(json_t *batch)
{
    ttai_mcp_pending_t  *p;

    if (!json_is_array(batch) || json_array_size(batch) == 0) {
        json_decref(batch);
        return NULL;
    }

    p = calloc(1, sizeof(ttai_mcp_pending_t));
    if (p == NULL) {
        json_decref(batch);
        return NULL;
    }

    p->kind = TTAI_PENDING_D1;
    strcpy(p->method, "POST");
    p->body = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);

    if (p->body == NULL) {
        free(p);
        return NULL;
    }

    return p;
}


void
ttai_mcp_pending_free(ttai_mcp_pending_t *pending)
{
    size_t  i;

    if (pending == NULL) {
        return;
    }

    ttai_mcp_run_free(pending->state);
    free(pending->path);
    free(pending->body);
    free(pending->cache_key);

    for (i = 0; i < pending->nkeys; i++) {
        free(pending->keys[i]);
    }

    free(pending->keys);

    for (i = 0; i < pending->nasks; i++) {
        free(pending->ask_ids[i]);
    }

    free(pending->ask_ids);
    free(pending);
}


void
ttai_mcp_stores_free(ttai_mcp_store_t *stores, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(stores[i].key);
        free(stores[i].value);
    }

    free(stores);
}


/* hands the KV writes the tools asked for so far to the reply */

static int
ttai_mcp_reply_stores(ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    size_t             i, n;
    json_t            *st;
    const char        *v;
    ttai_mcp_store_t  *stores;

    n = json_array_size(run->stores);

    if (n == 0) {
        return 0;
    }

    stores = calloc(n, sizeof(ttai_mcp_store_t));
    if (stores == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        st = json_array_get(run->stores, i);
        v = json_string_value(json_object_get(st, "value"));

        stores[i].key = strdup(json_string_value(json_object_get(st, "key")));
        stores[i].len = json_string_length(json_object_get(st, "value"));
        stores[i].value = malloc(stores[i].len + 1);
        stores[i].ttl = (long) json_integer_value(json_object_get(st, "ttl"));

        if (stores[i].key == NULL || stores[i].value == NULL) {
            ttai_mcp_stores_free(stores, i + 1);
            return -1;
        }

        memcpy(stores[i].value, v, stores[i].len + 1);
    }

    json_array_clear(run->stores);

    reply->stores = stores;
    reply->nstores = n;

    return 0;
}


/*
 * Everything that is answered with an HTTP error rather than with
 * JSON-RPC responses.  Returns 0 with reply->status still 0 when the
 * messages are to be answered, 0 with an error reply, or -1.
 */

static int
ttai_mcp_precheck(const ttai_mcp_call_t *call, json_t *root,
    ttai_mcp_reply_t *reply)
{
    int          init, request;
    size_t       i;
    json_t      *msg;
    const char  *why, *version;

    if (json_is_array(root) && json_array_size(root) == 0) {
        return ttai_mcp_reply_error(reply, 400, NULL,
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: an empty batch");
    }

    if (!json_is_array(root) && !json_is_object(root)) {
        return ttai_mcp_reply_error(reply, 400, NULL,
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: the body must be a "
                                    "JSON-RPC message (a JSON object)");
    }

    /* the client must start again with initialize, without the id */
    if (call->session_unknown) {
        return ttai_mcp_reply_error(reply, 404, NULL,
                                    TTAI_MCP_SESSION_NOT_FOUND, NULL,
                                    "Session not found");
    }

    if (json_is_array(root)) {
        version = ttai_mcp_batch_version(call, root);

        if (strcmp(version, TTAI_MCP_BATCH_VERSION) != 0) {
            return ttai_mcp_reply_error(reply, 400, NULL,
                       TTAI_MCP_INVALID_REQUEST, NULL,
                       "Invalid Request: batches are not supported in this "
                       "protocol version (%s); send one message per POST",
                       version);
        }

    } else if (ttai_mcp_rpc_classify(root, &why) == TTAI_MCP_MSG_INVALID) {
        return ttai_mcp_reply_error(reply, 400, ttai_mcp_rpc_id(root),
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: %s", why);
    }

    init = 0;
    request = 0;

    if (json_is_array(root)) {
        json_array_foreach(root, i, msg) {
            if (ttai_mcp_is_initialize(msg)) {
                init = 1;

            } else if (ttai_mcp_rpc_classify(msg, &why)
                       == TTAI_MCP_MSG_REQUEST)
            {
                request = 1;
            }
        }

    } else if (ttai_mcp_is_initialize(root)) {
        init = 1;

    } else {
        request = (ttai_mcp_rpc_classify(root, &why) == TTAI_MCP_MSG_REQUEST);
    }

    if (init && json_array_size(root) > 1) {
        return ttai_mcp_reply_error(reply, 400, NULL,
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: initialize must be "
                                    "sent alone, not in a batch");
    }

    if (init && call->session_id != NULL) {
        return ttai_mcp_reply_error(reply, 400, NULL,
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: this session is "
                                    "already initialized; to start a new "
                                    "one, send initialize without "
                                    "Mcp-Session-Id");
    }

    /*
     * Requests need a session; notifications and responses change
     * nothing here, so they are accepted without one, and so is a
     * one-shot call that names no protocol version either.
     */
    if (request && call->session_id == NULL && !call->stateless) {
        return ttai_mcp_reply_error(reply, 400, NULL,
                                    TTAI_MCP_TRANSPORT_ERROR, NULL,
                                    "Bad Request: Mcp-Session-Id header is "
                                    "required");
    }

    return 0;
}


/*
 * The version a batch is judged by: the session's; before a session,
 * the header's, or the one initialize would negotiate; and when none is
 * known, 2025-03-26, as the 2025-06-18 transport says to assume.
 */

static const char *
ttai_mcp_batch_version(const ttai_mcp_call_t *call, json_t *messages)
{
    size_t   i;
    json_t  *msg, *v;

    if (call->session_id != NULL && call->session_version != NULL) {
        return call->session_version;
    }

    if (call->protocol_header != NULL) {
        return call->protocol_header;
    }

    json_array_foreach(messages, i, msg) {
        if (ttai_mcp_is_initialize(msg)) {
            v = json_object_get(json_object_get(msg, "params"),
                                "protocolVersion");

            return ttai_mcp_negotiate(json_string_value(v));
        }
    }

    return TTAI_MCP_BATCH_VERSION;
}


static int
ttai_mcp_is_initialize(json_t *msg)
{
    const char  *why;

    return ttai_mcp_rpc_classify(msg, &why) == TTAI_MCP_MSG_REQUEST
           && strcmp(json_string_value(json_object_get(msg, "method")),
                     "initialize") == 0;
}


static int
ttai_mcp_continue(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    json_t              *msg, *response;
    ttai_mcp_pending_t  *pending;

    while (run->next < json_array_size(run->messages)) {
        msg = json_array_get(run->messages, run->next);
        response = NULL;
        pending = NULL;

        if (ttai_mcp_dispatch(srv, call, run, msg, &response, &pending)
            != 0)
        {
            ttai_mcp_run_free(run);
            return -1;
        }

        if (pending != NULL) {
            pending->state = run;
            reply->pending = pending;
            reply->stateless = run->stateless;
            memcpy(reply->traceparent, run->traceparent,
                   sizeof(reply->traceparent));
            return (ttai_mcp_reply_events(run, reply) != 0) ? -1
                   : ttai_mcp_reply_stores(run, reply);
        }

        run->next++;

        if (response != NULL
            && json_array_append_new(run->responses, response) != 0)
        {
            ttai_mcp_run_free(run);
            return -1;
        }
    }

    return ttai_mcp_finish(srv, call, run, reply);
}


/* frees the run, into the reply or not */

static int
ttai_mcp_finish(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    int      rc, status;
    json_t  *out;

    reply->stateless = run->stateless;
    memcpy(reply->traceparent, run->traceparent, sizeof(reply->traceparent));

    if (ttai_mcp_reply_changes(run, reply) != 0) {
        ttai_mcp_run_free(run);
        return -1;
    }

    if (run->subscribe_uri != NULL) {
        reply->subscribe_uri = run->subscribe_uri;
        reply->subscribe = run->subscribe;
        run->subscribe_uri = NULL;
    }

    if (run->listen != NULL && json_array_size(run->responses) == 1) {
        /* subscriptions/listen: the shell holds the stream */
        reply->listen = run->listen;
        run->listen = NULL;
        rc = ttai_mcp_reply_events(run, reply);

    } else if (json_array_size(run->responses) == 0) {
        /* only notifications and responses: accepted, nothing to say */
        reply->status = 202;
        rc = 0;

    } else if (run->stateless && run->raw_result != NULL
               && run->raw_stateless)
    {
        /* a page kept in this era's form (tools/list) */
        rc = ttai_mcp_reply_raw(reply, json_array_get(run->responses, 0),
                                run, call->split && run->raw_kept);

    } else if (run->stateless) {
        /* one message: never a batch in this era */
        out = json_incref(json_array_get(run->responses, 0));

        rc = ttai_mcp_stateless_result(srv, run, &out, &status);

        if (rc == 0) {
            rc = ttai_mcp_reply_json(reply, status, out);

        } else {
            json_decref(out);
        }

    } else if (!run->batch && run->raw_result != NULL) {
        rc = ttai_mcp_reply_raw(reply, json_array_get(run->responses, 0),
                                run, call->split && run->raw_kept);

    } else {
        out = run->batch ? run->responses
                         : json_array_get(run->responses, 0);

        rc = ttai_mcp_reply_json(reply, 200, json_incref(out));
    }

    if (rc == 0) {
        rc = ttai_mcp_reply_stores(run, reply);
    }

    if (rc == 0) {
        rc = ttai_mcp_reply_events(run, reply);
    }

    if (rc == 0) {
        reply->new_session = run->new_session;
        memcpy(reply->version, run->version, sizeof(reply->version));
        memcpy(reply->log_level, run->log_level, sizeof(reply->log_level));
        reply->client_info = run->client_info;
        run->client_info = NULL;
        reply->client_caps = run->client_caps;
        run->client_caps = NULL;
        rc = ttai_mcp_reply_answers(run, reply);
    }

    ttai_mcp_run_free(run);

    return rc;
}


void
ttai_mcp_run_free(ttai_mcp_run_t *run)
{
    if (run == NULL) {
        return;
    }

    json_decref(run->messages);
    json_decref(run->responses);
    json_decref(run->args);
    json_decref(run->id);
    json_decref(run->state);
    json_decref(run->stores);
    json_decref(run->caps);
    json_decref(run->ask_ids);
    json_decref(run->ask_keys);
    json_decref(run->answers);
    json_decref(run->events);
    json_decref(run->progress_token);
    json_decref(run->changes);
    ttai_mcp_listen_free(run->listen);
    free(run->subscribe_uri);
    free(run->reading);
    free(run->reading_mime);
    free(run->client_info);
    free(run->client_caps);
    free(run->plan_params);
    free(run);
}


/* an HTTP error with a JSON-RPC error body; takes the reference to data */

int
ttai_mcp_reply_error(ttai_mcp_reply_t *reply, int status, json_t *id,
    int code, json_t *data, const char *fmt, ...)
{
    json_t   *e;
    va_list   args;

    va_start(args, fmt);
    e = ttai_mcp_rpc_verror(id, code, data, fmt, args);
    va_end(args);

    return ttai_mcp_reply_json(reply, status, e);
}


/* takes the reference to json */

static int
ttai_mcp_reply_json(ttai_mcp_reply_t *reply, int status, json_t *json)
{
    if (json == NULL) {
        return -1;
    }

    reply->body = ttai_json_dumps(json, &reply->len);
    json_decref(json);

    if (reply->body == NULL) {
        return -1;
    }

    reply->status = status;

    return 0;
}


/* a response whose result is already JSON text: see ttai_mcp_run_t */

static int
ttai_mcp_reply_raw(ttai_mcp_reply_t *reply, json_t *id, ttai_mcp_run_t *run,
    int split)
{
    int      rc;
    char    *text;
    size_t   len;

    text = ttai_json_dumps(id, &len);
    if (text == NULL) {
        return -1;
    }

    rc = ttai_mcp_rpc_raw(reply, text, len, run->raw_result, run->raw_len,
                          split);
    free(text);

    return rc;
}


/*
 * Whether a body may name its protocol version in _meta, looked for
 * before it is parsed: only to choose which error a bad header gets
 */

static int
ttai_mcp_body_claims(const char *body, size_t len)
{
    static const char  key[] = "io.modelcontextprotocol/protocolVersion";

    return memmem(body, len, key, sizeof(key) - 1) != NULL;
}


/* the index of a log level in ttai_mcp_log_levels, or -1 */

int
ttai_mcp_log_level(const char *name)
{
    int  i;

    if (name == NULL) {
        return -1;
    }

    for (i = 0; ttai_mcp_log_levels[i] != NULL; i++) {
        if (strcmp(ttai_mcp_log_levels[i], name) == 0) {
            return i;
        }
    }

    return -1;
}


/*
 * What a single request asked to be told while it runs: progress for its
 * _meta.progressToken, and log messages at the level of its _meta (the
 * stateless revision) or of its session (logging/setLevel)
 */

static void
ttai_mcp_notify_setup(const ttai_mcp_call_t *call, ttai_mcp_run_t *run)
{
    json_t  *meta, *token;

    run->log_min = -1;

    if (run->batch) {
        return;
    }

    meta = json_object_get(json_object_get(json_array_get(run->messages, 0),
                                           "params"), "_meta");
    token = json_object_get(meta, "progressToken");

    if (json_is_string(token) || json_is_integer(token)) {
        run->progress_token = json_incref(token);
    }

    run->log_min = run->stateless
        ? ttai_mcp_log_level(json_string_value(json_object_get(meta,
                                 "io.modelcontextprotocol/logLevel")))
        : ttai_mcp_log_level(call->session_log_level);
}


/* hands the notifications made so far to the reply, as text */

static int
ttai_mcp_reply_events(ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    size_t   i, n, len;
    char   **events;

    n = json_array_size(run->events);

    if (n == 0) {
        return 0;
    }

    events = calloc(n, sizeof(char *));
    if (events == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        events[i] = ttai_json_dumps(json_array_get(run->events, i), &len);

        if (events[i] == NULL) {
            while (i--) {
                free(events[i]);
            }

            free(events);
            return -1;
        }
    }

    json_array_clear(run->events);

    reply->events = events;
    reply->nevents = n;

    return 0;
}


/* hands the responses to ttai's requests to the reply, for the shell */

static int
ttai_mcp_reply_answers(ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    size_t              i, n;
    json_t             *msg;
    ttai_mcp_answer_t  *answers;

    n = json_array_size(run->answers);

    if (n == 0) {
        return 0;
    }

    answers = calloc(n, sizeof(ttai_mcp_answer_t));
    if (answers == NULL) {
        return -1;
    }

    reply->answers = answers;

    for (i = 0; i < n; i++) {
        msg = json_array_get(run->answers, i);

        answers[i].id = strdup(json_string_value(json_object_get(msg,
                                                                 "id")));
        answers[i].text = json_dumps(msg, JSON_COMPACT);
        reply->nanswers = i + 1;

        if (answers[i].id == NULL || answers[i].text == NULL) {
            return -1;
        }
    }

    return 0;
}


/* hands the changes the calls made to the reply, for the shell to spread */

static int
ttai_mcp_reply_changes(ttai_mcp_run_t *run, ttai_mcp_reply_t *reply)
{
    size_t              i, n;
    json_t             *c;
    const char         *uri;
    ttai_mcp_change_t  *changes;

    n = json_array_size(run->changes);

    if (n == 0) {
        return 0;
    }

    changes = calloc(n, sizeof(ttai_mcp_change_t));
    if (changes == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        c = json_array_get(run->changes, i);
        uri = json_string_value(json_object_get(c, "uri"));

        changes[i].kind = (unsigned) json_integer_value(json_object_get(c,
                                                                "kind"));
        changes[i].user_only = json_is_true(json_object_get(c, "user"));
        changes[i].uri = uri ? strdup(uri) : NULL;

        if (uri != NULL && changes[i].uri == NULL) {
            reply->changes = changes;
            reply->nchanges = i;
            return -1;
        }
    }

    json_array_clear(run->changes);

    reply->changes = changes;
    reply->nchanges = n;

    return 0;
}
