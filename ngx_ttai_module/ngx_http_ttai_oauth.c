
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_oauth.h"


/*
 * ttai as the OAuth 2.1 authorization server of its own /mcp, chained to
 * TastyTrade's OAuth: a client registers (RFC 7591), sends the user to
 * /authorize with PKCE, where ttai asks for consent and then sends the
 * browser on to TastyTrade; TastyTrade comes back to /callback, where
 * ttai exchanges its code, keeps the user's TastyTrade tokens sealed,
 * and hands the client a code of its own, which /token turns into the
 * JWT that /mcp accepts and a rotating refresh token.
 *
 * Everything that outlives a request is in SQLite (migration 0002), each
 * secret as a hash, through the statements of ttai_oauth_store.h; every
 * batch runs on the thread pool, each step of an endpoint in the
 * endpoint's own callback.  This file holds the directive, the metadata
 * and what the endpoints share.
 */


static ngx_int_t ngx_http_ttai_oauth_metadata(ngx_http_request_t *r);
static void ngx_http_ttai_oauth_cleanup(void *data);
static ngx_int_t ngx_http_ttai_oauth_busy(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_ttai_oauth_headers(ngx_http_request_t *r);


char *
ngx_http_ttai_oauth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_handler_pt         handler;
    ngx_http_ttai_main_conf_t  *tmcf;

    static struct {
        char                 *name;
        ngx_http_handler_pt   handler;
    } endpoints[] = {
        { "metadata", ngx_http_ttai_oauth_metadata },
        { "register", ngx_http_ttai_oauth_register },
        { "authorize", ngx_http_ttai_oauth_authorize },
        { "callback", ngx_http_ttai_oauth_callback },
        { "token", ngx_http_ttai_oauth_token },
        { "revoke", ngx_http_ttai_oauth_revoke },
        { NULL, NULL }
    };

    value = cf->args->elts;
    handler = NULL;

    for (i = 0; endpoints[i].name != NULL; i++) {
        if (ngx_strcmp(value[1].data, endpoints[i].name) == 0) {
            handler = endpoints[i].handler;
            break;
        }
    }

    if (handler == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid OAuth endpoint \"%V\", it must be "
                           "\"metadata\", \"register\", \"authorize\", "
                           "\"callback\", \"token\" or \"revoke\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    tmcf = ngx_http_ttai_set_handler(cf, handler);
    if (tmcf == NULL) {
        return "is duplicate";
    }

    /* its tokens can be revoked: the revoked set goes with it */
    tmcf->oauth = 1;

    return NGX_CONF_OK;
}


/* GET /.well-known/oauth-authorization-server (RFC 8414) */

static ngx_int_t
ngx_http_ttai_oauth_metadata(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_ttai_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ttai_header_lit(r, "Access-Control-Allow-Origin", "*")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_json(r, NGX_HTTP_OK,
               ttai_oauth_metadata((char *) ctx->issuer.data));
}


ngx_int_t
ngx_http_ttai_oauth_query(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t **ctx, char *err, size_t errlen)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ctx = ngx_http_ttai_oauth_ctx(r);
    if (*ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (*ctx)->form = ttai_oauth_form((char *) r->args.data, r->args.len, err,
                                   errlen);

    return NGX_OK;
}


ngx_http_ttai_oauth_ctx_t *
ngx_http_ttai_oauth_ctx(ngx_http_request_t *r)
{
    ngx_str_t                   origin;
    ngx_pool_cleanup_t         *cln;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_oauth_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL
        || ngx_http_ttai_origin(r, &origin) != NGX_OK)
    {
        return NULL;
    }

    cln->handler = ngx_http_ttai_oauth_cleanup;
    cln->data = ctx;

    /* NUL-terminated: the core takes C strings */
    ctx->issuer.data = ngx_pnalloc(r->pool, origin.len + 1);
    if (ctx->issuer.data == NULL) {
        return NULL;
    }

    ngx_memcpy(ctx->issuer.data, origin.data, origin.len);
    ctx->issuer.data[origin.len] = '\0';
    ctx->issuer.len = origin.len;

    ngx_http_set_ctx(r, ctx, ngx_http_ttai_module);

    return ctx;
}


static void
ngx_http_ttai_oauth_cleanup(void *data)
{
    ngx_http_ttai_oauth_ctx_t *ctx = data;

    json_decref(ctx->form);
    json_decref(ctx->found);
    ttai_oauth_client_free(&ctx->reg);
    free(ctx->jwt);

    sodium_memzero(ctx->secret, sizeof(ctx->secret));
    sodium_memzero(ctx->refresh, sizeof(ctx->refresh));
    sodium_memzero(ctx->code, sizeof(ctx->code));
}


ngx_int_t
ngx_http_ttai_oauth_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                   rc;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    if (r->headers_in.content_length_n > NGX_HTTP_TTAI_OAUTH_MAX_BODY) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ctx = ngx_http_ttai_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->request_body_in_single_buf = 1;
    r->request_body_in_persistent_file = 0;

    rc = ngx_http_read_client_request_body(r, handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


json_t *
ngx_http_ttai_oauth_body(ngx_http_request_t *r, ngx_uint_t json, char *err,
    size_t errlen)
{
    u_char        *p;
    size_t         len;
    json_t        *j;
    ngx_buf_t     *b;
    ngx_chain_t   *cl;
    json_error_t   e;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl != NULL;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            /* an empty body ends with a flag-only buffer */
            continue;
        }

        if (b->in_file || !ngx_buf_in_memory(b)) {
            ngx_cpystrn((u_char *) err, (u_char *) "the body is too large",
                        errlen);
            return NULL;
        }

        len += b->last - b->pos;
    }

    if (len > NGX_HTTP_TTAI_OAUTH_MAX_BODY) {
        ngx_cpystrn((u_char *) err, (u_char *) "the body is too large",
                    errlen);
        return NULL;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NULL;
    }

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl != NULL;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            continue;
        }

        ngx_memcpy(p + len, b->pos, b->last - b->pos);
        len += b->last - b->pos;
    }

    p[len] = '\0';

    if (!json) {
        return ttai_oauth_form((char *) p, len, err, errlen);
    }

    j = json_loadb((char *) p, len, 0, &e);

    if (j == NULL) {
        ngx_snprintf((u_char *) err, errlen, "the body is not JSON: %s%Z",
                     e.text);
        return NULL;
    }

    return j;
}


const char *
ngx_http_ttai_oauth_field(ngx_http_ttai_oauth_ctx_t *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->form, name));
}


ngx_int_t
ngx_http_ttai_oauth_post(ngx_http_request_t *r, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler)
{
    ngx_int_t                  rc;
    ngx_http_ttai_d1_query_t  *q;

    if (batch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        json_decref(batch);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->batch = batch;
    q->handler = handler;
    q->data = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    rc = ngx_http_ttai_d1_post(r, q);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return ngx_http_ttai_oauth_busy(r, rc);
}


static ngx_int_t
ngx_http_ttai_oauth_busy(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_BUSY) {
        return ngx_http_ttai_d1_send_busy(r);
    }

    return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "temporarily_unavailable",
                                     NGX_HTTP_TTAI_OAUTH_NO_DB);
}


ngx_int_t
ngx_http_ttai_oauth_json(ngx_http_request_t *r, ngx_uint_t status,
    char *text)
{
    u_char  *body;
    size_t   len;

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);
    body = ngx_pnalloc(r->pool, len);

    if (body != NULL) {
        ngx_memcpy(body, text, len);
    }

    /* a token answer may hold secrets */
    sodium_memzero(text, len);
    free(text);

    if (body == NULL || ngx_http_ttai_oauth_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, status, body, len);
}


ngx_int_t
ngx_http_ttai_oauth_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description)
{
    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_ttai_header_lit(r, "WWW-Authenticate",
                                    "Basic realm=\"ttai\"") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_json(r, status,
                                    ttai_oauth_error_json(error,
                                                          description));
}


ngx_int_t
ngx_http_ttai_oauth_html(ngx_http_request_t *r, ngx_uint_t status,
    char *html)
{
    size_t        len;
    ngx_buf_t    *b;
    ngx_int_t     rc;
    ngx_chain_t   out;

    if (html == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(html);
    b = ngx_create_temp_buf(r->pool, len ? len : 1);

    if (b == NULL || ngx_http_ttai_oauth_headers(r) != NGX_OK
        /* the consent page must not be framed: no clickjacking */
        || ngx_http_ttai_header_lit(r, "X-Frame-Options", "DENY") != NGX_OK
        /*
         * no form-action: browsers apply it to the redirects after the
         * POST too, and approving redirects to TastyTrade's own origin
         */
        || ngx_http_ttai_header_lit(r, "Content-Security-Policy",
                                    "default-src 'none'; "
                                    "style-src 'unsafe-inline'; "
                                    "frame-ancestors 'none'") != NGX_OK)
    {
        free(html);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->pos, html, len);
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;
    free(html);

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_ttai_oauth_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *message)
{
    return ngx_http_ttai_oauth_html(r, status,
                                    ttai_oauth_error_html(title, message));
}


ngx_int_t
ngx_http_ttai_oauth_redirect(ngx_http_request_t *r, char *url)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    if (url == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(url);
    p = ngx_pnalloc(r->pool, len);

    if (p != NULL) {
        ngx_memcpy(p, url, len);
    }

    /* it may carry a code */
    sodium_memzero(url, len);
    free(url);

    h = ngx_list_push(&r->headers_out.headers);

    if (p == NULL || h == NULL || ngx_http_ttai_oauth_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value.data = p;
    h->value.len = len;
    r->headers_out.location = h;

    r->headers_out.status = NGX_HTTP_MOVED_TEMPORARILY;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_ttai_oauth_back(ngx_http_request_t *r,
    const ttai_oauth_pending_t *p, const char *error,
    const char *description)
{
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    return ngx_http_ttai_oauth_redirect(r,
               ttai_oauth_url(p->redirect_uri,
                              "error", error,
                              "error_description", description,
                              "state", p->client_state,
                              "iss", (char *) ctx->issuer.data,
                              NULL));
}


static ngx_int_t
ngx_http_ttai_oauth_headers(ngx_http_request_t *r)
{
    if (ngx_http_ttai_header_lit(r, "Cache-Control", "no-store") != NGX_OK
        || ngx_http_ttai_header_lit(r, "Referrer-Policy", "no-referrer")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_ttai_oauth_callback_url(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx)
{
    char  *url;

    url = ngx_pnalloc(r->pool, ctx->issuer.len + sizeof("/callback"));

    if (url != NULL) {
        ngx_sprintf((u_char *) url, "%V/callback%Z", &ctx->issuer);
    }

    return url;
}
