
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_tt.h"


/*
 * POST /register (RFC 7591): dynamic client registration, limited per
 * client address.  The client's secret, if it has one, is shown once in
 * the answer and kept only as its hash.
 */


/* registrations per client address: 10 a minute, 10 at once */
#define NGX_HTTP_TTAI_OAUTH_REG_RATE     (10 * 1000 / 60)
#define NGX_HTTP_TTAI_OAUTH_REG_BURST    10


static void ngx_http_ttai_oauth_register_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_registered(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


ngx_int_t
ngx_http_ttai_oauth_register(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 key;
    ngx_msec_t                delay;
    ngx_http_ttai_tt_conf_t  *ttcf;

    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ttcf = ngx_http_ttai_tt_conf(r);

    if (ttcf->zone != NULL) {
        /* the address alone: "register:" is implied by its own rate */
        key.len = sizeof("register:") - 1 + r->connection->addr_text.len;
        key.data = ngx_pnalloc(r->pool, key.len);
        if (key.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(key.data, "register:%V", &r->connection->addr_text);

        rc = ngx_http_ttai_tt_limit_key(ttcf->zone, &key,
                                        NGX_HTTP_TTAI_OAUTH_REG_RATE,
                                        NGX_HTTP_TTAI_OAUTH_REG_BURST, 0,
                                        &delay);
        if (rc == NGX_BUSY) {
            if (ngx_http_ttai_header_lit(r, "Retry-After", "10") != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            return ngx_http_ttai_oauth_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                             "invalid_request",
                                             "too many registrations from "
                                             "this address; try again "
                                             "later");
        }
    }

    return ngx_http_ttai_oauth_read(r, ngx_http_ttai_oauth_register_body);
}


static void
ngx_http_ttai_oauth_register_body(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    json_t                     *req;
    const char                 *which;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    req = ngx_http_ttai_oauth_body(r, 1, err, sizeof(err));

    if (req == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_client_metadata", err));
        return;
    }

    if (ttai_oauth_register_check(req, &ctx->reg, &which, err, sizeof(err))
        != 0)
    {
        json_decref(req);
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST, which, err));
        return;
    }

    json_decref(req);

    if (ttai_oauth_token(ctx->client_id) != 0
        || ttai_oauth_token(ctx->secret) != 0)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_strcmp(ctx->reg.auth_method, "none") == 0) {
        ctx->secret[0] = '\0';
    }

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            ttai_oauth_store_register(ctx->client_id,
                                      ctx->secret[0] ? ctx->secret : NULL,
                                      &ctx->reg),
            ngx_http_ttai_oauth_registered));
}


static ngx_int_t
ngx_http_ttai_oauth_registered(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *text;
    json_t                     *j;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "server_error",
                                         "the client could not be stored");
    }

    /* the secret is shown this once; only its hash is kept */
    j = json_pack("{s:s, s:I, s:O, s:s, s:O, s:[s], s:s}",
                  "client_id", ctx->client_id,
                  "client_id_issued_at", (json_int_t) ngx_time(),
                  "redirect_uris", ctx->reg.redirect_uris,
                  "token_endpoint_auth_method", ctx->reg.auth_method,
                  "grant_types", ctx->reg.grant_types,
                  "response_types", "code",
                  "client_name", ctx->reg.name);

    if (j != NULL && ctx->reg.application_type != NULL) {
        json_object_set_new(j, "application_type",
                            json_string(ctx->reg.application_type));
    }

    if (j != NULL && ctx->secret[0]) {
        json_object_set_new(j, "client_secret", json_string(ctx->secret));
        json_object_set_new(j, "client_secret_expires_at", json_integer(0));
    }

    ngx_memzero(ctx->secret, sizeof(ctx->secret));

    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);

    return ngx_http_ttai_oauth_json(r, NGX_HTTP_CREATED, text);
}
