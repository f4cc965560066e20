
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_fetch.h"
#include "ttai_worker.h"


/*
 * The worker service: the original design's Python worker, whose quote
 * handler answers GET /quotes/<symbol> from KV or from TastyTrade.  It
 * runs on its own server (127.0.0.1:8788 in development), which the MCP
 * server reaches through an internal location: a proxy_pass there, the
 * handler itself in production, with no network hop.  Callers present
 * the user's JWT, as on /mcp.
 */


typedef struct {
    ttai_jwt_claims_t          claims;
    ttai_worker_reply_t        reply;
} ngx_http_ttai_worker_ctx_t;


static ngx_int_t ngx_http_ttai_worker_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_worker_drive(ngx_http_request_t *r,
    ngx_http_ttai_worker_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_worker_fetched(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_worker_send(ngx_http_request_t *r,
    ngx_uint_t status, char *body, size_t len);
static void ngx_http_ttai_worker_cleanup(void *data);


char *
ngx_http_ttai_worker(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    if (ngx_http_ttai_set_handler(cf, ngx_http_ttai_worker_handler) == NULL) {
        return "is duplicate";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_worker_handler(ngx_http_request_t *r)
{
    char                        *path, *args;
    ngx_int_t                    rc;
    ngx_str_t                    uri;
    ngx_pool_cleanup_t          *cln;
    ngx_http_ttai_tt_conf_t     *ttcf;
    ngx_http_ttai_worker_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_worker_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_ttai_auth(r, &ctx->claims, &rc)) {
        return rc;
    }

    ttcf = ngx_http_ttai_tt_conf(r);

    /* reached through the service binding: the path past its prefix */
    uri = r->uri;

    if (r->internal && uri.len > ttcf->worker.len
        && ngx_strncmp(uri.data, ttcf->worker.data, ttcf->worker.len) == 0)
    {
        uri.data += ttcf->worker.len;
        uri.len -= ttcf->worker.len;
    }

    path = ngx_pnalloc(r->pool, uri.len + 1);
    args = ngx_pnalloc(r->pool, r->args.len + 1);

    if (path == NULL || args == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * r->uri is decoded; the core decodes the symbol itself, so it gets
     * the path as it was sent when there is one
     */
    if (!r->internal && r->valid_unparsed_uri) {
        uri = r->unparsed_uri;

        if (r->args.len) {
            uri.len -= r->args.len + 1;
        }
    }

    ngx_memcpy(path, uri.data, uri.len);
    path[uri.len] = '\0';
    ngx_memcpy(args, r->args.data, r->args.len);
    args[r->args.len] = '\0';

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_ttai_worker_cleanup;
    cln->data = &ctx->reply;

    ngx_http_set_ctx(r, ctx, ngx_http_ttai_module);

    if (ttai_worker_handle(&ttcf->ttl, path, args, &ctx->reply) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ttai_worker_drive(r, ctx);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    return rc;
}


static ngx_int_t
ngx_http_ttai_worker_drive(ngx_http_request_t *r,
    ngx_http_ttai_worker_ctx_t *ctx)
{
    ngx_int_t            rc;
    ttai_mcp_response_t  resp;

    for ( ;; ) {
        ngx_http_ttai_fetch_store(r, &ctx->reply.stores, &ctx->reply.nstores);

        if (ctx->reply.pending == NULL) {
            break;
        }

        rc = ngx_http_ttai_fetch_step(r, ctx->reply.pending, ctx->claims.sub,
                                &resp, ngx_http_ttai_worker_fetched, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_DONE;
        }

        if (rc != NGX_OK || ttai_worker_resume(&ctx->reply, &resp) != 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_http_ttai_worker_send(r, ctx->reply.status, ctx->reply.body,
                                   ctx->reply.len);

    ttai_worker_reply_free(&ctx->reply);

    return rc;
}


static ngx_int_t
ngx_http_ttai_worker_fetched(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_worker_ctx_t *ctx = f->data;

    ttai_mcp_response_t  resp;

    /* no answer from TastyTrade is answered 502, with the reason */
    ngx_http_ttai_fetch_step_response(f, &resp);

    if (ttai_worker_resume(&ctx->reply, &resp) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_worker_drive(r, ctx);
}


static ngx_int_t
ngx_http_ttai_worker_send(ngx_http_request_t *r, ngx_uint_t status,
    char *body, size_t len)
{
    u_char  *copy;

    if (body == NULL) {
        return status ? (ngx_int_t) status : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    copy = ngx_pnalloc(r->pool, len);
    if (copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(copy, body, len);

    return ngx_http_ttai_send_json(r, status, copy, len);
}


static void
ngx_http_ttai_worker_cleanup(void *data)
{
    ttai_worker_reply_free(data);
}
