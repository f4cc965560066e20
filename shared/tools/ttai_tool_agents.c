
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "ttai_agent.h"
#include "ttai_d1.h"
#include "ttai_tools.h"
#include "ttai_workflow.h"


/*
 * The agents' tools: analyze_portfolio, review_trade and daily_brief.
 * Each is a workflow (ttai_agent.h).  A client that takes tasks gets a
 * task (tasks/get, tasks/cancel; ttai_mcp_tool_task()); any other
 * client's call starts the same workflow and follows it, polling the
 * database twice a second, with a progress notification at each step
 * the workflow completes, and answers with its result.  The work is the
 * workflow's either way: a client that goes away leaves it to finish,
 * and a restart resumes it.
 */

#define TTAI_AGENT_POLL_MS     500
#define TTAI_AGENT_FOLLOW_MS   (10 * 60 * 1000)


static int ttai_tool_agent_start(ttai_tool_ctx_t *ctx, json_t *args,
    const char *workflow, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_analyze(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_review(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_brief(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_agent_follow(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static long long ttai_tool_agent_now(void);


const ttai_tool_impl_t  ttai_tool_analyze_portfolio = {
    "analyze_portfolio", ttai_tool_analyze, ttai_tool_agent_follow, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_review_trade = {
    "review_trade", ttai_tool_review, ttai_tool_agent_follow, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_daily_brief = {
    "daily_brief", ttai_tool_brief, ttai_tool_agent_follow, 0, NULL
};


int
ttai_tool_agents_register(ttai_mcp_server_t *srv)
{
    return (ttai_mcp_tool_task(srv, "analyze_portfolio", "analyze_portfolio",
                               0) != 0
            || ttai_mcp_tool_task(srv, "review_trade", "review_trade", 0)
               != 0)
           ? -1 : 0;
}


static int
ttai_tool_analyze(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_agent_start(ctx, args, "analyze_portfolio", result,
                                 pending);
}


static int
ttai_tool_review(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_agent_start(ctx, args, "review_trade", result,
                                 pending);
}


/*
 * daily_brief: "now" is followed as the analyses are; "daily" replaces
 * the user's schedule (an instance that sleeps from day to day, never a
 * task, which would never end), "off" ends it
 */

static int
ttai_tool_brief(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         id[TTAI_WF_ID_LEN + 1], *params, when[32];
    json_t      *batch, *p;
    time_t       t;
    struct tm    tm;
    long long    now, next, hour;
    const char  *schedule;

    schedule = json_string_value(json_object_get(args, "schedule"));

    if (schedule == NULL || strcmp(schedule, "now") == 0) {
        return ttai_tool_agent_start(ctx, args, "daily_brief", result,
                                     pending);
    }

    now = ttai_tool_agent_now();

    batch = ttai_d1_batch_of(1, ttai_d1_stmt(
                "UPDATE workflow_instances SET status = 'terminated', "
                "updated_at = ?2 WHERE workflow = 'daily_brief' "
                "AND json_extract(params, '$.schedule') = 'daily' "
                "AND json_extract(params, '$.user') = ?1 "
                "AND status IN ('queued', 'running', 'waiting') "
                "RETURNING id",
                json_pack("[s, I]", ctx->call->sub, (json_int_t) now)));
    if (batch == NULL) {
        return -1;
    }

    if (strcmp(schedule, "off") == 0) {
        json_object_set_new(ctx->state, "answer",
                            json_string("The daily brief is off."));
        *pending = ttai_mcp_pending_d1(batch);
        return *pending ? 0 : -1;
    }

    hour = json_is_integer(json_object_get(args, "hour"))
           ? json_integer_value(json_object_get(args, "hour")) : 12;

    /* the same first time the workflow's "scheduled" step will take */
    next = now - now % 86400000 + hour * 3600000;
    if (next <= now) {
        next += 86400000;
    }

    t = (time_t) (next / 1000);
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

    ttai_workflow_id(id);

    p = json_deep_copy(args);
    if (p == NULL
        || json_object_set_new(p, "user", json_string(ctx->call->sub)) != 0
        || (params = json_dumps(p, JSON_COMPACT)) == NULL)
    {
        json_decref(p);
        json_decref(batch);
        return -1;
    }

    json_decref(p);
    p = ttai_workflow_create(id, "daily_brief", params, now);
    free(params);

    if (p == NULL || json_array_extend(batch, p) != 0) {
        json_decref(p);
        json_decref(batch);
        return -1;
    }

    json_decref(p);

    json_object_set_new(ctx->state, "answer", json_sprintf(
        "A daily brief at %02lld:00 UTC from now on (instance %s); the next "
        "at %s.  Each is saved to the journal (search_notes, the resource "
        "ttai://journal) and in R2 (ttai r2 object get briefs <user>/<day>"
        ".md).  daily_brief with schedule \"off\" stops it.", hour, id,
        when));

    *pending = ttai_mcp_pending_d1(batch);

    return *pending ? 0 : -1;
}


/* the instance, for the calling user, written before anything is done */

static int
ttai_tool_agent_start(ttai_tool_ctx_t *ctx, json_t *args,
    const char *workflow, json_t **result, ttai_mcp_pending_t **pending)
{
    char     id[TTAI_WF_ID_LEN + 1], *params;
    json_t  *p;

    ttai_workflow_id(id);

    p = json_deep_copy(args);
    if (p == NULL
        || json_object_set_new(p, "user", json_string(ctx->call->sub)) != 0)
    {
        json_decref(p);
        return -1;
    }

    params = json_dumps(p, JSON_COMPACT);
    json_decref(p);

    if (params == NULL) {
        return -1;
    }

    if (json_object_set_new(ctx->state, "instance", json_string(id)) != 0
        || json_object_set_new(ctx->state, "since",
                               json_integer(ttai_tool_agent_now())) != 0
        || json_object_set_new(ctx->state, "done", json_integer(0)) != 0)
    {
        free(params);
        return -1;
    }

    *pending = ttai_mcp_pending_d1(ttai_workflow_create(id, workflow, params,
                                                        ttai_tool_agent_now()));
    free(params);

    return *pending ? 0 : -1;
}


/*
 * After the instance is written, after each nap, after each look: the
 * next nap, or the next look, or the answer
 */

static int
ttai_tool_agent_follow(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         msg[160];
    json_t      *res, *inst, *v;
    unsigned     done;
    const char  *id, *status, *text;

    if (json_string_value(json_object_get(ctx->state, "answer")) != NULL) {
        /* a schedule made or ended */
        *result = ttai_tool_text_result(json_string_value(json_object_get(
                                            ctx->state, "answer")), NULL);
        return *result ? 0 : -1;
    }

    id = json_string_value(json_object_get(ctx->state, "instance"));

    if (id == NULL) {
        *result = ttai_tool_error_result("the analysis was not started");
        return *result ? 0 : -1;
    }

    if (!json_is_true(json_object_get(ctx->state, "looking"))) {
        /* written, or a nap over: a look at the instance and its steps */
        json_object_set_new(ctx->state, "looking", json_true());
        *pending = ttai_mcp_pending_d1(ttai_workflow_status(id));
        return *pending ? 0 : -1;
    }

    json_object_set_new(ctx->state, "looking", json_false());

    res = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    inst = json_array_get(json_object_get(json_array_get(res, 0), "results"),
                          0);
    status = json_string_value(json_object_get(inst, "status"));

    if (status == NULL) {
        json_decref(res);
        *result = ttai_tool_error_result("the analysis %s is gone", id);
        return *result ? 0 : -1;
    }

    ttai_agent_progress(json_object_get(json_array_get(res, 1), "results"),
                        msg, sizeof(msg), &done);

    if (done > (unsigned) json_integer_value(json_object_get(ctx->state,
                                                             "done")))
    {
        json_object_set_new(ctx->state, "done", json_integer(done));

        if (ttai_tool_progress(ctx, done, -1, msg) != 0) {
            json_decref(res);
            return -1;
        }
    }

    if (strcmp(status, "complete") == 0) {
        text = json_string_value(json_object_get(inst, "output"));
        v = text ? json_loads(text, 0, NULL) : NULL;
        json_decref(res);

        *result = json_is_object(v) ? v
                  : ttai_tool_error_result("the analysis ended without a "
                                           "result");
        if (*result != v) {
            json_decref(v);
        }

        return *result ? 0 : -1;
    }

    if (strcmp(status, "errored") == 0 || strcmp(status, "terminated") == 0)
    {
        text = json_string_value(json_object_get(inst, "error"));
        *result = ttai_tool_error_result("The analysis %s did not finish: "
                                         "%s", id,
                                         text ? text : "it was stopped");
        json_decref(res);
        return *result ? 0 : -1;
    }

    json_decref(res);

    if (ttai_tool_agent_now()
        - json_integer_value(json_object_get(ctx->state, "since"))
        > TTAI_AGENT_FOLLOW_MS)
    {
        *result = ttai_tool_error_result("The analysis %s is still running "
                                         "(%s); it goes on in the "
                                         "background: \"ttai workflows "
                                         "status %s\" shows it", id, msg,
                                         id);
        return *result ? 0 : -1;
    }

    *pending = ttai_mcp_pending_wait(TTAI_AGENT_POLL_MS);

    return *pending ? 0 : -1;
}


static long long
ttai_tool_agent_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
