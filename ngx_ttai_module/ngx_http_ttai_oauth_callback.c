
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_throttle.h"


/*
 * GET /callback: TastyTrade sends the browser back with its code and
 * ttai's state.  The state finds the sign-in (once); the code is
 * exchanged with a POST subrequest (ttai as a confidential client, no
 * PKCE upstream); the accounts name the user; then the client gets a
 * code of ttai's own.
 */


static ngx_int_t ngx_http_ttai_oauth_returned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_exchanged(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_oauth_identified(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_oauth_signed_in(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static char *ngx_http_ttai_oauth_cstr_json(ngx_pool_t *pool, json_t *v);
static void ngx_http_ttai_oauth_log_exchange(ngx_log_t *log,
    ngx_str_t *key, ngx_uint_t n, ngx_str_t *span, void *data);


ngx_int_t
ngx_http_ttai_oauth_callback(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    ngx_int_t                   rc;
    const char                 *state;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    rc = ngx_http_ttai_oauth_query(r, &ctx, err, sizeof(err));
    if (rc != NGX_OK) {
        return rc;
    }

    state = ctx->form ? ngx_http_ttai_oauth_field(ctx, "state") : NULL;

    if (state == NULL) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Invalid sign-in",
                                        "TastyTrade's answer has no state.");
    }

    return ngx_http_ttai_oauth_post(r,
               ttai_oauth_store_request_take(state, ngx_time()),
               ngx_http_ttai_oauth_returned);
}


static ngx_int_t
ngx_http_ttai_oauth_returned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *callback, *secret, *client;
    ngx_int_t                   rc;
    const char                 *code, *error;
    ngx_http_ttai_fetch_t      *f;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    ctx->found = json_incref(q->result);

    if (!ttai_oauth_store_request_taken(ctx->found, &ctx->pending)) {
        /* a forged or replayed state: nothing to send anywhere */
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Unknown sign-in",
                                        "This sign-in is unknown, was "
                                        "finished already, or expired.  "
                                        "Start again from your "
                                        "application.");
    }

    error = ngx_http_ttai_oauth_field(ctx, "error");
    code = ngx_http_ttai_oauth_field(ctx, "code");

    if (error != NULL || code == NULL) {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "access_denied",
                                        "TastyTrade did not grant access");
    }

    if (ngx_http_ttai_tt_client(r, &client, &secret) != NGX_OK
        || client == NULL)
    {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "server_error",
                                        "TASTYTRADE_CLIENT_ID and "
                                        "TASTYTRADE_CLIENT_SECRET are not "
                                        "set on this server");
    }

    callback = ngx_http_ttai_oauth_callback_url(r, ctx);
    f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));

    if (callback == NULL || f == NULL
        || ngx_http_ttai_tt_secret_body(r->pool,
               json_pack("{s:s, s:s, s:s, s:s, s:s}",
                         "grant_type", "authorization_code", "code", code,
                         "client_id", client, "client_secret", secret,
                         "redirect_uri", callback), &f->body)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f->service = TTAI_SERVICE_TASTYTRADE;
    f->direct = 1;
    f->method = NGX_HTTP_POST;
    ngx_str_set(&f->path, "/oauth/token");

    f->user.data = (u_char *) "sign-in";
    f->user.len = sizeof("sign-in") - 1;
    f->done = ngx_http_ttai_oauth_exchanged;
    f->data = ctx;

    rc = ngx_http_ttai_fetch(r, f);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_exchanged(r, f);
}


static ngx_int_t
ngx_http_ttai_oauth_exchanged(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_oauth_ctx_t *ctx = f->data;

    json_t                 *j;
    ngx_int_t               rc;
    json_int_t              expires;
    ngx_http_ttai_fetch_t  *a;

    static ngx_str_t  any = ngx_string("");

    j = (f->status == NGX_HTTP_OK)
        ? json_loadb((char *) f->response.data, f->response.len, 0, NULL)
        : NULL;

    if (f->status == NGX_HTTP_OK && f->response.len) {
        /* it held TastyTrade's tokens in clear */
        sodium_memzero(f->response.data, f->response.len);
    }

    ctx->tt_access.data = (u_char *) ngx_http_ttai_oauth_cstr_json(r->pool,
                              json_object_get(j, "access_token"));
    ctx->tt_refresh.data = (u_char *) ngx_http_ttai_oauth_cstr_json(r->pool,
                              json_object_get(j, "refresh_token"));
    expires = json_integer_value(json_object_get(j, "expires_in"));
    json_decref(j);

    if (ctx->tt_access.data == NULL || ctx->tt_refresh.data == NULL) {
        ngx_http_ttai_throttle(r->connection->log,
                               ngx_http_ttai_oauth_log_exchange, &any, 1, f);

        return ngx_http_ttai_oauth_back(r, &ctx->pending, "access_denied",
                                        "TastyTrade refused the "
                                        "authorization code");
    }

    ctx->tt_access.len = ngx_strlen(ctx->tt_access.data);
    ctx->tt_refresh.len = ngx_strlen(ctx->tt_refresh.data);
    ctx->tt_expires = ngx_time() + (expires > 0 ? expires : 900);

    /* who signed in: the first account's number is ttai's user id */
    a = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a->service = TTAI_SERVICE_TASTYTRADE;
    a->direct = 1;
    ngx_str_set(&a->path, "/customers/me/accounts");
    a->token = ctx->tt_access;
    a->user = f->user;
    a->done = ngx_http_ttai_oauth_identified;
    a->data = ctx;

    rc = ngx_http_ttai_fetch(r, a);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_identified(r, a);
}


static ngx_int_t
ngx_http_ttai_oauth_identified(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_oauth_ctx_t *ctx = f->data;

    char                       *user;
    json_t                     *j, *item;
    const char                 *number;
    ttai_oauth_tt_tokens_t      t;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    j = (f->status == NGX_HTTP_OK)
        ? json_loadb((char *) f->response.data, f->response.len, 0, NULL)
        : NULL;

    item = json_array_get(json_object_get(json_object_get(j, "data"),
                                          "items"), 0);
    number = json_string_value(json_object_get(json_object_get(item,
                                   "account"), "account-number"));

    user = (number != NULL && number[0] != '\0' && ngx_strlen(number) < 64)
           ? ngx_pnalloc(r->pool, ngx_strlen(number) + 1) : NULL;

    if (user != NULL) {
        ngx_cpystrn((u_char *) user, (u_char *) number,
                    ngx_strlen(number) + 1);
    }

    json_decref(j);

    if (user == NULL) {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "server_error",
                                        "TastyTrade did not say which "
                                        "account signed in");
    }

    ctx->user = user;

    if (ttai_oauth_token(ctx->code) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* sealed as "ttai tastytrade connect" seals them */
    ngx_memzero(&t, sizeof(ttai_oauth_tt_tokens_t));

    t.user = user;
    t.key = tmcf->token_key;
    t.access = (char *) ctx->tt_access.data;
    t.access_len = ctx->tt_access.len;
    t.refresh = (char *) ctx->tt_refresh.data;
    t.refresh_len = ctx->tt_refresh.len;
    t.expires_at = ctx->tt_expires;
    t.scope = "read";

    return ngx_http_ttai_oauth_post(r,
               ttai_oauth_store_sign_in(&t, &ctx->pending, ctx->code,
                                        ngx_time()),
               ngx_http_ttai_oauth_signed_in);
}


static ngx_int_t
ngx_http_ttai_oauth_signed_in(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *url;
    ngx_str_t                   user;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;
    ttcf = ngx_http_ttai_tt_conf(r);

    sodium_memzero(ctx->tt_refresh.data, ctx->tt_refresh.len);

    if (q->rc != NGX_OK) {
        sodium_memzero(ctx->tt_access.data, ctx->tt_access.len);
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "server_error",
                                        "the sign-in could not be stored");
    }

    /* the first tool call needs no refresh */
    if (ttcf->zone != NULL) {
        user.data = (u_char *) ctx->user;
        user.len = ngx_strlen(ctx->user);

        ngx_http_ttai_tt_token_set(ttcf->zone, &user, &ctx->tt_access,
                                   ctx->tt_expires);
    }

    sodium_memzero(ctx->tt_access.data, ctx->tt_access.len);

    url = ttai_oauth_url(ctx->pending.redirect_uri,
                         "code", ctx->code,
                         "state", ctx->pending.client_state,
                         "iss", (char *) ctx->issuer.data,
                         NULL);

    return ngx_http_ttai_oauth_redirect(r, url);
}


/* a JSON string into pool, or NULL when it is not a non-empty string */

static char *
ngx_http_ttai_oauth_cstr_json(ngx_pool_t *pool, json_t *v)
{
    ngx_str_t  s;

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return NULL;
    }

    s.data = (u_char *) json_string_value(v);
    s.len = json_string_length(v);

    return ngx_http_ttai_cstr(pool, &s);
}


/* anyone can come back with a code that does not work, in a loop */

static void
ngx_http_ttai_oauth_log_exchange(ngx_log_t *log, ngx_str_t *key,
    ngx_uint_t n, ngx_str_t *span, void *data)
{
    ngx_http_ttai_fetch_t  *f = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ttai: TastyTrade's token endpoint refused the "
                      "sign-in's code: %ui %s", f->status,
                      f->error ? f->error : "");
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: TastyTrade's token endpoint refused %ui sign-in "
                  "%s%V", n, n == 1 ? "code" : "codes", span);
}
