
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_admin.h"
#include "ttai_r2.h"


/*
 * R2 through the admin API:
 *
 *     GET    /_ttai/r2/BUCKET?prefix=P&limit=N    list
 *     PUT    /_ttai/r2/BUCKET/KEY                 put, with Content-Type
 *     GET    /_ttai/r2/BUCKET/KEY                 get
 *     HEAD   /_ttai/r2/BUCKET/KEY                 head
 *     DELETE /_ttai/r2/BUCKET/KEY                 delete
 *
 * The files are on the local disk and the API serves development only,
 * so they are read and written in the worker, as nginx serves static
 * files.
 */


typedef struct {
    char                  *root;
    char                  *bucket;
    char                  *key;
} ngx_http_ttai_admin_r2_ctx_t;


static ngx_int_t ngx_http_ttai_admin_r2_object(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx, ngx_uint_t header_only);
static ngx_int_t ngx_http_ttai_admin_r2_list(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx);
static void ngx_http_ttai_admin_r2_put(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_admin_r2_delete(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_admin_r2_fail(ngx_http_request_t *r, int rc,
    char *err);
static ngx_int_t ngx_http_ttai_admin_r2_json(ngx_http_request_t *r,
    char *json);
static char *ngx_http_ttai_admin_r2_decode(ngx_pool_t *pool, u_char *src,
    size_t len, size_t *out_len);
static void ngx_http_ttai_admin_r2_free(void *data);


ngx_int_t
ngx_http_ttai_admin_r2(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                        *p, *slash;
    size_t                         len;
    ngx_int_t                      rc;
    ngx_http_ttai_main_conf_t     *tmcf;
    ngx_http_ttai_admin_r2_ctx_t  *ctx;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->state_dir.len == 0) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "no_r2",
                                         "R2 needs \"ttai_state_dir\"");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_admin_r2_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->root = ngx_pnalloc(r->pool, tmcf->state_dir.len + sizeof("/r2"));
    if (ctx->root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(ctx->root, tmcf->state_dir.data, tmcf->state_dir.len);
    ngx_memcpy(p, "/r2", sizeof("/r2"));

    slash = ngx_strlchr(path->data, path->data + path->len, '/');

    len = (slash != NULL) ? (size_t) (slash - path->data) : path->len;

    ctx->bucket = ngx_http_ttai_admin_r2_decode(r->pool, path->data, len,
                                                &len);
    if (ctx->bucket == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ttai_r2_check_bucket(ctx->bucket, len) != NULL) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_bucket",
                                         (char *) ttai_r2_check_bucket(
                                             ctx->bucket, len));
    }

    if (slash == NULL || slash + 1 == path->data + path->len) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ttai_admin_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_ttai_admin_r2_list(r, ctx);
    }

    ctx->key = ngx_http_ttai_admin_r2_decode(r->pool, slash + 1,
                                             path->data + path->len
                                             - slash - 1, &len);
    if (ctx->key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a decoded NUL would cut the key short: judge its whole length */
    if (ttai_r2_check_key(ctx->key, len) != NULL) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_key",
                                         (char *) ttai_r2_check_key(
                                             ctx->key, len));
    }

    switch (r->method) {

    case NGX_HTTP_GET:
        return ngx_http_ttai_admin_r2_object(r, ctx, 0);

    case NGX_HTTP_HEAD:
        return ngx_http_ttai_admin_r2_object(r, ctx, 1);

    case NGX_HTTP_DELETE:
        return ngx_http_ttai_admin_r2_delete(r, ctx);

    case NGX_HTTP_PUT:
        ngx_http_set_ctx(r, ctx, ngx_http_ttai_module);

        rc = ngx_http_read_client_request_body(r, ngx_http_ttai_admin_r2_put);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;

    default:
        return ngx_http_ttai_admin_not_allowed(r, "GET, HEAD, PUT, DELETE");
    }
}


static ngx_int_t
ngx_http_ttai_admin_r2_object(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx, ngx_uint_t header_only)
{
    int                  rc;
    char                 err[TTAI_R2_ERRLEN];
    void                *data;
    u_char              *etag;
    ngx_int_t            n;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ttai_r2_meta_t       meta;
    ngx_pool_cleanup_t  *cln;

    data = NULL;

    if (header_only) {
        rc = ttai_r2_head(ctx->root, ctx->bucket, ctx->key, &meta, err);

    } else {
        rc = ttai_r2_get(ctx->root, ctx->bucket, ctx->key, &meta, &data, err);
    }

    if (rc != TTAI_R2_OK) {
        return ngx_http_ttai_admin_r2_fail(r, rc, err);
    }

    if (data != NULL) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            free(data);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_ttai_admin_r2_free;
        cln->data = data;
    }

    n = ngx_http_discard_request_body(r);
    if (n != NGX_OK) {
        return n;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = meta.size;
    r->headers_out.last_modified_time = meta.uploaded;

    r->headers_out.content_type.len = ngx_strlen(meta.content_type);
    r->headers_out.content_type.data = ngx_pnalloc(r->pool,
                                        r->headers_out.content_type.len);
    if (r->headers_out.content_type.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(r->headers_out.content_type.data, meta.content_type,
               r->headers_out.content_type.len);

    etag = ngx_pnalloc(r->pool, TTAI_R2_ETAG_LEN + 2);
    h = ngx_list_push(&r->headers_out.headers);
    if (etag == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(etag, "\"%s\"", meta.etag);

    h->hash = 1;
    ngx_str_set(&h->key, "ETag");
    h->value.data = etag;
    h->value.len = TTAI_R2_ETAG_LEN + 2;
    r->headers_out.etag = h;

    if (header_only || meta.size == 0) {
        r->header_only = 1;
    }

    n = ngx_http_send_header(r);

    if (n == NGX_ERROR || n > NGX_OK || r->header_only) {
        return n;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = b->pos + meta.size;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_ttai_admin_r2_list(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx)
{
    int              rc;
    char             err[TTAI_R2_ERRLEN], *prefix, *json;
    size_t           len;
    ngx_int_t        limit;
    ngx_str_t        arg;
    ttai_r2_list_t   list;

    prefix = "";
    limit = 0;

    if (ngx_http_arg(r, (u_char *) "prefix", 6, &arg) == NGX_OK) {
        prefix = ngx_http_ttai_admin_r2_decode(r->pool, arg.data, arg.len,
                                               &len);
        if (prefix == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK) {
        limit = ngx_atoi(arg.data, arg.len);

        if (limit < 1 || limit > TTAI_R2_MAX_LIST) {
            return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_limit",
                                             "limit is a number from 1 "
                                             "to 1000");
        }
    }

    rc = ttai_r2_list(ctx->root, ctx->bucket, prefix, limit, &list, err);
    if (rc != TTAI_R2_OK) {
        return ngx_http_ttai_admin_r2_fail(r, rc, err);
    }

    json = ttai_r2_list_json(&list);
    ttai_r2_list_free(&list);

    return ngx_http_ttai_admin_r2_json(r, json);
}


static void
ngx_http_ttai_admin_r2_put(ngx_http_request_t *r)
{
    int                            rc;
    char                           err[TTAI_R2_ERRLEN], *type;
    ngx_str_t                      body;
    ttai_r2_meta_t                 meta;
    ngx_http_ttai_admin_r2_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    if (ngx_http_ttai_admin_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    type = NULL;

    if (r->headers_in.content_type != NULL
        && r->headers_in.content_type->value.len < sizeof(meta.content_type))
    {
        type = ngx_pnalloc(r->pool,
                           r->headers_in.content_type->value.len + 1);
        if (type == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_cpystrn((u_char *) type, r->headers_in.content_type->value.data,
                    r->headers_in.content_type->value.len + 1);
    }

    rc = ttai_r2_put(ctx->root, ctx->bucket, ctx->key, body.data, body.len,
                     type, &meta, err);

    if (rc != TTAI_R2_OK) {
        ngx_http_finalize_request(r,
                                  ngx_http_ttai_admin_r2_fail(r, rc, err));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_ttai_admin_r2_json(r,
                                                ttai_r2_meta_json(&meta)));
}


static ngx_int_t
ngx_http_ttai_admin_r2_delete(ngx_http_request_t *r,
    ngx_http_ttai_admin_r2_ctx_t *ctx)
{
    int   rc;
    char  err[TTAI_R2_ERRLEN];

    static u_char  ok[] = "{\"success\":true}";

    rc = ttai_r2_delete(ctx->root, ctx->bucket, ctx->key, err);
    if (rc != TTAI_R2_OK) {
        return ngx_http_ttai_admin_r2_fail(r, rc, err);
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, ok, sizeof(ok) - 1);
}


static ngx_int_t
ngx_http_ttai_admin_r2_fail(ngx_http_request_t *r, int rc, char *err)
{
    switch (rc) {

    case TTAI_R2_INVALID:
        return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_key", err);

    case TTAI_R2_NOT_FOUND:
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         err);

    case TTAI_R2_TOO_LARGE:
        return ngx_http_ttai_admin_error(r,
                                         NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "too_large", err);

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "ttai: r2: %s",
                      err);
        return ngx_http_ttai_admin_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "r2_error", err);
    }
}


static ngx_int_t
ngx_http_ttai_admin_r2_json(ngx_http_request_t *r, char *json)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   rc;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(json);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, json, len);
    free(json);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, p, len);
}


static char *
ngx_http_ttai_admin_r2_decode(ngx_pool_t *pool, u_char *src, size_t len,
    size_t *out_len)
{
    u_char  *dst, *p;

    dst = ngx_pnalloc(pool, len + 1);
    if (dst == NULL) {
        return NULL;
    }

    p = dst;
    ngx_unescape_uri(&p, &src, len, 0);
    *p = '\0';
    *out_len = p - dst;

    return (char *) dst;
}


static void
ngx_http_ttai_admin_r2_free(void *data)
{
    free(data);
}
