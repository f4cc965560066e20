
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tools.h"
#include "ttai_workflow.h"


/*
 * The fixtures of the conformance suites' tasks scenarios (SEP-2663):
 * greet runs in the call; slow_compute, failing_job and
 * protocol_error_job become tasks for a client that takes them, each an
 * instance of a workflow of the same name (below), and run in the call
 * otherwise.  slow_compute's nap is a workflow's sleep: it outlives a
 * restart, and a cancelled task ends there.
 */

#define TTAI_FIXTURE_SECONDS_MAX  600


static int ttai_fixture_greet(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_compute(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_compute_done(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_fixture_failing(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_failing_done(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_fixture_broken(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static json_t *ttai_fixture_computed(json_t *args);
static json_t *ttai_fixture_failed(void);


static const ttai_tool_t  ttai_fixture_task_tools[] = {

    { "greet", NULL, "Greets someone by name, at once.",
      "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","
      "\"maxLength\":200}},\"required\":[\"name\"]}", NULL,
      TTAI_TOOL_READ_ONLY, ttai_fixture_greet, NULL, TTAI_TOOLSET_FIXTURES,
      NULL },

    { "slow_compute", NULL,
      "Computes for the given seconds, then answers; a task for a client "
      "that takes tasks.",
      "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":"
      "\"integer\",\"minimum\":0,\"maximum\":600},\"label\":{\"type\":"
      "\"string\",\"maxLength\":200}}}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_compute, ttai_fixture_compute_done,
      TTAI_TOOLSET_FIXTURES, NULL },

    { "failing_job", NULL,
      "Works a second, then reports that the job failed (a tool error).",
      "{\"type\":\"object\",\"properties\":{}}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_failing, ttai_fixture_failing_done,
      TTAI_TOOLSET_FIXTURES, NULL },

    { "protocol_error_job", NULL,
      "Fails as a server does, not as a tool (a protocol error).",
      "{\"type\":\"object\",\"properties\":{}}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_broken, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    { NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }
};


int
ttai_fixtures_tasks_register(ttai_mcp_server_t *srv)
{
    const ttai_tool_t  *t;

    for (t = ttai_fixture_task_tools; t->name != NULL; t++) {
        if (ttai_mcp_register_tool(srv, t) != 0) {
            return -1;
        }
    }

    /* each workflow is named like its tool; failing_job is a task only */
    return (ttai_mcp_tool_task(srv, "slow_compute", "slow_compute", 0) != 0
            || ttai_mcp_tool_task(srv, "failing_job", "failing_job", 1)
               != 0
            || ttai_mcp_tool_task(srv, "protocol_error_job",
                                  "protocol_error_job", 0) != 0)
           ? -1 : 0;
}


/* -- in the call ----------------------------------------------------- */


static int
ttai_fixture_greet(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  text[256];

    snprintf(text, sizeof(text), "Hello, %s!",
             json_string_value(json_object_get(args, "name")));

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
ttai_fixture_compute(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_int_t  s;

    s = json_integer_value(json_object_get(args, "seconds"));

    if (s <= 0) {
        *result = ttai_fixture_computed(args);
        return *result ? 0 : -1;
    }

    *pending = ttai_mcp_pending_wait((long) s * 1000);

    return *pending ? 0 : -1;
}


static int
ttai_fixture_compute_done(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_fixture_computed(args);

    return *result ? 0 : -1;
}


static int
ttai_fixture_failing(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *pending = ttai_mcp_pending_wait(1000);

    return *pending ? 0 : -1;
}


static int
ttai_fixture_failing_done(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_fixture_failed();

    return *result ? 0 : -1;
}


/* no result: the core answers with an internal error, as for a crash */

static int
ttai_fixture_broken(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = NULL;

    return 0;
}


static json_t *
ttai_fixture_computed(json_t *args)
{
    char         text[320];
    const char  *label;

    label = json_string_value(json_object_get(args, "label"));

    snprintf(text, sizeof(text), "Computed %s in %lld s",
             label ? label : "the answer",
             (long long) json_integer_value(json_object_get(args,
                                                            "seconds")));

    return ttai_tool_text_result(text, NULL);
}


static json_t *
ttai_fixture_failed(void)
{
    return ttai_tool_error_result("failing_job: the job failed, as it "
                                  "always does");
}


/* -- as tasks: the workflows ---------------------------------------- */


int
ttai_wf_slow_compute(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    json_int_t  s;

    s = json_integer_value(json_object_get(ctx->params, "seconds"));
    s = (s > TTAI_FIXTURE_SECONDS_MAX) ? TTAI_FIXTURE_SECONDS_MAX : s;

    if (s > 0 && json_object_get(ctx->steps, "compute") == NULL) {
        a->kind = TTAI_WF_SLEEP;
        strcpy(a->name, "compute");
        a->until = ctx->now_ms + s * 1000;
        return 0;
    }

    a->kind = TTAI_WF_DONE;
    a->output = ttai_fixture_computed(ctx->params);

    return a->output ? 0 : -1;
}


int
ttai_wf_failing_job(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    if (json_object_get(ctx->steps, "work") == NULL) {
        a->kind = TTAI_WF_SLEEP;
        strcpy(a->name, "work");
        a->until = ctx->now_ms + 1000;
        return 0;
    }

    /* a tool error is a result: the task completes, with isError */
    a->kind = TTAI_WF_DONE;
    a->output = ttai_fixture_failed();

    return a->output ? 0 : -1;
}


int
ttai_wf_protocol_error_job(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    a->kind = TTAI_WF_FAIL;
    snprintf(a->error, sizeof(a->error), "protocol_error_job: the job's "
             "process failed, on purpose");

    return 0;
}
