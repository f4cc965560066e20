
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_d1.h"


/*
 * The bridge between the event loop and SQLite: a query is posted to the
 * thread pool, runs there on a connection of this worker, and its
 * handler is called back on the event loop.  The thread touches only the
 * query, the idle list (under its mutex), SQLite, jansson and malloc: no
 * nginx pool, log or shared memory.
 */


/* ms: the hold timer only keeps the worker, whenever it fires */
#define NGX_HTTP_TTAI_D1_HOLD  60000


static void ngx_http_ttai_d1_cleanup(void *data);
#if (NGX_THREADS)
static void ngx_http_ttai_d1_thread(void *data, ngx_log_t *log);
static void ngx_http_ttai_d1_done(ngx_event_t *ev);
static void ngx_http_ttai_d1_hold(ngx_uint_t waiting);
static void ngx_http_ttai_d1_hold_handler(ngx_event_t *ev);


/*
 * Armed while requests wait on queries.  A worker that shuts down
 * gracefully (a reload, QUIT) leaves once only timers that may be
 * cancelled are left, and a task on the thread pool has no timer: a
 * request waiting on one would be dropped, its write made but never
 * answered.  This timer cannot be cancelled, so the worker stays until
 * the last of them is answered.  It lives in the process, as the
 * requests do, whatever cycle they came from.
 */
static ngx_uint_t        ngx_http_ttai_d1_waiting;
static ngx_event_t       ngx_http_ttai_d1_hold_ev;
static ngx_connection_t  ngx_http_ttai_d1_hold_conn;
#endif


ngx_http_ttai_d1_query_t *
ngx_http_ttai_d1_query_create(ngx_pool_t *pool)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_ttai_d1_query_t  *q;

    q = ngx_pcalloc(pool, sizeof(ngx_http_ttai_d1_query_t));
    if (q == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     q->sql = { 0, NULL };
     *     q->params = NULL;
     *     q->batch = NULL;
     *     q->flags = 0;
     *     q->result = NULL;
     *     q->text = { 0, NULL };
     *     q->dumped = NULL;
     *     q->posted = 0;
     */

    q->pool = pool;
    q->max_rows = NGX_HTTP_TTAI_D1_MAX_ROWS;

    cln->handler = ngx_http_ttai_d1_cleanup;
    cln->data = q;

    return q;
}


/* a pool is not destroyed while its query is posted: see the callers */

static void
ngx_http_ttai_d1_cleanup(void *data)
{
    ngx_http_ttai_d1_query_t  *q = data;

    ngx_http_ttai_d1_query_reset(q);

    json_decref(q->params);
    json_decref(q->batch);

    q->params = NULL;
    q->batch = NULL;
}


void
ngx_http_ttai_d1_query_reset(ngx_http_ttai_d1_query_t *q)
{
    json_decref(q->result);
    free(q->dumped);

    q->result = NULL;
    q->dumped = NULL;
    ngx_str_null(&q->text);

    q->rc = NGX_OK;
    ngx_memzero(&q->error, sizeof(ttai_d1_error_t));
}


ngx_int_t
ngx_http_ttai_d1_post(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_int_t                   rc;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->db == NULL) {
        return NGX_DECLINED;
    }

    /*
     * One query at a time per request: "blocked" is a small counter,
     * and a second query would have to wait for the first anyway.
     */
    if (r->main->blocked) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ttai: a request may have one database query in "
                      "flight, and this one has one already");
        return NGX_ERROR;
    }

    q->request = r;

    rc = ngx_http_ttai_d1_post_task(tmcf->db, q);

    if (rc != NGX_OK) {
        q->request = NULL;
        return rc;
    }

    /* the request must outlive the thread's work, as for aio */
    r->main->blocked++;
    r->main->count++;

#if (NGX_THREADS)
    ngx_http_ttai_d1_hold(1);
#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_d1_post_task(ngx_http_ttai_d1_t *db,
    ngx_http_ttai_d1_query_t *q)
{
#if (NGX_THREADS)

    ngx_thread_task_t  *task;

    if (!db->worker || q->posted || q->handler == NULL) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "ttai: a database query was posted %s",
                      !db->worker ? "outside a worker"
                      : q->posted ? "twice" : "without a handler");
        return NGX_ERROR;
    }

    if (q->task == NULL) {
        q->task = ngx_thread_task_alloc(q->pool, 0);
        if (q->task == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_http_ttai_d1_query_reset(q);

    q->db = db;

    task = q->task;
    task->ctx = q;
    task->handler = ngx_http_ttai_d1_thread;
    task->event.data = q;
    task->event.handler = ngx_http_ttai_d1_done;
    task->event.log = (q->request != NULL) ? q->request->connection->log
                                           : ngx_cycle->log;

    /* the task is not active, so a failure is the queue's overflow */
    if (ngx_thread_task_post(db->thread_pool, task) != NGX_OK) {
        return NGX_BUSY;
    }

    q->posted = 1;

    return NGX_OK;

#else

    return NGX_DECLINED;

#endif
}


#if (NGX_THREADS)

static void
ngx_http_ttai_d1_thread(void *data, ngx_log_t *log)
{
    ngx_http_ttai_d1_query_t  *q = data;

    json_t                   *result;
    ttai_d1_opts_t            opts;
    ngx_http_ttai_d1_conn_t  *c;

    c = ngx_http_ttai_d1_acquire(q->db, &q->error);

    if (c == NULL) {
        q->rc = NGX_ERROR;
        return;
    }

    /*
     * This worker's writers queue on a mutex, so that only one of its
     * threads at a time waits on SQLite's lock (which is polled).
     */
    opts.max_rows = q->max_rows;
    opts.writers = &q->db->writers;

    if (q->batch != NULL) {
        result = ttai_d1_batch(c->sqlite, q->batch, &opts, &q->error);

    } else {
        result = ttai_d1_query(c->sqlite, (char *) q->sql.data, q->sql.len,
                               q->params, &opts, &q->error);
    }

    ngx_http_ttai_d1_release(q->db, c);

    /* serializing here keeps a large result off the event loop too */
    if (result != NULL && (q->flags & NGX_HTTP_TTAI_D1_TEXT)) {
        q->dumped = json_dumps(result, JSON_COMPACT | TTAI_D1_JSON_FLAGS);

        if (q->dumped == NULL) {
            json_decref(result);
            result = NULL;
            ttai_d1_error_set(&q->error, TTAI_D1_EFAIL, SQLITE_NOMEM,
                              "out of memory");
        }
    }

    q->result = result;
    q->rc = (result != NULL) ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_ttai_d1_done(ngx_event_t *ev)
{
    ngx_http_ttai_d1_query_t *q = ev->data;

    ngx_int_t            rc;
    ngx_uint_t           level;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    q->posted = 0;

    if (q->dumped != NULL) {
        q->text.data = (u_char *) q->dumped;
        q->text.len = ngx_strlen(q->dumped);
    }

    ngx_http_ttai_d1_outcome(q->db, q);

    if (q->rc != NGX_OK) {
        level = (q->error.kind == TTAI_D1_EFAIL) ? NGX_LOG_ERR
                : (q->error.kind == TTAI_D1_EBUSY) ? NGX_LOG_WARN
                : NGX_LOG_INFO;

        ngx_log_error(level, ev->log, 0, "ttai: database query failed: %s",
                      q->error.msg);
    }

    r = q->request;

    if (r == NULL) {
        (void) q->handler(NULL, q);
        return;
    }

    q->request = NULL;

    ngx_http_ttai_d1_hold(0);

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "ttai db done: \"%V?%V\"", &r->uri, &r->args);

    r->main->blocked--;

    rc = q->handler(r, q);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* one more request waits on a query (1), or one less (0) */

static void
ngx_http_ttai_d1_hold(ngx_uint_t waiting)
{
    ngx_event_t  *ev;

    ev = &ngx_http_ttai_d1_hold_ev;

    if (!waiting) {
        if (--ngx_http_ttai_d1_waiting == 0 && ev->timer_set) {
            ngx_del_timer(ev);
        }

        return;
    }

    if (ngx_http_ttai_d1_waiting++ || ev->timer_set) {
        return;
    }

    /* ev->data: ngx_event_ident() reads its fd */
    ngx_http_ttai_d1_hold_conn.fd = (ngx_socket_t) -1;

    ev->handler = ngx_http_ttai_d1_hold_handler;
    ev->data = &ngx_http_ttai_d1_hold_conn;
    ev->log = ngx_cycle->log;
    ev->cancelable = 0;

    ngx_add_timer(ev, NGX_HTTP_TTAI_D1_HOLD);
}


static void
ngx_http_ttai_d1_hold_handler(ngx_event_t *ev)
{
    /* a slow query is bounded by SQLite's busy timeout, not here */
    if (ngx_http_ttai_d1_waiting) {
        ngx_add_timer(ev, NGX_HTTP_TTAI_D1_HOLD);
    }
}

#endif


/*
 * The file may have been removed or replaced while the worker runs:
 * "ttai state reset --d1" removes it, and "ttai d1 migrations apply" or
 * a reload makes a new one.  A connection to the old file would go on
 * using it unseen, so each query first compares the file with the one
 * its connection opened (one stat, in the thread), and opens the new one
 * if need be.  Workers never create the file: only the master, at load,
 * and the CLI make one, with its migrations.
 */

ngx_http_ttai_d1_conn_t *
ngx_http_ttai_d1_acquire(ngx_http_ttai_d1_t *db, ttai_d1_error_t *err)
{
    sqlite3                  *sqlite;
    struct stat               st;
    ngx_http_ttai_d1_conn_t  *c;

    (void) pthread_mutex_lock(&db->mutex);

    c = db->idle;

    if (c != NULL) {
        db->idle = c->next;
    }

    (void) pthread_mutex_unlock(&db->mutex);

    if (stat((char *) db->path.data, &st) != 0) {
        if (c != NULL) {
            ttai_d1_close(c->sqlite);
            free(c);
        }

        ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_CANTOPEN,
                          "the database file is missing; apply the "
                          "migrations or reload nginx to make it again");
        return NULL;
    }

    if (c != NULL) {
        if (c->dev == st.st_dev && c->ino == st.st_ino) {
            return c;
        }

        ttai_d1_close(c->sqlite);

    } else {
        /*
         * No idle connection: every other one is busy in a thread.
         * There are never more connections than threads using them.
         */
        c = malloc(sizeof(ngx_http_ttai_d1_conn_t));
        if (c == NULL) {
            ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM,
                              "out of memory");
            return NULL;
        }
    }

    if (ttai_d1_open_flags(&sqlite, (char *) db->path.data, 0, err) != 0) {
        free(c);
        return NULL;
    }

    c->sqlite = sqlite;
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    c->next = NULL;

    return c;
}


void
ngx_http_ttai_d1_release(ngx_http_ttai_d1_t *db, ngx_http_ttai_d1_conn_t *c)
{
    (void) pthread_mutex_lock(&db->mutex);

    c->next = db->idle;
    db->idle = c;

    (void) pthread_mutex_unlock(&db->mutex);
}


ngx_int_t
ngx_http_ttai_d1_send_busy(ngx_http_request_t *r)
{
    static u_char  body[] = "{\"error\":\"db_busy\",\"message\":\"too many "
                            "database queries are waiting; retry later\"}";

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (ngx_http_ttai_header_lit(r, "Retry-After", "1") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE, body,
                                   sizeof(body) - 1);
}
