
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ttai_queue.h"


/*
 * The queues' delivery (the core's ttai_queue.c says what each step
 * does): one worker at a time holds a lease in shared memory, renewed
 * at each tick, and delivers; another takes over once the lease has not
 * been renewed for NGX_HTTP_TTAI_QUEUE_LEASE ms (its holder died or
 * left).  A delivery is a claim, the consumer's call (the core's, on the
 * event loop, without I/O), and the settle, each statement batch on the
 * thread pool, one at a time.  A worker that dies between claim and
 * settle leaves its batch in flight: it is delivered again when its
 * visibility timeout passes.  While a batch is on its way the tick's
 * timer keeps a shutting-down worker alive until it is settled; idle, a
 * worker exits at once.
 */

#define NGX_HTTP_TTAI_QUEUE_TICK    250
#define NGX_HTTP_TTAI_QUEUE_LEASE   5000


typedef struct {
    ngx_pid_t                     pid;
    uint64_t                      until;     /* epoch ms */
    uint64_t                      delivered; /* batches, for /health */
} ngx_http_ttai_queue_shm_t;


typedef enum {
    NGX_HTTP_TTAI_QUEUE_IDLE = 0,
    NGX_HTTP_TTAI_QUEUE_CLAIMING,
    NGX_HTTP_TTAI_QUEUE_SETTLING
} ngx_http_ttai_queue_state_e;


typedef struct {
    ngx_http_ttai_queue_state_e   state;
    ngx_uint_t                    next;      /* the queue to look at */
    ngx_uint_t                    full;      /* the last batch was full */
    ngx_uint_t                    looked;    /* queues looked at, a round */
    ngx_uint_t                    leases;
    u_char                        lease[NGX_INT64_LEN * 2 + 2];
    json_t                       *messages;
    ngx_http_ttai_d1_query_t     *query;
    ngx_event_t                   tick;
    ngx_http_ttai_main_conf_t    *tmcf;
} ngx_http_ttai_queue_worker_t;


static void ngx_http_ttai_queue_tick(ngx_event_t *ev);
static void ngx_http_ttai_queue_claim(ngx_http_ttai_queue_worker_t *w);
static ngx_int_t ngx_http_ttai_queue_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_queue_settled(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_queue_post(ngx_http_ttai_queue_worker_t *w,
    json_t *batch, ngx_http_ttai_d1_handler_pt handler);
static void ngx_http_ttai_queue_idle(ngx_http_ttai_queue_worker_t *w,
    ngx_msec_t after);
static long long ngx_http_ttai_queue_now(void);


static ngx_shm_zone_t                *ngx_http_ttai_queue_zone;
static ngx_http_ttai_queue_worker_t   ngx_http_ttai_queue_worker;
static ngx_connection_t               ngx_http_ttai_queue_dummy;


/*
 * ttai_queue NAME [max_batch_size=N] [max_batch_timeout=T]
 *     [max_retries=N] [retry_delay=T] [visibility_timeout=T]
 *     [dead_letter=NAME] [consumer=NAME];
 */

char *
ngx_http_ttai_queue(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    u_char                       *p;
    ngx_int_t                     n;
    ngx_str_t                    *value, name, v;
    ngx_msec_t                    ms;
    ngx_uint_t                    i;
    ttai_queue_conf_t            *q, *o;
    const ttai_queue_consumer_t  *k;

    value = cf->args->elts;

    if (value[1].len > TTAI_QUEUE_NAME_MAX) {
        return "has a name longer than 63 characters";
    }

    if (tmcf->queues == NULL) {
        tmcf->queues = ngx_array_create(cf->pool, 4,
                                        sizeof(ttai_queue_conf_t));
        if (tmcf->queues == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    q = ngx_array_push(tmcf->queues);
    if (q == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    *ngx_cpymem(p, value[1].data, value[1].len) = '\0';

    ttai_queue_conf_default(q, (char *) p);

    if (!ttai_queue_name_ok(q->name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "queue name \"%V\": 1 to "
                           "63 of a-z, 0-9, - and _", &value[1]);
        return NGX_CONF_ERROR;
    }

    o = tmcf->queues->elts;

    for (i = 0; i + 1 < tmcf->queues->nelts; i++) {
        if (ngx_strcmp(o[i].name, q->name) == 0) {
            return "is duplicate";
        }
    }

    for (i = 2; i < cf->args->nelts; i++) {
        p = (u_char *) ngx_strlchr(value[i].data,
                                   value[i].data + value[i].len, '=');
        if (p == NULL) {
            goto invalid;
        }

        name.data = value[i].data;
        name.len = p - value[i].data;
        v.data = p + 1;
        v.len = value[i].data + value[i].len - v.data;

        if (ngx_strncmp(name.data, "max_batch_size", name.len) == 0
            && name.len == sizeof("max_batch_size") - 1)
        {
            n = ngx_atoi(v.data, v.len);

            if (n < 1 || n > TTAI_QUEUE_BATCH_MAX) {
                return "has a max_batch_size outside 1 to 100";
            }

            q->max_batch_size = (unsigned) n;

        } else if (name.len == sizeof("max_retries") - 1
                   && ngx_strncmp(name.data, "max_retries", name.len) == 0)
        {
            n = ngx_atoi(v.data, v.len);

            if (n < 0 || n > 100) {
                return "has a max_retries outside 0 to 100";
            }

            q->max_retries = (unsigned) n;

        } else if ((name.len == sizeof("max_batch_timeout") - 1
                    && ngx_strncmp(name.data, "max_batch_timeout",
                                   name.len) == 0)
                   || (name.len == sizeof("retry_delay") - 1
                       && ngx_strncmp(name.data, "retry_delay",
                                      name.len) == 0)
                   || (name.len == sizeof("visibility_timeout") - 1
                       && ngx_strncmp(name.data, "visibility_timeout",
                                      name.len) == 0))
        {
            ms = ngx_parse_time(&v, 0);

            if (ms == (ngx_msec_t) NGX_ERROR || ms > 86400000) {
                goto invalid;
            }

            if (name.data[0] == 'm') {
                q->max_batch_timeout = (long) ms;

            } else if (name.data[0] == 'r') {
                q->retry_delay = (long) ms;

            } else if (ms < 1000) {
                return "has a visibility_timeout under 1s";

            } else {
                q->visibility = (long) ms;
            }

        } else if ((name.len == sizeof("dead_letter") - 1
                    && ngx_strncmp(name.data, "dead_letter", name.len) == 0)
                   || (name.len == sizeof("consumer") - 1
                       && ngx_strncmp(name.data, "consumer", name.len) == 0))
        {
            if (v.len == 0 || v.len > TTAI_QUEUE_NAME_MAX) {
                goto invalid;
            }

            p = (u_char *) (name.data[0] == 'd' ? q->dead_letter
                                                : q->consumer);
            *ngx_cpymem(p, v.data, v.len) = '\0';

            if (!ttai_queue_name_ok((char *) p)) {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    if (ngx_strcmp(q->dead_letter, q->name) == 0) {
        return "cannot be its own dead-letter queue";
    }

    k = ttai_queue_consumer_find(q->consumer);

    if (k == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "queue \"%s\": no consumer "
                           "named \"%s\" (see ttai queues --help)", q->name,
                           q->consumer);
        return NGX_CONF_ERROR;
    }

    tmcf->enabled = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * At the end of the http block: queues and workflows need the database,
 * and share the lease of the worker that runs them
 */

char *
ngx_http_ttai_queue_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    if (!ngx_http_ttai_background_used(tmcf)) {
        ngx_http_ttai_queue_zone = NULL;
        return NGX_CONF_OK;
    }

    if (tmcf->db == NULL && ngx_http_ttai_background_db(tmcf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s needs the database: "
                           "set ttai_db (or ttai_state_dir)",
                           tmcf->queues ? "ttai_queue"
                           : tmcf->workflows == 1 ? "ttai_workflows"
                           : "ttai_monitor");
        return NGX_CONF_ERROR;
    }

    ngx_http_ttai_queue_zone = ngx_http_ttai_shm_table(cf, "ttai_queues",
                                   8 * ngx_pagesize,
                                   sizeof(ngx_http_ttai_queue_shm_t), NULL);

    return ngx_http_ttai_queue_zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_ttai_queue_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_queue_worker_t  *w;

    if (tmcf->queues == NULL || ngx_http_ttai_queue_zone == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_ttai_queue_worker;
    ngx_memzero(w, sizeof(ngx_http_ttai_queue_worker_t));

    w->tmcf = tmcf;
    w->query = ngx_http_ttai_d1_query_create(cycle->pool);
    if (w->query == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ttai_queue_dummy.fd = (ngx_socket_t) -1;

    w->tick.handler = ngx_http_ttai_queue_tick;
    w->tick.data = &ngx_http_ttai_queue_dummy;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    /* the workers look at once, not all in the same millisecond */
    ngx_add_timer(&w->tick, NGX_HTTP_TTAI_QUEUE_TICK + ngx_worker * 37);

    return NGX_OK;
}


static void
ngx_http_ttai_queue_tick(ngx_event_t *ev)
{
    ngx_http_ttai_queue_worker_t  *w;

    w = &ngx_http_ttai_queue_worker;

    if (w->state != NGX_HTTP_TTAI_QUEUE_IDLE) {
        /* a batch is on its way: its own handler goes on */
        ngx_add_timer(ev, NGX_HTTP_TTAI_QUEUE_TICK);
        return;
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (!ngx_http_ttai_background_lead()) {
        ngx_http_ttai_queue_idle(w, NGX_HTTP_TTAI_QUEUE_TICK);
        return;
    }

    w->looked = 0;
    ngx_http_ttai_queue_claim(w);
}


/*
 * Takes or renews the lease: 1 when this worker runs the background
 * work (the queues' deliveries, the workflows' turns)
 */

ngx_uint_t
ngx_http_ttai_background_lead(void)
{
    uint64_t                    now;
    ngx_uint_t                  lead;
    ngx_slab_pool_t            *shpool;
    ngx_http_ttai_queue_shm_t  *sh;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_queue_zone->shm.addr;
    sh = ngx_http_ttai_queue_zone->data;
    now = (uint64_t) ngx_http_ttai_queue_now();

    ngx_shmtx_lock(&shpool->mutex);

    lead = (sh->pid == ngx_pid || sh->until < now);

    if (lead) {
        sh->pid = ngx_pid;
        sh->until = now + NGX_HTTP_TTAI_QUEUE_LEASE;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return lead;
}


/*
 * /health: which worker runs the background work, how long its lease
 * has left, and the batches delivered since the zone was made
 */

ngx_int_t
ngx_http_ttai_background_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    uint64_t                    now;
    ngx_slab_pool_t            *shpool;
    ngx_http_ttai_queue_shm_t  *sh;

    static ngx_str_t  names[] = {
        ngx_string("leader_pid"),
        ngx_string("lease_ms_left"),
        ngx_string("batches_delivered")
    };

    if (ngx_http_ttai_queue_zone == NULL
        || !ngx_http_ttai_background_used(tmcf))
    {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_queue_zone->shm.addr;
    sh = ngx_http_ttai_queue_zone->data;
    now = (uint64_t) ngx_http_ttai_queue_now();

    h->names = names;
    h->ncounters = 3;

    ngx_shmtx_lock(&shpool->mutex);

    h->counters[0] = (uint64_t) sh->pid;
    h->counters[1] = (sh->until > now) ? sh->until - now : 0;
    h->counters[2] = sh->delivered;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/* claims a batch of the next queue, or rests until the next tick */

static void
ngx_http_ttai_queue_claim(ngx_http_ttai_queue_worker_t *w)
{
    ttai_queue_conf_t  *queues, *q;

    queues = w->tmcf->queues->elts;

    if (w->looked >= w->tmcf->queues->nelts || ngx_exiting || ngx_quit
        || ngx_terminate)
    {
        ngx_http_ttai_queue_idle(w, NGX_HTTP_TTAI_QUEUE_TICK);
        return;
    }

    q = &queues[w->next % w->tmcf->queues->nelts];

    ngx_sprintf(w->lease, "%P-%ui%Z", ngx_pid, ++w->leases);

    w->state = NGX_HTTP_TTAI_QUEUE_CLAIMING;

    ngx_http_ttai_queue_post(w, ttai_queue_claim(q, (char *) w->lease,
                                                 ngx_http_ttai_queue_now(), 0),
                             ngx_http_ttai_queue_claimed);
}


static ngx_int_t
ngx_http_ttai_queue_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    json_t                        *batch;
    ttai_queue_conf_t             *queues, *conf;
    ttai_queue_outcome_t           out;
    ngx_http_ttai_queue_worker_t  *w;
    const ttai_queue_consumer_t   *k;

    w = &ngx_http_ttai_queue_worker;
    queues = w->tmcf->queues->elts;
    conf = &queues[w->next % w->tmcf->queues->nelts];

    json_decref(w->messages);
    w->messages = (q->rc == NGX_OK) ? ttai_queue_messages(q->result) : NULL;

    if (w->messages == NULL) {
        /* nothing ready enough (or the database failed): the next queue */
        w->next++;
        w->looked++;
        w->state = NGX_HTTP_TTAI_QUEUE_IDLE;
        ngx_http_ttai_queue_claim(w);
        return NGX_OK;
    }

    w->full = (json_array_size(w->messages) >= conf->max_batch_size);

    k = ttai_queue_consumer_find(conf->consumer);

    ttai_queue_outcome_init(&out);

    batch = NULL;

    if (k != NULL && out.acks != NULL && out.retries != NULL
        && out.effects != NULL && out.sends != NULL
        && k->consume(conf, w->messages, &out) == 0)
    {
        batch = ttai_queue_settle(conf, (char *) w->lease, w->messages, &out,
                                  ngx_http_ttai_queue_now());
    }

    ttai_queue_outcome_free(&out);

    if (batch == NULL || json_array_size(batch) == 0) {
        /* all held, or no memory: the visibility timeout redelivers */
        json_decref(batch);
        w->next++;
        w->looked++;
        w->state = NGX_HTTP_TTAI_QUEUE_IDLE;
        ngx_http_ttai_queue_claim(w);
        return NGX_OK;
    }

    w->state = NGX_HTTP_TTAI_QUEUE_SETTLING;
    ngx_http_ttai_queue_post(w, batch, ngx_http_ttai_queue_settled);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_queue_settled(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_ttai_queue_shm_t     *sh;
    ngx_http_ttai_queue_worker_t  *w;

    w = &ngx_http_ttai_queue_worker;
    w->state = NGX_HTTP_TTAI_QUEUE_IDLE;

    json_decref(w->messages);
    w->messages = NULL;

    if (q->rc == NGX_OK) {
        shpool = (ngx_slab_pool_t *) ngx_http_ttai_queue_zone->shm.addr;
        sh = ngx_http_ttai_queue_zone->data;

        ngx_shmtx_lock(&shpool->mutex);
        sh->delivered++;
        ngx_shmtx_unlock(&shpool->mutex);
    }

    /* a full batch may have more behind it: the same queue again */
    if (!w->full || q->rc != NGX_OK) {
        w->next++;
        w->looked++;
    }

    ngx_http_ttai_queue_claim(w);

    return NGX_OK;
}


static void
ngx_http_ttai_queue_post(ngx_http_ttai_queue_worker_t *w, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler)
{
    ngx_int_t                  rc;
    ngx_http_ttai_d1_query_t  *q;

    q = w->query;

    if (batch == NULL) {
        w->state = NGX_HTTP_TTAI_QUEUE_IDLE;
        ngx_http_ttai_queue_idle(w, NGX_HTTP_TTAI_QUEUE_TICK);
        return;
    }

    json_decref(q->batch);
    q->batch = batch;
    q->handler = handler;
    q->data = w;

    rc = ngx_http_ttai_d1_post_task(w->tmcf->db, q);

    if (rc != NGX_OK) {
        /* the pool's queue is full: the next tick tries again */
        w->state = NGX_HTTP_TTAI_QUEUE_IDLE;
        ngx_http_ttai_queue_idle(w, NGX_HTTP_TTAI_QUEUE_TICK);
        return;
    }

    /* a shutting-down worker waits for its batch to be settled */
    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    w->tick.cancelable = 0;
    ngx_add_timer(&w->tick, NGX_HTTP_TTAI_QUEUE_TICK);
}


static void
ngx_http_ttai_queue_idle(ngx_http_ttai_queue_worker_t *w, ngx_msec_t after)
{
    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    w->tick.cancelable = 1;
    ngx_add_timer(&w->tick, after);
}


static long long
ngx_http_ttai_queue_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}
