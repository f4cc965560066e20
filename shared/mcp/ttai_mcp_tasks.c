
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_mcp_core.h"
#include "ttai_task.h"
#include "ttai_workflow.h"


/*
 * The tasks extension of MCP 2026-07-28 (io.modelcontextprotocol/tasks).
 * A tool that declares a workflow (ttai_tool_t.workflow) runs in the
 * call, unless the request's client declared the extension: the call
 * then becomes a task, an instance of that workflow with the arguments
 * as its params, written to the database (with the task's row) before
 * the CreateTaskResult is answered, so that tasks/get already knows it.
 * The workflows' worker runs it from there, durably; tasks/get reads its
 * status and result, tasks/cancel terminates it, tasks/update is
 * acknowledged.  Every statement is the calling user's.
 */

#define TTAI_MCP_TASKS_EXT  "io.modelcontextprotocol/tasks"

#define TTAI_MCP_TASK_CREATE  1
#define TTAI_MCP_TASK_GET     2
#define TTAI_MCP_TASK_UPDATE  3
#define TTAI_MCP_TASK_CANCEL  4


static int ttai_mcp_tasks_method(const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, int op,
    json_t **response, ttai_mcp_pending_t **pending);
static long long ttai_mcp_tasks_now(const ttai_mcp_call_t *call);


int
ttai_mcp_tasks_wanted(const ttai_mcp_call_t *call, ttai_mcp_run_t *run)
{
    return call->tasks && run->stateless
           && json_object_get(json_object_get(run->caps, "extensions"),
                              TTAI_MCP_TASKS_EXT) != NULL;
}


int
ttai_mcp_tasks_refuse(json_t *id, json_t **response)
{
    *response = ttai_mcp_rpc_error(id, TTAI_MCP_MISSING_CAPABILITY,
                    json_pack("{s:{s:{s:{}}}}", "requiredCapabilities",
                              "extensions", TTAI_MCP_TASKS_EXT),
                    "Missing required client capability: the extension %s",
                    TTAI_MCP_TASKS_EXT);

    return *response ? 0 : -1;
}


int
ttai_mcp_tasks_create(const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    const char *tool, const char *workflow, json_t *id, json_t *args,
    ttai_mcp_pending_t **pending)
{
    char  *params;

    params = json_dumps(args, JSON_COMPACT);
    if (params == NULL) {
        return -1;
    }

    ttai_workflow_id(run->task_id);

    *pending = ttai_mcp_pending_d1(ttai_task_create(run->task_id,
                                                    call->sub ? call->sub
                                                              : "",
                                                    tool, workflow, params,
                                                    ttai_mcp_tasks_now(call)));
    free(params);

    if (*pending == NULL) {
        return -1;
    }

    run->task_op = TTAI_MCP_TASK_CREATE;
    json_decref(run->id);
    run->id = json_incref(id);

    return 0;
}


int
ttai_mcp_tasks_get(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    return ttai_mcp_tasks_method(call, run, id, params, TTAI_MCP_TASK_GET,
                                 response, pending);
}


int
ttai_mcp_tasks_update(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    return ttai_mcp_tasks_method(call, run, id, params, TTAI_MCP_TASK_UPDATE,
                                 response, pending);
}


int
ttai_mcp_tasks_cancel(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    return ttai_mcp_tasks_method(call, run, id, params, TTAI_MCP_TASK_CANCEL,
                                 response, pending);
}


static int
ttai_mcp_tasks_method(const ttai_mcp_call_t *call, ttai_mcp_run_t *run,
    json_t *id, json_t *params, int op, json_t **response,
    ttai_mcp_pending_t **pending)
{
    json_t      *batch;
    const char  *task, *user;

    /* a client that did not declare the extension has no tasks */
    if (!ttai_mcp_tasks_wanted(call, run)) {
        return ttai_mcp_tasks_refuse(id, response);
    }

    task = json_string_value(json_object_get(params, "taskId"));

    if (task == NULL || strlen(task) != TTAI_WF_ID_LEN
        || strspn(task, "0123456789abcdef") != TTAI_WF_ID_LEN)
    {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: unknown taskId");
        return *response ? 0 : -1;
    }

    if (op == TTAI_MCP_TASK_UPDATE
        && !json_is_object(json_object_get(params, "inputResponses")))
    {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: inputResponses must "
                                       "be an object");
        return *response ? 0 : -1;
    }

    user = call->sub ? call->sub : "";

    if (op == TTAI_MCP_TASK_UPDATE) {
        char  *responses;

        responses = json_dumps(json_object_get(params, "inputResponses"),
                               JSON_COMPACT);
        if (responses == NULL) {
            return -1;
        }

        batch = ttai_task_update(task, user, responses,
                                 ttai_mcp_tasks_now(call));
        free(responses);

    } else {
        batch = (op == TTAI_MCP_TASK_CANCEL)
                ? ttai_task_cancel(task, user, ttai_mcp_tasks_now(call))
                : ttai_task_get(task, user);
    }

    *pending = ttai_mcp_pending_d1(batch);
    if (*pending == NULL) {
        return -1;
    }

    run->task_op = op;
    snprintf(run->task_id, sizeof(run->task_id), "%s", task);
    json_decref(run->id);
    run->id = json_incref(id);

    return 0;
}


/* the database's answer to a task's statements */

int
ttai_mcp_tasks_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_response_t *resp, json_t **response)
{
    int          op;
    json_t      *id, *body, *row, *result;
    long long    now;

    op = run->task_op;
    run->task_op = 0;
    id = run->id;
    run->id = NULL;

    if (resp->status != 200) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: %s",
                                       resp->error ? resp->error
                                                   : "the database failed");
        json_decref(id);
        return *response ? 0 : -1;
    }

    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);

    if (op == TTAI_MCP_TASK_CREATE) {
        json_decref(body);

        /* written: the task is what a working task's row would say */
        now = ttai_mcp_tasks_now(call);
        row = json_pack("{s:s, s:s, s:i, s:i, s:I, s:I}", "id",
                        run->task_id, "status", "queued", "ttl_ms",
                        TTAI_TASK_TTL_MS, "poll_ms", TTAI_TASK_POLL_MS,
                        "created_at", (json_int_t) now, "updated_at",
                        (json_int_t) now);
        result = ttai_task_object(row, 0);
        json_decref(row);

        if (result == NULL
            || json_object_set_new(result, "resultType", json_string("task"))
               != 0)
        {
            json_decref(result);
            json_decref(id);
            return -1;
        }

        *response = ttai_mcp_rpc_result(id, result);
        json_decref(id);

        return *response ? 0 : -1;
    }

    row = json_array_get(json_object_get(json_array_get(body,
                             op == TTAI_MCP_TASK_CANCEL ? 1
                             : op == TTAI_MCP_TASK_UPDATE ? 2 : 0),
                         "results"), 0);

    if (row == NULL) {
        json_decref(body);
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: unknown taskId");
        json_decref(id);
        return *response ? 0 : -1;
    }

    /* a task this call cancelled: its user's streams hear of it */
    if (op == TTAI_MCP_TASK_CANCEL && run->changes != NULL
        && json_integer_value(json_object_get(json_object_get(
               json_array_get(body, 0), "meta"), "changes")) > 0)
    {
        char  change[80];

        snprintf(change, sizeof(change), "%s cancelled", run->task_id);

        if (json_array_append_new(run->changes,
                json_pack("{s:i, s:s, s:b}", "kind", TTAI_LISTEN_TASKS,
                          "uri", change, "user", 1)) != 0)
        {
            json_decref(body);
            json_decref(id);
            return -1;
        }
    }

    /* update and cancel are acknowledged with nothing of the task */
    result = (op == TTAI_MCP_TASK_GET) ? ttai_task_object(row, 1)
                                       : json_object();

    /* a task that waits for the user shows what it still asks */
    if (op == TTAI_MCP_TASK_GET && result != NULL
        && ttai_task_inputs(result, body) != 0)
    {
        json_decref(result);
        result = NULL;
    }

    json_decref(body);

    if (result == NULL) {
        json_decref(id);
        return -1;
    }

    *response = ttai_mcp_rpc_result(id, result);
    json_decref(id);

    return *response ? 0 : -1;
}


static long long
ttai_mcp_tasks_now(const ttai_mcp_call_t *call)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return (long long) (call->now ? call->now : time(NULL)) * 1000;
    }

    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
