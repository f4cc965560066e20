
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_D1_H_INCLUDED_
#define _NGX_HTTP_TTAI_D1_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <pthread.h>

#include "ngx_http_ttai_module.h"
#include "ttai_d1.h"


/*
 * SQLite (the seed's D1).  The database is migrated when nginx loads its
 * configuration; each worker then opens its own connections, and every
 * statement runs on a thread of the ttai_thread_pool, never on the event
 * loop.
 *
 * The bridge, for the code that needs the database while it serves a
 * request:
 *
 *     q = ngx_http_ttai_d1_query_create(r->pool);
 *     ngx_str_set(&q->sql, "SELECT email FROM users WHERE id = ?");
 *     q->params = json_pack("[s]", id);       (the query owns it)
 *     q->handler = my_done;
 *     q->data = my_ctx;
 *
 *     rc = ngx_http_ttai_d1_post(r, q);
 *
 * NGX_OK: posted.  A content handler returns NGX_DONE; a request body
 * handler calls ngx_http_finalize_request(r, NGX_DONE).  Later, on the
 * event loop, my_done(r, q) runs with q->rc, q->result (or q->error),
 * and whatever it returns is passed to ngx_http_finalize_request(): an
 * HTTP status, the result of sending a response, or NGX_DONE when it
 * has posted another query or resumed the phases itself.
 *
 * NGX_BUSY: the thread pool's queue is full; nothing was posted, and
 * ngx_http_ttai_d1_send_busy(r) answers 503.  NGX_DECLINED: there is no
 * database.  NGX_ERROR: nothing was posted.
 *
 * A request has at most one query in flight.  Everything a query holds
 * (params, result, text) is freed with the pool it was created from.
 */

/* also serialize the result, in the thread, into q->text */
#define NGX_HTTP_TTAI_D1_TEXT        0x01

/* the default bound on the rows of one result */
#define NGX_HTTP_TTAI_D1_MAX_ROWS    10000


typedef struct ngx_http_ttai_d1_query_s  ngx_http_ttai_d1_query_t;
typedef struct ngx_http_ttai_d1_conn_s   ngx_http_ttai_d1_conn_t;

typedef ngx_int_t (*ngx_http_ttai_d1_handler_pt)(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


struct ngx_http_ttai_d1_query_s {
    /* set by the caller: one statement with params, or a batch */
    ngx_str_t                      sql;
    json_t                        *params;
    json_t                        *batch;      /* [{"sql","params"},...] */
    ngx_uint_t                     flags;
    size_t                         max_rows;   /* 0: no bound */
    ngx_http_ttai_d1_handler_pt    handler;
    void                          *data;

    /* the outcome, when the handler runs */
    ngx_int_t                      rc;         /* NGX_OK or NGX_ERROR */
    json_t                        *result;
    ngx_str_t                      text;
    ttai_d1_error_t                error;      /* kind, code, msg */

    /* the bridge's own */
    ngx_pool_t                    *pool;
    ngx_http_ttai_d1_t            *db;
    ngx_http_request_t            *request;
    char                          *dumped;
#if (NGX_THREADS)
    ngx_thread_task_t             *task;
#endif
    unsigned                       posted:1;
};


/* a worker's idle connection, and the file it opened */
struct ngx_http_ttai_d1_conn_s {
    sqlite3                       *sqlite;
    dev_t                          dev;
    ino_t                          ino;
    ngx_http_ttai_d1_conn_t       *next;
};


struct ngx_http_ttai_d1_s {
    ngx_str_t                      path;        /* NUL-terminated */
    ngx_str_t                      migrations;  /* NUL-terminated, or "" */
    ngx_flag_t                     migrate;     /* NGX_CONF_UNSET: default */
    ngx_str_t                      pool_name;   /* "": nginx's "default" */
#if (NGX_THREADS)
    ngx_thread_pool_t             *thread_pool;
#endif

    /* a worker's state, from init_process on */
    pthread_mutex_t                mutex;       /* guards idle */
    pthread_mutex_t                writers;     /* ttai_d1_opts_t */
    ngx_http_ttai_d1_conn_t       *idle;
    ngx_uint_t                     worker;      /* the mutexes exist */

    /* for /health, read and written on the event loop only */
    ngx_int_t                      schema_version;  /* -1: unknown */
    ngx_http_ttai_d1_query_t      *refresh;
    time_t                         refreshed;
    time_t                         file_seen;   /* the second, by /health */
    ngx_uint_t                     failed;
    u_char                         error[160];
};


char *ngx_http_ttai_d1_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_d1_migrations(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_d1_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* at the end of the http block: defaults, then the pending migrations */
char *ngx_http_ttai_d1_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);

/*
 * A batch run by the master while it loads the configuration, once the
 * migrations are applied: blocking, as they are, and before any worker
 * serves.  The results, or NULL with err set.
 */
json_t *ngx_http_ttai_d1_load(ngx_http_ttai_d1_t *db, json_t *batch,
    ttai_d1_error_t *err);

/* when the master runs as root: the worker user gets the database */
ngx_int_t ngx_http_ttai_d1_init_module(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

ngx_int_t ngx_http_ttai_d1_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);
void ngx_http_ttai_d1_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/* for /health: NGX_DECLINED without a database */
ngx_int_t ngx_http_ttai_d1_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);


/* the bridge (ngx_http_ttai_d1_query.c) */

ngx_http_ttai_d1_query_t *ngx_http_ttai_d1_query_create(ngx_pool_t *pool);
ngx_int_t ngx_http_ttai_d1_post(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);

/* without a request, e.g. from a timer: the handler gets r == NULL */
ngx_int_t ngx_http_ttai_d1_post_task(ngx_http_ttai_d1_t *db,
    ngx_http_ttai_d1_query_t *q);

/* frees a finished query's outcome so that it can be posted again */
void ngx_http_ttai_d1_query_reset(ngx_http_ttai_d1_query_t *q);

/* 503 with Retry-After and {"error":"db_busy","message":...} */
ngx_int_t ngx_http_ttai_d1_send_busy(ngx_http_request_t *r);

/* the database's health after a query, on the event loop */
void ngx_http_ttai_d1_outcome(ngx_http_ttai_d1_t *db,
    ngx_http_ttai_d1_query_t *q);

/*
 * An idle connection of this worker, or a new one; NULL with err set.
 * Safe in any thread: the idle list is behind the mutex.
 */
ngx_http_ttai_d1_conn_t *ngx_http_ttai_d1_acquire(ngx_http_ttai_d1_t *db,
    ttai_d1_error_t *err);
void ngx_http_ttai_d1_release(ngx_http_ttai_d1_t *db,
    ngx_http_ttai_d1_conn_t *c);


#endif /* _NGX_HTTP_TTAI_D1_H_INCLUDED_ */
