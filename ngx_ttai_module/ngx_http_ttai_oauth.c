
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_fetch.h"
#include "ttai_crypto.h"
#include "ttai_jwt.h"
#include "ttai_oauth.h"


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
 * secret as a hash; every statement runs on the thread pool, each step
 * of a handler in the handler's own callback.
 */


#define NGX_HTTP_TTAI_OAUTH_MAX_BODY     65536
#define NGX_HTTP_TTAI_OAUTH_REQUEST_TTL  600      /* consent and TastyTrade */
#define NGX_HTTP_TTAI_OAUTH_CODE_TTL     60
#define NGX_HTTP_TTAI_OAUTH_ACCESS_TTL   3600
#define NGX_HTTP_TTAI_OAUTH_REFRESH_TTL  (30 * 86400)
#define NGX_HTTP_TTAI_OAUTH_SCOPE        "mcp:tools"

/* registrations per client address: 10 a minute, 10 at once */
#define NGX_HTTP_TTAI_OAUTH_REG_RATE     (10 * 1000 / 60)
#define NGX_HTTP_TTAI_OAUTH_REG_BURST    10


typedef struct {
    ngx_str_t                  issuer;
    json_t                    *form;         /* query or form fields */
    json_t                    *row;          /* what the last query found */
    json_t                    *client;       /* its oauth_clients row */

    /* /register */
    ttai_oauth_client_t        reg;
    char                       client_id[TTAI_OAUTH_TOKEN_LEN + 1];
    char                       secret[TTAI_OAUTH_TOKEN_LEN + 1];

    /* /authorize */
    char                       request[TTAI_OAUTH_TOKEN_LEN + 1];
    char                       csrf[TTAI_OAUTH_TOKEN_LEN + 1];
    char                       state_hash[TTAI_OAUTH_HASH_LEN + 1];

    /* /callback */
    ngx_str_t                  tt_access;
    ngx_str_t                  tt_refresh;
    time_t                     tt_expires;
    char                      *user;
    char                       code[TTAI_OAUTH_TOKEN_LEN + 1];

    /* /token */
    char                       refresh[TTAI_OAUTH_TOKEN_LEN + 1];
    char                      *jwt;
} ngx_http_ttai_oauth_ctx_t;


static ngx_int_t ngx_http_ttai_oauth_metadata(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_register(ngx_http_request_t *r);
static void ngx_http_ttai_oauth_register_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_registered(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_authorize(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_consent(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_consent_saved(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_oauth_decision_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_decided(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_callback(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_returned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_exchanged(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_oauth_identified(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_oauth_signed_in(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_token(ngx_http_request_t *r);
static void ngx_http_ttai_oauth_token_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_grant(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_issued(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_family_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_oauth_revoke(ngx_http_request_t *r);
static void ngx_http_ttai_oauth_revoke_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);

static ngx_http_ttai_oauth_ctx_t *ngx_http_ttai_oauth_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
static json_t *ngx_http_ttai_oauth_body(ngx_http_request_t *r,
    ngx_uint_t json, char *err, size_t errlen);
static const char *ngx_http_ttai_oauth_field(ngx_http_ttai_oauth_ctx_t *ctx,
    const char *name);
static ngx_int_t ngx_http_ttai_oauth_post(ngx_http_request_t *r,
    json_t *batch, ngx_http_ttai_d1_handler_pt handler);
static json_t *ngx_http_ttai_oauth_stmt(const char *sql, json_t *params);
static json_t *ngx_http_ttai_oauth_rows(ngx_http_ttai_d1_query_t *q,
    size_t i);
static ngx_int_t ngx_http_ttai_oauth_changes(ngx_http_ttai_d1_query_t *q,
    size_t i);
static ngx_int_t ngx_http_ttai_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx, const char **client_id,
    const char **secret);
static ngx_int_t ngx_http_ttai_oauth_json(ngx_http_request_t *r,
    ngx_uint_t status, char *text);
static ngx_int_t ngx_http_ttai_oauth_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description);
static ngx_int_t ngx_http_ttai_oauth_html(ngx_http_request_t *r,
    ngx_uint_t status, char *html);
static ngx_int_t ngx_http_ttai_oauth_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, const char *message);
static ngx_int_t ngx_http_ttai_oauth_redirect(ngx_http_request_t *r,
    char *url);
static ngx_int_t ngx_http_ttai_oauth_back(ngx_http_request_t *r,
    json_t *req, const char *error, const char *description);
static ngx_int_t ngx_http_ttai_oauth_headers(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_oauth_cookie(ngx_http_request_t *r,
    ngx_str_t *value);
static ngx_int_t ngx_http_ttai_oauth_busy(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_http_ttai_oauth_cleanup(void *data);
static char *ngx_http_ttai_oauth_callback_url(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx);
static char *ngx_http_ttai_oauth_cstr_json(ngx_pool_t *pool, json_t *v);


static char  ngx_http_ttai_oauth_no_db[] =
    "the sign-in store (D1) is not available";


char *
ngx_http_ttai_oauth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_http_handler_pt   handler;

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

    if (ngx_http_ttai_set_handler(cf, handler) == NULL) {
        return "is duplicate";
    }

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


/* POST /register (RFC 7591) */

static ngx_int_t
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
    char                        err[TTAI_OAUTH_ERRLEN], hash[65];
    char                       *uris, *grants;
    json_t                     *req, *params;
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

    } else {
        ttai_oauth_hash(ctx->secret, ngx_strlen(ctx->secret), hash);
    }

    uris = json_dumps(ctx->reg.redirect_uris, JSON_COMPACT);
    grants = json_dumps(ctx->reg.grant_types, JSON_COMPACT);

    params = (uris != NULL && grants != NULL)
             ? json_pack("[s, s?, s, s, s, s]", ctx->client_id,
                         ctx->secret[0] ? hash : NULL, ctx->reg.name, uris,
                         ctx->reg.auth_method, grants)
             : NULL;

    free(uris);
    free(grants);

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            json_pack("[o]", ngx_http_ttai_oauth_stmt(
                "INSERT INTO oauth_clients (client_id, secret_hash, name, "
                "redirect_uris, auth_method, grant_types) "
                "VALUES (?, ?, ?, ?, ?, ?)", params)),
            ngx_http_ttai_oauth_registered));
}


static ngx_int_t
ngx_http_ttai_oauth_registered(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
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

    if (j != NULL && ctx->secret[0]) {
        json_object_set_new(j, "client_secret", json_string(ctx->secret));
        json_object_set_new(j, "client_secret_expires_at", json_integer(0));
    }

    ngx_memzero(ctx->secret, sizeof(ctx->secret));

    return ngx_http_ttai_oauth_json(r, NGX_HTTP_CREATED,
               j ? json_dumps(j, JSON_COMPACT) : NULL);
}


/*
 * GET /authorize: the client and its redirect URI are checked before
 * anything is sent back to that URI (an unknown pair gets a page, never
 * a redirect: no open redirector), then the request is kept and the
 * user asked.  POST /authorize is the user's answer.
 */

static ngx_int_t
ngx_http_ttai_oauth_authorize(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN];
    const char                 *client_id;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_ttai_oauth_read(r,
                                        ngx_http_ttai_oauth_decision_body);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_ttai_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->form = ttai_oauth_form((char *) r->args.data, r->args.len, err,
                                sizeof(err));
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

    return ngx_http_ttai_oauth_post(r,
               json_pack("[o]", ngx_http_ttai_oauth_stmt(
                   "SELECT client_id, name, redirect_uris, auth_method "
                   "FROM oauth_clients WHERE client_id = ?",
                   json_pack("[s]", client_id))),
               ngx_http_ttai_oauth_consent);
}


static ngx_int_t
ngx_http_ttai_oauth_consent(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                        hid[65], hcsrf[65];
    json_t                     *client, *uris, *req;
    const char                 *redirect, *v, *challenge, *scope, *res;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        ngx_http_ttai_oauth_no_db);
    }

    client = json_array_get(ngx_http_ttai_oauth_rows(q, 0), 0);
    redirect = ngx_http_ttai_oauth_field(ctx, "redirect_uri");

    uris = client ? json_loads(json_string_value(json_object_get(client,
                                   "redirect_uris")), 0, NULL)
                  : NULL;

    if (client == NULL || !ttai_oauth_redirect_registered(uris, redirect)) {
        json_decref(uris);
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Unknown application",
                                        client == NULL
                                        ? "This application is not "
                                          "registered with ttai."
                                        : "The redirect URI is not one the "
                                          "application registered.");
    }

    json_decref(uris);
    ctx->client = json_incref(client);

    /* from here on, errors go back to the client */
    req = json_pack("{s:s, s:s?}", "redirect_uri", redirect,
                    "client_state",
                    ngx_http_ttai_oauth_field(ctx, "state"));
    if (req == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->row = req;

    v = ngx_http_ttai_oauth_field(ctx, "response_type");
    if (v == NULL || ngx_strcmp(v, "code") != 0) {
        return ngx_http_ttai_oauth_back(r, req, "unsupported_response_type",
                                        "response_type must be code");
    }

    challenge = ngx_http_ttai_oauth_field(ctx, "code_challenge");
    v = ngx_http_ttai_oauth_field(ctx, "code_challenge_method");

    if (challenge == NULL || v == NULL || ngx_strcmp(v, "S256") != 0
        || !ttai_oauth_challenge_ok(challenge))
    {
        return ngx_http_ttai_oauth_back(r, req, "invalid_request",
                                        "PKCE with code_challenge_method "
                                        "S256 is required");
    }

    scope = ngx_http_ttai_oauth_field(ctx, "scope");
    if (scope != NULL && scope[0] != '\0'
        && ngx_strcmp(scope, NGX_HTTP_TTAI_OAUTH_SCOPE) != 0)
    {
        return ngx_http_ttai_oauth_back(r, req, "invalid_scope",
                                        "the only scope is mcp:tools");
    }

    res = ngx_http_ttai_oauth_field(ctx, "resource");

    if (ttai_oauth_token(ctx->request) != 0
        || ttai_oauth_token(ctx->csrf) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ttai_oauth_hash(ctx->request, TTAI_OAUTH_TOKEN_LEN, hid);
    ttai_oauth_hash(ctx->csrf, TTAI_OAUTH_TOKEN_LEN, hcsrf);

    return ngx_http_ttai_oauth_post(r,
               json_pack("[o]", ngx_http_ttai_oauth_stmt(
                   "INSERT INTO oauth_requests (id_hash, csrf_hash, "
                   "client_id, redirect_uri, code_challenge, client_state, "
                   "scope, resource, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   json_pack("[s, s, s, s, s, s?, s, s?, I]", hid, hcsrf,
                             json_string_value(json_object_get(client,
                                                               "client_id")),
                             redirect, challenge,
                             ngx_http_ttai_oauth_field(ctx, "state"),
                             NGX_HTTP_TTAI_OAUTH_SCOPE, res,
                             (json_int_t) (ngx_time()
                                 + NGX_HTTP_TTAI_OAUTH_REQUEST_TTL)))),
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
                                        ngx_http_ttai_oauth_no_db);
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

    html = ttai_oauth_consent_html(
               json_string_value(json_object_get(ctx->client, "name")),
               json_string_value(json_object_get(ctx->row, "redirect_uri")),
               NGX_HTTP_TTAI_OAUTH_SCOPE, "/authorize", ctx->request,
               ctx->csrf);

    return ngx_http_ttai_oauth_html(r, NGX_HTTP_OK, html);
}


static void
ngx_http_ttai_oauth_decision_body(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN], hid[65], hcsrf[65];
    const char                 *request, *csrf, *decision;
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

    ttai_oauth_hash(request, ngx_strlen(request), hid);
    ttai_oauth_hash(csrf, ngx_strlen(csrf), hcsrf);

    if (ttai_oauth_token(ctx->code) != 0) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* ctx->code holds ttai's state for TastyTrade until the callback */
    ttai_oauth_hash(ctx->code, TTAI_OAUTH_TOKEN_LEN, ctx->state_hash);

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            json_pack("[o, o]",
                ngx_http_ttai_oauth_stmt(
                    "SELECT client_id, redirect_uri, client_state "
                    "FROM oauth_requests WHERE id_hash = ? AND csrf_hash = ? "
                    "AND state_hash IS NULL AND expires_at > ?",
                    json_pack("[s, s, I]", hid, hcsrf,
                              (json_int_t) ngx_time())),
                ngx_strcmp(decision, "approve") == 0
                ? ngx_http_ttai_oauth_stmt(
                      "UPDATE oauth_requests SET state_hash = ? "
                      "WHERE id_hash = ? AND csrf_hash = ? "
                      "AND state_hash IS NULL AND expires_at > ?",
                      json_pack("[s, s, s, I]", ctx->state_hash, hid, hcsrf,
                                (json_int_t) ngx_time()))
                : ngx_http_ttai_oauth_stmt(
                      "DELETE FROM oauth_requests "
                      "WHERE id_hash = ? AND csrf_hash = ?",
                      json_pack("[s, s]", hid, hcsrf))),
            ngx_http_ttai_oauth_decided));
}


static ngx_int_t
ngx_http_ttai_oauth_decided(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *url, *client, *secret, *callback;
    json_t                     *req;
    const char                 *decision;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;
    ttcf = ngx_http_ttai_tt_conf(r);

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        ngx_http_ttai_oauth_no_db);
    }

    req = json_array_get(ngx_http_ttai_oauth_rows(q, 0), 0);

    if (req == NULL || ngx_http_ttai_oauth_changes(q, 1) != 1) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "This sign-in has expired",
                                        "It was answered already, or it "
                                        "waited too long.  Start again "
                                        "from your application.");
    }

    decision = ngx_http_ttai_oauth_field(ctx, "decision");

    if (ngx_strcmp(decision, "approve") != 0) {
        return ngx_http_ttai_oauth_back(r, req, "access_denied",
                                        "the user denied the request");
    }

    if (ttcf->authorize_url.len == 0) {
        return ngx_http_ttai_oauth_back(r, req, "server_error",
                                        "ttai_tastytrade_authorize_url is "
                                        "not configured");
    }

    /* checked here, before the user goes to TastyTrade for nothing */
    if (ngx_http_ttai_tt_client(r, &client, &secret) != NGX_OK
        || client == NULL)
    {
        return ngx_http_ttai_oauth_back(r, req, "server_error",
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


/*
 * GET /callback: TastyTrade sends the browser back with its code and
 * ttai's state.  The state finds the sign-in (once); the code is
 * exchanged with a POST subrequest (ttai as a confidential client, no
 * PKCE upstream); the accounts name the user; then the client gets a
 * code of ttai's own.
 */

static ngx_int_t
ngx_http_ttai_oauth_callback(ngx_http_request_t *r)
{
    char                        err[TTAI_OAUTH_ERRLEN], hstate[65];
    const char                 *state;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_ttai_oauth_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->form = ttai_oauth_form((char *) r->args.data, r->args.len, err,
                                sizeof(err));
    state = ctx->form ? ngx_http_ttai_oauth_field(ctx, "state") : NULL;

    if (state == NULL) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Invalid sign-in",
                                        "TastyTrade's answer has no state.");
    }

    ttai_oauth_hash(state, ngx_strlen(state), hstate);

    /* single use: found and deleted in one transaction */
    return ngx_http_ttai_oauth_post(r,
               json_pack("[o, o]",
                   ngx_http_ttai_oauth_stmt(
                       "SELECT client_id, redirect_uri, code_challenge, "
                       "client_state, scope, resource FROM oauth_requests "
                       "WHERE state_hash = ? AND expires_at > ?",
                       json_pack("[s, I]", hstate, (json_int_t) ngx_time())),
                   ngx_http_ttai_oauth_stmt(
                       "DELETE FROM oauth_requests WHERE state_hash = ?",
                       json_pack("[s]", hstate))),
               ngx_http_ttai_oauth_returned);
}


static ngx_int_t
ngx_http_ttai_oauth_returned(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *callback, *secret, *client;
    json_t                     *req;
    ngx_int_t                   rc;
    const char                 *code, *error;
    ngx_http_ttai_fetch_t      *f;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "Sign-in is unavailable",
                                        ngx_http_ttai_oauth_no_db);
    }

    req = json_array_get(ngx_http_ttai_oauth_rows(q, 0), 0);

    if (req == NULL) {
        /* a forged or replayed state: nothing to send anywhere */
        return ngx_http_ttai_oauth_page(r, NGX_HTTP_BAD_REQUEST,
                                        "Unknown sign-in",
                                        "This sign-in is unknown, was "
                                        "finished already, or expired.  "
                                        "Start again from your "
                                        "application.");
    }

    ctx->row = json_incref(req);

    error = ngx_http_ttai_oauth_field(ctx, "error");
    code = ngx_http_ttai_oauth_field(ctx, "code");

    if (error != NULL || code == NULL) {
        return ngx_http_ttai_oauth_back(r, req, "access_denied",
                                        "TastyTrade did not grant access");
    }

    if (ngx_http_ttai_tt_client(r, &client, &secret) != NGX_OK
        || client == NULL)
    {
        return ngx_http_ttai_oauth_back(r, req, "server_error",
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
    f->post = 1;
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
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: TastyTrade's token endpoint refused the "
                      "sign-in's code: %ui %s", f->status,
                      f->error ? f->error : "");

        return ngx_http_ttai_oauth_back(r, ctx->row, "access_denied",
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

    char                       *user, hcode[65], *sealed[2];
    size_t                      i, slen;
    json_t                     *j, *item, *batch;
    u_char                     *blob;
    ngx_str_t                  *tokens[2];
    const char                 *number;
    ngx_http_ttai_main_conf_t  *tmcf;

    static char  *fields[] = { "access_token", "refresh_token" };

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
        return ngx_http_ttai_oauth_back(r, ctx->row, "server_error",
                                        "TastyTrade did not say which "
                                        "account signed in");
    }

    ctx->user = user;

    /* sealed as "ttai tastytrade connect" seals them */
    tokens[0] = &ctx->tt_access;
    tokens[1] = &ctx->tt_refresh;

    for (i = 0; i < 2; i++) {
        slen = tokens[i]->len + TTAI_CRYPTO_OVERHEAD;
        blob = ngx_pnalloc(r->pool, slen);
        sealed[i] = ngx_pnalloc(r->pool,
                                sodium_base64_ENCODED_LEN(slen,
                                    sodium_base64_VARIANT_ORIGINAL));

        if (blob == NULL || sealed[i] == NULL
            || ttai_token_seal(tmcf->token_key, user, fields[i],
                               tokens[i]->data, tokens[i]->len, blob)
               != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sodium_bin2base64(sealed[i],
                          sodium_base64_ENCODED_LEN(slen,
                              sodium_base64_VARIANT_ORIGINAL),
                          blob, slen, sodium_base64_VARIANT_ORIGINAL);
    }

    if (ttai_oauth_token(ctx->code) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ttai_oauth_hash(ctx->code, TTAI_OAUTH_TOKEN_LEN, hcode);

    batch = json_pack("[o, o, o]",
        ngx_http_ttai_oauth_stmt(
            "INSERT INTO users (id, created_at, updated_at) "
            "VALUES (?1, ?2, ?2) "
            "ON CONFLICT (id) DO UPDATE SET updated_at = ?2",
            json_pack("[s, I]", user, (json_int_t) ngx_time())),
        ngx_http_ttai_oauth_stmt(
            "INSERT INTO user_oauth_tokens (user_id, provider, access_token, "
            "refresh_token, expires_at, scope, updated_at) "
            "VALUES (?1, 'tastytrade', ?2, ?3, ?4, 'read', ?5) "
            "ON CONFLICT (user_id, provider) DO UPDATE SET "
            "access_token = ?2, refresh_token = ?3, expires_at = ?4, "
            "updated_at = ?5",
            json_pack("[s, {s:s}, {s:s}, I, I]", user, "blob", sealed[0],
                      "blob", sealed[1], (json_int_t) ctx->tt_expires,
                      (json_int_t) ngx_time())),
        ngx_http_ttai_oauth_stmt(
            "INSERT INTO oauth_codes (code_hash, client_id, user_id, "
            "redirect_uri, code_challenge, scope, resource, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            json_pack("[s, O, s, O, O, O, O, I]", hcode,
                      json_object_get(ctx->row, "client_id"), user,
                      json_object_get(ctx->row, "redirect_uri"),
                      json_object_get(ctx->row, "code_challenge"),
                      json_object_get(ctx->row, "scope"),
                      json_object_get(ctx->row, "resource"),
                      (json_int_t) (ngx_time()
                                    + NGX_HTTP_TTAI_OAUTH_CODE_TTL))));

    return ngx_http_ttai_oauth_post(r, batch,
                                    ngx_http_ttai_oauth_signed_in);
}


static ngx_int_t
ngx_http_ttai_oauth_signed_in(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *url;
    const char                 *state;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;
    ttcf = ngx_http_ttai_tt_conf(r);

    sodium_memzero(ctx->tt_refresh.data, ctx->tt_refresh.len);

    if (q->rc != NGX_OK) {
        sodium_memzero(ctx->tt_access.data, ctx->tt_access.len);
        return ngx_http_ttai_oauth_back(r, ctx->row, "server_error",
                                        "the sign-in could not be stored");
    }

    /* the first tool call needs no refresh */
    if (ttcf->zone != NULL) {
        ngx_str_t  user;

        user.data = (u_char *) ctx->user;
        user.len = ngx_strlen(ctx->user);

        ngx_http_ttai_tt_token_set(ttcf->zone, &user, &ctx->tt_access,
                                   ctx->tt_expires);
    }

    sodium_memzero(ctx->tt_access.data, ctx->tt_access.len);

    state = json_string_value(json_object_get(ctx->row, "client_state"));

    url = ttai_oauth_url(json_string_value(json_object_get(ctx->row,
                                                           "redirect_uri")),
                         "code", ctx->code,
                         "state", state,
                         "iss", (char *) ctx->issuer.data,
                         NULL);

    return ngx_http_ttai_oauth_redirect(r, url);
}


/*
 * POST /token: authorization_code (with PKCE) and refresh_token.  The
 * client and the grant are read in one step; the grant is then used up
 * in a statement that succeeds only once, so that a code or a refresh
 * token raced twice gives one answer, not two.
 */

static ngx_int_t
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
    char                        err[TTAI_OAUTH_ERRLEN], hash[65];
    json_t                     *grant;
    const char                 *type, *client_id, *secret, *secret_tok;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    ctx->form = ngx_http_ttai_oauth_body(r, 0, err, sizeof(err));
    if (ctx->form == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request", err));
        return;
    }

    if (ngx_http_ttai_oauth_client_auth(r, ctx, &client_id, &secret)
        != NGX_OK || client_id == NULL)
    {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                      "invalid_client",
                                      "client_id is required"));
        return;
    }

    type = ngx_http_ttai_oauth_field(ctx, "grant_type");

    if (type != NULL && ngx_strcmp(type, "authorization_code") == 0) {
        secret_tok = ngx_http_ttai_oauth_field(ctx, "code");
        grant = ngx_http_ttai_oauth_stmt(
                    "SELECT client_id, user_id, redirect_uri, "
                    "code_challenge, scope, resource, expires_at, used "
                    "FROM oauth_codes WHERE code_hash = ?", NULL);

    } else if (type != NULL && ngx_strcmp(type, "refresh_token") == 0) {
        secret_tok = ngx_http_ttai_oauth_field(ctx, "refresh_token");
        grant = ngx_http_ttai_oauth_stmt(
                    "SELECT family, client_id, user_id, scope, resource, "
                    "expires_at, used, revoked "
                    "FROM oauth_refresh_tokens WHERE token_hash = ?", NULL);

    } else {
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "unsupported_grant_type",
                                      "grant_type must be authorization_code "
                                      "or refresh_token"));
        return;
    }

    if (secret_tok == NULL) {
        json_decref(grant);
        ngx_http_finalize_request(r,
            ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_request",
                                      type[0] == 'a' ? "code is required"
                                      : "refresh_token is required"));
        return;
    }

    ttai_oauth_hash(secret_tok, ngx_strlen(secret_tok), hash);

    if (grant != NULL) {
        json_object_set_new(grant, "params", json_pack("[s]", hash));
    }

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            json_pack("[o, o]",
                ngx_http_ttai_oauth_stmt(
                    "SELECT client_id, secret_hash, redirect_uris, "
                    "grant_types FROM oauth_clients WHERE client_id = ?",
                    json_pack("[s]", client_id)),
                grant),
            ngx_http_ttai_oauth_grant));
}


static ngx_int_t
ngx_http_ttai_oauth_grant(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    char                        hash[65], hnew[65];
    json_t                     *client, *row, *batch;
    ngx_str_t                   resource;
    const char                 *client_id, *secret, *type, *v, *res, *family;
    const char                 *redirect;
    ngx_http_ttai_oauth_ctx_t  *ctx;
    ngx_http_ttai_main_conf_t  *tmcf;

    ctx = q->data;
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         ngx_http_ttai_oauth_no_db);
    }

    client = json_array_get(ngx_http_ttai_oauth_rows(q, 0), 0);
    row = json_array_get(ngx_http_ttai_oauth_rows(q, 1), 0);

    if (ngx_http_ttai_oauth_client_auth(r, ctx, &client_id, &secret)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a confidential client proves its secret; a public one has none */
    v = json_string_value(json_object_get(client, "secret_hash"));

    if (client == NULL
        || (v != NULL && (secret == NULL
                          || !ttai_oauth_hash_equal(secret,
                                                    ngx_strlen(secret), v)))
        || (v == NULL && secret != NULL))
    {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_UNAUTHORIZED,
                                         "invalid_client",
                                         "unknown client, or wrong client "
                                         "credentials");
    }

    ctx->client = json_incref(client);
    ctx->row = json_incref(row);

    type = ngx_http_ttai_oauth_field(ctx, "grant_type");

    if (row == NULL
        || ngx_strcmp(json_string_value(json_object_get(row, "client_id")),
                      client_id) != 0)
    {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_grant",
                                         type[0] == 'a'
                                         ? "unknown authorization code"
                                         : "unknown refresh token");
    }

    if (json_integer_value(json_object_get(row, "expires_at"))
        <= ngx_time())
    {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_grant",
                                         type[0] == 'a'
                                         ? "the authorization code expired"
                                         : "the refresh token expired");
    }

    if (ttai_oauth_token(ctx->refresh) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ttai_oauth_hash(ctx->refresh, TTAI_OAUTH_TOKEN_LEN, hnew);

    if (type[0] == 'a') {
        if (json_integer_value(json_object_get(row, "used"))) {
            return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the authorization code was "
                                             "used already");
        }

        redirect = ngx_http_ttai_oauth_field(ctx, "redirect_uri");

        if (redirect == NULL
            || ngx_strcmp(redirect,
                          json_string_value(json_object_get(row,
                              "redirect_uri"))) != 0)
        {
            return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "redirect_uri does not match "
                                             "the authorization request");
        }

        v = ngx_http_ttai_oauth_field(ctx, "code_verifier");

        if (v == NULL
            || !ttai_oauth_pkce_verify(v, json_string_value(
                                            json_object_get(row,
                                                "code_challenge"))))
        {
            return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the PKCE code_verifier does "
                                             "not match");
        }

        ttai_oauth_hash(ngx_http_ttai_oauth_field(ctx, "code"),
                        ngx_strlen(ngx_http_ttai_oauth_field(ctx, "code")),
                        hash);

        /* the new family is the first token's own hash */
        batch = json_pack("[o, o]",
            ngx_http_ttai_oauth_stmt(
                "INSERT INTO oauth_refresh_tokens (token_hash, family, "
                "client_id, user_id, scope, resource, created_at, "
                "expires_at) SELECT ?1, ?1, client_id, user_id, scope, "
                "resource, ?2, ?3 FROM oauth_codes "
                "WHERE code_hash = ?4 AND used = 0",
                json_pack("[s, I, I, s]", hnew, (json_int_t) ngx_time(),
                          (json_int_t) (ngx_time()
                                        + NGX_HTTP_TTAI_OAUTH_REFRESH_TTL),
                          hash)),
            ngx_http_ttai_oauth_stmt(
                "UPDATE oauth_codes SET used = 1 WHERE code_hash = ?",
                json_pack("[s]", hash)));

    } else {
        family = json_string_value(json_object_get(row, "family"));

        if (json_integer_value(json_object_get(row, "revoked"))) {
            return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the refresh token was "
                                             "revoked");
        }

        if (json_integer_value(json_object_get(row, "used"))) {
            /* a rotated token came back: stolen, or replayed */
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "ttai: a used refresh token of user \"%s\" was "
                          "presented again; its family is revoked",
                          json_string_value(json_object_get(row,
                                                            "user_id")));

            return ngx_http_ttai_oauth_post(r,
                       json_pack("[o]", ngx_http_ttai_oauth_stmt(
                           "UPDATE oauth_refresh_tokens SET revoked = 1 "
                           "WHERE family = ?", json_pack("[s]", family))),
                       ngx_http_ttai_oauth_family_revoked);
        }

        ttai_oauth_hash(ngx_http_ttai_oauth_field(ctx, "refresh_token"),
                        ngx_strlen(ngx_http_ttai_oauth_field(ctx,
                                       "refresh_token")), hash);

        batch = json_pack("[o, o]",
            ngx_http_ttai_oauth_stmt(
                "INSERT INTO oauth_refresh_tokens (token_hash, family, "
                "client_id, user_id, scope, resource, created_at, "
                "expires_at) SELECT ?1, family, client_id, user_id, scope, "
                "resource, ?2, ?3 FROM oauth_refresh_tokens "
                "WHERE token_hash = ?4 AND used = 0 AND revoked = 0",
                json_pack("[s, I, I, s]", hnew, (json_int_t) ngx_time(),
                          (json_int_t) (ngx_time()
                                        + NGX_HTTP_TTAI_OAUTH_REFRESH_TTL),
                          hash)),
            ngx_http_ttai_oauth_stmt(
                "UPDATE oauth_refresh_tokens SET used = 1 "
                "WHERE token_hash = ?", json_pack("[s]", hash)));
    }

    /* the JWT /mcp accepts: the resource it was asked for, or /mcp */
    res = json_string_value(json_object_get(row, "resource"));

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

    ctx->jwt = ttai_jwt_mint(tmcf->jwt_secret.data, tmcf->jwt_secret.len,
                             json_string_value(json_object_get(row,
                                                               "user_id")),
                             NULL, (char *) ctx->issuer.data, res,
                             NGX_HTTP_TTAI_OAUTH_ACCESS_TTL, ngx_time());
    if (ctx->jwt == NULL) {
        json_decref(batch);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_oauth_post(r, batch, ngx_http_ttai_oauth_issued);
}


static ngx_int_t
ngx_http_ttai_oauth_issued(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    json_t                     *j;
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         ngx_http_ttai_oauth_no_db);
    }

    if (ngx_http_ttai_oauth_changes(q, 0) != 1) {
        /* another request used the same grant a moment earlier */
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_grant",
                                         "the grant was used already");
    }

    j = json_pack("{s:s, s:s, s:i, s:s, s:s}",
                  "access_token", ctx->jwt,
                  "token_type", "Bearer",
                  "expires_in", NGX_HTTP_TTAI_OAUTH_ACCESS_TTL,
                  "refresh_token", ctx->refresh,
                  "scope", NGX_HTTP_TTAI_OAUTH_SCOPE);

    ngx_memzero(ctx->refresh, sizeof(ctx->refresh));

    return ngx_http_ttai_oauth_json(r, NGX_HTTP_OK,
                                    j ? json_dumps(j, JSON_COMPACT) : NULL);
}


static ngx_int_t
ngx_http_ttai_oauth_family_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    return ngx_http_ttai_oauth_error(r, NGX_HTTP_BAD_REQUEST,
                                     "invalid_grant",
                                     "the refresh token was used already; "
                                     "every token of this sign-in is now "
                                     "revoked");
}


/* POST /revoke (RFC 7009): a refresh token, and its family with it */

static ngx_int_t
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
    char                        err[TTAI_OAUTH_ERRLEN], hash[65];
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

    ttai_oauth_hash(token, ngx_strlen(token), hash);

    ngx_http_finalize_request(r,
        ngx_http_ttai_oauth_post(r,
            json_pack("[o]", ngx_http_ttai_oauth_stmt(
                "UPDATE oauth_refresh_tokens SET revoked = 1 WHERE family = "
                "(SELECT family FROM oauth_refresh_tokens "
                "WHERE token_hash = ?)", json_pack("[s]", hash))),
            ngx_http_ttai_oauth_revoked));
}


static ngx_int_t
ngx_http_ttai_oauth_revoked(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    if (q->rc != NGX_OK) {
        return ngx_http_ttai_oauth_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "temporarily_unavailable",
                                         ngx_http_ttai_oauth_no_db);
    }

    /* RFC 7009: an unknown token is answered 200 too */
    return ngx_http_ttai_oauth_json(r, NGX_HTTP_OK, strdup("{}"));
}


/* -- helpers ---------------------------------------------------------- */


static ngx_http_ttai_oauth_ctx_t *
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
    json_decref(ctx->row);
    json_decref(ctx->client);
    ttai_oauth_client_free(&ctx->reg);
    free(ctx->jwt);

    sodium_memzero(ctx->secret, sizeof(ctx->secret));
    sodium_memzero(ctx->refresh, sizeof(ctx->refresh));
    sodium_memzero(ctx->code, sizeof(ctx->code));
}


/* reads a POST body, in memory and bounded, then runs handler */

static ngx_int_t
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


/* the body as JSON (json) or as form fields; NULL with err */

static json_t *
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


static const char *
ngx_http_ttai_oauth_field(ngx_http_ttai_oauth_ctx_t *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->form, name));
}


/* a batch of statements on the thread pool; takes the batch */

static ngx_int_t
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
                                     ngx_http_ttai_oauth_no_db);
}


/* takes params; NULL params: none yet */

static json_t *
ngx_http_ttai_oauth_stmt(const char *sql, json_t *params)
{
    json_t  *st;

    st = json_pack("{s:s}", "sql", sql);

    if (st != NULL && params != NULL
        && json_object_set_new(st, "params", params) != 0)
    {
        json_decref(st);
        return NULL;
    }

    if (st == NULL) {
        json_decref(params);
    }

    return st;
}


static json_t *
ngx_http_ttai_oauth_rows(ngx_http_ttai_d1_query_t *q, size_t i)
{
    return json_object_get(json_array_get(q->result, i), "results");
}


static ngx_int_t
ngx_http_ttai_oauth_changes(ngx_http_ttai_d1_query_t *q, size_t i)
{
    return (ngx_int_t) json_integer_value(json_object_get(
               json_object_get(json_array_get(q->result, i), "meta"),
               "changes"));
}


/*
 * The client's id and secret: client_secret_basic (the Authorization
 * header) or client_secret_post (the form); a public client sends its
 * client_id alone
 */

static ngx_int_t
ngx_http_ttai_oauth_client_auth(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx, const char **client_id,
    const char **secret)
{
    u_char     *colon;
    char       *id, *pw;
    ngx_str_t   auth, plain;

    *client_id = ngx_http_ttai_oauth_field(ctx, "client_id");
    *secret = ngx_http_ttai_oauth_field(ctx, "client_secret");

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

    *client_id = ngx_http_ttai_oauth_field(ctx, "client_id");
    *secret = ngx_http_ttai_oauth_field(ctx, "client_secret");

    return NGX_OK;
}


/* takes text (malloc'd); NULL text: out of memory */

static ngx_int_t
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


static ngx_int_t
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


static ngx_int_t
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


static ngx_int_t
ngx_http_ttai_oauth_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *message)
{
    return ngx_http_ttai_oauth_html(r, status,
                                    ttai_oauth_error_html(title, message));
}


/* takes url (malloc'd) */

static ngx_int_t
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


/*
 * An error for the client, sent back to its redirect URI with its
 * state: only once the URI is known to be one the client registered
 */

static ngx_int_t
ngx_http_ttai_oauth_back(ngx_http_request_t *r, json_t *req,
    const char *error, const char *description)
{
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    return ngx_http_ttai_oauth_redirect(r,
               ttai_oauth_url(json_string_value(json_object_get(req,
                                  "redirect_uri")),
                              "error", error,
                              "error_description", description,
                              "state", json_string_value(json_object_get(req,
                                           "client_state")),
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



/* where TastyTrade sends the browser back: the same for both legs */

static char *
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
