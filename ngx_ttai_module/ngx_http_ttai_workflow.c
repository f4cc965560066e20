
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ttai_workflow.h"


/*
 * The workflows' turns (the core's ttai_workflow.c says what a turn
 * does), run by the worker that holds the background lease of
 * ngx_http_ttai_queue.c: a claim of the instance that has waited longest
 * (with its steps and events), the replay of its workflow on the event
 * loop, and the turn's statements in one transaction, each batch on the
 * thread pool; then the next instance, until none is due, and again at
 * the next tick.  A worker that dies in a turn leaves its instance to
 * the next claim once the instance's lease has passed: the steps it had
 * written stay written, and the replay goes on after them.
 */

#define NGX_HTTP_TTAI_WF_TICK       250
#define NGX_HTTP_TTAI_WF_LEASE      30000
#define NGX_HTTP_TTAI_WF_MAX_STEPS  16


typedef struct {
    ngx_uint_t                    busy;
    ngx_uint_t                    leases;
    u_char                        lease[NGX_INT64_LEN * 2 + 4];
    ngx_http_ttai_d1_query_t     *query;
    ngx_event_t                   tick;
    ngx_http_ttai_main_conf_t    *tmcf;
} ngx_http_ttai_wf_worker_t;


static void ngx_http_ttai_wf_tick(ngx_event_t *ev);
static void ngx_http_ttai_wf_claim(ngx_http_ttai_wf_worker_t *w);
static ngx_int_t ngx_http_ttai_wf_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_wf_turned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_wf_post(ngx_http_ttai_wf_worker_t *w,
    json_t *batch, ngx_http_ttai_d1_handler_pt handler);
static void ngx_http_ttai_wf_rest(ngx_http_ttai_wf_worker_t *w);
static long long ngx_http_ttai_wf_now(void);


static ngx_http_ttai_wf_worker_t  ngx_http_ttai_wf_worker;
static ngx_connection_t           ngx_http_ttai_wf_dummy;


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
    w->query = ngx_http_ttai_d1_query_create(cycle->pool);
    if (w->query == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ttai_wf_dummy.fd = (ngx_socket_t) -1;

    w->tick.handler = ngx_http_ttai_wf_tick;
    w->tick.data = &ngx_http_ttai_wf_dummy;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    ngx_add_timer(&w->tick, NGX_HTTP_TTAI_WF_TICK + ngx_worker * 41);

    return NGX_OK;
}


static void
ngx_http_ttai_wf_tick(ngx_event_t *ev)
{
    ngx_http_ttai_wf_worker_t  *w;

    w = &ngx_http_ttai_wf_worker;

    if (w->busy) {
        ngx_add_timer(ev, NGX_HTTP_TTAI_WF_TICK);
        return;
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (!ngx_http_ttai_background_lead()) {
        ngx_http_ttai_wf_rest(w);
        return;
    }

    ngx_http_ttai_wf_claim(w);
}


static void
ngx_http_ttai_wf_claim(ngx_http_ttai_wf_worker_t *w)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        w->busy = 0;
        ngx_http_ttai_wf_rest(w);
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
                                 NGX_HTTP_TTAI_WF_MAX_STEPS, &claimed)
            : NULL;

    if (batch == NULL) {
        /*
         * None due (or a failure, or no memory: the instance's lease
         * passes, and a later claim takes it again)
         */
        if (claimed) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "ttai: a workflow turn could not be made");
        }

        w->busy = 0;
        ngx_http_ttai_wf_rest(w);
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
        w->busy = 0;
        ngx_http_ttai_wf_rest(w);
        return NGX_OK;
    }

    /* the next instance that is due, if any */
    ngx_http_ttai_wf_claim(w);

    return NGX_OK;
}


static void
ngx_http_ttai_wf_post(ngx_http_ttai_wf_worker_t *w, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler)
{
    ngx_http_ttai_d1_query_t  *q;

    q = w->query;

    if (batch == NULL) {
        w->busy = 0;
        ngx_http_ttai_wf_rest(w);
        return;
    }

    json_decref(q->batch);
    q->batch = batch;
    q->handler = handler;
    q->data = w;

    if (ngx_http_ttai_d1_post_task(w->tmcf->db, q) != NGX_OK) {
        w->busy = 0;
        ngx_http_ttai_wf_rest(w);
        return;
    }

    w->busy = 1;

    /* a shutting-down worker waits for its turn to be written */
    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    w->tick.cancelable = 0;
    ngx_add_timer(&w->tick, NGX_HTTP_TTAI_WF_TICK);
}


static void
ngx_http_ttai_wf_rest(ngx_http_ttai_wf_worker_t *w)
{
    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    w->tick.cancelable = 1;
    ngx_add_timer(&w->tick, NGX_HTTP_TTAI_WF_TICK);
}


static long long
ngx_http_ttai_wf_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}
