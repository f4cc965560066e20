
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_d1.h"
#include "ttai_agent.h"
#include "ttai_task.h"


static int ttai_task_iso(json_t *obj, const char *key, json_int_t ms);


json_t *
ttai_task_create(const char *id, const char *user, const char *tool,
    const char *workflow, const char *params, long long now_ms)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "INSERT INTO workflow_instances (id, workflow, status, "
                   "params, wake_at, created_at, updated_at) "
                   "VALUES (?1, ?2, 'queued', ?3, ?4, ?4, ?4)",
                   json_pack("[s, s, s, I]", id, workflow, params,
                             (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "INSERT INTO tasks (id, user_id, tool, ttl_ms, poll_ms, "
                   "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   json_pack("[s, s, s, i, i, I]", id, user, tool,
                             TTAI_TASK_TTL_MS, TTAI_TASK_POLL_MS,
                             (json_int_t) now_ms)));
}


json_t *
ttai_task_get(const char *id, const char *user)
{
    return ttai_d1_batch_of(3,
               ttai_d1_stmt(
                   "SELECT t.id, t.tool, t.ttl_ms, t.poll_ms, t.created_at, "
                   "i.status, i.output, i.error, i.updated_at, "
                   "i.waiting_for, (SELECT count(*) FROM workflow_steps s "
                   "WHERE s.instance_id = t.id AND s.status = 'complete') "
                   "AS steps_done, (SELECT name FROM workflow_steps s "
                   "WHERE s.instance_id = t.id AND s.status = 'complete' "
                   "ORDER BY seq DESC LIMIT 1) AS last_step "
                   "FROM tasks t JOIN workflow_instances i "
                   "ON i.id = t.id WHERE t.id = ?1 AND t.user_id = ?2",
                   json_pack("[s, s]", id, user)),
               ttai_d1_stmt(
                   "SELECT output FROM workflow_steps WHERE instance_id = ?1 "
                   "AND name LIKE 'ask-%' AND status = 'complete' "
                   "ORDER BY seq DESC LIMIT 1",
                   json_pack("[s]", id)),
               ttai_d1_stmt(
                   "SELECT output AS answer FROM workflow_steps "
                   "WHERE instance_id = ?1 AND name LIKE 'answer-%' "
                   "AND status = 'complete' UNION ALL SELECT payload "
                   "FROM workflow_events WHERE instance_id = ?1 "
                   "AND name = 'input'",
                   json_pack("[s]", id)));
}


json_t *
ttai_task_update(const char *id, const char *user, const char *responses,
    long long now_ms)
{
    return ttai_d1_batch_of(3,
               ttai_d1_stmt(
                   "INSERT INTO workflow_events (instance_id, name, payload, "
                   "created_at) SELECT ?1, 'input', ?3, ?4 WHERE EXISTS "
                   "(SELECT 1 FROM tasks WHERE id = ?1 AND user_id = ?2)",
                   json_pack("[s, s, s, I]", id, user, responses,
                             (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "UPDATE workflow_instances SET wake_at = ?3 WHERE id = ?1 "
                   "AND status = 'waiting' AND EXISTS (SELECT 1 FROM tasks "
                   "WHERE id = ?1 AND user_id = ?2)",
                   json_pack("[s, s, I]", id, user, (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "SELECT id FROM tasks WHERE id = ?1 AND user_id = ?2",
                   json_pack("[s, s]", id, user)));
}


int
ttai_task_inputs(json_t *task, json_t *results)
{
    size_t       i;
    json_t      *row, *ask, *asked, *left, *answer, *v;
    const char  *key, *text, *st;

    row = json_array_get(json_object_get(json_array_get(results, 0),
                                         "results"), 0);
    st = json_string_value(json_object_get(row, "status"));
    text = json_string_value(json_object_get(row, "waiting_for"));

    if (st == NULL || strcmp(st, "waiting") != 0 || text == NULL
        || strcmp(text, "input") != 0)
    {
        return 0;
    }

    text = json_string_value(json_object_get(json_array_get(
               json_object_get(json_array_get(results, 1), "results"), 0),
               "output"));
    ask = text ? json_loads(text, 0, NULL) : NULL;
    asked = json_object_get(ask, "inputRequests");

    if (!json_is_object(asked)) {
        json_decref(ask);
        return 0;
    }

    left = json_deep_copy(asked);
    json_decref(ask);

    if (left == NULL) {
        return -1;
    }

    json_array_foreach(json_object_get(json_array_get(results, 2),
                                       "results"), i, row)
    {
        text = json_string_value(json_object_get(row, "answer"));
        answer = text ? json_loads(text, 0, NULL) : NULL;

        json_object_foreach(answer, key, v) {
            (void) json_object_del(left, key);
        }

        json_decref(answer);
    }

    if (json_object_size(left) == 0) {
        json_decref(left);
        return 0;
    }

    if (json_object_set_new(task, "status", json_string("input_required"))
        != 0
        || json_object_set_new(task, "inputRequests", left) != 0)
    {
        return -1;
    }

    return 0;
}


json_t *
ttai_task_cancel(const char *id, const char *user, long long now_ms)
{
    /* an ended task stays as it ended: a cancel is cooperative */
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "UPDATE workflow_instances SET status = 'terminated', "
                   "lease = NULL, lease_until = 0, updated_at = ?3 "
                   "WHERE id = (SELECT id FROM tasks WHERE id = ?1 AND "
                   "user_id = ?2) AND status IN ('queued', 'running', "
                   "'waiting')",
                   json_pack("[s, s, I]", id, user, (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "SELECT id FROM tasks WHERE id = ?1 AND user_id = ?2",
                   json_pack("[s, s]", id, user)));
}


const char *
ttai_task_status(const char *st)
{
    return (strcmp(st, "complete") == 0) ? "completed"
           : (strcmp(st, "errored") == 0) ? "failed"
           : (strcmp(st, "terminated") == 0) ? "cancelled"
           : "working";
}


/* 1: the task is an agent's, whose steps say how far it is */

static int
ttai_task_agent(json_t *row)
{
    const char  *tool;

    tool = json_string_value(json_object_get(row, "tool"));

    return tool != NULL && (strcmp(tool, "analyze_portfolio") == 0
                            || strcmp(tool, "review_trade") == 0);
}


json_t *
ttai_task_object(json_t *row, int detailed)
{
    char         msg[160];
    json_t      *task, *v;
    const char  *status, *st, *text;

    if (row == NULL) {
        return NULL;
    }

    st = json_string_value(json_object_get(row, "status"));
    status = ttai_task_status(st ? st : "");

    task = json_pack("{s:O, s:s, s:O, s:O}",
                     "taskId", json_object_get(row, "id"),
                     "status", status,
                     "ttlMs", json_object_get(row, "ttl_ms"),
                     "pollIntervalMs", json_object_get(row, "poll_ms"));

    if (task == NULL
        || ttai_task_iso(task, "createdAt",
                         json_integer_value(json_object_get(row,
                                                            "created_at")))
           != 0
        || ttai_task_iso(task, "lastUpdatedAt",
                         json_integer_value(json_object_get(row,
                                                            "updated_at")))
           != 0)
    {
        json_decref(task);
        return NULL;
    }

    if (!detailed) {
        return task;
    }

    if (strcmp(status, "working") == 0 && ttai_task_agent(row)) {
        /* where an analysis is: its steps done, the last one said */
        snprintf(msg, sizeof(msg), "%lld steps done; ",
                 (long long) json_integer_value(json_object_get(row,
                                                          "steps_done")));
        ttai_agent_step_said(json_string_value(json_object_get(row,
                                                              "last_step")),
                             msg + strlen(msg), sizeof(msg) - strlen(msg));

        if (json_object_set_new(task, "statusMessage", json_string(msg))
            != 0)
        {
            json_decref(task);
            return NULL;
        }
    }

    if (strcmp(status, "completed") == 0) {
        /* the workflow's output is the tool's CallToolResult */
        text = json_string_value(json_object_get(row, "output"));
        v = text ? json_loads(text, 0, NULL) : NULL;

        if (!json_is_object(v)) {
            json_decref(v);
            v = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text",
                          "text", "the task ended without a result",
                          "isError", 1);
        }

        if (v == NULL || json_object_set_new(task, "result", v) != 0) {
            json_decref(task);
            return NULL;
        }

    } else if (strcmp(status, "failed") == 0) {
        text = json_string_value(json_object_get(row, "error"));

        if (json_object_set_new(task, "error",
                                json_pack("{s:i, s:s}", "code", -32603,
                                          "message",
                                          text ? text : "the task failed"))
            != 0)
        {
            json_decref(task);
            return NULL;
        }

        if (json_object_set_new(task, "statusMessage",
                                json_string(text ? text : "failed"))
            != 0)
        {
            json_decref(task);
            return NULL;
        }
    }

    return task;
}


static int
ttai_task_iso(json_t *obj, const char *key, json_int_t ms)
{
    char       at[64];
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);

    if (gmtime_r(&t, &tm) == NULL) {
        return -1;
    }

    snprintf(at, sizeof(at), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));

    return json_object_set_new(obj, key, json_string(at));
}
