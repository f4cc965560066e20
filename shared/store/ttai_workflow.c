
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_agent.h"
#include "ttai_d1.h"
#include "ttai_workflow.h"


/*
 * The statements of a turn all check the lease the claim took, so that a
 * turn that outlived its lease (its worker stalled, another took the
 * instance) writes nothing; the last one gives the lease back.  A step's
 * result is written with ON CONFLICT ... runs = runs + 1, so that a step
 * written twice would show it.
 */

#define TTAI_WF_GUARD                                                         \
    " EXISTS (SELECT 1 FROM workflow_instances WHERE id = ?1 AND lease = ?2)"


static int ttai_wf_demo(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);


static const ttai_workflow_t  ttai_workflow_table[] = {

    { "demo", "A step, a nap of params.sleep_ms (1000), optionally a wait "
      "for the event params.event, a quote of params.symbol fetched as "
      "params.user, a step that fails params.fail times first, and a last "
      "step: to see a workflow sleep, wait, fetch, retry and resume",
      ttai_wf_demo, 5, 200 },

    /* the conformance fixtures' tasks: their tools' work, durably */
    { "slow_compute", "The task of the fixture slow_compute: a nap of "
      "params.seconds, then its answer", ttai_wf_slow_compute, 1, 0 },
    { "failing_job", "The task of the fixture failing_job: a second's "
      "nap, then a tool error", ttai_wf_failing_job, 1, 0 },
    { "protocol_error_job", "The task of the fixture protocol_error_job: "
      "it fails", ttai_wf_protocol_error_job, 1, 0 },
    { "confirm_delete", "The task of the fixture confirm_delete: it asks "
      "the user, then answers", ttai_wf_confirm_delete, 1, 0 },
    { "multi_input", "The task of the fixture multi_input: two questions "
      "at once, answered in one round or two", ttai_wf_multi_input, 1, 0 },

    /*
     * The agents (ttai_agent.h): a model's turn is retried by the agent
     * itself, with steps of its own; a step that fails here is a tool's
     * or the database's, tried again once
     */
    { "analyze_portfolio", "The agent analyze_portfolio: the account's "
      "balances, positions, greeks and metrics, then the model's analysis",
      ttai_wf_analyze_portfolio, 2, 1000 },
    { "review_trade", "The agent review_trade: params.order's dry run, "
      "metrics and chain, then the model's critique",
      ttai_wf_review_trade, 2, 1000 },
    { "daily_brief", "The agent daily_brief: the account's day, the "
      "model's brief, saved as a note and in R2", ttai_wf_daily_brief, 2,
      1000 },

    { NULL, NULL, NULL, 0, 0 }
};


const ttai_workflow_t *
ttai_workflow_find(const char *name)
{
    const ttai_workflow_t  *w;

    for (w = ttai_workflow_table; w->name != NULL; w++) {
        if (strcmp(w->name, name) == 0) {
            return w;
        }
    }

    return NULL;
}


const ttai_workflow_t *
ttai_workflows(void)
{
    return ttai_workflow_table;
}


void
ttai_workflow_id(char out[TTAI_WF_ID_LEN + 1])
{
    unsigned char  raw[TTAI_WF_ID_LEN / 2];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, TTAI_WF_ID_LEN + 1, raw, sizeof(raw));
}


json_t *
ttai_workflow_create(const char *id, const char *workflow,
    const char *params, long long now_ms)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "INSERT INTO workflow_instances (id, workflow, status, "
                   "params, wake_at, created_at, updated_at) "
                   "VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                   json_pack("[s, s, s, I, I, I]", id, workflow, params,
                             (json_int_t) now_ms, (json_int_t) now_ms,
                             (json_int_t) now_ms)));
}


json_t *
ttai_workflow_claim(const char *lease, long long now_ms, long lease_ms)
{
    return ttai_d1_batch_of(3,
               ttai_d1_stmt(
                   "UPDATE workflow_instances SET lease = ?1, "
                   "lease_until = ?2 + ?3 WHERE id = (SELECT id FROM "
                   "workflow_instances WHERE status IN ('queued', 'running', "
                   "'waiting') AND wake_at <= ?2 AND lease_until < ?2 "
                   "ORDER BY wake_at LIMIT 1) "
                   "RETURNING id, workflow, status, params, (SELECT "
                   "user_id FROM tasks WHERE tasks.id = "
                   "workflow_instances.id) AS user_id",
                   json_pack("[s, I, I]", lease, (json_int_t) now_ms,
                             (json_int_t) lease_ms)),
               ttai_d1_stmt(
                   "SELECT name, seq, status, output, attempts, until "
                   "FROM workflow_steps WHERE instance_id IN (SELECT id FROM "
                   "workflow_instances WHERE lease = ?1) ORDER BY seq",
                   json_pack("[s]", lease)),
               ttai_d1_stmt(
                   "SELECT id, name, payload FROM workflow_events "
                   "WHERE instance_id IN (SELECT id FROM workflow_instances "
                   "WHERE lease = ?1) ORDER BY id",
                   json_pack("[s]", lease)));
}


/* a step's result as the replay sees it: JSON text parsed, or null */

static json_t *
ttai_wf_output(json_t *row)
{
    json_t      *v;
    const char  *text;

    text = json_string_value(json_object_get(row, "output"));
    v = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);

    return v ? v : json_null();
}


json_t *
ttai_workflow_turn(json_t *claim_results, const char *lease,
    long long now_ms, unsigned max_steps, int *claimed,
    ttai_wf_fetch_t *fetch)
{
    char                    *text, error[320];
    long                     delay;
    size_t                   i, k;
    json_t                  *inst, *rows, *events, *row, *ev, *batch;
    json_t                  *params, *done, *attempts, *st;
    unsigned                 n, tries;
    long long                seq, wake;
    const char              *id, *status, *name, *final;
    ttai_wf_ctx_t            ctx;
    ttai_wf_action_t         a;
    const ttai_workflow_t   *def;

    *claimed = 0;
    memset(fetch, 0, sizeof(ttai_wf_fetch_t));

    inst = json_array_get(json_object_get(json_array_get(claim_results, 0),
                                          "results"), 0);
    if (inst == NULL) {
        return NULL;
    }

    *claimed = 1;

    rows = json_object_get(json_array_get(claim_results, 1), "results");
    events = json_object_get(json_array_get(claim_results, 2), "results");
    id = json_string_value(json_object_get(inst, "id"));

    batch = json_array();
    done = json_object();
    attempts = json_object();
    params = json_loads(json_string_value(json_object_get(inst, "params")),
                        JSON_DECODE_ANY, NULL);

    if (batch == NULL || done == NULL || attempts == NULL || id == NULL) {
        goto nomem;
    }

    if (params == NULL) {
        params = json_object();
    }

    def = ttai_workflow_find(json_string_value(json_object_get(inst,
                                                               "workflow")));
    final = "running";
    wake = now_ms;
    error[0] = '\0';
    seq = 0;

    /* the steps done, and the sleeps and waits that end now */
    json_array_foreach(rows, i, row) {
        name = json_string_value(json_object_get(row, "name"));
        status = json_string_value(json_object_get(row, "status"));
        seq = json_integer_value(json_object_get(row, "seq"));

        if (strcmp(status, "complete") == 0) {
            json_object_set_new(done, name, ttai_wf_output(row));
            continue;
        }

        if (strcmp(status, "failed") == 0) {
            json_object_set(attempts, name,
                            json_object_get(row, "attempts"));
            continue;
        }

        ev = NULL;

        if (strcmp(status, "waiting") == 0) {
            json_array_foreach(events, k, ev) {
                if (json_equal(json_object_get(ev, "name"),
                               json_object_get(row, "output")))
                {
                    break;
                }

                ev = NULL;
            }
        }

        if (ev == NULL && json_integer_value(json_object_get(row, "until"))
                          > now_ms)
        {
            continue;
        }

        /* a sleep over, an event come, or a wait given up */
        text = (ev != NULL)
               ? strdup(json_string_value(json_object_get(ev, "payload")))
               : strdup(strcmp(status, "waiting") == 0
                        ? "{\"timeout\":true}" : "null");
        if (text == NULL) {
            goto nomem;
        }

        json_object_set_new(done, name, json_loads(text, JSON_DECODE_ANY,
                                                   NULL));

        st = ttai_d1_stmt("UPDATE workflow_steps SET status = 'complete', "
                          "output = ?3, runs = runs + 1, finished_at = ?4 "
                          "WHERE instance_id = ?1 AND name = ?5 AND"
                          TTAI_WF_GUARD,
                          json_pack("[s, s, s, I, s]", id, lease, text,
                                    (json_int_t) now_ms, name));
        free(text);

        if (ttai_d1_push(batch, st) != 0) {
            goto nomem;
        }

        if (ev != NULL
            && ttai_d1_push(batch, ttai_d1_stmt(
                   "DELETE FROM workflow_events WHERE id = ?3 AND"
                   TTAI_WF_GUARD,
                   json_pack("[s, s, O]", id, lease,
                             json_object_get(ev, "id")))) != 0)
        {
            goto nomem;
        }
    }

    memset(&a, 0, sizeof(a));

    ctx.id = id;
    ctx.params = params;
    ctx.steps = done;
    ctx.attempts = attempts;
    ctx.now_ms = now_ms;
    ctx.user = json_string_value(json_object_get(inst, "user_id"));

    if (ctx.user == NULL) {
        ctx.user = json_string_value(json_object_get(params, "user"));
    }

    for (n = 0; def != NULL; n++) {
        if (n == max_steps) {
            /* the rest at the next turn, after other instances' */
            break;
        }

        memset(&a, 0, sizeof(a));

        if (def->run(&ctx, &a) != 0) {
            json_decref(a.output);
            json_decref(a.request);
            goto nomem;
        }

        /* a step asked for again while it sleeps or waits: as it is */
        row = NULL;

        json_array_foreach(rows, i, row) {
            if (strcmp(json_string_value(json_object_get(row, "name")),
                       a.name) == 0)
            {
                break;
            }

            row = NULL;
        }

        if ((a.kind == TTAI_WF_SLEEP || a.kind == TTAI_WF_WAIT)
            && row != NULL && json_object_get(done, a.name) == NULL)
        {
            final = (a.kind == TTAI_WF_WAIT) ? "waiting" : "running";
            wake = json_integer_value(json_object_get(row, "until"));
            json_decref(a.output);
            break;
        }

        if (a.kind == TTAI_WF_STEP) {
            text = json_dumps(a.output ? a.output : json_null(),
                              JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref(a.output);

            if (text == NULL) {
                goto nomem;
            }

            tries = (unsigned) json_integer_value(json_object_get(attempts,
                                                                  a.name));

            st = ttai_d1_stmt(
                     "INSERT INTO workflow_steps (instance_id, name, seq, "
                     "status, output, attempts, runs, started_at, "
                     "finished_at) SELECT ?1, ?3, ?4, 'complete', ?5, ?6, "
                     "1, ?7, ?7 WHERE" TTAI_WF_GUARD " "
                     "ON CONFLICT (instance_id, name) DO UPDATE SET "
                     "status = 'complete', output = excluded.output, "
                     "attempts = excluded.attempts, runs = runs + 1, "
                     "error = NULL, finished_at = excluded.finished_at",
                     json_pack("[s, s, s, I, s, I, I]", id, lease, a.name,
                               (json_int_t) ++seq, text,
                               (json_int_t) (tries + 1),
                               (json_int_t) now_ms));

            json_object_set_new(done, a.name,
                                json_loads(text, JSON_DECODE_ANY, NULL));
            json_object_del(attempts, a.name);
            free(text);

            if (ttai_d1_push(batch, st) != 0) {
                goto nomem;
            }

            continue;
        }

        if (a.kind == TTAI_WF_SLEEP || a.kind == TTAI_WF_WAIT) {
            st = ttai_d1_stmt(
                     "INSERT INTO workflow_steps (instance_id, name, seq, "
                     "status, output, until, started_at) "
                     "SELECT ?1, ?3, ?4, ?5, ?6, ?7, ?8 WHERE" TTAI_WF_GUARD,
                     json_pack("[s, s, s, I, s, s?, I, I]", id, lease,
                               a.name, (json_int_t) ++seq,
                               a.kind == TTAI_WF_WAIT ? "waiting"
                                                      : "sleeping",
                               a.kind == TTAI_WF_WAIT ? a.event : NULL,
                               (json_int_t) a.until, (json_int_t) now_ms));

            if (ttai_d1_push(batch, st) != 0) {
                goto nomem;
            }

            final = (a.kind == TTAI_WF_WAIT) ? "waiting" : "running";
            wake = a.until;
            break;
        }

        if (a.kind == TTAI_WF_TOOL || a.kind == TTAI_WF_LLM
            || a.kind == TTAI_WF_PUT)
        {
            /* the shell does it; the instance keeps its lease meanwhile */
            fetch->request = json_dumps(a.request, JSON_COMPACT);
            json_decref(a.request);

            if (fetch->request == NULL) {
                goto nomem;
            }

            fetch->asked = a.kind;
            snprintf(fetch->name, sizeof(fetch->name), "%s", a.name);
            snprintf(fetch->user, sizeof(fetch->user), "%s", a.user);
            fetch->seq = ++seq;
            final = "fetching";
            break;
        }

        json_decref(a.request);

        if (a.kind == TTAI_WF_FETCH) {
            /* the shell fetches; the instance keeps its lease meanwhile */
            fetch->asked = TTAI_WF_FETCH;
            snprintf(fetch->name, sizeof(fetch->name), "%s", a.name);
            snprintf(fetch->path, sizeof(fetch->path), "%s", a.path);
            snprintf(fetch->user, sizeof(fetch->user), "%s", a.user);
            fetch->seq = ++seq;
            final = "fetching";
            break;
        }

        if (a.kind == TTAI_WF_RETRY) {
            tries = (unsigned) json_integer_value(json_object_get(attempts,
                                                                  a.name))
                    + 1;

            if (tries >= def->max_attempts) {
                final = "errored";
                snprintf(error, sizeof(error), "step %.63s failed %u "
                         "times: %.200s", a.name, tries, a.error);
                break;
            }

            for (delay = def->retry_delay, k = 1; k < tries; k++) {
                delay *= 2;
            }

            st = ttai_d1_stmt(
                     "INSERT INTO workflow_steps (instance_id, name, seq, "
                     "status, attempts, error, started_at) "
                     "SELECT ?1, ?3, ?4, 'failed', ?5, ?6, ?7 WHERE"
                     TTAI_WF_GUARD " ON CONFLICT (instance_id, name) "
                     "DO UPDATE SET attempts = excluded.attempts, "
                     "error = excluded.error",
                     json_pack("[s, s, s, I, I, s, I]", id, lease, a.name,
                               (json_int_t) ++seq, (json_int_t) tries,
                               a.error, (json_int_t) now_ms));

            if (ttai_d1_push(batch, st) != 0) {
                goto nomem;
            }

            wake = now_ms + delay;
            break;
        }

        if (a.kind == TTAI_WF_DONE) {
            text = json_dumps(a.output ? a.output : json_null(),
                              JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref(a.output);

            if (text == NULL
                || ttai_d1_push(batch, ttai_d1_stmt(
                       "UPDATE workflow_instances SET output = ?3 "
                       "WHERE id = ?1 AND lease = ?2",
                       json_pack("[s, s, s]", id, lease, text))) != 0)
            {
                free(text);
                goto nomem;
            }

            free(text);
            final = "complete";
            break;
        }

        final = "errored";
        snprintf(error, sizeof(error), "%s", a.error[0] ? a.error
                                             : "the workflow failed");
        break;
    }

    if (def == NULL) {
        final = "errored";
        snprintf(error, sizeof(error), "no workflow named %s",
                 json_string_value(json_object_get(inst, "workflow")));
    }

    if (fetch->asked) {
        /* the lease stays taken until the fetch's step is written */
        if (ttai_d1_push(batch, ttai_d1_stmt(
                "UPDATE workflow_instances SET status = 'running', "
                "updated_at = ?3 WHERE id = ?1 AND lease = ?2",
                json_pack("[s, s, I]", id, lease, (json_int_t) now_ms)))
            != 0)
        {
            goto nomem;
        }

        json_decref(params);
        json_decref(done);
        json_decref(attempts);

        return batch;
    }

    /* last: the instance's state, and its lease given back */
    if (ttai_d1_push(batch, ttai_d1_stmt(
            "UPDATE workflow_instances SET status = ?3, "
            /* an event sent while the turn ran wakes it at once */
            "wake_at = CASE WHEN ?5 IS NOT NULL AND EXISTS (SELECT 1 FROM "
            "workflow_events WHERE instance_id = ?1 AND name = ?5) "
            "THEN ?7 ELSE ?4 END, "
            "waiting_for = ?5, error = ?6, lease = NULL, lease_until = 0, "
            "updated_at = ?7 WHERE id = ?1 AND lease = ?2 "
            "AND status != 'terminated'",
            json_pack("[s, s, s, I, s?, s?, I]", id, lease, final,
                      (json_int_t) wake,
                      strcmp(final, "waiting") == 0 ? a.event : NULL,
                      error[0] ? error : NULL, (json_int_t) now_ms)))
           != 0
        /*
         * an instance that is a task and ended, or waits for its user's
         * answers: whose, for its streams
         */
        || ttai_d1_push(batch, ttai_d1_stmt(
            "SELECT t.id, t.user_id, i.status FROM tasks t "
            "JOIN workflow_instances i ON i.id = t.id WHERE t.id = ?1 "
            "AND (i.status IN ('complete', 'errored') OR (i.status = "
            "'waiting' AND i.waiting_for = 'input')) AND changes() = 1",
            json_pack("[s]", id)))
           != 0)
    {
        goto nomem;
    }

    json_decref(params);
    json_decref(done);
    json_decref(attempts);

    return batch;

nomem:

    free(fetch->request);
    memset(fetch, 0, sizeof(ttai_wf_fetch_t));

    json_decref(batch);
    json_decref(params);
    json_decref(done);
    json_decref(attempts);

    return NULL;
}


json_t *
ttai_workflow_fetched(const char *id, const char *lease,
    const ttai_wf_fetch_t *fetch, int status, const char *body, size_t len,
    const char *error, long long now_ms)
{
    json_t  *batch, *out, *parsed;

    parsed = (body != NULL) ? json_loadb(body, len, JSON_DECODE_ANY, NULL)
                            : NULL;

    if (parsed == NULL && body != NULL) {
        parsed = json_stringn(body, len);
    }

    out = json_pack("{s:i, s:o?, s:s?}", "status", status, "body", parsed,
                    "error", status == 0 ? error : NULL);
    if (out == NULL) {
        return NULL;
    }

    batch = ttai_workflow_wrote(id, lease, fetch, out, NULL, now_ms);
    json_decref(out);

    return batch;
}


json_t *
ttai_workflow_wrote(const char *id, const char *lease,
    const ttai_wf_fetch_t *fetch, json_t *output, json_t *also,
    long long now_ms)
{
    char    *text;
    json_t  *batch;

    text = json_dumps(output, JSON_COMPACT | JSON_ENCODE_ANY);
    batch = (also != NULL) ? also : json_array();

    if (text == NULL || batch == NULL
        || ttai_d1_push(batch, ttai_d1_stmt(
               "INSERT INTO workflow_steps (instance_id, name, seq, "
               "status, output, attempts, runs, started_at, finished_at) "
               "SELECT ?1, ?3, ?4, 'complete', ?5, 1, 1, ?6, ?6 WHERE"
               TTAI_WF_GUARD " ON CONFLICT (instance_id, name) DO UPDATE "
               "SET status = 'complete', output = excluded.output, "
               "runs = runs + 1, finished_at = excluded.finished_at",
               json_pack("[s, s, s, I, s, I]", id, lease, fetch->name,
                         (json_int_t) fetch->seq, text,
                         (json_int_t) now_ms))) != 0
        || ttai_d1_push(batch, ttai_d1_stmt(
               "UPDATE workflow_instances SET wake_at = ?3, lease = NULL, "
               "lease_until = 0, updated_at = ?3 WHERE id = ?1 "
               "AND lease = ?2 AND status != 'terminated'",
               json_pack("[s, s, I]", id, lease, (json_int_t) now_ms))) != 0)
    {
        free(text);
        json_decref(batch);
        return NULL;
    }

    free(text);

    return batch;
}


json_t *
ttai_workflow_event(const char *id, const char *name, const char *payload,
    long long now_ms)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "INSERT INTO workflow_events (instance_id, name, payload, "
                   "created_at) VALUES (?, ?, ?, ?)",
                   json_pack("[s, s, s, I]", id, name, payload,
                             (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "UPDATE workflow_instances SET wake_at = ?2 "
                   "WHERE id = ?1 AND status = 'waiting'",
                   json_pack("[s, I]", id, (json_int_t) now_ms)));
}


json_t *
ttai_workflow_terminate(const char *id, long long now_ms)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "UPDATE workflow_instances SET status = 'terminated', "
                   "updated_at = ?2 WHERE id = ?1 AND status IN ('queued', "
                   "'running', 'waiting')",
                   json_pack("[s, I]", id, (json_int_t) now_ms)));
}


json_t *
ttai_workflow_list(long n)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "SELECT id, workflow, status, waiting_for, wake_at, "
                   "created_at, updated_at, (SELECT count(*) FROM "
                   "workflow_steps WHERE instance_id = id AND status = "
                   "'complete') AS steps FROM workflow_instances "
                   "ORDER BY created_at DESC LIMIT ?",
                   json_pack("[I]", (json_int_t) n)));
}


json_t *
ttai_workflow_status(const char *id)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT id, workflow, status, params, output, error, "
                   "waiting_for, wake_at, created_at, updated_at "
                   "FROM workflow_instances WHERE id = ?",
                   json_pack("[s]", id)),
               ttai_d1_stmt(
                   "SELECT name, status, output, attempts, runs, error, until, "
                   "started_at, finished_at FROM workflow_steps "
                   "WHERE instance_id = ? ORDER BY seq",
                   json_pack("[s]", id)));
}


/*
 * The development workflow: "one", a nap, maybe a wait for an event, a
 * step that fails params.fail times first, "two", and done
 */

static int
ttai_wf_demo(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a)
{
    json_int_t   n;
    const char  *event, *symbol, *user;

#define TTAI_WF_DONE_WITH(step)  (json_object_get(ctx->steps, step) != NULL)

    if (!TTAI_WF_DONE_WITH("one")) {
        a->kind = TTAI_WF_STEP;
        strcpy(a->name, "one");
        a->output = json_pack("{s:I}", "started", (json_int_t) ctx->now_ms);
        return a->output ? 0 : -1;
    }

    if (!TTAI_WF_DONE_WITH("nap")) {
        n = json_integer_value(json_object_get(ctx->params, "sleep_ms"));
        a->kind = TTAI_WF_SLEEP;
        strcpy(a->name, "nap");
        a->until = ctx->now_ms + (n > 0 ? n : 1000);
        return 0;
    }

    event = json_string_value(json_object_get(ctx->params, "event"));

    if (event != NULL && !TTAI_WF_DONE_WITH("approval")) {
        a->kind = TTAI_WF_WAIT;
        strcpy(a->name, "approval");
        snprintf(a->event, sizeof(a->event), "%s", event);
        a->until = ctx->now_ms + 3600000;
        return 0;
    }

    symbol = json_string_value(json_object_get(ctx->params, "symbol"));
    user = json_string_value(json_object_get(ctx->params, "user"));

    if (symbol != NULL && !TTAI_WF_DONE_WITH("quote")) {
        /* a symbol of letters, digits, dots and slashes goes in a path */
        if (*symbol == '\0'
            || strspn(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./")
               != strlen(symbol) || strlen(symbol) > 32)
        {
            a->kind = TTAI_WF_FAIL;
            snprintf(a->error, sizeof(a->error), "params.symbol is not a "
                     "symbol");
            return 0;
        }

        a->kind = TTAI_WF_FETCH;
        strcpy(a->name, "quote");
        snprintf(a->path, sizeof(a->path), "/market-data/by-type?equity=%s",
                 symbol);
        snprintf(a->user, sizeof(a->user), "%s", user ? user : "");
        return 0;
    }

    if (!TTAI_WF_DONE_WITH("flaky")) {
        n = json_integer_value(json_object_get(ctx->params, "fail"));

        if (json_integer_value(json_object_get(ctx->attempts, "flaky")) < n)
        {
            a->kind = TTAI_WF_RETRY;
            strcpy(a->name, "flaky");
            snprintf(a->error, sizeof(a->error), "failed on purpose");
            return 0;
        }

        a->kind = TTAI_WF_STEP;
        strcpy(a->name, "flaky");
        a->output = json_pack("{s:I}", "after",
                              json_integer_value(json_object_get(
                                  ctx->attempts, "flaky")));
        return a->output ? 0 : -1;
    }

    if (!TTAI_WF_DONE_WITH("two")) {
        a->kind = TTAI_WF_STEP;
        strcpy(a->name, "two");
        a->output = json_pack("{s:O, s:O?}", "one",
                              json_object_get(ctx->steps, "one"),
                              "approval",
                              json_object_get(ctx->steps, "approval"));
        return a->output ? 0 : -1;
    }

    a->kind = TTAI_WF_DONE;
    a->output = json_pack("{s:b}", "ok", 1);

    return a->output ? 0 : -1;
}
