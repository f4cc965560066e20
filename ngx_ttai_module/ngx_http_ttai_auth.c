
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_throttle.h"
#include "ngx_http_ttai_revoked.h"


/*
 * Bearer JWTs on /mcp, and the protected-resource metadata (RFC 9728)
 * that a 401 points OAuth clients to.  The client's token is checked here
 * and goes nowhere else: nothing forwards it upstream.
 */


#define NGX_HTTP_TTAI_PRM_PATH  "/.well-known/oauth-protected-resource"

/* verified tokens a worker remembers, direct-mapped by a keyed hash */
#define NGX_HTTP_TTAI_JWT_CACHE  256


/*
 * A client sends the same token with every request, and verifying it
 * (base64, JSON, HMAC) costs more than the rest of a tools/list.  A
 * worker keeps the claims of tokens it verified, keyed by a BLAKE2b hash
 * of the token under a key of its own, so the cache holds no token and
 * a lookup compares hashes in constant time.  An entry serves until the
 * token expires; the policy (issuer, audience) belongs to the cycle, and
 * so does the cache.
 */
typedef struct {
    u_char                     hash[32];
    time_t                     expires;     /* 0: not in use */
    ttai_jwt_claims_t          claims;
} ngx_http_ttai_jwt_entry_t;


struct ngx_http_ttai_jwt_cache_s {
    u_char                     key[32];
    ngx_http_ttai_jwt_entry_t  entries[NGX_HTTP_TTAI_JWT_CACHE];
};


static ngx_int_t ngx_http_ttai_auth_refuse(ngx_http_request_t *r,
    ngx_uint_t sent);
static ngx_http_ttai_jwt_entry_t *ngx_http_ttai_jwt_cached(
    ngx_http_request_t *r, ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *token,
    u_char *hash);
static void ngx_http_ttai_auth_log_refused(ngx_log_t *log, ngx_str_t *why,
    ngx_uint_t n, ngx_str_t *span, void *data);
static ngx_int_t ngx_http_ttai_metadata_handler(ngx_http_request_t *r);


ngx_uint_t
ngx_http_ttai_auth(ngx_http_request_t *r, ttai_jwt_claims_t *claims,
    ngx_int_t *rc)
{
    u_char                     *issuer, *audience, hash[32];
    ngx_str_t                   token, why;
    ngx_http_ttai_jwt_entry_t  *e;
    ttai_jwt_rc_e               jrc;
    ttai_jwt_policy_t           policy;
    ngx_http_ttai_loc_conf_t   *tlcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    if (!tlcf->auth) {
        ngx_memzero(claims, sizeof(ttai_jwt_claims_t));
        ngx_cpystrn((u_char *) claims->sub, (u_char *) "anonymous",
                    sizeof(claims->sub));
        return 1;
    }

    if (r->headers_in.authorization == NULL) {
        *rc = ngx_http_ttai_auth_refuse(r, 0);
        return 0;
    }

    token = r->headers_in.authorization->value;

    if (token.len <= sizeof("Bearer ") - 1
        || ngx_strncasecmp(token.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        *rc = ngx_http_ttai_auth_refuse(r, 1);
        return 0;
    }

    token.data += sizeof("Bearer ") - 1;
    token.len -= sizeof("Bearer ") - 1;

    while (token.len && token.data[0] == ' ') {
        token.data++;
        token.len--;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    e = ngx_http_ttai_jwt_cached(r, tmcf, &token, hash);

    if (e != NULL && ngx_time() < e->expires) {
        ngx_memcpy(claims, &e->claims, sizeof(ttai_jwt_claims_t));
        goto verified;
    }

    /* configuration strings are NUL-terminated */
    issuer = tmcf->jwt_issuer.len ? tmcf->jwt_issuer.data : NULL;
    audience = tmcf->jwt_audience.len ? tmcf->jwt_audience.data : NULL;

    policy.issuer = (char *) issuer;
    policy.audience = (char *) audience;
    policy.leeway = tmcf->jwt_leeway;
    policy.now = ngx_time();

    jrc = ttai_jwt_verify((char *) token.data, token.len,
                          tmcf->jwt_secret.data, tmcf->jwt_secret.len,
                          &policy, claims);

    if (jrc != TTAI_JWT_OK) {
        /* the reason is for the server's log, never for the client */
        why.data = (u_char *) ttai_jwt_strerror(jrc);
        why.len = ngx_strlen(why.data);

        ngx_http_ttai_throttle(r->connection->log,
                               ngx_http_ttai_auth_log_refused, &why, 1, NULL);

        *rc = ngx_http_ttai_auth_refuse(r, 1);
        return 0;
    }

    /*
     * Remembered until exp, less the leeway that let it in, and for an
     * hour at most when it has no exp: nbf is in the past by now.
     */
    if (e != NULL) {
        ngx_memcpy(e->hash, hash, sizeof(e->hash));
        ngx_memcpy(&e->claims, claims, sizeof(ttai_jwt_claims_t));
        e->expires = claims->exp ? claims->exp + tmcf->jwt_leeway
                                 : ngx_time() + 3600;
    }

verified:

    /* a good signature is not enough: the token may have been revoked */
    if (ngx_http_ttai_revoked(r, claims)) {
        *rc = ngx_http_ttai_auth_refuse(r, 1);
        return 0;
    }

    return 1;
}


/* the slot of this token's hash: a hit when the hash is stored there */

static ngx_http_ttai_jwt_entry_t *
ngx_http_ttai_jwt_cached(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *token, u_char *hash)
{
    ngx_uint_t                  slot;
    ngx_http_ttai_jwt_entry_t  *e;

    if (tmcf->jwt_cache == NULL) {
        /* per worker, made on first use, in the pool of its cycle */
        tmcf->jwt_cache = ngx_pcalloc(ngx_cycle->pool,
                                      sizeof(ngx_http_ttai_jwt_cache_t));
        if (tmcf->jwt_cache == NULL) {
            return NULL;
        }

        randombytes_buf(tmcf->jwt_cache->key, sizeof(tmcf->jwt_cache->key));
    }

    crypto_generichash(hash, 32, token->data, token->len,
                       tmcf->jwt_cache->key, sizeof(tmcf->jwt_cache->key));

    slot = (hash[0] | (hash[1] << 8)) % NGX_HTTP_TTAI_JWT_CACHE;
    e = &tmcf->jwt_cache->entries[slot];

    if (e->expires != 0 && sodium_memcmp(e->hash, hash, 32) != 0) {
        /* another token's: the caller may take the slot over */
        e->expires = 0;
    }

    return e;
}


/*
 * RFC 6750: "error" only when a token was sent; the body says no more
 * than that, whatever check failed.
 */

static ngx_int_t
ngx_http_ttai_auth_refuse(ngx_http_request_t *r, ngx_uint_t sent)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   origin, path;

    static u_char  missing[] = "{\"error\":\"unauthorized\","
                               "\"error_description\":"
                               "\"a Bearer token is required\"}";
    static u_char  invalid[] = "{\"error\":\"invalid_token\","
                               "\"error_description\":"
                               "\"the Bearer token is not valid\"}";

    if (ngx_http_ttai_origin(r, &origin) != NGX_OK
        || ngx_http_ttai_resource_path(r, &path) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("Bearer resource_metadata=\"\", error=\"invalid_token\"")
          + origin.len + sizeof(NGX_HTTP_TTAI_PRM_PATH) + path.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(p, "Bearer resource_metadata=\"%V"
                      NGX_HTTP_TTAI_PRM_PATH "%V\"%s",
                      &origin, &path,
                      sent ? ", error=\"invalid_token\"" : "")
          - p;

    if (ngx_http_ttai_header(r, "WWW-Authenticate", (char *) p, len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (sent) {
        return ngx_http_ttai_send_json(r, NGX_HTTP_UNAUTHORIZED, invalid,
                                       sizeof(invalid) - 1);
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_UNAUTHORIZED, missing,
                                   sizeof(missing) - 1);
}


/*
 * The /mcp URL as the client sees it: "ttai_mcp_resource" when set (for
 * a proxy in front that nginx cannot see), else the scheme of this
 * connection and the Host the client sent, with the MCP path.
 */

ngx_int_t
ngx_http_ttai_resource(ngx_http_request_t *r, ngx_str_t *resource)
{
    u_char     *p;
    ngx_str_t   origin, path;

    if (ngx_http_ttai_origin(r, &origin) != NGX_OK
        || ngx_http_ttai_resource_path(r, &path) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, origin.len + path.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    resource->data = p;
    p = ngx_cpymem(p, origin.data, origin.len);
    p = ngx_cpymem(p, path.data, path.len);
    resource->len = p - resource->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_resource_path(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                    *p, *last;
    ngx_http_ttai_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    if (tlcf->resource.len == 0) {
        ngx_str_set(path, "/mcp");
        return NGX_OK;
    }

    /* the path of the configured URL: after "scheme://host" */
    p = ngx_strnstr(tlcf->resource.data, "://", tlcf->resource.len);
    last = tlcf->resource.data + tlcf->resource.len;

    p = (p != NULL) ? ngx_strlchr(p + 3, last, '/') : NULL;

    if (p == NULL) {
        ngx_str_set(path, "");
        return NGX_OK;
    }

    path->data = p;
    path->len = last - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_origin(ngx_http_request_t *r, ngx_str_t *origin)
{
    u_char                    *p, *q, c;
    size_t                     i;
    ngx_str_t                  host;
    ngx_http_ttai_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    if (tlcf->resource.len) {
        p = ngx_strnstr(tlcf->resource.data, "://", tlcf->resource.len);
        q = (p != NULL)
            ? ngx_strlchr(p + 3, tlcf->resource.data + tlcf->resource.len,
                          '/')
            : NULL;

        origin->data = tlcf->resource.data;
        origin->len = (q != NULL) ? (size_t) (q - tlcf->resource.data)
                                  : tlcf->resource.len;
        return NGX_OK;
    }

    /*
     * The Host header as sent, port included; it goes into a header and
     * JSON, so anything but a plain host name or address is replaced.
     */
    if (r->headers_in.host != NULL) {
        host = r->headers_in.host->value;

        for (i = 0; i < host.len; i++) {
            c = ngx_tolower(host.data[i]);

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '-' || c == ':' || c == '['
                  || c == ']'))
            {
                break;
            }
        }

        if (i != host.len || host.len == 0) {
            host = r->headers_in.server;
        }

    } else {
        host = r->headers_in.server;
    }

    if (host.len == 0) {
        ngx_str_set(&host, "localhost");
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") - 1 + host.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    origin->data = p;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_cpymem(p, "https://", sizeof("https://") - 1);

    } else
#endif
    {
        p = ngx_cpymem(p, "http://", sizeof("http://") - 1);
    }

    p = ngx_cpymem(p, host.data, host.len);
    origin->len = p - origin->data;

    return NGX_OK;
}


/*
 * GET /.well-known/oauth-protected-resource[/mcp]: which resource this is
 * and who issues its tokens.  ttai signs the tokens it accepts, so the
 * authorization server is this server's own origin.
 */

char *
ngx_http_ttai_metadata(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    if (ngx_http_ttai_set_handler(cf, ngx_http_ttai_metadata_handler) == NULL)
    {
        return "is duplicate";
    }

    return NGX_CONF_OK;
}


/* a client can send bad tokens in a loop: a line an interval per reason */

static void
ngx_http_ttai_auth_log_refused(ngx_log_t *log, ngx_str_t *why, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    if (span->len == 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ttai: bearer token refused: %V", why);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "ttai: %ui bearer %s refused%V: %V", n,
                  n == 1 ? "token" : "tokens", span, why);
}


static ngx_int_t
ngx_http_ttai_metadata_handler(ngx_http_request_t *r)
{
    u_char     *p, *body;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   origin, resource;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_ttai_header_lit(r, "Allow", "GET, HEAD") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_ttai_origin(r, &origin) != NGX_OK
        || ngx_http_ttai_resource(r, &resource) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"resource\":\"\",\"authorization_servers\":[\"\"],"
                 "\"bearer_methods_supported\":[\"header\"],"
                 "\"resource_name\":\"ttai\"}")
          + resource.len + origin.len;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"resource\":\"%V\",\"authorization_servers\":"
                    "[\"%V\"],\"bearer_methods_supported\":[\"header\"],"
                    "\"resource_name\":\"ttai\"}", &resource, &origin);

    /* public metadata: any web page may read it */
    if (ngx_http_ttai_header_lit(r, "Access-Control-Allow-Origin", "*")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, p - body);
}
