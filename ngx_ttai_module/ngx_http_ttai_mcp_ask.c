
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_session.h"
#include "ttai_mcp.h"


/*
 * Asking the user in a 2025 session.  The core's questions go to the
 * client as elicitation/create requests on the POST's own stream, and the
 * call waits, held by this worker.  The client answers each in a POST of
 * its own, which any worker may take: that worker finds the question in
 * a table in shared memory by its id (and the session it was asked in),
 * copies the answer there, and wakes every worker through the eventfds
 * of the listen streams.  The worker that waits then takes the answer
 * out and the call goes on.  The lock is held only to copy.
 *
 * A question unanswered after ttai_mcp_request_state_ttl ends the call
 * with a clear result; so does a shutdown or a reload, which would not
 * wait for a human.  A worker that dies leaves its questions to expire.
 */

#define NGX_HTTP_TTAI_ASK_SLOTS   256
#define NGX_HTTP_TTAI_ASK_ZONE    (512 * 1024)

/* the largest answer kept: a form's values, never this large */
#define NGX_HTTP_TTAI_ASK_MAX     (64 * 1024)

/* how often a waiting call looks for its answers unwoken, in ms */
#define NGX_HTTP_TTAI_ASK_POLL    1000

/* a comment on the waiting stream, so that proxies keep it, in ms */
#define NGX_HTTP_TTAI_ASK_PING    15000


typedef struct {
    u_char                        id[TTAI_MCP_ASK_ID_LEN + 1];  /* "": free */
    u_char                        session[NGX_HTTP_TTAI_SESSION_ID_LEN + 1];
    time_t                        expires;
    u_char                       *answer;    /* NULL until answered */
    size_t                        len;
    ngx_uint_t                    ended;     /* its session ended */
} ngx_http_ttai_ask_slot_t;


typedef struct {
    ngx_http_ttai_ask_slot_t      slots[NGX_HTTP_TTAI_ASK_SLOTS];
} ngx_http_ttai_ask_shm_t;


struct ngx_http_ttai_ask_s {
    ngx_queue_t                   queue;
    ngx_http_request_t           *request;
    ngx_http_ttai_ask_done_pt     done;

    ngx_uint_t                    n;
    ngx_uint_t                    got;
    ngx_uint_t                   *slots;
    u_char                      **ids;
    const char                  **answers;
    size_t                       *lens;

    time_t                        expires;
    ngx_msec_t                    written;
    ngx_event_t                   timer;
    ngx_uint_t                    waiting;
    ngx_uint_t                    ended;     /* a question's session did */
};


static void ngx_http_ttai_ask_tick(ngx_event_t *ev);
static void ngx_http_ttai_ask_posted(ngx_event_t *ev);
static ngx_uint_t ngx_http_ttai_ask_collect(ngx_http_ttai_ask_t *a);
static void ngx_http_ttai_ask_end(ngx_http_ttai_ask_t *a, const char *error);
static void ngx_http_ttai_ask_release(ngx_http_ttai_ask_t *a);
static void ngx_http_ttai_ask_cleanup(void *data);


static ngx_shm_zone_t    *ngx_http_ttai_ask_zone;

/* this worker's waiting calls, and the event that reads their answers */
static ngx_queue_t        ngx_http_ttai_ask_waiting;
static ngx_event_t        ngx_http_ttai_ask_ev;

/* what the event's debug log reads as its "connection": the fd only */
static ngx_connection_t   ngx_http_ttai_ask_dummy;


ngx_int_t
ngx_http_ttai_ask_conf(ngx_conf_t *cf)
{
    ngx_http_ttai_ask_zone = ngx_http_ttai_shm_table(cf, "ttai_mcp_asks",
                                 NGX_HTTP_TTAI_ASK_ZONE,
                                 sizeof(ngx_http_ttai_ask_shm_t), NULL);

    return ngx_http_ttai_ask_zone ? NGX_OK : NGX_ERROR;
}


void
ngx_http_ttai_ask_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_ttai_ask_waiting);

    ngx_http_ttai_ask_dummy.fd = (ngx_socket_t) -1;
    ngx_http_ttai_ask_ev.handler = ngx_http_ttai_ask_posted;
    ngx_http_ttai_ask_ev.data = &ngx_http_ttai_ask_dummy;
    ngx_http_ttai_ask_ev.log = cycle->log;
}


/*
 * Puts the questions of pending in the table, for the session, before
 * they are sent: an answer may come back at once.  NGX_OK with *ask;
 * NGX_DECLINED when the table has no room; NGX_ERROR.
 */

ngx_int_t
ngx_http_ttai_ask_register(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    ngx_str_t *session, ngx_http_ttai_ask_done_pt done,
    ngx_http_ttai_ask_t **ask)
{
    time_t                     now;
    ngx_uint_t                 i, k;
    ngx_slab_pool_t           *shpool;
    ngx_pool_cleanup_t        *cln;
    ngx_http_ttai_ask_t       *a;
    ngx_http_ttai_ask_shm_t   *sh;
    ngx_http_ttai_ask_slot_t  *slot;

    if (ngx_http_ttai_ask_zone == NULL || p->nasks == 0
        || session->len > NGX_HTTP_TTAI_SESSION_ID_LEN)
    {
        return NGX_ERROR;
    }

    a = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_ask_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->request = r;
    a->done = done;
    a->n = p->nasks;
    a->slots = ngx_pcalloc(r->pool, p->nasks * sizeof(ngx_uint_t));
    a->ids = ngx_pcalloc(r->pool, p->nasks * sizeof(u_char *));
    a->answers = ngx_pcalloc(r->pool, p->nasks * sizeof(char *));
    a->lens = ngx_pcalloc(r->pool, p->nasks * sizeof(size_t));

    if (a->slots == NULL || a->ids == NULL || a->answers == NULL
        || a->lens == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < a->n; i++) {
        if (ngx_strlen(p->ask_ids[i]) != TTAI_MCP_ASK_ID_LEN) {
            return NGX_ERROR;
        }

        a->ids[i] = ngx_pnalloc(r->pool, TTAI_MCP_ASK_ID_LEN + 1);
        if (a->ids[i] == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(a->ids[i], p->ask_ids[i], TTAI_MCP_ASK_ID_LEN + 1);
        a->slots[i] = NGX_HTTP_TTAI_ASK_SLOTS;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_ttai_ask_cleanup;
    cln->data = a;

    now = ngx_time();
    a->expires = now + (p->ms + 999) / 1000;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_ask_zone->shm.addr;
    sh = ngx_http_ttai_ask_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    k = 0;

    for (i = 0; i < NGX_HTTP_TTAI_ASK_SLOTS && k < a->n; i++) {
        slot = &sh->slots[i];

        if (slot->id[0] != '\0' && slot->expires >= now) {
            continue;
        }

        /* free, or left by a worker that died: taken */
        if (slot->answer != NULL) {
            ngx_slab_free_locked(shpool, slot->answer);
        }

        ngx_memzero(slot, sizeof(ngx_http_ttai_ask_slot_t));
        ngx_memcpy(slot->id, a->ids[k], TTAI_MCP_ASK_ID_LEN);
        ngx_memcpy(slot->session, session->data, session->len);
        slot->expires = a->expires;

        a->slots[k++] = i;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (k < a->n) {
        ngx_http_ttai_ask_release(a);
        return NGX_DECLINED;
    }

    *ask = a;

    return NGX_OK;
}


/*
 * Holds the request until every question is answered, the time is up,
 * or the worker shuts down; then a->done runs, which finalizes it.  The
 * questions were sent.
 */

ngx_int_t
ngx_http_ttai_ask_wait(ngx_http_ttai_ask_t *a)
{
    ngx_http_request_t  *r;
    ngx_http_cleanup_t  *cln;

    r = a->request;

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* a request that ends early (its client went away) stops waiting */
    cln->handler = ngx_http_ttai_ask_cleanup;
    cln->data = a;

    ngx_queue_insert_tail(&ngx_http_ttai_ask_waiting, &a->queue);
    a->waiting = 1;
    a->written = ngx_current_msec;

    a->timer.handler = ngx_http_ttai_ask_tick;
    a->timer.data = a;
    a->timer.log = r->connection->log;
    ngx_add_timer(&a->timer, NGX_HTTP_TTAI_ASK_POLL);

    /* a client that goes away ends the request, and the cleanup the wait */
    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    /* an answer that came while the questions were sent */
    if (ngx_http_ttai_ask_collect(a) == a->n) {
        ngx_post_event(&ngx_http_ttai_ask_ev, &ngx_posted_events);
    }

    return NGX_DONE;
}


/*
 * A client's response to one of ttai's questions, in session: copied to
 * the table for the worker that waits, which is woken.  NGX_OK;
 * NGX_DECLINED when no question of the session has that id (answered,
 * timed out, or never asked); NGX_BUSY when there is no room for it;
 * NGX_ABORT when it is too large.
 */

ngx_int_t
ngx_http_ttai_ask_answer(ngx_str_t *session, ttai_mcp_answer_t *answer)
{
    size_t                     len;
    time_t                     now;
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_slab_pool_t           *shpool;
    ngx_http_ttai_ask_shm_t   *sh;
    ngx_http_ttai_ask_slot_t  *slot;

    if (ngx_http_ttai_ask_zone == NULL
        || ngx_strlen(answer->id) != TTAI_MCP_ASK_ID_LEN)
    {
        return NGX_DECLINED;
    }

    len = ngx_strlen(answer->text);

    if (len > NGX_HTTP_TTAI_ASK_MAX) {
        return NGX_ABORT;
    }

    now = ngx_time();
    shpool = (ngx_slab_pool_t *) ngx_http_ttai_ask_zone->shm.addr;
    sh = ngx_http_ttai_ask_zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_ASK_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->expires < now
            || ngx_memcmp(slot->id, answer->id, TTAI_MCP_ASK_ID_LEN) != 0)
        {
            continue;
        }

        /* a question of another session is as unknown as none */
        if (session->len != ngx_strlen(slot->session)
            || ngx_memcmp(slot->session, session->data, session->len) != 0
            || slot->answer != NULL)
        {
            break;
        }

        slot->answer = ngx_slab_alloc_locked(shpool, len ? len : 1);

        if (slot->answer == NULL) {
            rc = NGX_BUSY;
            break;
        }

        ngx_memcpy(slot->answer, answer->text, len);
        slot->len = len;
        rc = NGX_OK;
        break;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc == NGX_OK) {
        ngx_http_ttai_listen_wake_all();
    }

    return rc;
}


/*
 * A session ended (DELETE): its questions can no longer be answered, so
 * the calls that wait on them end now rather than at their timeout
 */

void
ngx_http_ttai_ask_session_ended(ngx_str_t *session)
{
    ngx_uint_t                 i, n;
    ngx_slab_pool_t           *shpool;
    ngx_http_ttai_ask_shm_t   *sh;
    ngx_http_ttai_ask_slot_t  *slot;

    if (ngx_http_ttai_ask_zone == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_ask_zone->shm.addr;
    sh = ngx_http_ttai_ask_zone->data;
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_ASK_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->id[0] != '\0' && slot->answer == NULL
            && session->len == ngx_strlen(slot->session)
            && ngx_memcmp(slot->session, session->data, session->len) == 0)
        {
            slot->ended = 1;
            n++;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (n) {
        ngx_http_ttai_listen_wake_all();
    }
}


/* the workers are woken (ngx_http_ttai_listen_wake_all): answers came */

void
ngx_http_ttai_ask_poll(void)
{
    /* a worker of a configuration without ttai_mcp has no queue */
    if (ngx_http_ttai_ask_ev.handler == NULL
        || ngx_queue_empty(&ngx_http_ttai_ask_waiting))
    {
        return;
    }

    ngx_post_event(&ngx_http_ttai_ask_ev, &ngx_posted_events);
}


static void
ngx_http_ttai_ask_posted(ngx_event_t *ev)
{
    ngx_queue_t          *q, *next;
    ngx_http_ttai_ask_t  *a;

    for (q = ngx_queue_head(&ngx_http_ttai_ask_waiting);
         q != ngx_queue_sentinel(&ngx_http_ttai_ask_waiting);
         q = next)
    {
        next = ngx_queue_next(q);
        a = ngx_queue_data(q, ngx_http_ttai_ask_t, queue);

        if (ngx_http_ttai_ask_collect(a) == a->n || a->ended) {
            ngx_http_ttai_ask_end(a, a->ended ? "the session ended before "
                                                "the user answered"
                                              : NULL);

            /* the call may have asked again, and waits at the tail */
            next = ngx_queue_head(&ngx_http_ttai_ask_waiting);
        }
    }
}


static void
ngx_http_ttai_ask_tick(ngx_event_t *ev)
{
    ngx_http_ttai_ask_t *a = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_http_ttai_ask_end(a, "the server restarted while it waited "
                                 "for the user's answer");
        return;
    }

    if (ngx_http_ttai_ask_collect(a) == a->n) {
        ngx_http_ttai_ask_end(a, NULL);
        return;
    }

    if (a->ended) {
        ngx_http_ttai_ask_end(a, "the session ended before the user "
                                 "answered");
        return;
    }

    if (ngx_time() > a->expires) {
        ngx_http_ttai_ask_end(a, "the user did not answer in time");
        return;
    }

    if (ngx_current_msec - a->written >= NGX_HTTP_TTAI_ASK_PING) {
        a->written = ngx_current_msec;

        if (ngx_http_ttai_mcp_sse_comment(a->request) != NGX_OK) {
            ngx_http_ttai_ask_end(a, "the stream to the client failed");
            return;
        }
    }

    ngx_add_timer(&a->timer, NGX_HTTP_TTAI_ASK_POLL);
}


/* takes the answers that came out of the table; returns how many it has */

static ngx_uint_t
ngx_http_ttai_ask_collect(ngx_http_ttai_ask_t *a)
{
    u_char                    *copy;
    ngx_uint_t                 i;
    ngx_slab_pool_t           *shpool;
    ngx_http_ttai_ask_shm_t   *sh;
    ngx_http_ttai_ask_slot_t  *slot;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_ask_zone->shm.addr;
    sh = ngx_http_ttai_ask_zone->data;

    for (i = 0; i < a->n; i++) {
        if (a->answers[i] != NULL) {
            continue;
        }

        slot = &sh->slots[a->slots[i]];

        /* read unlocked: the pointer is written last, under the lock */
        if (slot->answer == NULL) {
            if (slot->ended
                && ngx_memcmp(slot->id, a->ids[i], TTAI_MCP_ASK_ID_LEN) == 0)
            {
                a->ended = 1;
            }

            continue;
        }

        ngx_shmtx_lock(&shpool->mutex);

        copy = NULL;

        if (slot->answer != NULL
            && ngx_memcmp(slot->id, a->ids[i], TTAI_MCP_ASK_ID_LEN) == 0)
        {
            copy = ngx_pnalloc(a->request->pool, slot->len + 1);

            if (copy != NULL) {
                ngx_memcpy(copy, slot->answer, slot->len);
                copy[slot->len] = '\0';
                a->lens[i] = slot->len;

                ngx_slab_free_locked(shpool, slot->answer);
                ngx_memzero(slot, sizeof(ngx_http_ttai_ask_slot_t));
            }
        }

        ngx_shmtx_unlock(&shpool->mutex);

        if (copy != NULL) {
            a->answers[i] = (char *) copy;
            a->got++;
        }
    }

    return a->got;
}


static void
ngx_http_ttai_ask_end(ngx_http_ttai_ask_t *a, const char *error)
{
    ttai_mcp_response_t  resp;

    ngx_http_ttai_ask_release(a);

    ngx_memzero(&resp, sizeof(ttai_mcp_response_t));

    if (error == NULL) {
        resp.answers = a->answers;
        resp.answer_lens = a->lens;

    } else {
        resp.error = error;
    }

    a->done(a->request, &resp);
}


/* off the queue and out of the table: nothing more comes for it */

static void
ngx_http_ttai_ask_release(ngx_http_ttai_ask_t *a)
{
    ngx_uint_t                 i;
    ngx_slab_pool_t           *shpool;
    ngx_http_ttai_ask_shm_t   *sh;
    ngx_http_ttai_ask_slot_t  *slot;

    if (a->waiting) {
        ngx_queue_remove(&a->queue);
        a->waiting = 0;
    }

    if (a->timer.timer_set) {
        ngx_del_timer(&a->timer);
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_ask_zone->shm.addr;
    sh = ngx_http_ttai_ask_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < a->n; i++) {
        if (a->slots[i] == NGX_HTTP_TTAI_ASK_SLOTS) {
            continue;
        }

        slot = &sh->slots[a->slots[i]];

        if (ngx_memcmp(slot->id, a->ids[i], TTAI_MCP_ASK_ID_LEN) == 0) {
            if (slot->answer != NULL) {
                ngx_slab_free_locked(shpool, slot->answer);
            }

            ngx_memzero(slot, sizeof(ngx_http_ttai_ask_slot_t));
        }

        a->slots[i] = NGX_HTTP_TTAI_ASK_SLOTS;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static void
ngx_http_ttai_ask_cleanup(void *data)
{
    ngx_http_ttai_ask_release(data);
}
