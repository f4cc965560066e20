
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_tt.h"


/*
 * GET /authorize: the client and its redirect URI are checked before
 * anything is sent back to that URI (an unknown pair gets a page, never
 * a redirect: no open redirector), then the request is kept and the
 * user asked.  POST /authorize is the user's answer: approved, the
 * browser goes on to TastyTrade with ttai's own state.
 */


static ngx_int_t ngx_http_ttai_oauth_consent(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_consent_saved(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_oauth_decision_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_decided(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_cookie(ngx_http_request_t *r,
    ngx_str_t *value);


ngx_int_t
ngx_http_ttai_oauth_authorize(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    ngx_int_t                   rc;
    const char                 *client_id;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_ttai_oauth_read(r,
                                        ngx_http_ttai_oauth_decision_body);
    }

    rc = ngx_http_ttai_oauth_query(r, &ctx, err, sizeof(err));
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->form == NULL) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Invalid sign-in request", err);
    }

    client_id = ngx_http_ttai_oauth_field(ctx, "client_id");

    if (client_id == NULL
        || ngx_http_ttai_oauth_field(ctx, "redirect_uri") == NULL)
    {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Invalid sign-in request",
                                        "client_id and redirect_uri are "
                                        "required.");
    }

    /* a client that names its metadata document instead of registering */
    if (ttai_cimd_is_url(client_id)) {
        return ngx_http_ttai_oauth_cimd(r, ctx, client_id,
                                        ngx_http_ttai_oauth_consent);
    }

    return ngx_http_ttai_oauth_post(r, ttai_oauth_store_client(client_id),
                                    ngx_http_ttai_oauth_consent);
}


static ngx_int_t
ngx_http_ttai_oauth_consent(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    json_t                     *uris;
    ngx_uint_t                  found;
    int                         trade;
    const char                 *redirect, *v, *challenge, *scope;
    ttai_oauth_pending_t       *p;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    ctx->found = json_incref(q->result);

    found = ttai_oauth_store_client_read(ctx->found, &ctx->client);
    redirect = ngx_http_ttai_oauth_field(ctx, "redirect_uri");

    uris = found ? json_loads(ctx->client.redirect_uris, 0, NULL) : NULL;

    if (!found || !ttai_oauth_redirect_registered(uris, redirect)) {
        json_decref(uris);
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Unknown application",
                                        !found
                                        ? "This application is not "
                                          "registered with ttai."
                                        : "The redirect URI is not one the "
                                          "application registered.");
    }

    json_decref(uris);

    /* from here on, errors go back to the client */
    p = &ctx->pending;
    p->client_id = ctx->client.client_id;
    p->redirect_uri = redirect;
    p->client_state = ngx_http_ttai_oauth_field(ctx, "state");

    v = ngx_http_ttai_oauth_field(ctx, "response_type");
    if (v == NULL || ngx_strcmp(v, "code") != 0) {
        return ngx_http_ttai_oauth_back(r, p, "unsupported_response_type",
                                        "response_type must be code");
    }

    challenge = ngx_http_ttai_oauth_field(ctx, "code_challenge");
    v = ngx_http_ttai_oauth_field(ctx, "code_challenge_method");

    if (challenge == NULL || v == NULL || ngx_strcmp(v, "S256") != 0
        || !ttai_oauth_challenge_ok(challenge))
    {
        return ngx_http_ttai_oauth_back(r, p, "invalid_request",
                                        "PKCE with code_challenge_method "
                                        "S256 is required");
    }

    scope = ngx_http_ttai_oauth_field(ctx, "scope");
    if (ttai_oauth_scope_parse(scope, &trade) != 0) {
        return ngx_http_ttai_oauth_back(r, p, "invalid_scope",
                                        "the scopes are mcp:tools and "
                                        "mcp:trade");
    }

    p->code_challenge = challenge;

    /* asked for, not granted: the user decides on the consent page */
    p->scope = trade ? TTAI_OAUTH_SCOPES_TRADE : TTAI_OAUTH_SCOPE;
    p->resource = ngx_http_ttai_oauth_field(ctx, "resource");

    if (ttai_oauth_token(ctx->request) != 0
        || ttai_oauth_token(ctx->csrf) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_post(r,
               ttai_oauth_store_request_save(ctx->request, ctx->csrf, p,
                                             ngx_time()),
               ngx_http_ttai_oauth_consent_saved);
}


static ngx_int_t
ngx_http_ttai_oauth_consent_saved(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    u_char                     *p;
    char                       *html;
    ngx_str_t                   cookie;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    /*
     * The CSRF value is in the form and in a cookie only this site can
     * set; a forged POST from another page has the one but not the
     * other
     */
    cookie.len = sizeof("ttai_csrf=; Path=/authorize; HttpOnly; "
                        "SameSite=Lax; Max-Age=600; Secure") - 1
                 + TTAI_OAUTH_TOKEN_LEN;
    cookie.data = ngx_pnalloc(r->pool, cookie.len);
    if (cookie.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(cookie.data, "ttai_csrf=%s; Path=/authorize; HttpOnly; "
                    "SameSite=Lax; Max-Age=600%s", ctx->csrf,
                    ngx_strncmp(ctx->issuer.data, "https:", 6) == 0
                    ? "; Secure" : "");
    cookie.len = p - cookie.data;

    if (ngx_http_ttai_header(r, "Set-Cookie", (char *) cookie.data,
                             cookie.len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    html = ttai_oauth_consent_html(ctx->client.name,
                                   ctx->pending.redirect_uri,
                                   ctx->pending.scope, "/authorize",
                                   ctx->request, ctx->csrf);

    return ngx_http_ttai_oauth_html(r, NGX_HTTP_OK, html);
}


static void
ngx_http_ttai_oauth_decision_body(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    const char                 *request, *csrf, *decision, *trade;
    ngx_str_t                   cookie;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    ctx->form = ngx_http_ttai_oauth_body(r, 0, err, sizeof(err));
    if (ctx->form == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                     "Invalid form", err));
        return;
    }

    request = ngx_http_ttai_oauth_field(ctx, "request");
    csrf = ngx_http_ttai_oauth_field(ctx, "csrf");
    decision = ngx_http_ttai_oauth_field(ctx, "decision");

    /* the box of its own, for the trading the client asked for */
    trade = ngx_http_ttai_oauth_field(ctx, "trade");

    if (request == NULL || csrf == NULL || decision == NULL
        || ngx_http_ttai_oauth_cookie(r, &cookie) != NGX_OK
        || cookie.len != ngx_strlen(csrf)
        || sodium_memcmp(cookie.data, csrf, cookie.len) != 0)
    {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_page(r, NGX_HTTP_FORBIDDEN,
                                     "This form cannot be accepted",
                                     "It was not sent from ttai's own "
                                     "consent page, or it expired.  "
                                     "Start the sign-in again from your "
                                     "application."));
        return;
    }

    /* ctx->code holds ttai's state for TastyTrade until the callback */
    if (ttai_oauth_token(ctx->code) != 0) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            ttai_oauth_store_request_answer(request, csrf,
                ngx_strcmp(decision, "approve") == 0 ? ctx->code : NULL,
                trade != NULL && ngx_strcmp(trade, "1") == 0,
                ngx_time()),
            ngx_http_ttai_oauth_decided));
}


static ngx_int_t
ngx_http_ttai_oauth_decided(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *url, *client, *secret, *callback;
    const char                 *decision;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;
    ttcf = ngx_http_ttai_tt_conf(r);

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    ctx->found = json_incref(q->result);

    if (!ttai_oauth_store_request_answered(ctx->found, &ctx->pending)) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "This sign-in has expired",
                                        "It was answered already, or it "
                                        "waited too long.  Start again "
                                        "from your application.");
    }

    decision = ngx_http_ttai_oauth_field(ctx, "decision");

    if (ngx_strcmp(decision, "approve") != 0) {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "access_denied",
                                        "the user denied the request");
    }

    if (ttcf->authorize_url.len == 0) {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "server_error",
                                        "ttai_tastytrade_authorize_url is "
                                        "not configured");
    }

    /* checked here, before the user goes to TastyTrade for nothing */
    if (ngx_http_ttai_tt_client(r, &client, &secret) != NGX_OK
        || client == NULL)
    {
        return ngx_http_ttai_oauth_back(r, &ctx->pending, "server_error",
                                        "TASTYTRADE_CLIENT_ID and "
                                        "TASTYTRADE_CLIENT_SECRET are not "
                                        "set on this server");
    }

    callback = ngx_http_ttai_oauth_callback_url(r, ctx);
    if (callback == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* no PKCE toward TastyTrade: it takes none (a confidential client) */
    url = ttai_oauth_url((char *) ttcf->authorize_url.data,
                         "client_id", client,
                         "redirect_uri", callback,
                         "response_type", "code",
                         "scope", "read",
                         "state", ctx->code,
                         NULL);

    return ngx_http_ttai_oauth_redirect(r, url);
}


/* the ttai_csrf cookie */

static ngx_int_t
ngx_http_ttai_oauth_cookie(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_str_t  name;

    ngx_str_set(&name, "ttai_csrf");

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
