
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * subscriptions/listen, the stateless revision's stream of changes.  The
 * core decides what a stream is told: the filter it honours, its first
 * event (the acknowledgement), its last (the result of a graceful end),
 * and each change as the event its filter asks for, tagged with the
 * subscription's id.  The shell holds the stream open and carries the
 * changes to it from any worker.
 */

#define TTAI_MCP_SUBSCRIPTION_ID  "io.modelcontextprotocol/subscriptionId"
#define TTAI_MCP_LISTEN_URIS      64


static char *ttai_mcp_listen_task(const ttai_mcp_listen_t *l,
    const char *change, int *oom);
static char *ttai_mcp_listen_text(json_t *j);


int
ttai_mcp_subscriptions_listen(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending)
{
    size_t              i, n;
    json_t             *filter, *honoured, *uris, *u, *vars, *tasks;
    unsigned            toolsets;
    ttai_mcp_listen_t  *l;

    filter = json_object_get(params, "notifications");
    uris = json_object_get(filter, "resourceSubscriptions");
    tasks = json_object_get(filter, "taskIds");

    /* a task's changes are for a client that takes tasks */
    if (tasks != NULL && !ttai_mcp_tasks_wanted(call, run)) {
        return ttai_mcp_tasks_refuse(id, response);
    }

    if (tasks != NULL && (!json_is_array(tasks)
                          || json_array_size(tasks) > TTAI_MCP_LISTEN_URIS))
    {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: taskIds must be an "
                                       "array of at most %d task ids",
                                       TTAI_MCP_LISTEN_URIS);
        return *response ? 0 : -1;
    }

    if (!json_is_object(filter)
        || (uris != NULL && !json_is_array(uris)))
    {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: notifications must "
                                       "be an object: toolsListChanged, "
                                       "promptsListChanged, "
                                       "resourcesListChanged (booleans), "
                                       "resourceSubscriptions (URIs)");
        return *response ? 0 : -1;
    }

    if (json_array_size(uris) > TTAI_MCP_LISTEN_URIS) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: at most %d "
                                       "resourceSubscriptions in one stream",
                                       TTAI_MCP_LISTEN_URIS);
        return *response ? 0 : -1;
    }

    l = calloc(1, sizeof(ttai_mcp_listen_t));
    honoured = json_object();

    if (l == NULL || honoured == NULL) {
        free(l);
        json_decref(honoured);
        return -1;
    }

    if (json_is_true(json_object_get(filter, "toolsListChanged"))) {
        l->kinds |= TTAI_LISTEN_TOOLS;
        json_object_set_new(honoured, "toolsListChanged", json_true());
    }

    if (json_is_true(json_object_get(filter, "promptsListChanged"))) {
        l->kinds |= TTAI_LISTEN_PROMPTS;
        json_object_set_new(honoured, "promptsListChanged", json_true());
    }

    if (json_is_true(json_object_get(filter, "resourcesListChanged"))) {
        l->kinds |= TTAI_LISTEN_RESOURCES;
        json_object_set_new(honoured, "resourcesListChanged", json_true());
    }

    /* the URIs this server has: the others can never change */
    n = 0;
    toolsets = ttai_mcp_toolsets(call);
    l->uris = calloc(json_array_size(uris) + 1, sizeof(char *));

    if (l->uris == NULL) {
        goto nomem;
    }

    json_array_foreach(uris, i, u) {
        vars = NULL;

        if (!json_is_string(u)
            || ttai_mcp_resource_match(srv, toolsets, json_string_value(u),
                                       &vars) == NULL)
        {
            json_decref(vars);
            continue;
        }

        json_decref(vars);

        l->uris[n] = strdup(json_string_value(u));
        if (l->uris[n] == NULL) {
            goto nomem;
        }

        l->nuris = ++n;
    }

    if (n > 0) {
        l->kinds |= TTAI_LISTEN_UPDATED;

        u = json_array();
        if (u == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {
            json_array_append_new(u, json_string(l->uris[i]));
        }

        json_object_set_new(honoured, "resourceSubscriptions", u);
    }

    /* the ids of tasks: whose they are is the shell's to check */
    l->tasks = calloc(json_array_size(tasks) + 1, sizeof(char *));
    if (l->tasks == NULL) {
        goto nomem;
    }

    n = 0;

    json_array_foreach(tasks, i, u) {
        if (!json_is_string(u) || json_string_length(u) != 32
            || strspn(json_string_value(u), "0123456789abcdef") != 32)
        {
            continue;
        }

        l->tasks[n] = strdup(json_string_value(u));
        if (l->tasks[n] == NULL) {
            goto nomem;
        }

        l->ntasks = ++n;
    }

    if (tasks != NULL) {
        l->kinds |= TTAI_LISTEN_TASKS;

        u = json_array();
        if (u == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {
            json_array_append_new(u, json_string(l->tasks[i]));
        }

        json_object_set_new(honoured, "taskIds", u);
    }

    l->id = ttai_mcp_listen_text(json_incref(id));
    l->ack = ttai_mcp_listen_text(json_pack("{s:s, s:s, s:{s:{s:O}, s:O}}",
                 "jsonrpc", "2.0", "method",
                 "notifications/subscriptions/acknowledged", "params",
                 "_meta", TTAI_MCP_SUBSCRIPTION_ID, id,
                 "notifications", honoured));
    l->end = ttai_mcp_listen_text(json_pack("{s:s, s:O, s:{s:s, s:{s:O, s:{s:s,"
                 " s:s}}}}", "jsonrpc", "2.0", "id", id, "result",
                 "resultType", "complete", "_meta",
                 TTAI_MCP_SUBSCRIPTION_ID, id,
                 "io.modelcontextprotocol/serverInfo", "name", "ttai",
                 "version", srv->version));

    if (l->id == NULL || l->ack == NULL || l->end == NULL) {
        goto nomem;
    }

    json_decref(honoured);

    ttai_mcp_listen_free(run->listen);
    run->listen = l;

    /* no response: the stream is the answer */
    *response = json_incref(id ? id : json_null());

    return 0;

nomem:

    json_decref(honoured);
    ttai_mcp_listen_free(l);

    return -1;
}


ttai_mcp_listen_t *
ttai_mcp_listen_legacy(void)
{
    ttai_mcp_listen_t  *l;

    l = calloc(1, sizeof(ttai_mcp_listen_t));
    if (l == NULL) {
        return NULL;
    }

    l->kinds = TTAI_LISTEN_TOOLS | TTAI_LISTEN_PROMPTS | TTAI_LISTEN_RESOURCES
               | TTAI_LISTEN_UPDATED;
    l->legacy = 1;

    return l;
}


/*
 * resources/subscribe and unsubscribe, in a 2025 session: a resource this
 * server has; its updates then reach the session's GET stream
 */

int
ttai_mcp_resources_subscribe(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending)
{
    json_t      *uri, *vars;
    const char  *method;

    uri = json_object_get(params, "uri");
    method = json_string_value(json_object_get(json_array_get(run->messages,
                                                              run->next),
                                               "method"));

    if (!json_is_string(uri)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: uri is required");
        return *response ? 0 : -1;
    }

    vars = NULL;

    if (ttai_mcp_resource_match(srv, ttai_mcp_toolsets(call),
                                json_string_value(uri), &vars) == NULL)
    {
        json_decref(vars);
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_RESOURCE_NOT_FOUND,
                                       json_pack("{s:O}", "uri", uri),
                                       "Resource not found");
        return *response ? 0 : -1;
    }

    json_decref(vars);

    if (call->session_id == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_REQUEST, NULL,
                                       "Invalid Request: a subscription "
                                       "belongs to a session; send "
                                       "initialize first");
        return *response ? 0 : -1;
    }

    free(run->subscribe_uri);
    run->subscribe_uri = strdup(json_string_value(uri));
    run->subscribe = (method != NULL
                      && strcmp(method, "resources/subscribe") == 0);

    if (run->subscribe_uri == NULL) {
        return -1;
    }

    *response = ttai_mcp_rpc_result(id, json_object());

    return *response ? 0 : -1;
}


char *
ttai_mcp_listen_event(const ttai_mcp_listen_t *l, unsigned kind,
    const char *uri, int *oom)
{
    size_t       i, n;
    json_t      *id, *j;
    const char  *method;

    *oom = 0;

    if (!(l->kinds & kind)) {
        return NULL;
    }

    if (kind == TTAI_LISTEN_TASKS) {
        return ttai_mcp_listen_task(l, uri, oom);
    }

    switch (kind) {

    case TTAI_LISTEN_TOOLS:
        method = "notifications/tools/list_changed";
        break;

    case TTAI_LISTEN_PROMPTS:
        method = "notifications/prompts/list_changed";
        break;

    case TTAI_LISTEN_RESOURCES:
        method = "notifications/resources/list_changed";
        break;

    default:
        /* a subscribed URI, or a part of one (a sub-resource) */
        if (uri == NULL) {
            return NULL;
        }

        /* a session's subscriptions are the shell's to check */
        for (i = 0; !l->legacy && i < l->nuris; i++) {
            n = strlen(l->uris[i]);

            if (strncmp(uri, l->uris[i], n) == 0
                && (uri[n] == '\0' || uri[n] == '/'))
            {
                break;
            }
        }

        if (!l->legacy && i == l->nuris) {
            return NULL;
        }

        method = "notifications/resources/updated";
    }

    if (l->legacy) {
        j = (kind == TTAI_LISTEN_UPDATED)
            ? json_pack("{s:s, s:s, s:{s:s}}", "jsonrpc", "2.0", "method",
                        method, "params", "uri", uri)
            : json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);

        *oom = (j == NULL);

        return ttai_mcp_listen_text(j);
    }

    id = json_loads(l->id, JSON_DECODE_ANY, NULL);

    if (kind == TTAI_LISTEN_UPDATED) {
        j = json_pack("{s:s, s:s, s:{s:s, s:{s:o}}}", "jsonrpc", "2.0",
                      "method", method, "params", "uri", uri, "_meta",
                      TTAI_MCP_SUBSCRIPTION_ID, id);

    } else {
        j = json_pack("{s:s, s:s, s:{s:{s:o}}}", "jsonrpc", "2.0",
                      "method", method, "params", "_meta",
                      TTAI_MCP_SUBSCRIPTION_ID, id);
    }

    j = (id != NULL) ? j : NULL;
    *oom = (j == NULL);

    return ttai_mcp_listen_text(j);
}


/*
 * A task the stream names changed: "<taskId> <status>".  The event says
 * the new status; tasks/get tells the rest.
 */

static char *
ttai_mcp_listen_task(const ttai_mcp_listen_t *l, const char *change,
    int *oom)
{
    size_t       i;
    json_t      *id, *j;
    const char  *status;

    if (change == NULL || strlen(change) < 34 || change[32] != ' ') {
        return NULL;
    }

    for (i = 0; i < l->ntasks; i++) {
        if (strncmp(change, l->tasks[i], 32) == 0) {
            break;
        }
    }

    if (i == l->ntasks) {
        return NULL;
    }

    status = change + 33;
    id = json_loads(l->id, JSON_DECODE_ANY, NULL);

    j = id ? json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:o}}}", "jsonrpc", "2.0",
                       "method", "notifications/tasks", "params",
                       "taskId", l->tasks[i], "status", status, "_meta",
                       TTAI_MCP_SUBSCRIPTION_ID, id)
           : NULL;

    *oom = (j == NULL);

    return ttai_mcp_listen_text(j);
}


void
ttai_mcp_listen_free(ttai_mcp_listen_t *l)
{
    size_t  i;

    if (l == NULL) {
        return;
    }

    for (i = 0; l->uris != NULL && i < l->nuris; i++) {
        free(l->uris[i]);
    }

    free(l->uris);

    for (i = 0; l->tasks != NULL && i < l->ntasks; i++) {
        free(l->tasks[i]);
    }

    free(l->tasks);
    free(l->id);
    free(l->ack);
    free(l->end);
    free(l);
}


/* takes the reference: compact text on one line, as SSE needs */

static char *
ttai_mcp_listen_text(json_t *j)
{
    char    *text;
    size_t   len;

    if (j == NULL) {
        return NULL;
    }

    text = ttai_json_dumps(j, &len);
    json_decref(j);

    return text;
}
