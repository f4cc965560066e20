
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_fetch.h"


/*
 * Subrequests whose responses are kept rather than sent: a header and a
 * body filter take them out of the output chain, as a body to hand to
 * the core.  nginx's own in-memory subrequests would do for one level,
 * but they allocate subrequest_output_buffer_size up front for a body of
 * unknown length, and cannot nest (the worker service, reached without
 * a network hop in production, makes its own subrequests).
 *
 * The body grows with realloc(): a large block then grows in place (by
 * mremap()), where a new block and a copy would hold the body twice.
 * The block is freed with the request's pool, and at once when the body
 * turns out larger than the limit: the rest is read and dropped.
 */


static ngx_int_t ngx_http_ttai_capture_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_capture_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_ttai_capture_append(ngx_http_request_t *r,
    ngx_http_ttai_capture_t *ctx, u_char *p, size_t n);
static void ngx_http_ttai_capture_oversized(ngx_http_ttai_capture_t *ctx);
static void ngx_http_ttai_capture_cleanup(void *data);
static void ngx_http_ttai_capture_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_ttai_capture_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_ttai_capture_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_ttai_capture_body_filter;

    return NGX_OK;
}


ngx_http_ttai_capture_t *
ngx_http_ttai_capture(ngx_http_request_t *r, ngx_str_t *uri, ngx_str_t *args,
    ngx_str_t *body, size_t max, ngx_http_post_subrequest_pt handler,
    void *data)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_pool_cleanup_t           *cln;
    ngx_http_request_t           *sr;
    ngx_http_request_body_t      *rb;
    ngx_http_ttai_capture_t      *ctx;
    ngx_http_post_subrequest_t   *ps;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_capture_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || ps == NULL || rb == NULL || cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_ttai_capture_cleanup;
    cln->data = ctx;

    ctx->max = max;
    ps->handler = handler;
    ps->data = data;

    if (ngx_http_subrequest(r, uri, args, &sr, ps, 0) != NGX_OK) {
        return NULL;
    }

    ngx_http_set_ctx(sr, ctx, ngx_http_ttai_tt_module);
    ctx->sr = sr;

    /*
     * A subrequest shares its parent's body: the client's JSON-RPC
     * message must never reach TastyTrade, so each gets its own, empty
     * for a GET.
     */
    sr->request_body = rb;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.chunked = 0;

    if (body != NULL) {
        b = ngx_create_temp_buf(r->pool, body->len ? body->len : 1);
        cl = ngx_alloc_chain_link(r->pool);

        if (b == NULL || cl == NULL) {
            return NULL;
        }

        b->last = ngx_cpymem(b->pos, body->data, body->len);
        b->last_buf = 1;
        cl->buf = b;
        cl->next = NULL;
        rb->bufs = cl;

        sr->method = NGX_HTTP_POST;
        ngx_str_set(&sr->method_name, "POST");
        sr->headers_in.content_length_n = body->len;
        ngx_str_set(&ctx->content_type, "application/json");
    }

    return ctx;
}


void
ngx_http_ttai_capture_method(ngx_http_ttai_capture_t *ctx, ngx_uint_t method)
{
    ngx_http_request_t  *sr;

    sr = ctx->sr;
    sr->method = method;

    switch (method) {

    case NGX_HTTP_PUT:
        ngx_str_set(&sr->method_name, "PUT");
        break;

    case NGX_HTTP_DELETE:
        ngx_str_set(&sr->method_name, "DELETE");
        break;

    case NGX_HTTP_POST:
        ngx_str_set(&sr->method_name, "POST");
        break;

    default:
        sr->method = NGX_HTTP_GET;
        ngx_str_set(&sr->method_name, "GET");
    }
}


static ngx_int_t
ngx_http_ttai_capture_header_filter(ngx_http_request_t *r)
{
    ngx_http_ttai_capture_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_tt_module);

    if (r == r->main || ctx == NULL || ctx->max == 0) {
        return ngx_http_next_header_filter(r);
    }

    if (ctx->status == 0) {
        ctx->status = r->headers_out.status;

        /* nginx's own error page for a peer that never answered is not
         * an answer: connecting or reading failed */
        ctx->answered = (r->upstream == NULL
                         || r->upstream->headers_in.status_n != 0);

        if (r->headers_out.content_length_n > (off_t) ctx->max) {
            ctx->oversized = 1;
        }

        /* no body follows: the body filter sees no last buffer */
        if (r->header_only) {
            ctx->finished = 1;
        }

        if (ctx->want_cache_control) {
            ngx_http_ttai_capture_header(r, "Cache-Control",
                                         &ctx->cache_control);
        }

        if (ctx->want_retry_after) {
            ngx_http_ttai_capture_header(r, "Retry-After",
                                         &ctx->retry_after);
        }
    }

    r->filter_need_in_memory = 1;
    r->header_sent = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_capture_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_ttai_capture_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_tt_module);

    if (r == r->main || ctx == NULL || ctx->max == 0) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl != NULL; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            if (ngx_http_ttai_capture_append(r, ctx, b->pos, b->last - b->pos)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            b->pos = b->last;

        } else if (b->in_file) {
            /* the proxy location keeps bodies in memory; a file here
             * means one larger than its buffers: too large */
            ngx_http_ttai_capture_oversized(ctx);
            b->file_pos = b->file_last;
        }

        if (b->last_buf || b->last_in_chain) {
            ctx->finished = 1;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_capture_append(ngx_http_request_t *r,
    ngx_http_ttai_capture_t *ctx, u_char *p, size_t n)
{
    u_char  *data;
    size_t   size;

    if (n == 0 || ctx->oversized) {
        return NGX_OK;
    }

    if (ctx->len + n > ctx->max) {
        /* the rest is read and dropped: the fetch reports the limit */
        ngx_http_ttai_capture_oversized(ctx);
        return NGX_OK;
    }

    if (ctx->len + n > ctx->size) {
        size = ngx_max(ctx->size * 2, ctx->len + n);
        size = ngx_max(size, 4096);
        size = ngx_min(size, ctx->max);

        data = realloc(ctx->data, size);
        if (data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, r->connection->log, ngx_errno,
                          "realloc(%uz) failed", size);
            return NGX_ERROR;
        }

        ctx->data = data;
        ctx->size = size;
    }

    ngx_memcpy(ctx->data + ctx->len, p, n);
    ctx->len += n;

    return NGX_OK;
}


/*
 * The first header called name of the response, copied: Cache-Control
 * says how long a document may be kept, Retry-After when to ask again
 */

static void
ngx_http_ttai_capture_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != len
            || ngx_strncasecmp(h[i].key.data, (u_char *) name, len) != 0)
        {
            continue;
        }

        value->data = ngx_pstrdup(r->pool, &h[i].value);

        if (value->data != NULL) {
            value->len = h[i].value.len;
        }

        return;
    }
}


/* what came so far is of no use: it goes at once, not with the request */

static void
ngx_http_ttai_capture_oversized(ngx_http_ttai_capture_t *ctx)
{
    ctx->oversized = 1;

    ngx_http_ttai_capture_cleanup(ctx);
}


static void
ngx_http_ttai_capture_cleanup(void *data)
{
    ngx_http_ttai_capture_t *ctx = data;

    if (ctx->data != NULL) {
        ngx_free(ctx->data);
    }

    ctx->data = NULL;
    ctx->len = 0;
    ctx->size = 0;
}
