
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_loop.h"


ngx_int_t
ngx_http_ttai_loop_init(ngx_http_ttai_loop_t *l, ngx_cycle_t *cycle,
    ngx_http_ttai_d1_t *db, ngx_event_handler_pt handler, ngx_msec_t every,
    ngx_msec_t first)
{
    ngx_memzero(l, sizeof(ngx_http_ttai_loop_t));

    l->query = ngx_http_ttai_d1_query_create(cycle->pool);
    if (l->query == NULL) {
        return NGX_ERROR;
    }

    l->db = db;
    l->every = every;
    l->dummy.fd = (ngx_socket_t) -1;

    l->tick.handler = handler;
    l->tick.data = &l->dummy;
    l->tick.log = cycle->log;
    l->tick.cancelable = 1;

    ngx_add_timer(&l->tick, first);

    return NGX_OK;
}


ngx_uint_t
ngx_http_ttai_loop_due(ngx_http_ttai_loop_t *l)
{
    if (l->busy) {
        (void) ngx_http_ttai_background_lead();
        ngx_add_timer(&l->tick, l->every);
        return 0;
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return 0;
    }

    if (!ngx_http_ttai_background_lead()) {
        ngx_http_ttai_loop_rest(l);
        return 0;
    }

    return 1;
}


ngx_int_t
ngx_http_ttai_loop_post(ngx_http_ttai_loop_t *l, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler, void *data)
{
    ngx_http_ttai_d1_query_t  *q;

    q = l->query;

    if (batch == NULL) {
        ngx_http_ttai_loop_rest(l);
        return NGX_ERROR;
    }

    json_decref(q->batch);
    q->batch = batch;
    q->handler = handler;
    q->data = data;

    if (ngx_http_ttai_d1_post_task(l->db, q) != NGX_OK) {
        ngx_http_ttai_loop_rest(l);
        return NGX_ERROR;
    }

    l->busy = 1;

    if (l->tick.timer_set) {
        ngx_del_timer(&l->tick);
    }

    l->tick.cancelable = 0;
    ngx_add_timer(&l->tick, l->every);

    return NGX_OK;
}


void
ngx_http_ttai_loop_rest(ngx_http_ttai_loop_t *l)
{
    l->busy = 0;

    if (l->tick.timer_set) {
        ngx_del_timer(&l->tick);
    }

    l->tick.cancelable = 1;
    ngx_add_timer(&l->tick, l->every);
}
