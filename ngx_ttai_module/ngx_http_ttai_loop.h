
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_LOOP_H_INCLUDED_
#define _NGX_HTTP_TTAI_LOOP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"


/*
 * A background loop (the workflows' turns, the monitor's passes): a
 * tick every so often, run by the worker that holds the background
 * lease, whose work is statement batches on the thread pool, one at a
 * time.  While a batch is in flight the tick's timer is not cancelable,
 * so a worker that shuts down or reloads first sees its batch written;
 * idle, it exits at once.  A long piece of work keeps the lease: the
 * work is this worker's until it is done.
 */

typedef struct {
    ngx_event_t                 tick;
    ngx_connection_t            dummy;     /* the tick's, for logging */
    ngx_msec_t                  every;
    ngx_uint_t                  busy;
    ngx_http_ttai_d1_query_t   *query;
    ngx_http_ttai_d1_t         *db;
} ngx_http_ttai_loop_t;


/* the first tick after first ms; NGX_ERROR when out of memory */
ngx_int_t ngx_http_ttai_loop_init(ngx_http_ttai_loop_t *l, ngx_cycle_t *cycle,
    ngx_http_ttai_d1_t *db, ngx_event_handler_pt handler, ngx_msec_t every,
    ngx_msec_t first);

/*
 * At a tick: 1 when the work is to go on now (this worker leads, nothing
 * is in flight, it is not exiting); 0 when the next tick is arranged
 */
ngx_uint_t ngx_http_ttai_loop_due(ngx_http_ttai_loop_t *l);

/*
 * Posts batch (taken) with handler(r, q), q->data = data.  NGX_ERROR when
 * it could not be posted (NULL, out of memory, the pool's queue full):
 * the loop rests until the next tick then.
 */
ngx_int_t ngx_http_ttai_loop_post(ngx_http_ttai_loop_t *l, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler, void *data);

/* nothing in flight: the next tick, cancelable */
void ngx_http_ttai_loop_rest(ngx_http_ttai_loop_t *l);


#endif /* _NGX_HTTP_TTAI_LOOP_H_INCLUDED_ */
