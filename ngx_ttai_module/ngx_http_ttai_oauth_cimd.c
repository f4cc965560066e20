
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_oauth.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_kv.h"


/*
 * GET /authorize with a client_id that is a URL: the client's metadata
 * document is fetched, checked, and stored as the client, then the
 * sign-in goes on as for a registered one.  The host is resolved here,
 * with nginx's resolver, and every address it has is judged by the
 * core's filter (ttai_cimd_addr_public) before the subrequest goes, to
 * the address that was judged: a name cannot answer one address to the
 * check and another to the connection.  The internal location
 * (conf/oauth/client-metadata.conf) has the timeouts; redirects are not
 * followed, a larger document than the limit is refused, and a fetched
 * one is kept in the KV cache for as long as its Cache-Control allows.
 */

#define NGX_HTTP_TTAI_CIMD_LOCATION  "/_client_metadata"
#define NGX_HTTP_TTAI_CIMD_PREFIX    "oauth-client-document:"


typedef struct {
    ngx_http_request_t           *request;
    ngx_http_ttai_oauth_ctx_t    *ctx;
    const char                   *url;
    ttai_cimd_url_t               u;
    ngx_uint_t                    dev;
    ngx_http_ttai_d1_handler_pt   done;

    ngx_http_ttai_capture_t      *cap;
    ngx_uint_t                    called;
    ngx_int_t                     rc;
} ngx_http_ttai_cimd_t;


static ngx_int_t ngx_http_ttai_cimd_cached(ngx_http_ttai_cimd_t *c,
    ngx_str_t *doc);
static void ngx_http_ttai_cimd_resolved(ngx_resolver_ctx_t *rctx);
static ngx_int_t ngx_http_ttai_cimd_fetch(ngx_http_ttai_cimd_t *c,
    struct sockaddr *sa, socklen_t len);
static ngx_int_t ngx_http_ttai_cimd_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_ttai_cimd_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_cimd_fetched(ngx_http_ttai_cimd_t *c);
static ngx_int_t ngx_http_ttai_cimd_store(ngx_http_ttai_cimd_t *c,
    u_char *body, size_t len);
static ngx_int_t ngx_http_ttai_cimd_refuse(ngx_http_ttai_cimd_t *c,
    const char *why);


ngx_int_t
ngx_http_ttai_oauth_cimd(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx, const char *url,
    ngx_http_ttai_d1_handler_pt done)
{
    char                        err[256];
    ngx_int_t                   rc;
    ngx_str_t                   key, host;
    ngx_resolver_ctx_t         *rctx;
    ngx_http_ttai_cimd_t       *c;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_ttai_main_conf_t  *tmcf;
    struct sockaddr_in          sin;
    struct sockaddr_in6         sin6;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    c = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_cimd_t));
    if (c == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->request = r;
    c->ctx = ctx;
    c->url = url;
    c->done = done;
    c->dev = (tmcf->environment == NGX_HTTP_TTAI_DEVELOPMENT);
    ctx->cimd = c;

    if (ttai_cimd_url_parse(url, c->dev, &c->u, err, sizeof(err)) != 0) {
        return ngx_http_ttai_cimd_refuse(c, err);
    }

    /* a document fetched lately, as it was checked then */
    key.len = sizeof(NGX_HTTP_TTAI_CIMD_PREFIX) - 1 + ngx_strlen(url);
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(key.data, "%s%s", NGX_HTTP_TTAI_CIMD_PREFIX, url);

    if (tmcf->kv != NULL
        && ngx_http_ttai_kv_get(tmcf->kv, &key, r->pool, &entry) == NGX_OK)
    {
        return ngx_http_ttai_cimd_cached(c, &entry.value);
    }

    if (c->u.ipv4) {
        ngx_memzero(&sin, sizeof(struct sockaddr_in));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((in_port_t) c->u.port);

        if (ngx_inet_addr((u_char *) c->u.host, ngx_strlen(c->u.host))
            == INADDR_NONE)
        {
            return ngx_http_ttai_cimd_refuse(c, "its host is not an "
                                                "address");
        }

        sin.sin_addr.s_addr = ngx_inet_addr((u_char *) c->u.host,
                                            ngx_strlen(c->u.host));

        return ngx_http_ttai_cimd_fetch(c, (struct sockaddr *) &sin,
                                        sizeof(struct sockaddr_in));
    }

    if (c->u.ipv6) {
        ngx_memzero(&sin6, sizeof(struct sockaddr_in6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((in_port_t) c->u.port);

        if (ngx_inet6_addr((u_char *) c->u.host, ngx_strlen(c->u.host),
                           sin6.sin6_addr.s6_addr)
            != NGX_OK)
        {
            return ngx_http_ttai_cimd_refuse(c, "its host is not an "
                                                "address");
        }

        return ngx_http_ttai_cimd_fetch(c, (struct sockaddr *) &sin6,
                                        sizeof(struct sockaddr_in6));
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    host.data = (u_char *) c->u.host;
    host.len = ngx_strlen(c->u.host);

    rctx = ngx_resolve_start(clcf->resolver, NULL);

    if (rctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rctx == NGX_NO_RESOLVER) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: no resolver to find the client metadata "
                      "host \"%V\": set \"resolver\"", &host);

        return ngx_http_ttai_cimd_refuse(c, "this server cannot look its "
                                            "host up");
    }

    rctx->name = host;
    rctx->handler = ngx_http_ttai_cimd_resolved;
    rctx->data = c;
    rctx->timeout = clcf->resolver_timeout;

    /* the handler may run at once, from a cached answer: it finalizes */
    r->main->count++;

    rc = ngx_resolve_name(rctx);

    if (rc != NGX_OK) {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


/* every address of the name must be one a fetch may reach */

static void
ngx_http_ttai_cimd_resolved(ngx_resolver_ctx_t *rctx)
{
    ngx_uint_t             i;
    ngx_int_t              rc;
    socklen_t              len;
    struct sockaddr       *sa;
    ngx_connection_t      *conn;
    ngx_http_request_t    *r;
    ngx_http_ttai_cimd_t  *c;
    u_char                 buf[NGX_SOCKADDRLEN];

    c = rctx->data;
    r = c->request;
    conn = r->connection;

    if (rctx->state || rctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_INFO, conn->log, 0,
                      "ttai: client metadata host \"%V\" could not be "
                      "resolved (%i: %s)", &rctx->name, rctx->state,
                      ngx_resolver_strerror(rctx->state));
        ngx_resolve_name_done(rctx);

        rc = ngx_http_ttai_cimd_refuse(c, "its host name does not resolve");
        goto done;
    }

    for (i = 0; i < rctx->naddrs; i++) {
        if (!ttai_cimd_addr_public(rctx->addrs[i].sockaddr, c->dev)) {
            ngx_log_error(NGX_LOG_WARN, conn->log, 0,
                          "ttai: client metadata host \"%V\" has an "
                          "address a fetch may not reach",
                          &rctx->name);
            ngx_resolve_name_done(rctx);

            rc = ngx_http_ttai_cimd_refuse(c, "its host has an address "
                                              "that is not public");
            goto done;
        }
    }

    len = rctx->addrs[0].socklen;
    ngx_memcpy(buf, rctx->addrs[0].sockaddr, len);
    sa = (struct sockaddr *) buf;
    ngx_inet_set_port(sa, (in_port_t) c->u.port);

    ngx_resolve_name_done(rctx);

    rc = ngx_http_ttai_cimd_fetch(c, sa, len);

done:

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(conn);
}


static ngx_int_t
ngx_http_ttai_cimd_fetch(ngx_http_ttai_cimd_t *c, struct sockaddr *sa,
    socklen_t len)
{
    u_char              *p;
    ngx_str_t            uri;
    ngx_http_request_t  *r;

    r = c->request;

    if (!ttai_cimd_addr_public(sa, c->dev)) {
        return ngx_http_ttai_cimd_refuse(c, "its host is not a public "
                                            "address");
    }

    uri.data = (u_char *) NGX_HTTP_TTAI_CIMD_LOCATION;
    uri.len = sizeof(NGX_HTTP_TTAI_CIMD_LOCATION) - 1;

    c->cap = ngx_http_ttai_capture(r, &uri, NULL, NULL,
                                   TTAI_CIMD_MAX_DOCUMENT,
                                   ngx_http_ttai_cimd_done, c);
    if (c->cap == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_SOCKADDR_STRLEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->cap->peer.data = p;
    c->cap->peer.len = ngx_sock_ntop(sa, len, p, NGX_SOCKADDR_STRLEN, 1);

    c->cap->uri.data = (u_char *) c->u.path;
    c->cap->uri.len = ngx_strlen(c->u.path);
    c->cap->host.data = (u_char *) c->u.host;
    c->cap->host.len = ngx_strlen(c->u.host);

    if (c->u.tls) {
        ngx_str_set(&c->cap->scheme, "https");

    } else {
        ngx_str_set(&c->cap->scheme, "http");
    }

    c->cap->want_cache_control = 1;

    /* a hold on the request of its own, until the parent wakes */
    r->main->count++;

    return NGX_DONE;
}


static ngx_int_t
ngx_http_ttai_cimd_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_ttai_cimd_t *c = data;

    /* called again for nginx's own error page: the first call counts */
    if (c->called) {
        return rc;
    }

    c->called = 1;
    c->rc = rc;

    /* nginx posts the parent when the subrequest is done */
    sr->parent->write_event_handler = ngx_http_ttai_cimd_wake;

    return rc;
}


static void
ngx_http_ttai_cimd_wake(ngx_http_request_t *r)
{
    ngx_http_ttai_oauth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_finalize_request(r, ngx_http_ttai_cimd_fetched(ctx->cimd));
}


static ngx_int_t
ngx_http_ttai_cimd_fetched(ngx_http_ttai_cimd_t *c)
{
    long                        ttl;
    u_char                     *cc;
    ngx_str_t                   key;
    ngx_http_request_t         *r;
    ngx_http_ttai_capture_t    *cap;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_main_conf_t  *tmcf;

    r = c->request;
    cap = c->cap;
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (!cap->answered || cap->status == 0) {
        return ngx_http_ttai_cimd_refuse(c, "it could not be fetched: no "
                                            "answer in time, or no "
                                            "connection");
    }

    if (cap->status >= 300 && cap->status < 400) {
        return ngx_http_ttai_cimd_refuse(c, "its URL redirects, and "
                                            "redirects are not followed");
    }

    if (cap->status != NGX_HTTP_OK) {
        return ngx_http_ttai_cimd_refuse(c, "its URL did not answer 200");
    }

    if (cap->oversized || !cap->finished) {
        return ngx_http_ttai_cimd_refuse(c, "the document is larger than "
                                            "a client's metadata may be, or "
                                            "was cut");
    }

    cc = NULL;

    if (cap->cache_control.len) {
        cc = ngx_pnalloc(r->pool, cap->cache_control.len + 1);
        if (cc == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *ngx_cpymem(cc, cap->cache_control.data, cap->cache_control.len)
            = '\0';
    }

    ttl = ttai_cimd_cache_ttl((char *) cc);

    if (ttl > 0 && tmcf->kv != NULL && cap->len > 0) {
        key.len = sizeof(NGX_HTTP_TTAI_CIMD_PREFIX) - 1 + ngx_strlen(c->url);
        key.data = ngx_pnalloc(r->pool, key.len);

        if (key.data != NULL) {
            ngx_sprintf(key.data, "%s%s", NGX_HTTP_TTAI_CIMD_PREFIX, c->url);

            entry.key = key;
            entry.value.data = cap->data;
            entry.value.len = cap->len;
            ngx_str_null(&entry.metadata);
            entry.expires = (uint64_t) (ngx_time() + ttl) * 1000;

            /* a cache: checked again when it is used, fetched on a miss */
            (void) ngx_http_ttai_kv_put(tmcf->kv, &entry,
                                        r->connection->log);
        }
    }

    return ngx_http_ttai_cimd_store(c, cap->data, cap->len);
}


static ngx_int_t
ngx_http_ttai_cimd_cached(ngx_http_ttai_cimd_t *c, ngx_str_t *doc)
{
    return ngx_http_ttai_cimd_store(c, doc->data, doc->len);
}


/* the document checked, the client is stored as it says, then read */

static ngx_int_t
ngx_http_ttai_cimd_store(ngx_http_ttai_cimd_t *c, u_char *body, size_t len)
{
    char                 err[256];
    json_t              *batch;
    ttai_oauth_client_t  reg;

    if (body == NULL
        || ttai_cimd_document_check(c->url, (char *) body, len, &reg, err,
                                    sizeof(err))
           != 0)
    {
        return ngx_http_ttai_cimd_refuse(c, body ? err : "it is empty");
    }

    batch = ttai_oauth_store_client_document(c->url, &reg);
    ttai_oauth_client_free(&reg);

    return ngx_http_ttai_oauth_post(c->request, batch, c->done);
}


static ngx_int_t
ngx_http_ttai_cimd_refuse(ngx_http_ttai_cimd_t *c, const char *why)
{
    u_char  *msg;
    size_t   len;

    len = sizeof("The application's metadata document at  was refused: .")
          + ngx_strlen(c->url) + ngx_strlen(why);

    msg = ngx_pnalloc(c->request->pool, len);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(msg, "The application's metadata document at %s was "
                "refused: %s.%Z", c->url, why);

    return ngx_http_ttai_oauth_page(c->request, NGX_HTTP_BAD_REQUEST,
                                    "Unknown application", (char *) msg);
}
