
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_loop.h"
#include "ngx_http_ttai_monitor.h"


/*
 * The PORTFOLIO_MONITOR's passes, run by the worker that holds the
 * background lease (ngx_http_ttai_queue.c): a claim of the users whose
 * time has come, on the thread pool; then each user in turn, on the
 * event loop: the tool calls the rules need, made through the MCP core
 * as a stateless call of that user, so that they have the tools' KV
 * cache, rate limit and token refresh (their fetches on a request of
 * ttai's own, ngx_http_ttai_background.c); the rules evaluated; and the
 * pass's statements in one transaction per claim, on the thread pool.
 * Then the users whose rules fired hear of it, through the listening
 * streams' resources/updated for ttai://alerts, and the webhooks go.
 *
 * One user is evaluated per turn of the event loop (the next one is
 * posted to ngx_posted_next_events), so a pass of many users never holds
 * the loop for long; a timer measures how late the loop runs meanwhile.
 */

#define NGX_HTTP_TTAI_MON_TICK       1000
#define NGX_HTTP_TTAI_MON_LEASE      120000
#define NGX_HTTP_TTAI_MON_CLAIM      10

/*
 * A pass runs users for 2 ms at most, then rests 1 ms: a loop that never
 * sleeps is the first the kernel preempts when the machine is busy, and
 * the requests it serves would wait as long as it is kept out
 */
#define NGX_HTTP_TTAI_MON_SLICE      2000
#define NGX_HTTP_TTAI_MON_REST       1

/* the loop probe: every 1 ms while a pass runs, at most this many */
#define NGX_HTTP_TTAI_MON_PROBE      1
#define NGX_HTTP_TTAI_MON_SAMPLES    65536


typedef struct {
    ngx_http_ttai_main_conf_t    *tmcf;
    ngx_http_ttai_loop_t          loop;
    ngx_http_ttai_d1_handler_pt   then;        /* of the batch in flight */
    ngx_event_t                   next;        /* the next user's turn */
    ngx_event_t                   rest;        /* or after a rest */
    struct timespec               slice;       /* when this run began */
    ngx_event_t                   wait;        /* a tool's wait step */
    ngx_uint_t                    leases;
    u_char                        lease[NGX_INT64_LEN * 2 + 4];

    /* the claim in hand, and the user being evaluated */
    json_t                       *users;
    size_t                        user;
    ttai_mon_eval_t              *ev;
    ngx_http_ttai_background_t   *bg;
    ttai_mcp_call_t               call;
    ttai_mcp_reply_t              reply;
    json_t                       *batch;
    json_t                       *fired;

    /* the pass's figures */
    ngx_uint_t                    in_pass;
    struct timespec               pass_start;
    uint64_t                      pass_users;
    uint64_t                      pass_rules;
    uint64_t                      pass_calls;
    uint64_t                      pass_fired;

    /*
     * The CPU time of the monitor's longest turn on the event loop (a
     * handler of its own, from start to return): what it alone costs
     * the loop, where the probe's lateness also counts the machine's
     * other work
     */
    struct timespec               turn_start;
    uint64_t                      turn_max_us;

    /* the loop probe */
    ngx_event_t                   probe;
    struct timespec               probe_due;
    uint32_t                     *lags;        /* us */
    ngx_uint_t                    nlags;
} ngx_http_ttai_mon_worker_t;


static void ngx_http_ttai_mon_tick(ngx_event_t *ev);
static void ngx_http_ttai_mon_claim(ngx_http_ttai_mon_worker_t *w);
static ngx_int_t ngx_http_ttai_mon_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_mon_next(ngx_event_t *ev);
static void ngx_http_ttai_mon_next_turn(ngx_event_t *ev);
static void ngx_http_ttai_mon_step(ngx_http_ttai_mon_worker_t *w);
static void ngx_http_ttai_mon_drive(ngx_http_ttai_mon_worker_t *w);
static ngx_int_t ngx_http_ttai_mon_fetched(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_mon_fetched_turn(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static void ngx_http_ttai_mon_waited(ngx_event_t *ev);
static void ngx_http_ttai_mon_waited_turn(ngx_event_t *ev);
static void ngx_http_ttai_mon_turn(ngx_uint_t start);
static void ngx_http_ttai_mon_user_done(ngx_http_ttai_mon_worker_t *w);
static ngx_int_t ngx_http_ttai_mon_written(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_mon_publish(ngx_http_ttai_mon_worker_t *w);
static void ngx_http_ttai_mon_webhooks_done(void);
static ngx_int_t ngx_http_ttai_mon_post(ngx_http_ttai_mon_worker_t *w,
    json_t *batch, ngx_http_ttai_d1_handler_pt handler);
static ngx_int_t ngx_http_ttai_mon_db(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_mon_pass_end(ngx_http_ttai_mon_worker_t *w);
static void ngx_http_ttai_mon_probe(ngx_event_t *ev);
static void ngx_http_ttai_mon_probe_arm(ngx_http_ttai_mon_worker_t *w);
static int ngx_http_ttai_mon_cmp(const void *a, const void *b);
static long long ngx_http_ttai_mon_now(void);
static uint64_t ngx_http_ttai_mon_us(struct timespec *from);


ngx_shm_zone_t  *ngx_http_ttai_monitor_zone;

static ngx_http_ttai_mon_worker_t  ngx_http_ttai_mon_worker;
static ngx_connection_t            ngx_http_ttai_mon_dummy;


/* at the end of the http block */

char *
ngx_http_ttai_monitor_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    if (ngx_http_ttai_monitor_webhooks_conf(cf, tmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * A server without the MCP endpoint (the worker service alone, as
     * "scripts/dev.sh worker" runs it) has no users' rules to evaluate
     */
    if (tmcf->monitor == 1 && tmcf->background_ctx == NULL) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "ttai_monitor is on, but "
                           "no location has ttai_mcp: the monitor does not "
                           "run here");
        tmcf->monitor = 0;
    }

    if (tmcf->monitor != 1) {
        ngx_http_ttai_monitor_zone = NULL;
        return NGX_CONF_OK;
    }

    if (tmcf->db == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "ttai_monitor needs the "
                           "database: set ttai_db (or ttai_state_dir)");
        return NGX_CONF_ERROR;
    }

    ngx_http_ttai_monitor_zone = ngx_http_ttai_shm_table(cf, "ttai_monitor",
                                     8 * ngx_pagesize,
                                     sizeof(ngx_http_ttai_monitor_shm_t),
                                     NULL);

    return ngx_http_ttai_monitor_zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_ttai_monitor_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_mon_worker_t  *w;

    if (tmcf->monitor != 1 || ngx_http_ttai_monitor_zone == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_ttai_mon_worker;
    ngx_memzero(w, sizeof(ngx_http_ttai_mon_worker_t));

    w->tmcf = tmcf;
    w->lags = ngx_palloc(cycle->pool,
                         NGX_HTTP_TTAI_MON_SAMPLES * sizeof(uint32_t));

    if (w->lags == NULL
        || ngx_http_ttai_loop_init(&w->loop, cycle, tmcf->db,
                                   ngx_http_ttai_mon_tick,
                                   NGX_HTTP_TTAI_MON_TICK,
                                   NGX_HTTP_TTAI_MON_TICK + ngx_worker * 53)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ttai_mon_dummy.fd = (ngx_socket_t) -1;

    w->next.handler = ngx_http_ttai_mon_next;
    w->next.data = &ngx_http_ttai_mon_dummy;
    w->next.log = cycle->log;

    w->rest.handler = ngx_http_ttai_mon_next;
    w->rest.data = &ngx_http_ttai_mon_dummy;
    w->rest.log = cycle->log;

    w->wait.handler = ngx_http_ttai_mon_waited;
    w->wait.data = &ngx_http_ttai_mon_dummy;
    w->wait.log = cycle->log;

    w->probe.handler = ngx_http_ttai_mon_probe;
    w->probe.data = &ngx_http_ttai_mon_dummy;
    w->probe.log = cycle->log;
    w->probe.cancelable = 1;

    return NGX_OK;
}


static void
ngx_http_ttai_mon_tick(ngx_event_t *ev)
{
    if (ngx_http_ttai_loop_due(&ngx_http_ttai_mon_worker.loop)) {
        ngx_http_ttai_mon_claim(&ngx_http_ttai_mon_worker);
    }
}


static void
ngx_http_ttai_mon_claim(ngx_http_ttai_mon_worker_t *w)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_ttai_mon_pass_end(w);
        ngx_http_ttai_loop_rest(&w->loop);
        return;
    }

    ngx_sprintf(w->lease, "mon-%P-%ui%Z", ngx_pid, ++w->leases);

    if (ngx_http_ttai_mon_post(w, ttai_monitor_claim((char *) w->lease,
                                                     ngx_http_ttai_mon_now(),
                                                     NGX_HTTP_TTAI_MON_LEASE,
                                                     NGX_HTTP_TTAI_MON_CLAIM),
                               ngx_http_ttai_mon_claimed)
        != NGX_OK)
    {
        ngx_http_ttai_mon_pass_end(w);
    }
}


static ngx_int_t
ngx_http_ttai_mon_claimed(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    json_decref(w->users);
    w->users = (q->rc == NGX_OK) ? ttai_monitor_claimed(q->result) : NULL;

    if (w->users == NULL || json_array_size(w->users) == 0) {
        /* nobody is due: the webhooks, then rest until the next tick */
        ngx_http_ttai_mon_pass_end(w);
        ngx_http_ttai_monitor_webhooks(w->tmcf,
                                       ngx_http_ttai_mon_webhooks_done);
        return NGX_OK;
    }

    if (!w->in_pass) {
        w->in_pass = 1;
        (void) clock_gettime(CLOCK_MONOTONIC, &w->pass_start);
        w->pass_users = 0;
        w->pass_rules = 0;
        w->pass_calls = 0;
        w->pass_fired = 0;
        w->turn_max_us = 0;
        w->nlags = 0;
        ngx_http_ttai_mon_probe_arm(w);
    }

    w->user = 0;
    w->batch = json_array();
    w->fired = json_array();

    if (w->batch == NULL || w->fired == NULL) {
        json_decref(w->batch);
        json_decref(w->fired);
        w->batch = NULL;
        w->fired = NULL;
        ngx_http_ttai_mon_pass_end(w);
        ngx_http_ttai_loop_rest(&w->loop);
        return NGX_OK;
    }

    ngx_post_event(&w->next, &ngx_posted_next_events);

    return NGX_OK;
}


/* the next user of the claim, at the next turn of the event loop */

static void
ngx_http_ttai_mon_next(ngx_event_t *ev)
{
    ngx_http_ttai_mon_turn(1);
    ngx_http_ttai_mon_next_turn(ev);
    ngx_http_ttai_mon_turn(0);
}


static void
ngx_http_ttai_mon_next_turn(ngx_event_t *ev)
{
    json_t                      *user;
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    if (ev == &w->rest || w->user == 0) {
        (void) clock_gettime(CLOCK_MONOTONIC, &w->slice);
    }

    if (w->user == json_array_size(w->users)) {
        /* the claim's statements, with the positions the history drops */
        if (ttai_d1_push(w->batch,
                         ttai_monitor_prune(ngx_http_ttai_mon_now(),
                                            (long long)
                                            w->tmcf->monitor_history * 1000))
            != 0
            || ngx_http_ttai_mon_post(w, w->batch, ngx_http_ttai_mon_written)
               != NGX_OK)
        {
            /* the users' leases pass, and a later claim takes them */
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "ttai: the monitor's pass could not be written");
            w->batch = NULL;
            ngx_http_ttai_mon_pass_end(w);
        }

        w->batch = NULL;
        return;
    }

    user = json_array_get(w->users, w->user++);

    w->pass_users++;
    w->pass_rules += json_array_size(json_object_get(user, "rules"));

    w->ev = ttai_monitor_eval_create(json_incref(user),
                                     ngx_http_ttai_mon_now());
    w->bg = ngx_http_ttai_background_create((ngx_cycle_t *) ngx_cycle,
                                            w->tmcf);

    if (w->ev == NULL || w->bg == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: the monitor could not evaluate a user");
        ngx_http_ttai_mon_user_done(w);
        return;
    }

    w->bg->data = w;

    /* the worker service answers the user's quotes only to the user */
    if (ngx_http_ttai_background_user(w->bg, w->tmcf,
                                      ttai_monitor_eval_user(w->ev))
        != NGX_OK)
    {
        ngx_http_ttai_mon_user_done(w);
        return;
    }

    ngx_memzero(&w->call, sizeof(ttai_mcp_call_t));
    w->call.sub = ttai_monitor_eval_user(w->ev);
    w->call.stateless = 1;
    w->call.webhooks = (const char *const *) w->tmcf->webhook_urls;
    w->call.nwebhooks = w->tmcf->nwebhooks;

    ngx_http_ttai_mon_step(w);
}


/* the user's next tool call, or the end of its evaluation */

static void
ngx_http_ttai_mon_step(ngx_http_ttai_mon_worker_t *w)
{
    int     oom;
    char   *body;
    size_t  len;

    body = ttai_monitor_eval_next(w->ev, &oom);

    if (body == NULL) {
        if (oom) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "ttai: the monitor ran out of memory");

        } else if (ttai_monitor_eval_finish(w->ev, (char *) w->lease,
                       ngx_http_ttai_mon_now()
                       + (long long) w->tmcf->monitor_interval,
                       w->batch, w->fired)
                   != 0)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "ttai: the monitor ran out of memory");
        }

        ngx_http_ttai_mon_user_done(w);
        return;
    }

    w->pass_calls++;
    w->call.now = ngx_time();
    len = ngx_strlen(body);

    ngx_memzero(&w->reply, sizeof(ttai_mcp_reply_t));

    if (ttai_mcp_handle(w->tmcf->mcp, &w->call, body, len, &w->reply) != 0) {
        free(body);
        ngx_http_ttai_mon_user_done(w);
        return;
    }

    free(body);

    ngx_http_ttai_mon_drive(w);
}


/*
 * What the core's call waits for, step after step, as the MCP handler
 * gives it for a client: KV reads at once, the database and TastyTrade
 * through the fetch engine on the background request
 */

static void
ngx_http_ttai_mon_drive(ngx_http_ttai_mon_worker_t *w)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;
    ttai_mcp_response_t  resp;

    r = w->bg->request;

    for ( ;; ) {
        ngx_http_ttai_fetch_store(r, &w->reply.stores, &w->reply.nstores);
        ttai_mcp_reply_events_free(&w->reply);

        if (w->reply.pending == NULL) {
            break;
        }

        if (w->reply.pending->kind == TTAI_PENDING_WAIT) {
            ngx_add_timer(&w->wait, (ngx_msec_t) w->reply.pending->ms);
            return;
        }

        if (w->reply.pending->kind == TTAI_PENDING_ASK) {
            /* nobody to ask in the background: the call goes without */
            ngx_memzero(&resp, sizeof(ttai_mcp_response_t));
            resp.error = "no one was there to answer";

        } else {
            rc = ngx_http_ttai_fetch_step(r, w->reply.pending,
                                          w->call.sub, &resp,
                                          ngx_http_ttai_mon_fetched, w);

            if (rc == NGX_AGAIN) {
                /* a subrequest made at once is only posted: run it */
                ngx_http_run_posted_requests(r->connection);
                return;
            }

            if (rc != NGX_OK) {
                ttai_mcp_reply_free(&w->reply);
                break;
            }
        }

        if (ttai_mcp_resume(w->tmcf->mcp, &w->call, &w->reply, &resp) != 0) {
            ttai_mcp_reply_free(&w->reply);
            break;
        }
    }

    if (w->reply.nchanges) {
        ngx_http_ttai_listen_publish(NULL, w->reply.changes,
                                     w->reply.nchanges, w->call.sub);
    }

    if (ttai_monitor_eval_feed(w->ev, w->reply.body, w->reply.len) != 0) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: the monitor ran out of memory");
    }

    ttai_mcp_reply_free(&w->reply);

    ngx_http_ttai_mon_step(w);
}


static ngx_int_t
ngx_http_ttai_mon_fetched(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_int_t  rc;

    ngx_http_ttai_mon_turn(1);
    rc = ngx_http_ttai_mon_fetched_turn(r, f);
    ngx_http_ttai_mon_turn(0);

    return rc;
}


static ngx_int_t
ngx_http_ttai_mon_fetched_turn(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_mon_worker_t *w = f->data;

    ttai_mcp_response_t  resp;

    ngx_http_ttai_fetch_step_response(f, &resp);

    if (ttai_mcp_resume(w->tmcf->mcp, &w->call, &w->reply, &resp) != 0) {
        ttai_mcp_reply_free(&w->reply);
    }

    ngx_http_ttai_mon_drive(w);

    return NGX_DONE;
}


static void
ngx_http_ttai_mon_waited(ngx_event_t *ev)
{
    ngx_http_ttai_mon_turn(1);
    ngx_http_ttai_mon_waited_turn(ev);
    ngx_http_ttai_mon_turn(0);
}


static void
ngx_http_ttai_mon_waited_turn(ngx_event_t *ev)
{
    ttai_mcp_response_t          resp;
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    ngx_memzero(&resp, sizeof(ttai_mcp_response_t));

    if (ttai_mcp_resume(w->tmcf->mcp, &w->call, &w->reply, &resp) != 0) {
        ttai_mcp_reply_free(&w->reply);
    }

    ngx_http_ttai_mon_drive(w);
}


static void
ngx_http_ttai_mon_user_done(ngx_http_ttai_mon_worker_t *w)
{
    ttai_monitor_eval_free(w->ev);
    w->ev = NULL;

    if (w->bg != NULL) {
        ngx_http_ttai_background_done(w->bg);
        w->bg = NULL;
    }

    if (ngx_http_ttai_mon_us(&w->slice) > NGX_HTTP_TTAI_MON_SLICE) {
        ngx_add_timer(&w->rest, NGX_HTTP_TTAI_MON_REST);
        return;
    }

    ngx_post_event(&w->next, &ngx_posted_next_events);
}


static ngx_int_t
ngx_http_ttai_mon_written(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    if (q->rc == NGX_OK) {
        ngx_http_ttai_mon_publish(w);

    } else {
        /* nothing was written: the leases pass, the users come again */
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: the monitor's pass was not written: %s",
                      q->error.msg);
    }

    json_decref(w->fired);
    w->fired = NULL;

    /* the next users that are due, if any */
    ngx_http_ttai_mon_claim(w);

    return NGX_OK;
}


/*
 * The alerts are in the database: each user whose rules fired is told,
 * on every stream that listens for ttai://alerts.  An alert whose
 * statement found its rule's state row already there (a pass that ran
 * twice) was not inserted, and is not told either: the row said so.
 */

static void
ngx_http_ttai_mon_publish(ngx_http_ttai_mon_worker_t *w)
{
    size_t                        i, j;
    json_t                       *a, *b;
    const char                   *user;
    ttai_mcp_change_t             ch;
    ngx_http_ttai_monitor_shm_t  *sh;
    ngx_slab_pool_t              *shpool;

    ch.kind = TTAI_LISTEN_UPDATED;
    ch.uri = "ttai://alerts";
    ch.user_only = 1;

    json_array_foreach(w->fired, i, a) {
        user = json_string_value(json_object_get(a, "user"));

        /* once per user, however many of its rules fired */
        for (j = 0; j < i; j++) {
            b = json_array_get(w->fired, j);

            if (ngx_strcmp(json_string_value(json_object_get(b, "user")),
                           user) == 0)
            {
                break;
            }
        }

        if (j == i) {
            ngx_http_ttai_listen_publish(NULL, &ch, 1, user);
        }

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "ttai: alert %s fired for a user: %s",
                      json_string_value(json_object_get(a, "rule_id")),
                      json_string_value(json_object_get(a, "message")));
    }

    w->pass_fired += json_array_size(w->fired);

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_monitor_zone->shm.addr;
    sh = ngx_http_ttai_monitor_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    sh->fired += json_array_size(w->fired);
    ngx_shmtx_unlock(&shpool->mutex);
}


static void
ngx_http_ttai_mon_webhooks_done(void)
{
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    ngx_http_ttai_loop_rest(&w->loop);
}


static ngx_int_t
ngx_http_ttai_mon_post(ngx_http_ttai_mon_worker_t *w, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler)
{
    w->then = handler;

    return ngx_http_ttai_loop_post(&w->loop, batch, ngx_http_ttai_mon_db, w);
}


/* a batch's outcome, counted as one of the monitor's turns on the loop */

static ngx_int_t
ngx_http_ttai_mon_db(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_int_t                    rc;
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    ngx_http_ttai_mon_turn(1);
    rc = w->then(r, q);
    ngx_http_ttai_mon_turn(0);

    return rc;
}


/* the pass's figures, for /debug/do/PORTFOLIO_MONITOR */

static void
ngx_http_ttai_mon_pass_end(ngx_http_ttai_mon_worker_t *w)
{
    ngx_slab_pool_t              *shpool;
    ngx_http_ttai_monitor_shm_t  *sh;

    if (!w->in_pass) {
        return;
    }

    w->in_pass = 0;

    if (w->probe.timer_set) {
        ngx_del_timer(&w->probe);
    }

    ngx_qsort(w->lags, w->nlags, sizeof(uint32_t), ngx_http_ttai_mon_cmp);

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_monitor_zone->shm.addr;
    sh = ngx_http_ttai_monitor_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    sh->pid = ngx_pid;
    sh->passes++;
    sh->started_ms = (uint64_t) ngx_http_ttai_mon_now()
                     - ngx_http_ttai_mon_us(&w->pass_start) / 1000;
    sh->duration_us = ngx_http_ttai_mon_us(&w->pass_start);
    sh->users = w->pass_users;
    sh->rules = w->pass_rules;
    sh->calls = w->pass_calls;
    sh->fired_last = w->pass_fired;
    sh->lag_samples = w->nlags;
    sh->lag_p50_us = w->nlags ? w->lags[w->nlags / 2] : 0;
    sh->lag_p99_us = w->nlags ? w->lags[(w->nlags * 99) / 100] : 0;
    sh->lag_max_us = w->nlags ? w->lags[w->nlags - 1] : 0;
    sh->turn_max_us = w->turn_max_us;

    ngx_shmtx_unlock(&shpool->mutex);
}


static void
ngx_http_ttai_mon_turn(ngx_uint_t start)
{
    uint64_t                     us;
    struct timespec              now;
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);

    if (start) {
        w->turn_start = now;
        return;
    }

    us = (uint64_t) ((now.tv_sec - w->turn_start.tv_sec) * 1000000
                     + (now.tv_nsec - w->turn_start.tv_nsec) / 1000);

    if (w->in_pass && us > w->turn_max_us) {
        w->turn_max_us = us;
    }
}


/*
 * The loop probe: a timer due every millisecond, whose lateness is how long
 * the event loop was kept from it (by the pass, or anything else)
 */

static void
ngx_http_ttai_mon_probe_arm(ngx_http_ttai_mon_worker_t *w)
{
    (void) clock_gettime(CLOCK_MONOTONIC, &w->probe_due);

    w->probe_due.tv_nsec += NGX_HTTP_TTAI_MON_PROBE * 1000000L;

    if (w->probe_due.tv_nsec >= 1000000000L) {
        w->probe_due.tv_sec++;
        w->probe_due.tv_nsec -= 1000000000L;
    }

    ngx_add_timer(&w->probe, NGX_HTTP_TTAI_MON_PROBE);
}


static void
ngx_http_ttai_mon_probe(ngx_event_t *ev)
{
    int64_t                      late;
    struct timespec              now;
    ngx_http_ttai_mon_worker_t  *w;

    w = &ngx_http_ttai_mon_worker;

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    late = (int64_t) (now.tv_sec - w->probe_due.tv_sec) * 1000000
           + (now.tv_nsec - w->probe_due.tv_nsec) / 1000;

    if (w->nlags < NGX_HTTP_TTAI_MON_SAMPLES) {
        w->lags[w->nlags++] = (uint32_t) (late > 0 ? late : 0);
    }

    if (w->in_pass) {
        ngx_http_ttai_mon_probe_arm(w);
    }
}


static int
ngx_http_ttai_mon_cmp(const void *a, const void *b)
{
    uint32_t  x, y;

    x = *(const uint32_t *) a;
    y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}


static long long
ngx_http_ttai_mon_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}


static uint64_t
ngx_http_ttai_mon_us(struct timespec *from)
{
    struct timespec  now;

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    return (uint64_t) ((now.tv_sec - from->tv_sec) * 1000000
                       + (now.tv_nsec - from->tv_nsec) / 1000);
}
