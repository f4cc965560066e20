
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_loop.h"
#include "ttai_task.h"
#include "ttai_workflow.h"


/*
 * The workflows' turns (the core's ttai_workflow.c says what a turn
 * does), run by the worker that holds the background lease of
 * ngx_http_ttai_queue.c: a claim of the instance that has waited longest
 * (with its steps and events), the replay of its workflow on the event
 * loop, and the turn's statements in one transaction, each batch on the
 * thread pool; then the next instance, until none is due, and again at
 * the next tick.  A step that fetches from TastyTrade is fetched by the
 * fetch engine the tools use, with a request of ttai's own
 * (ngx_http_ttai_background.c), while the instance keeps its lease; its
 * result is then written as the step's.  A worker that dies in a turn
 * leaves its instance to
 * the next claim once the instance's lease has passed: the steps it had
 * written stay written, and the replay goes on after them.
 */

#define NGX_HTTP_TTAI_WF_TICK       250
#define NGX_HTTP_TTAI_WF_LEASE      30000
#define NGX_HTTP_TTAI_WF_MAX_STEPS  16


typedef struct {
    ngx_http_ttai_loop_t          loop;
    ngx_uint_t                    leases;
    u_char                        lease[NGX_INT64_LEN * 2 + 4];
    ngx_http_ttai_main_conf_t    *tmcf;

    /* the fetch the last turn asked for, and its instance */
    ttai_wf_fetch_t               fetch;
    char                          id[TTAI_WF_ID_LEN + 1];
} ngx_http_ttai_wf_worker_t;


static void ngx_http_ttai_wf_tick(ngx_event_t *ev);
static void ngx_http_ttai_wf_claim(ngx_http_ttai_wf_worker_t *w);
static ngx_int_t ngx_http_ttai_wf_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_wf_turned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_wf_post(ngx_http_ttai_wf_worker_t *w,
    json_t *batch, ngx_http_ttai_d1_handler_pt handler);
static void ngx_http_ttai_wf_work(ngx_http_ttai_wf_worker_t *w);
static void ngx_http_ttai_wf_stepped(void *data, json_t *output,
    json_t *also);
static void ngx_http_ttai_wf_fetch(ngx_http_ttai_wf_worker_t *w);
static ngx_int_t ngx_http_ttai_wf_fetched(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static void ngx_http_ttai_wf_write(ngx_http_ttai_wf_worker_t *w,
    int status, u_char *body, size_t len, const char *error);
static void ngx_http_ttai_wf_task_ended(json_t *results);
static long long ngx_http_ttai_wf_now(void);


static ngx_http_ttai_wf_worker_t  ngx_http_ttai_wf_worker;


ngx_int_t
ngx_http_ttai_workflow_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_wf_worker_t  *w;

    if (tmcf->workflows != 1 || tmcf->db == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_ttai_wf_worker;
    ngx_memzero(w, sizeof(ngx_http_ttai_wf_worker_t));

    w->tmcf = tmcf;

    return ngx_http_ttai_loop_init(&w->loop, cycle, tmcf->db,
                                   ngx_http_ttai_wf_tick,
                                   NGX_HTTP_TTAI_WF_TICK,
                                   NGX_HTTP_TTAI_WF_TICK + ngx_worker * 41);
}


static void
ngx_http_ttai_wf_tick(ngx_event_t *ev)
{
    if (ngx_http_ttai_loop_due(&ngx_http_ttai_wf_worker.loop)) {
        ngx_http_ttai_wf_claim(&ngx_http_ttai_wf_worker);
    }
}


static void
ngx_http_ttai_wf_claim(ngx_http_ttai_wf_worker_t *w)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_ttai_loop_rest(&w->loop);
        return;
    }

    ngx_sprintf(w->lease, "wf-%P-%ui%Z", ngx_pid, ++w->leases);

    ngx_http_ttai_wf_post(w, ttai_workflow_claim((char *) w->lease,
                                                 ngx_http_ttai_wf_now(),
                                                 NGX_HTTP_TTAI_WF_LEASE),
                          ngx_http_ttai_wf_claimed);
}


static ngx_int_t
ngx_http_ttai_wf_claimed(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    int                         claimed;
    json_t                     *batch;
    ngx_http_ttai_wf_worker_t  *w;

    w = &ngx_http_ttai_wf_worker;

    claimed = 0;
    batch = (q->rc == NGX_OK)
            ? ttai_workflow_turn(q->result, (char *) w->lease,
                                 ngx_http_ttai_wf_now(),
                                 NGX_HTTP_TTAI_WF_MAX_STEPS, &claimed,
                                 &w->fetch)
            : NULL;

    if (batch != NULL) {
        ngx_cpystrn((u_char *) w->id,
                    (u_char *) json_string_value(json_object_get(
                        json_array_get(json_object_get(
                            json_array_get(q->result, 0), "results"), 0),
                        "id")),
                    sizeof(w->id));
    }

    if (batch == NULL) {
        /*
         * None due (or a failure, or no memory: the instance's lease
         * passes, and a later claim takes it again)
         */
        if (claimed) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "ttai: a workflow turn could not be made");
        }

        ngx_http_ttai_loop_rest(&w->loop);
        return NGX_OK;
    }

    ngx_http_ttai_wf_post(w, batch, ngx_http_ttai_wf_turned);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_wf_turned(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_wf_worker_t  *w;

    w = &ngx_http_ttai_wf_worker;

    if (q->rc != NGX_OK) {
        ngx_http_ttai_loop_rest(&w->loop);
        return NGX_OK;
    }

    ngx_http_ttai_wf_task_ended(q->result);

    if (w->fetch.asked) {
        ngx_http_ttai_wf_work(w);
        return NGX_OK;
    }

    /* the next instance that is due, if any */
    ngx_http_ttai_wf_claim(w);

    return NGX_OK;
}


/*
 * What the turn asked for: a fetch, a tool's call or a model's turn,
 * each done by its own engine, whose outcome becomes the step
 */

static void
ngx_http_ttai_wf_work(ngx_http_ttai_wf_worker_t *w)
{
    int         kind;
    json_t     *out;
    ngx_int_t   rc;

    kind = w->fetch.asked;
    w->fetch.asked = 0;

    if (kind == TTAI_WF_FETCH) {
        ngx_http_ttai_wf_fetch(w);
        return;
    }

    rc = (kind == TTAI_WF_TOOL)
         ? ngx_http_ttai_wf_tool(w->tmcf, w->fetch.user, w->fetch.request,
                                 ngx_http_ttai_wf_stepped, w)
         : (kind == TTAI_WF_PUT)
         ? ngx_http_ttai_wf_put(w->tmcf, w->fetch.request,
                                ngx_http_ttai_wf_stepped, w)
         : ngx_http_ttai_llm_turn(w->tmcf, w->fetch.user, w->fetch.request,
                                  ngx_http_ttai_wf_stepped, w);

    /* each engine took what it needs of the request */
    free(w->fetch.request);
    w->fetch.request = NULL;

    if (rc == NGX_OK) {
        return;
    }

    out = (kind == TTAI_WF_TOOL)
          ? json_pack("{s:s, s:b}", "text", "ttai ran out of memory",
                      "is_error", 1)
          : (kind == TTAI_WF_PUT)
          ? json_pack("{s:s}", "error", "the object could not be written "
                      "(no state folder or thread pool, or no memory)")
          : json_pack("{s:{s:s, s:s, s:b}}", "error", "class", "ttai",
                      "message", "ttai ran out of memory", "retry", 1);

    ngx_http_ttai_wf_stepped(w, out, NULL);
    json_decref(out);
}


static void
ngx_http_ttai_wf_stepped(void *data, json_t *output, json_t *also)
{
    ngx_http_ttai_wf_worker_t *w = data;

    if (output == NULL) {
        /* no memory: the lease passes, and a later claim runs it again */
        json_decref(also);
        ngx_http_ttai_loop_rest(&w->loop);
        return;
    }

    ngx_http_ttai_wf_post(w, ttai_workflow_wrote(w->id, (char *) w->lease,
                                                 &w->fetch, output, also,
                                                 ngx_http_ttai_wf_now()),
                          ngx_http_ttai_wf_turned);
}


/* the step's GET, as its user, through the fetch engine */

static void
ngx_http_ttai_wf_fetch(ngx_http_ttai_wf_worker_t *w)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_ttai_fetch_t       *f;
    ngx_http_ttai_background_t  *bg;

    bg = ngx_http_ttai_background_create((ngx_cycle_t *) ngx_cycle,
                                         w->tmcf);
    if (bg == NULL) {
        ngx_http_ttai_wf_write(w, 0, NULL, 0, "the background request "
                               "could not be made (no ttai_mcp location?)");
        return;
    }

    r = bg->request;

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
    if (f == NULL) {
        ngx_http_ttai_background_done(bg);
        ngx_http_ttai_wf_write(w, 0, NULL, 0, "out of memory");
        return;
    }

    bg->data = w;

    f->service = TTAI_SERVICE_TASTYTRADE;
    f->path.data = (u_char *) w->fetch.path;
    f->path.len = ngx_strlen(w->fetch.path);
    f->user.data = (u_char *) w->fetch.user;
    f->user.len = ngx_strlen(w->fetch.user);
    f->done = ngx_http_ttai_wf_fetched;
    f->data = bg;

    rc = ngx_http_ttai_fetch(r, f);

    if (rc == NGX_AGAIN) {
        /*
         * A subrequest made at once is only posted: a client's request
         * runs it when its handler returns, and this one has none
         */
        ngx_http_run_posted_requests(r->connection);
        return;
    }

    if (rc == NGX_ERROR) {
        ngx_http_ttai_background_done(bg);
        ngx_http_ttai_wf_write(w, 0, NULL, 0, "out of memory");
        return;
    }

    (void) ngx_http_ttai_wf_fetched(r, f);
}


static ngx_int_t
ngx_http_ttai_wf_fetched(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_background_t  *bg = f->data;

    ngx_http_ttai_wf_write(bg->data, (int) f->status, f->response.data,
                           f->response.len, f->error);

    /* the request goes once the fetch engine is done with it */
    ngx_http_ttai_background_done(bg);

    return NGX_DONE;
}


/* the fetch's step written, and the lease given back */

static void
ngx_http_ttai_wf_write(ngx_http_ttai_wf_worker_t *w, int status,
    u_char *body, size_t len, const char *error)
{
    ngx_http_ttai_wf_post(w, ttai_workflow_fetched(w->id, (char *) w->lease,
                                                   &w->fetch, status,
                                                   (char *) body, len, error,
                                                   ngx_http_ttai_wf_now()),
                          ngx_http_ttai_wf_turned);
}


static void
ngx_http_ttai_wf_post(ngx_http_ttai_wf_worker_t *w, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler)
{
    (void) ngx_http_ttai_loop_post(&w->loop, batch, handler, w);
}


/*
 * A turn that ended a task, or left it waiting for its user's answers
 * (its batch's last statement found it): the streams of its user that
 * listen for it hear of its new status
 */

static void
ngx_http_ttai_wf_task_ended(json_t *results)
{
    char               change[80];
    size_t             i;
    json_t            *row;
    const char        *id, *user, *status;
    ttai_mcp_change_t  ch;

    json_array_foreach(json_object_get(json_array_get(results,
                           json_array_size(results) - 1), "results"), i, row)
    {
        id = json_string_value(json_object_get(row, "id"));
        user = json_string_value(json_object_get(row, "user_id"));
        status = json_string_value(json_object_get(row, "status"));

        if (id == NULL || user == NULL || status == NULL) {
            continue;
        }

        ngx_snprintf((u_char *) change, sizeof(change) - 1, "%s %s%Z", id,
                     ngx_strcmp(status, "waiting") == 0
                     ? "input_required" : ttai_task_status(status));

        ch.kind = TTAI_LISTEN_TASKS;
        ch.uri = change;
        ch.user_only = 1;

        ngx_http_ttai_listen_publish(NULL, &ch, 1, user);
    }
}


static long long
ngx_http_ttai_wf_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}
