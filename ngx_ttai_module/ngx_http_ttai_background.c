
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_background.h"
#include "ttai_jwt.h"


/*
 * A request of ttai's own, for work no client asked for (a workflow's
 * step): the fetch engine makes subrequests, and nginx's subrequests need
 * a main request.  This one lives on a connection without a socket, with
 * the configuration of the first location that has ttai_mcp, whose
 * server holds the internal locations the subrequests go to; the capture
 * filter keeps their responses, so nothing is ever written to it.
 *
 * Its count starts at one, a hold that no handler gives back (a client's
 * request gives it back when its content handler returns NGX_DONE): the
 * fetch engine's own finalizations each give back one of its own holds,
 * so nginx never closes this request as it would a client's; it is
 * freed here, from a posted event, once the work says it is done.
 */


static void ngx_http_ttai_background_closer(ngx_event_t *ev);


ngx_http_ttai_background_t *
ngx_http_ttai_background_create(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_log_t                   *log;
    ngx_pool_t                  *pool, *rpool;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_log_ctx_t          *lctx;
    ngx_http_conf_ctx_t         *ctx;
    ngx_http_core_main_conf_t   *cmcf;
    ngx_http_ttai_background_t  *bg;

    ctx = tmcf->background_ctx;

    if (ctx == NULL) {
        return NULL;
    }

    pool = ngx_create_pool(4096, cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    bg = ngx_pcalloc(pool, sizeof(ngx_http_ttai_background_t));
    log = ngx_pcalloc(pool, sizeof(ngx_log_t));
    lctx = ngx_pcalloc(pool, sizeof(ngx_http_log_ctx_t));

    if (bg == NULL || log == NULL || lctx == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    c = ngx_get_connection((ngx_socket_t) -1, cycle->log);
    if (c == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    *log = *cycle->log;
    log->handler = NULL;
    log->data = lctx;
    log->action = "running ttai's background work";

    c->fd = (ngx_socket_t) -1;
    c->pool = pool;
    c->log = log;
    c->read->log = log;
    c->write->log = log;

    /*
     * Nothing is ever written to it: it is never put in the event loop,
     * and what nginx sets on a client's socket (an unbuffered proxy's
     * TCP_NODELAY) counts as set already
     */
    c->read->active = 1;
    c->write->active = 1;
    c->write->ready = 1;
    c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;

    /* the request's own pool, which ngx_http_free_request() destroys */
    rpool = ngx_create_pool(4096, log);
    if (rpool == NULL) {
        goto failed;
    }

    r = ngx_pcalloc(rpool, sizeof(ngx_http_request_t));
    if (r == NULL) {
        ngx_destroy_pool(rpool);
        goto failed;
    }

    r->pool = rpool;
    r->connection = c;
    r->signature = NGX_HTTP_MODULE;
    r->main_conf = ctx->main_conf;
    r->srv_conf = ctx->srv_conf;
    r->loc_conf = ctx->loc_conf;

    r->ctx = ngx_pcalloc(rpool, sizeof(void *) * ngx_http_max_module);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);
    r->variables = ngx_pcalloc(rpool, cmcf->variables.nelts
                                      * sizeof(ngx_http_variable_value_t));

    if (r->ctx == NULL || r->variables == NULL
        || ngx_list_init(&r->headers_out.headers, rpool, 4,
                         sizeof(ngx_table_elt_t)) != NGX_OK
        || ngx_list_init(&r->headers_out.trailers, rpool, 2,
                         sizeof(ngx_table_elt_t)) != NGX_OK
        || ngx_list_init(&r->headers_in.headers, rpool, 2,
                         sizeof(ngx_table_elt_t)) != NGX_OK)
    {
        ngx_destroy_pool(rpool);
        goto failed;
    }

    r->main = r;
    r->count = 1;
    r->method = NGX_HTTP_GET;
    ngx_str_set(&r->method_name, "GET");
    ngx_str_set(&r->uri, "/");
    ngx_str_set(&r->unparsed_uri, "/");
    r->http_version = NGX_HTTP_VERSION_11;
    r->headers_in.content_length_n = 0;
    r->headers_in.keep_alive_n = -1;
    r->uri_changes = NGX_HTTP_MAX_URI_CHANGES + 1;
    r->subrequests = NGX_HTTP_MAX_SUBREQUESTS + 1;
    r->http_state = NGX_HTTP_PROCESS_REQUEST_STATE;
    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_request_empty_handler;
    r->start_sec = ngx_time();
    r->logged = 1;

    lctx->connection = c;
    lctx->request = r;
    lctx->current_request = r;

    c->data = r;
    c->requests = 1;

    bg->request = r;
    bg->closer.handler = ngx_http_ttai_background_closer;
    bg->closer.data = c;
    bg->closer.log = log;

    return bg;

failed:

    ngx_free_connection(c);
    ngx_destroy_pool(pool);

    return NULL;
}


ngx_int_t
ngx_http_ttai_background_user(ngx_http_ttai_background_t *bg,
    ngx_http_ttai_main_conf_t *tmcf, const char *sub)
{
    char                *jwt;
    u_char              *p;
    size_t               len;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = bg->request;

    jwt = ttai_jwt_mint(tmcf->jwt_secret.data, tmcf->jwt_secret.len, sub,
                        NULL,
                        tmcf->jwt_issuer.len ? (char *) tmcf->jwt_issuer.data
                                             : NULL,
                        tmcf->jwt_audience.len
                        ? (char *) tmcf->jwt_audience.data : NULL,
                        NULL, NULL, 300, ngx_time());
    if (jwt == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(jwt);

    h = ngx_list_push(&r->headers_in.headers);
    p = ngx_pnalloc(r->pool, sizeof("Bearer ") - 1 + len);

    if (h == NULL || p == NULL) {
        ngx_explicit_memzero(jwt, len);
        free(jwt);
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Authorization");
    h->lowcase_key = (u_char *) "authorization";
    h->value.data = p;
    h->value.len = sizeof("Bearer ") - 1 + len;

    p = ngx_cpymem(p, "Bearer ", sizeof("Bearer ") - 1);
    ngx_memcpy(p, jwt, len);

    ngx_explicit_memzero(jwt, len);
    free(jwt);

    r->headers_in.authorization = h;

    return NGX_OK;
}


/* the work is over: the request goes once the running handler returns */

void
ngx_http_ttai_background_done(ngx_http_ttai_background_t *bg)
{
    ngx_post_event(&bg->closer, &ngx_posted_events);
}


static void
ngx_http_ttai_background_closer(ngx_event_t *ev)
{
    ngx_pool_t          *pool;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    c = ev->data;
    r = c->data;
    pool = c->pool;

    if (r->count > 1 || r->blocked) {
        /* a subrequest or a query still holds it: look again soon */
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ttai: background request still held (%ui)",
                      (ngx_uint_t) r->count);
        ngx_post_event(ev, &ngx_posted_next_events);
        return;
    }

    /* its cleanups run, and its pool goes; the connection's below */
    ngx_http_free_request(r, 0);

    c->destroyed = 1;
    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    ngx_destroy_pool(pool);
}
