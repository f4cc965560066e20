
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
static int ttai_fixture_task_only(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_wf_ask(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a,
    json_t *requests, json_t **answers);
static json_t *ttai_fixture_confirm(const char *message);
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

    /* tasks that ask the user, through tasks/get and tasks/update */
    { "confirm_delete", NULL,
      "Asks the user to confirm, then deletes the file (nothing is "
      "deleted: a fixture).",
      "{\"type\":\"object\",\"properties\":{\"filename\":{\"type\":"
      "\"string\",\"maxLength\":200}}}", NULL, TTAI_TOOL_DESTRUCTIVE,
      ttai_fixture_task_only, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    { "multi_input", NULL,
      "Asks two questions at once, then answers with both answers.",
      "{\"type\":\"object\",\"properties\":{}}", NULL,
      TTAI_TOOL_READ_ONLY, ttai_fixture_task_only, NULL,
      TTAI_TOOLSET_FIXTURES, NULL },

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
                                  "protocol_error_job", 0) != 0
            || ttai_mcp_tool_task(srv, "confirm_delete", "confirm_delete", 1)
               != 0
            || ttai_mcp_tool_task(srv, "multi_input", "multi_input", 1) != 0)
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


/* a task only: the core refuses it to a client that takes no tasks */

static int
ttai_fixture_task_only(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_error_result("this tool runs only as a task");

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


/*
 * Asking the user in a task: round N writes the questions still open as
 * the step ask-N ({"inputRequests": ...}, what tasks/get shows), then
 * waits an hour for the event "input" (tasks/update) as answer-N.  A
 * round answers some or all of them; the next round asks the rest.  1:
 * the action is set; 0: every question is answered (*answers has each);
 * -1: out of memory.
 */

#define TTAI_WF_ASK_ROUNDS  10

static int
ttai_wf_ask(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a, json_t *requests,
    json_t **answers)
{
    int          r;
    char         ask[32], answer[32];
    json_t      *open, *asked, *got, *v;
    const char  *key;

    *answers = json_object();
    if (*answers == NULL) {
        return -1;
    }

    for (r = 1; r <= TTAI_WF_ASK_ROUNDS; r++) {
        snprintf(ask, sizeof(ask), "ask-%d", r);
        snprintf(answer, sizeof(answer), "answer-%d", r);

        asked = json_object_get(json_object_get(ctx->steps, ask),
                                "inputRequests");

        if (asked == NULL) {
            open = json_object();
            if (open == NULL) {
                return -1;
            }

            json_object_foreach(requests, key, v) {
                if (json_object_get(*answers, key) == NULL
                    && json_object_set(open, key, v) != 0)
                {
                    json_decref(open);
                    return -1;
                }
            }

            if (json_object_size(open) == 0) {
                json_decref(open);
                return 0;
            }

            a->kind = TTAI_WF_STEP;
            strcpy(a->name, ask);
            a->output = json_pack("{s:o}", "inputRequests", open);

            return a->output ? 1 : -1;
        }

        got = json_object_get(ctx->steps, answer);

        if (got == NULL) {
            a->kind = TTAI_WF_WAIT;
            strcpy(a->name, answer);
            strcpy(a->event, "input");
            a->until = ctx->now_ms + 3600000;
            return 1;
        }

        if (json_is_true(json_object_get(got, "timeout"))) {
            a->kind = TTAI_WF_FAIL;
            snprintf(a->error, sizeof(a->error), "no answer came within an "
                     "hour");
            return 1;
        }

        /* only what was asked counts: other keys are ignored */
        json_object_foreach(got, key, v) {
            if (json_object_get(asked, key) != NULL
                && json_object_set(*answers, key, v) != 0)
            {
                return -1;
            }
        }
    }

    a->kind = TTAI_WF_FAIL;
    snprintf(a->error, sizeof(a->error), "the questions were not answered "
             "in %d rounds", TTAI_WF_ASK_ROUNDS);

    return 1;
}


static json_t *
ttai_fixture_confirm(const char *message)
{
    return ttai_tool_elicit_form(message,
               json_pack("{s:s, s:{s:{s:s}, s:{s:s}}}", "type", "object",
                         "properties", "confirm", "type", "boolean",
                         "name", "type", "string"));
}


int
ttai_wf_confirm_delete(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    int          rc;
    char         text[320];
    json_t      *requests, *answers, *reply;
    const char  *file, *action;

    file = json_string_value(json_object_get(ctx->params, "filename"));
    file = file ? file : "the file";

    snprintf(text, sizeof(text), "Delete %s?", file);
    requests = json_pack("{s:o}", "confirm-delete", ttai_fixture_confirm(text));

    if (requests == NULL) {
        return -1;
    }

    rc = ttai_wf_ask(ctx, a, requests, &answers);
    json_decref(requests);

    if (rc != 0) {
        json_decref(answers);
        return (rc < 0) ? -1 : 0;
    }

    reply = json_object_get(answers, "confirm-delete");
    action = json_string_value(json_object_get(reply, "action"));

    snprintf(text, sizeof(text), "%s %s",
             (action != NULL && strcmp(action, "accept") == 0
              && json_is_true(json_object_get(json_object_get(reply,
                                                              "content"),
                                              "confirm")))
             ? "Deleted" : "Kept", file);
    json_decref(answers);

    a->kind = TTAI_WF_DONE;
    a->output = ttai_tool_text_result(text, NULL);

    return a->output ? 0 : -1;
}


int
ttai_wf_multi_input(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    int      rc;
    char     text[320];
    json_t  *requests, *answers;

    requests = json_pack("{s:o, s:o}",
                         "input-name", ttai_fixture_confirm("Your name?"),
                         "input-confirm", ttai_fixture_confirm("Go on?"));
    if (requests == NULL) {
        return -1;
    }

    rc = ttai_wf_ask(ctx, a, requests, &answers);
    json_decref(requests);

    if (rc != 0) {
        json_decref(answers);
        return (rc < 0) ? -1 : 0;
    }

    snprintf(text, sizeof(text), "Both answered: %s, %s",
             json_string_value(json_object_get(json_object_get(
                 json_object_get(answers, "input-name"), "content"), "name"))
             ? json_string_value(json_object_get(json_object_get(
                   json_object_get(answers, "input-name"), "content"),
                   "name"))
             : "?",
             json_string_value(json_object_get(json_object_get(answers,
                                               "input-confirm"), "action"))
             ? json_string_value(json_object_get(json_object_get(answers,
                                                 "input-confirm"), "action"))
             : "?");
    json_decref(answers);

    a->kind = TTAI_WF_DONE;
    a->output = ttai_tool_text_result(text, NULL);

    return a->output ? 0 : -1;
}
