
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/eventfd.h>

#include "ngx_http_ttai_module.h"
#include "ttai_mcp.h"


/*
 * subscriptions/listen streams, and the changes that reach them from any
 * worker.  A change (a tool list that changed, a resource updated) goes
 * into a ring in shared memory under its lock, with a sequence number,
 * and every worker is woken through an eventfd of its own, which the
 * master makes before it starts them; a worker that holds streams then
 * reads the ring and sends each stream the events its filter asks for.
 * A timer reads it too, once a second, should a wake-up be lost, and to
 * keep idle streams alive.  The lock is held only to copy entries in or
 * out.
 * A stream ends when its client closes it, and gracefully, with its
 * result, when the worker shuts down or reloads.  Each user may hold a
 * limited number of streams, counted in the same zone.
 */

#define NGX_HTTP_TTAI_LISTEN_RING    256
#define NGX_HTTP_TTAI_LISTEN_USERS   512
#define NGX_HTTP_TTAI_LISTEN_SUB     64
#define NGX_HTTP_TTAI_LISTEN_URI     512

/* how often a worker with streams reads the ring unwoken, in ms */
#define NGX_HTTP_TTAI_LISTEN_POLL    1000

/* a comment on an idle stream, so that proxies keep it, in ms */
#define NGX_HTTP_TTAI_LISTEN_PING    15000

/* a 2025 session's resources/subscribe, kept for its GET stream */
#define NGX_HTTP_TTAI_LISTEN_SUBS    1024
#define NGX_HTTP_TTAI_LISTEN_SID     40
#define NGX_HTTP_TTAI_LISTEN_SUBURI  256

#define NGX_HTTP_TTAI_LISTEN_ZONE    (1024 * 1024)

/*
 * A change of the ring's own, never sent: a session ended, whose GET
 * streams end in every worker (its id is in the change's uri)
 */
#define NGX_HTTP_TTAI_LISTEN_ENDED   0x10000

/* the size of a stream's event buffers, which most events fit */
#define NGX_HTTP_TTAI_LISTEN_BUF     1024


typedef struct {
    uint64_t                      seq;       /* 0: never written */
    ngx_uint_t                    kind;
    u_char                        sub[NGX_HTTP_TTAI_LISTEN_SUB];
    u_char                        uri[NGX_HTTP_TTAI_LISTEN_URI];
} ngx_http_ttai_listen_change_t;


typedef struct {
    u_char                        sub[NGX_HTTP_TTAI_LISTEN_SUB];
    ngx_uint_t                    streams;
} ngx_http_ttai_listen_user_t;


typedef struct {
    u_char                        session[NGX_HTTP_TTAI_LISTEN_SID];
    u_char                        uri[NGX_HTTP_TTAI_LISTEN_SUBURI];
} ngx_http_ttai_listen_sub_t;


typedef struct {
    uint64_t                      next;      /* the next change's number */
    ngx_http_ttai_listen_change_t ring[NGX_HTTP_TTAI_LISTEN_RING];
    ngx_http_ttai_listen_user_t   users[NGX_HTTP_TTAI_LISTEN_USERS];
    ngx_http_ttai_listen_sub_t    subs[NGX_HTTP_TTAI_LISTEN_SUBS];
} ngx_http_ttai_listen_shm_t;


typedef struct {
    ngx_queue_t                   queue;
    ngx_http_request_t           *request;
    ttai_mcp_listen_t            *listen;
    uint64_t                      since;     /* the first change it gets */
    ngx_msec_t                    written;
    u_char                        sub[NGX_HTTP_TTAI_LISTEN_SUB];

    /* a 2025 session's GET stream: its id; "" for subscriptions/listen */
    u_char                        session[NGX_HTTP_TTAI_LISTEN_SID];

    /*
     * The buffers of its events, used again once sent: a stream open for
     * days must not grow with each event
     */
    ngx_chain_t                  *free;
    ngx_chain_t                  *busy;
} ngx_http_ttai_listen_stream_t;


static void ngx_http_ttai_listen_fresh(void *data);
static ngx_int_t ngx_http_ttai_listen_user(ngx_slab_pool_t *shpool,
    ngx_http_ttai_listen_shm_t *sh, u_char *sub, ngx_int_t delta,
    ngx_uint_t limit);
static void ngx_http_ttai_listen_poll(ngx_event_t *ev);
static void ngx_http_ttai_listen_end(ngx_http_ttai_listen_stream_t *s);
static void ngx_http_ttai_listen_cleanup(void *data);
static ngx_int_t ngx_http_ttai_listen_write(
    ngx_http_ttai_listen_stream_t *s, const char *text, size_t len,
    ngx_uint_t comment, ngx_uint_t last);
static ngx_uint_t ngx_http_ttai_listen_subscribed(u_char *session,
    const u_char *uri);
static void ngx_http_ttai_listen_wake(ngx_event_t *ev);
static void ngx_http_ttai_listen_wake_others(void);
static void ngx_http_ttai_listen_wakers_close(void *data);


static ngx_shm_zone_t  *ngx_http_ttai_listen_zone;

/* this worker's streams, and its reader of the ring */
static ngx_queue_t      ngx_http_ttai_listen_streams;
static ngx_uint_t       ngx_http_ttai_listen_nstreams;
static ngx_event_t      ngx_http_ttai_listen_ev;

/* what a timer's debug log reads as its "connection": the fd only */
static ngx_connection_t  ngx_http_ttai_listen_dummy;

/* an eventfd per worker, made by the master, and this worker's own */
static ngx_fd_t         *ngx_http_ttai_listen_wakers;
static ngx_uint_t        ngx_http_ttai_listen_nwakers;
static ngx_connection_t *ngx_http_ttai_listen_waker;
static uint64_t         ngx_http_ttai_listen_seen;


/* the zone, made with the configuration that uses ttai_mcp */

ngx_int_t
ngx_http_ttai_listen_conf(ngx_conf_t *cf)
{
    ngx_http_ttai_listen_zone = ngx_http_ttai_shm_table(cf, "ttai_mcp_listen",
                                    NGX_HTTP_TTAI_LISTEN_ZONE,
                                    sizeof(ngx_http_ttai_listen_shm_t),
                                    ngx_http_ttai_listen_fresh);

    return ngx_http_ttai_listen_zone ? NGX_OK : NGX_ERROR;
}


/* changes count from 1: a seq of 0, as in a slot never written, is none */

static void
ngx_http_ttai_listen_fresh(void *data)
{
    ngx_http_ttai_listen_shm_t  *sh = data;

    sh->next = 1;
}


/*
 * Holds r open as the stream of a subscriptions/listen reply: the ack
 * goes out at once.  Returns NGX_DONE, the stream then owning listen;
 * NGX_DECLINED when the user holds as many streams as allowed, or
 * NGX_ERROR, the caller keeping listen then.
 */

ngx_int_t
ngx_http_ttai_listen_open(ngx_http_request_t *r, ttai_mcp_listen_t *listen,
    const char *sub, ngx_str_t *session, ngx_uint_t limit)
{
    size_t                          len;
    ngx_slab_pool_t                *shpool;
    ngx_http_cleanup_t             *cln;
    ngx_http_ttai_listen_shm_t     *sh;
    ngx_http_ttai_listen_stream_t  *s;

    if (ngx_http_ttai_listen_zone == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(sub);
    if (len >= NGX_HTTP_TTAI_LISTEN_SUB) {
        return NGX_ERROR;
    }

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_listen_stream_t));
    cln = ngx_http_cleanup_add(r, 0);

    if (s == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->sub, sub, len);

    if (session != NULL) {
        if (session->len >= NGX_HTTP_TTAI_LISTEN_SID) {
            return NGX_ERROR;
        }

        ngx_memcpy(s->session, session->data, session->len);
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (ngx_http_ttai_listen_user(shpool, sh, s->sub, 1, limit) != NGX_OK) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    s->since = sh->next;

    ngx_shmtx_unlock(&shpool->mutex);

    /* a GET stream has no acknowledgement: a comment sends the headers */
    if ((listen->ack != NULL
         ? ngx_http_ttai_mcp_sse_events(r, &listen->ack, 1)
         : ngx_http_ttai_mcp_sse_comment(r)) != NGX_OK)
    {
        ngx_shmtx_lock(&shpool->mutex);
        (void) ngx_http_ttai_listen_user(shpool, sh, s->sub, -1, 0);
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_ERROR;
    }

    /* from here the stream owns listen: the cleanup frees it */
    s->request = r;
    s->listen = listen;
    s->written = ngx_current_msec;

    cln->handler = ngx_http_ttai_listen_cleanup;
    cln->data = s;

    if (ngx_http_ttai_listen_nstreams++ == 0) {
        ngx_queue_init(&ngx_http_ttai_listen_streams);
        ngx_http_ttai_listen_seen = s->since;
    }

    ngx_queue_insert_tail(&ngx_http_ttai_listen_streams, &s->queue);

    if (!ngx_http_ttai_listen_ev.timer_set) {
        ngx_http_ttai_listen_ev.handler = ngx_http_ttai_listen_poll;
        ngx_http_ttai_listen_ev.log = ngx_cycle->log;
        ngx_http_ttai_listen_dummy.fd = (ngx_socket_t) -1;
        ngx_http_ttai_listen_ev.data = &ngx_http_ttai_listen_dummy;
        /*
         * not cancelable: a worker that shuts down waits for it, and its
         * handler ends the streams with their result first
         */
        ngx_http_ttai_listen_ev.cancelable = 0;
        ngx_add_timer(&ngx_http_ttai_listen_ev, NGX_HTTP_TTAI_LISTEN_POLL);
    }

    /* a client that closes the stream ends it (the cleanup runs) */
    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    return NGX_DONE;
}


/* puts the changes of a call in the ring, for every worker's streams */

void
ngx_http_ttai_listen_publish(ngx_http_request_t *r, ttai_mcp_change_t *ch,
    size_t n, const char *sub)
{
    size_t                          i, len;
    ngx_slab_pool_t                *shpool;
    ngx_http_ttai_listen_shm_t     *sh;
    ngx_http_ttai_listen_change_t  *c;

    if (ngx_http_ttai_listen_zone == NULL || n == 0) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < n; i++) {
        c = &sh->ring[sh->next % NGX_HTTP_TTAI_LISTEN_RING];

        ngx_memzero(c, sizeof(ngx_http_ttai_listen_change_t));
        c->seq = sh->next++;
        c->kind = ch[i].kind;

        len = ngx_strlen(sub);
        if (ch[i].user_only && len < NGX_HTTP_TTAI_LISTEN_SUB) {
            ngx_memcpy(c->sub, sub, len);
        }

        if (ch[i].uri != NULL) {
            len = ngx_min(ngx_strlen(ch[i].uri),
                          NGX_HTTP_TTAI_LISTEN_URI - 1);
            ngx_memcpy(c->uri, ch[i].uri, len);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    /* this worker's own streams hear of it at once, the others' soon */
    if (ngx_http_ttai_listen_nstreams > 0) {
        ngx_post_event(&ngx_http_ttai_listen_ev, &ngx_posted_events);
    }

    ngx_http_ttai_listen_wake_others();
}


/*
 * Something for every worker in shared memory (an answer to a question
 * of ngx_http_ttai_mcp_ask.c): each is woken, this one through its
 * posted events
 */

void
ngx_http_ttai_listen_wake_all(void)
{
    ngx_http_ttai_ask_poll();
    ngx_http_ttai_listen_wake_others();
}


static void
ngx_http_ttai_listen_wake_others(void)
{
    uint64_t    one;
    ngx_uint_t  i;

    for (i = 0; i < ngx_http_ttai_listen_nwakers; i++) {
        if (i != ngx_worker) {
            one = 1;

            if (write(ngx_http_ttai_listen_wakers[i], &one, sizeof(one))
                == -1)
            {
                /* EAGAIN: its counter is full, so it is woken anyway */
                continue;
            }
        }
    }
}


/*
 * In the master, before the workers start: an eventfd for each, which
 * they inherit; none when ttai_mcp is not used
 */

ngx_int_t
ngx_http_ttai_listen_init_module(ngx_cycle_t *cycle, ngx_uint_t used)
{
    ngx_uint_t           i, n;
    ngx_core_conf_t     *ccf;
    ngx_pool_cleanup_t  *cln;

    ngx_http_ttai_listen_wakers = NULL;
    ngx_http_ttai_listen_nwakers = 0;

    if (!used) {
        ngx_http_ttai_listen_zone = NULL;
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);
    n = (ccf->worker_processes > 0) ? (ngx_uint_t) ccf->worker_processes : 1;

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ttai_listen_wakers = ngx_pcalloc(cycle->pool,
                                              n * sizeof(ngx_fd_t));
    if (ngx_http_ttai_listen_wakers == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        ngx_http_ttai_listen_wakers[i] = eventfd(0, EFD_NONBLOCK);

        if (ngx_http_ttai_listen_wakers[i] == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "ttai: eventfd() for the listen streams failed");
            ngx_http_ttai_listen_nwakers = i;
            ngx_http_ttai_listen_wakers_close(NULL);
            return NGX_ERROR;
        }
    }

    ngx_http_ttai_listen_nwakers = n;

    cln->handler = ngx_http_ttai_listen_wakers_close;
    cln->data = NULL;

    return NGX_OK;
}


/* in a worker: its own eventfd, in the event loop */

ngx_int_t
ngx_http_ttai_listen_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t       *rev;
    ngx_connection_t  *c;

    if (ngx_worker >= ngx_http_ttai_listen_nwakers) {
        return NGX_OK;
    }

    c = ngx_get_connection(ngx_http_ttai_listen_wakers[ngx_worker],
                           cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    rev = c->read;
    rev->handler = ngx_http_ttai_listen_wake;
    rev->log = cycle->log;
    c->data = NULL;

    if (ngx_add_event(rev, NGX_READ_EVENT, NGX_CLEAR_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        return NGX_ERROR;
    }

    ngx_http_ttai_listen_waker = c;

    return NGX_OK;
}


/* at a worker's exit: its eventfd, which nginx counts as left open */

void
ngx_http_ttai_listen_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_ttai_listen_waker != NULL) {
        ngx_close_connection(ngx_http_ttai_listen_waker);
        ngx_http_ttai_listen_waker = NULL;
    }
}


static void
ngx_http_ttai_listen_wake(ngx_event_t *ev)
{
    uint64_t          n;
    ngx_connection_t *c = ev->data;

    /* edge-triggered: read until empty, then look at the ring */
    while (read(c->fd, &n, sizeof(n)) == (ssize_t) sizeof(n)) {
        /* void */
    }

    ngx_http_ttai_ask_poll();

    ngx_http_ttai_listen_poll(&ngx_http_ttai_listen_ev);
}


static void
ngx_http_ttai_listen_wakers_close(void *data)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_http_ttai_listen_nwakers; i++) {
        if (ngx_http_ttai_listen_waker != NULL
            && ngx_http_ttai_listen_wakers[i]
               == ngx_http_ttai_listen_waker->fd)
        {
            /* the worker's own is closed with its connection */
            continue;
        }

        (void) close(ngx_http_ttai_listen_wakers[i]);
    }

    ngx_http_ttai_listen_nwakers = 0;
}


static void
ngx_http_ttai_listen_poll(ngx_event_t *ev)
{
    int                             oom;
    char                           *text;
    uint64_t                        next, seq;
    ngx_uint_t                      i, n, user_only;
    ngx_queue_t                    *q, *nq;
    ngx_slab_pool_t                *shpool;
    ngx_http_ttai_listen_shm_t     *sh;
    ngx_http_ttai_listen_stream_t  *s;
    ngx_http_ttai_listen_change_t  *c;

    static ngx_http_ttai_listen_change_t  batch[NGX_HTTP_TTAI_LISTEN_RING];

    if (ngx_http_ttai_listen_nstreams == 0) {
        return;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        /* shutting down or reloading: each stream ends with its result */
        while (!ngx_queue_empty(&ngx_http_ttai_listen_streams)) {
            q = ngx_queue_head(&ngx_http_ttai_listen_streams);
            s = ngx_queue_data(q, ngx_http_ttai_listen_stream_t, queue);
            ngx_http_ttai_listen_end(s);
        }

        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    next = sh->next;

    /* a ring that went round meanwhile has lost the oldest: skip them */
    if (next - ngx_http_ttai_listen_seen > NGX_HTTP_TTAI_LISTEN_RING) {
        ngx_http_ttai_listen_seen = next - NGX_HTTP_TTAI_LISTEN_RING;
    }

    n = 0;

    for (seq = ngx_http_ttai_listen_seen; seq < next; seq++) {
        batch[n++] = sh->ring[seq % NGX_HTTP_TTAI_LISTEN_RING];
    }

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_ttai_listen_seen = next;

    for (q = ngx_queue_head(&ngx_http_ttai_listen_streams);
         q != ngx_queue_sentinel(&ngx_http_ttai_listen_streams);
         q = nq)
    {
        nq = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_http_ttai_listen_stream_t, queue);

        for (i = 0; i < n; i++) {
            c = &batch[i];
            user_only = (c->sub[0] != '\0');

            if (c->kind == NGX_HTTP_TTAI_LISTEN_ENDED) {
                if (c->seq >= s->since && s->session[0]
                    && ngx_strcmp(s->session, c->uri) == 0)
                {
                    break;
                }

                continue;
            }

            if (c->seq < s->since
                || (user_only
                    && ngx_strcmp(c->sub, s->sub) != 0)
                || (s->session[0] && c->kind == TTAI_LISTEN_UPDATED
                    && !ngx_http_ttai_listen_subscribed(s->session, c->uri)))
            {
                continue;
            }

            text = ttai_mcp_listen_event(s->listen, c->kind,
                                         c->uri[0] ? (char *) c->uri : NULL,
                                         &oom);
            if (text == NULL) {
                continue;
            }

            (void) ngx_http_ttai_listen_write(s, text, ngx_strlen(text), 0,
                                              0);
            free(text);
            s->written = ngx_current_msec;
        }

        if (i < n) {
            /* its session ended: so does the stream */
            ngx_http_ttai_listen_end(s);
            continue;
        }

        if (ngx_current_msec - s->written >= NGX_HTTP_TTAI_LISTEN_PING) {
            (void) ngx_http_ttai_listen_write(s, "", 0, 1, 0);
            s->written = ngx_current_msec;
        }
    }

    if (ngx_http_ttai_listen_nstreams > 0 && !ev->timer_set) {
        ngx_add_timer(ev, NGX_HTTP_TTAI_LISTEN_POLL);
    }
}


/* the graceful end: the listen request's result, then the stream closes */

static void
ngx_http_ttai_listen_end(ngx_http_ttai_listen_stream_t *s)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = s->request;
    c = r->connection;

    /* the cleanup takes it off the queue when the request ends */
    ngx_queue_remove(&s->queue);
    ngx_queue_init(&s->queue);

    /* a GET stream has no result to end with: it just ends */
    rc = (s->listen->end != NULL)
         ? ngx_http_ttai_listen_write(s, s->listen->end,
                                      ngx_strlen(s->listen->end), 0, 1)
         : ngx_http_ttai_listen_write(s, "", 0, 1, 1);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_ttai_listen_cleanup(void *data)
{
    ngx_http_ttai_listen_stream_t *s = data;

    ngx_slab_pool_t             *shpool;
    ngx_http_ttai_listen_shm_t  *sh;

    if (ngx_queue_next(&s->queue) != &s->queue) {
        ngx_queue_remove(&s->queue);
    }

    ngx_http_ttai_listen_nstreams--;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    (void) ngx_http_ttai_listen_user(shpool, sh, s->sub, -1, 0);
    ngx_shmtx_unlock(&shpool->mutex);

    ttai_mcp_listen_free(s->listen);
    s->listen = NULL;
}


/*
 * Counts a user's streams (called locked): delta 1 takes a place, NGX_OK
 * when under limit (0: none); delta -1 gives one back
 */

static ngx_int_t
ngx_http_ttai_listen_user(ngx_slab_pool_t *shpool,
    ngx_http_ttai_listen_shm_t *sh, u_char *sub, ngx_int_t delta,
    ngx_uint_t limit)
{
    ngx_uint_t                    i, h, free_slot;
    ngx_http_ttai_listen_user_t  *u;

    h = ngx_hash_key(sub, ngx_strlen(sub)) % NGX_HTTP_TTAI_LISTEN_USERS;
    free_slot = NGX_HTTP_TTAI_LISTEN_USERS;

    for (i = 0; i < NGX_HTTP_TTAI_LISTEN_USERS; i++) {
        u = &sh->users[(h + i) % NGX_HTTP_TTAI_LISTEN_USERS];

        if (u->streams == 0) {
            if (free_slot == NGX_HTTP_TTAI_LISTEN_USERS) {
                free_slot = (h + i) % NGX_HTTP_TTAI_LISTEN_USERS;
            }

            continue;
        }

        if (ngx_strcmp(u->sub, sub) != 0) {
            continue;
        }

        if (delta > 0) {
            if (limit && u->streams >= limit) {
                return NGX_DECLINED;
            }

            u->streams++;

        } else {
            u->streams--;
        }

        return NGX_OK;
    }

    if (delta < 0 || free_slot == NGX_HTTP_TTAI_LISTEN_USERS) {
        /* a place given back that was not counted, or no room */
        return (delta < 0) ? NGX_OK : NGX_DECLINED;
    }

    u = &sh->users[free_slot];
    ngx_memzero(u->sub, sizeof(u->sub));
    ngx_memcpy(u->sub, sub, ngx_strlen(sub));
    u->streams = 1;

    return NGX_OK;
}


/*
 * An event (or, with comment, a ":" line that keeps the stream alive),
 * in a buffer of the stream's that was sent already when there is one
 * large enough
 */

static ngx_int_t
ngx_http_ttai_listen_write(ngx_http_ttai_listen_stream_t *s,
    const char *text, size_t len, ngx_uint_t comment, ngx_uint_t last)
{
    u_char              *p;
    size_t               size;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_http_request_t  *r;

    r = s->request;
    size = sizeof("data: \n\n") + len;

    cl = ngx_chain_get_free_buf(r->pool, &s->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    if (b->start == NULL || (size_t) (b->end - b->start) < size) {
        /* a larger event than this buffer held: the old memory is lost */
        size = ngx_max(size, NGX_HTTP_TTAI_LISTEN_BUF);

        b->start = ngx_palloc(r->pool, size);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + size;
    }

    b->pos = b->start;
    b->temporary = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_ttai_module;

    if (comment) {
        p = ngx_cpymem(b->pos, ":\n\n", 3);

    } else {
        p = ngx_cpymem(b->pos, "data: ", 6);
        p = ngx_cpymem(p, text, len);
        p = ngx_cpymem(p, "\n\n", 2);
    }

    b->last = p;
    b->flush = 1;
    b->last_buf = last;
    b->last_in_chain = last;

    rc = ngx_http_output_filter(r, cl);

    ngx_chain_update_chains(r->pool, &s->free, &s->busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_ttai_module);

    return rc;
}


/*
 * Records a 2025 session's resources/subscribe (on) or unsubscribe:
 * NGX_OK, or NGX_DECLINED when the table has no room
 */

ngx_int_t
ngx_http_ttai_listen_subscribe(ngx_str_t *session, const char *uri,
    ngx_uint_t on)
{
    size_t                       len;
    ngx_int_t                    rc;
    ngx_uint_t                   i, free_slot;
    ngx_slab_pool_t             *shpool;
    ngx_http_ttai_listen_shm_t  *sh;
    ngx_http_ttai_listen_sub_t  *e;

    len = ngx_strlen(uri);

    if (ngx_http_ttai_listen_zone == NULL
        || session->len >= NGX_HTTP_TTAI_LISTEN_SID
        || len >= NGX_HTTP_TTAI_LISTEN_SUBURI)
    {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    free_slot = NGX_HTTP_TTAI_LISTEN_SUBS;
    rc = on ? NGX_DECLINED : NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_LISTEN_SUBS; i++) {
        e = &sh->subs[i];

        if (e->session[0] == '\0') {
            if (free_slot == NGX_HTTP_TTAI_LISTEN_SUBS) {
                free_slot = i;
            }

            continue;
        }

        if (ngx_strlen(e->session) == session->len
            && ngx_strncmp(e->session, session->data, session->len) == 0
            && ngx_strcmp(e->uri, uri) == 0)
        {
            if (!on) {
                ngx_memzero(e, sizeof(ngx_http_ttai_listen_sub_t));
            }

            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_OK;
        }
    }

    if (on && free_slot < NGX_HTTP_TTAI_LISTEN_SUBS) {
        e = &sh->subs[free_slot];
        ngx_memzero(e, sizeof(ngx_http_ttai_listen_sub_t));
        ngx_memcpy(e->session, session->data, session->len);
        ngx_memcpy(e->uri, uri, len);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/*
 * A session ended (DELETE): its subscriptions go, and its GET streams
 * end in whichever worker holds them
 */

void
ngx_http_ttai_listen_session_ended(ngx_http_request_t *r, ngx_str_t *session,
    const char *sub)
{
    ngx_uint_t                      i;
    ngx_slab_pool_t                *shpool;
    ngx_http_ttai_listen_shm_t     *sh;
    ngx_http_ttai_listen_sub_t     *e;
    ngx_http_ttai_listen_change_t  *c;

    if (ngx_http_ttai_listen_zone == NULL
        || session->len >= NGX_HTTP_TTAI_LISTEN_SID)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_LISTEN_SUBS; i++) {
        e = &sh->subs[i];

        if (ngx_strlen(e->session) == session->len
            && ngx_strncmp(e->session, session->data, session->len) == 0)
        {
            ngx_memzero(e, sizeof(ngx_http_ttai_listen_sub_t));
        }
    }

    c = &sh->ring[sh->next % NGX_HTTP_TTAI_LISTEN_RING];

    ngx_memzero(c, sizeof(ngx_http_ttai_listen_change_t));
    c->seq = sh->next++;
    c->kind = NGX_HTTP_TTAI_LISTEN_ENDED;
    ngx_memcpy(c->uri, session->data, session->len);

    ngx_shmtx_unlock(&shpool->mutex);

    if (ngx_http_ttai_listen_nstreams > 0) {
        ngx_post_event(&ngx_http_ttai_listen_ev, &ngx_posted_events);
    }

    ngx_http_ttai_listen_wake_others();

    /* and the calls that wait for its user's answers */
    ngx_http_ttai_ask_session_ended(session);
}


/* whether a session subscribed uri, or a resource it is a part of */

static ngx_uint_t
ngx_http_ttai_listen_subscribed(u_char *session, const u_char *uri)
{
    size_t                       n;
    ngx_uint_t                   i, found;
    ngx_slab_pool_t             *shpool;
    ngx_http_ttai_listen_shm_t  *sh;
    ngx_http_ttai_listen_sub_t  *e;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_listen_zone->shm.addr;
    sh = ngx_http_ttai_listen_zone->data;
    found = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_LISTEN_SUBS && !found; i++) {
        e = &sh->subs[i];

        if (e->session[0] == '\0' || ngx_strcmp(e->session, session) != 0) {
            continue;
        }

        n = ngx_strlen(e->uri);

        found = (ngx_strncmp(uri, e->uri, n) == 0
                 && (uri[n] == '\0' || uri[n] == '/'));
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return found;
}
