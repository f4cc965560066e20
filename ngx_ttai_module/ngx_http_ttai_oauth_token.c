
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_throttle.h"
#include "ngx_http_ttai_revoked.h"
#include "ttai_jwt.h"


/*
 * POST /token: authorization_code (with PKCE) and refresh_token.  The
 * client and the grant are read in one step and judged by the core
 * (ttai_oauth_grant.h); the grant is then used up in a statement that
 * succeeds only once, so that a code or a refresh token raced twice
 * gives one answer, not two.  What a refusal costs (a code used up by a
 * wrong verifier, the tokens of a grant presented twice revoked, access
 * tokens included) is stored before the refusal is answered.
 */


static void ngx_http_ttai_oauth_token_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_grant(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_issued(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_refuse_after(ngx_http_request_t *r,
    ttai_oauth_grant_row_t *grant);
static ngx_int_t ngx_http_ttai_oauth_refused(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_refuse(ngx_http_request_t *r,
    ttai_oauth_decision_t *d);
static ngx_int_t ngx_http_ttai_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx);
static void ngx_http_ttai_oauth_log_replayed(ngx_log_t *log,
    ngx_str_t *user, ngx_uint_t n, ngx_str_t *span, void *data);


ngx_int_t
ngx_http_ttai_oauth_token(ngx_http_request_t *r)
{
    if (r->method != NGX_HTTP_POST) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_ttai_oauth_read(r, ngx_http_ttai_oauth_token_body);
}


static void
ngx_http_ttai_oauth_token_body(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    ttai_oauth_decision_t       d;
    ttai_oauth_token_req_t     *t;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    ctx->form = ngx_http_ttai_oauth_body(r, 0, err, sizeof(err));
    if (ctx->form == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request", err));
        return;
    }

    t = &ctx->token;

    /* credentials that cannot be read are no credentials */
    if (ngx_http_ttai_oauth_client_auth(r, ctx) != NGX_OK) {
        t->client_id = NULL;
    }

    t->grant_type = ngx_http_ttai_oauth_field(ctx, "grant_type");
    t->code = ngx_http_ttai_oauth_field(ctx, "code");
    t->refresh_token = ngx_http_ttai_oauth_field(ctx, "refresh_token");
    t->redirect_uri = ngx_http_ttai_oauth_field(ctx, "redirect_uri");
    t->code_verifier = ngx_http_ttai_oauth_field(ctx, "code_verifier");

    if (ttai_oauth_token_check(t, &d) != 0) {
        ngx_http_finalize_request(r, ngx_http_ttai_oauth_refuse(r, &d));
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            ngx_strcmp(t->grant_type, "refresh_token") == 0
            ? ttai_oauth_store_grant(t->client_id, 1, t->refresh_token)
            : ttai_oauth_store_grant(t->client_id, 0, t->code),
            ngx_http_ttai_oauth_grant));
}


static ngx_int_t
ngx_http_ttai_oauth_grant(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    char                        family[TTAI_OAUTH_HASH_LEN + 1];
    char                        fam[TTAI_OAUTH_FAMILY_ID_LEN + 1];
    json_t                     *batch;
    ngx_str_t                   resource;
    ngx_uint_t                  refresh;
    const char                 *res;
    ttai_oauth_decision_t      *d;
    ttai_oauth_token_req_t     *t;
    ttai_oauth_grant_row_t      grant;
    ngx_http_ttai_oauth_ctx_t  *ctx;
    ngx_http_ttai_main_conf_t  *tmcf;

    ctx = q->data;
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    t = &ctx->token;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    ctx->found = json_incref(q->result);
    d = &ctx->decision;

    if (ttai_oauth_grant_check(
            ttai_oauth_store_client_read(ctx->found, &ctx->client)
            ? &ctx->client : NULL,
            ttai_oauth_store_grant_read(ctx->found, &grant) ? &grant : NULL,
            t, ngx_time(), d)
        != 0)
    {
        return ngx_http_ttai_oauth_refuse_after(r, &grant);
    }

    if (ttai_oauth_token(ctx->refresh) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    refresh = (ngx_strcmp(t->grant_type, "refresh_token") == 0);

    batch = refresh
            ? ttai_oauth_store_refresh_rotate(t->refresh_token, ctx->refresh,
                                              ngx_time())
            : ttai_oauth_store_code_redeem(t->code, ctx->refresh,
                                           ngx_time());

    /* the JWT /mcp accepts: the resource it was asked for, or /mcp */
    res = grant.resource;

    if (res == NULL || res[0] == '\0') {
        resource.len = ctx->issuer.len + sizeof("/mcp") - 1;
        resource.data = ngx_pnalloc(r->pool, resource.len + 1);
        if (resource.data == NULL) {
            json_decref(batch);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(resource.data, "%V/mcp%Z", &ctx->issuer);
        res = (char *) resource.data;
    }

    /*
     * The access token names its sign-in, so that revoking the sign-in
     * revokes it too: a rotation stays in the family of the token it
     * rotates, a code starts one
     */
    if (refresh) {
        ttai_oauth_family_id(grant.family, fam);

    } else {
        ttai_oauth_store_family_of(ctx->refresh, family);
        ttai_oauth_family_id(family, fam);
    }

    /* the scope the user granted at sign-in, trading only if ticked */
    ctx->scope = ttai_oauth_scope_trades(grant.scope) ? TTAI_OAUTH_SCOPES_TRADE
                                                      : TTAI_OAUTH_SCOPE;

    ctx->jwt = ttai_jwt_mint(tmcf->jwt_secret.data, tmcf->jwt_secret.len,
                             grant.user_id, NULL, (char *) ctx->issuer.data,
                             res, fam, ctx->scope, TTAI_OAUTH_ACCESS_TTL,
                             ngx_time());
    if (ctx->jwt == NULL) {
        json_decref(batch);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_post(r, batch, ngx_http_ttai_oauth_issued);
}


static ngx_int_t
ngx_http_ttai_oauth_issued(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    char                       *text;
    json_t                     *j;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         NGX_HTTP_TTAI_OAUTH_NO_DB);
    }

    if (!ttai_oauth_store_issued(q->result)) {
        ngx_memzero(ctx->refresh, sizeof(ctx->refresh));
        ttai_oauth_grant_raced(&ctx->token, &ctx->decision);
        return ngx_http_ttai_oauth_refuse_after(r, NULL);
    }

    j = json_pack("{s:s, s:s, s:i, s:s, s:s}",
                  "access_token", ctx->jwt,
                  "token_type", "Bearer",
                  "expires_in", TTAI_OAUTH_ACCESS_TTL,
                  "refresh_token", ctx->refresh,
                  "scope", ctx->scope ? ctx->scope : TTAI_OAUTH_SCOPE);

    ngx_memzero(ctx->refresh, sizeof(ctx->refresh));

    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);

    return ngx_http_ttai_oauth_json(r, NGX_HTTP_OK, text);
}


/*
 * The decision in ctx, with what it costs the grant stored first: the
 * code used up, or the family of the code or of the refresh token (the
 * grant read, or NULL when the grant is known by the request alone)
 * revoked
 */

static ngx_int_t
ngx_http_ttai_oauth_refuse_after(ngx_http_request_t *r,
    ttai_oauth_grant_row_t *grant)
{
    json_t                     *batch;
    ngx_str_t                   user;
    ngx_uint_t                  code;
    ttai_oauth_decision_t      *d;
    ttai_oauth_token_req_t     *t;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);
    d = &ctx->decision;
    t = &ctx->token;

    code = (ngx_strcmp(t->grant_type, "authorization_code") == 0);

    if (d->use_code) {
        batch = ttai_oauth_store_code_use(t->code);

    } else if (d->revoke_family && code) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: an authorization code of client \"%s\" was "
                      "presented again; the tokens it gave are revoked",
                      t->client_id);

        batch = ttai_oauth_store_code_revoke(t->code, ngx_time());

    } else if (d->revoke_family && grant != NULL) {
        /* a rotated token came back: stolen, or replayed */
        user.data = (u_char *) (grant->user_id ? grant->user_id : "");
        user.len = ngx_strlen(user.data);

        ngx_http_ttai_throttle(r->connection->log,
                               ngx_http_ttai_oauth_log_replayed, &user, 1,
                               NULL);

        batch = ttai_oauth_store_family_revoke(grant->family, ngx_time());

    } else {
        return ngx_http_ttai_oauth_refuse(r, d);
    }

    return ngx_http_ttai_oauth_post(r, batch, ngx_http_ttai_oauth_refused);
}


static ngx_int_t
ngx_http_ttai_oauth_refused(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    /* its access tokens are refused from now on, by every worker */
    if (q->rc == NGX_OK) {
        ngx_http_ttai_revoked_add(r, q->result);
    }

    /* the answer is the same whether the change was stored or not */
    return ngx_http_ttai_oauth_refuse(r, &ctx->decision);
}


/*
 * The core's decision as HTTP: a client that failed to authenticate is
 * 401, every other refusal 400
 */

static ngx_int_t
ngx_http_ttai_oauth_refuse(ngx_http_request_t *r, ttai_oauth_decision_t *d)
{
    return ngx_http_ttai_oauth_error(r,
               ngx_strcmp(d->error, "invalid_client") == 0
               ? NGX_HTTP_UNAUTHORIZED : NGX_HTTP_BAD_REQUEST,
               d->error, d->description);
}


/*
 * The client's id and secret: client_secret_basic (the Authorization
 * header) or client_secret_post (the form); a public client sends its
 * client_id alone
 */

static ngx_int_t
ngx_http_ttai_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx)
{
    u_char     *colon;
    char       *id, *pw;
    ngx_str_t   auth, plain;

    ctx->token.client_id = ngx_http_ttai_oauth_field(ctx, "client_id");
    ctx->token.client_secret = ngx_http_ttai_oauth_field(ctx,
                                                         "client_secret");

    if (r->headers_in.authorization == NULL) {
        return NGX_OK;
    }

    auth = r->headers_in.authorization->value;

    if (auth.len < sizeof("Basic ") - 1
        || ngx_strncasecmp(auth.data, (u_char *) "Basic ",
                           sizeof("Basic ") - 1) != 0)
    {
        return NGX_OK;
    }

    auth.data += sizeof("Basic ") - 1;
    auth.len -= sizeof("Basic ") - 1;

    plain.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(auth.len)
                                      + 1);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(&plain, &auth) != NGX_OK) {
        return NGX_OK;
    }

    colon = ngx_strlchr(plain.data, plain.data + plain.len, ':');
    if (colon == NULL) {
        return NGX_OK;
    }

    /* RFC 6749 2.3.1: both parts are form-urlencoded */
    id = ttai_oauth_unescape((char *) plain.data, colon - plain.data);
    pw = ttai_oauth_unescape((char *) colon + 1,
                             plain.data + plain.len - colon - 1);

    if (id == NULL || pw == NULL) {
        free(id);
        free(pw);
        return NGX_ERROR;
    }

    /* kept in the form, which the request's cleanup frees */
    if (json_object_set_new(ctx->form, "client_id", json_string(id)) != 0
        || json_object_set_new(ctx->form, "client_secret",
                               json_string(pw)) != 0)
    {
        sodium_memzero(pw, ngx_strlen(pw));
        free(id);
        free(pw);
        return NGX_ERROR;
    }

    sodium_memzero(pw, ngx_strlen(pw));
    free(id);
    free(pw);

    ctx->token.client_id = ngx_http_ttai_oauth_field(ctx, "client_id");
    ctx->token.client_secret = ngx_http_ttai_oauth_field(ctx,
                                                         "client_secret");
    ctx->token.basic = 1;

    return NGX_OK;
}


/* a client can present the same used token in a loop */

static void
ngx_http_ttai_oauth_log_replayed(ngx_log_t *log, ngx_str_t *user,
    ngx_uint_t n, ngx_str_t *span, void *data)
{
    if (span->len == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ttai: a used refresh token of user \"%V\" was "
                      "presented again; its family is revoked", user);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: used refresh tokens of user \"%V\" were presented "
                  "again %ui %s%V; their families are revoked", user, n,
                  n == 1 ? "time" : "times", span);
}
