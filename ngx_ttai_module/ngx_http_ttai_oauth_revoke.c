
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_revoked.h"


/*
 * POST /revoke (RFC 7009): a refresh token, and its family with it, the
 * access tokens of the family included
 */


static void ngx_http_ttai_oauth_revoke_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


ngx_int_t
ngx_http_ttai_oauth_revoke(ngx_http_request_t *r)
{
    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_ttai_oauth_read(r, ngx_http_ttai_oauth_revoke_body);
}


static void
ngx_http_ttai_oauth_revoke_body(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    const char                 *token;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    ctx->form = ngx_http_ttai_oauth_body(r, 0, err, sizeof(err));
    token = ctx->form ? ngx_http_ttai_oauth_field(ctx, "token") : NULL;

    if (token == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request",
                                      ctx->form ? "token is required" : err));
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
                                 ttai_oauth_store_token_revoke(token,
                                                               ngx_time()),
                                 ngx_http_ttai_oauth_revoked));
}


static ngx_int_t
ngx_http_ttai_oauth_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    ngx_http_ttai_revoked_add(r, q->result);

    /* RFC 7009: an unknown token is answered 200 too */
    return ngx_http_ttai_oauth_json(r, NGX_HTTP_OK, strdup("{}"));
}
