
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_dxlink.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_throttle.h"
#include "ttai_crypto.h"
#include "ttai_mcp.h"
#include "ttai_oauth_store.h"


/*
 * One fetch, as a small state machine: cache, rate limit, token, then
 * the request itself.  Each step either finishes at once or starts one
 * asynchronous operation (a timer, a thread-pool query, a subrequest)
 * whose completion comes back to ngx_http_ttai_fetch_run().
 */


/* refresh this long before the access token expires */
#define NGX_HTTP_TTAI_REFRESH_MARGIN   60

/* how long a refresh may hold the lease; others wait at most this */
#define NGX_HTTP_TTAI_LEASE_TTL        20

/* how often a caller that waits for another worker's refresh looks */
#define NGX_HTTP_TTAI_LEASE_POLL       25


/* a refused refresh, for its log line */
typedef struct {
    ngx_uint_t                 status;
    const char                *code;
} ngx_http_ttai_fetch_log_t;

#define NGX_HTTP_TTAI_FETCH_START      0
#define NGX_HTTP_TTAI_FETCH_TOKEN      1
#define NGX_HTTP_TTAI_FETCH_SEND       2


static ngx_int_t ngx_http_ttai_fetch_step_cache(ngx_http_request_t *r,
    ttai_mcp_pending_t *p, ttai_mcp_response_t *resp);
static ngx_int_t ngx_http_ttai_fetch_run(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_fetch_token(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_fetch_load(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_fetch_open(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f, const char *b64, char *field, ngx_str_t *out);
static ngx_int_t ngx_http_ttai_fetch_refresh(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_fetch_refreshed(ngx_http_request_t *r,
    ngx_int_t rc, void *data);
static ngx_int_t ngx_http_ttai_fetch_saved(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_fetch_send(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static void ngx_http_ttai_fetch_log_sealed(ngx_log_t *log, ngx_str_t *user,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_fetch_log_refused(ngx_log_t *log, ngx_str_t *user,
    ngx_uint_t n, ngx_str_t *span, void *data);
static ngx_int_t ngx_http_ttai_fetch_sent(ngx_http_request_t *r,
    ngx_int_t rc, void *data);
static ngx_uint_t ngx_http_ttai_fetch_json(ngx_str_t *body);
static ngx_uint_t ngx_http_ttai_fetch_changed(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_uint_t ngx_http_ttai_fetch_method(const char *name);
static ngx_int_t ngx_http_ttai_fetch_post(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f, size_t prefix, ngx_str_t *uri, ngx_str_t *body,
    ngx_str_t *authorization,
    ngx_int_t (*handler)(ngx_http_request_t *r, ngx_int_t rc, void *data));
static ngx_int_t ngx_http_ttai_fetch_subrequest_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_ttai_fetch_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_fetch_wait(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f, ngx_msec_t delay);
static void ngx_http_ttai_fetch_timer(ngx_event_t *ev);
static void ngx_http_ttai_fetch_cleanup(void *data);
static ngx_int_t ngx_http_ttai_fetch_resume(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f, ngx_int_t rc);
static ngx_int_t ngx_http_ttai_fetch_fail(ngx_http_ttai_fetch_t *f,
    ngx_pool_t *pool, const char *fmt, ...);


/* what ran last on a fetch: for the subrequest completion */
typedef struct {
    ngx_http_ttai_fetch_t       *fetch;
    ngx_http_ttai_capture_t     *capture;
    ngx_int_t                    rc;
    ngx_uint_t                   called;
} ngx_http_ttai_fetch_sr_t;


ngx_int_t
ngx_http_ttai_fetch(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_pool_cleanup_t  *cln;

    f->request = r;
    f->state = NGX_HTTP_TTAI_FETCH_START;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_ttai_fetch_cleanup;
    cln->data = f;

    return ngx_http_ttai_fetch_run(r, f);
}


/* the core's method names; anything else is a GET, which changes nothing */

static ngx_uint_t
ngx_http_ttai_fetch_method(const char *name)
{
    if (ngx_strcmp(name, "POST") == 0) {
        return NGX_HTTP_POST;
    }

    if (ngx_strcmp(name, "PUT") == 0) {
        return NGX_HTTP_PUT;
    }

    if (ngx_strcmp(name, "DELETE") == 0) {
        return NGX_HTTP_DELETE;
    }

    return NGX_HTTP_GET;
}


ngx_int_t
ngx_http_ttai_fetch_step(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    const char *user, ttai_mcp_response_t *resp,
    ngx_http_ttai_fetch_done_pt done, void *data)
{
    ngx_int_t               rc;
    ngx_http_ttai_fetch_t  *f;

    ngx_memzero(resp, sizeof(ttai_mcp_response_t));

    if (p->kind == TTAI_PENDING_CACHE) {
        return ngx_http_ttai_fetch_step_cache(r, p, resp);
    }

    if (p->kind == TTAI_PENDING_D1) {
        return ngx_http_ttai_fetch_d1(r, p, resp, done, data);
    }

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->service = p->service;
    f->method = ngx_http_ttai_fetch_method(p->method);
    f->path.data = (u_char *) p->path;
    f->path.len = ngx_strlen(p->path);

    if (p->body != NULL) {
        f->body.data = (u_char *) p->body;
        f->body.len = ngx_strlen(p->body);
    }

    if (p->cache_key != NULL) {
        f->cache_key.data = (u_char *) p->cache_key;
        f->cache_key.len = ngx_strlen(p->cache_key);
        f->cache_ttl = p->cache_ttl;
        f->watch = (p->watch != 0);
    }

    f->user.data = (u_char *) user;
    f->user.len = ngx_strlen(user);
    f->done = done;
    f->data = data;

    rc = (f->service == TTAI_SERVICE_LLM) ? ngx_http_ttai_llm_fetch(r, f)
                                          : ngx_http_ttai_fetch(r, f);

    if (rc == NGX_OK) {
        ngx_http_ttai_fetch_step_response(f, resp);
    }

    return rc;
}


void
ngx_http_ttai_fetch_step_response(ngx_http_ttai_fetch_t *f,
    ttai_mcp_response_t *resp)
{
    ngx_memzero(resp, sizeof(ttai_mcp_response_t));

    resp->status = (int) f->status;
    resp->body = (char *) f->response.data;
    resp->len = f->response.len;
    resp->error = f->error;
    resp->cached = f->cached;
    resp->changed = f->changed;
}


static ngx_int_t
ngx_http_ttai_fetch_step_cache(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    ttai_mcp_response_t *resp)
{
    size_t                     *lens;
    ngx_str_t                   key;
    ngx_uint_t                  i;
    const char                **values;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    ttcf = ngx_http_ttai_tt_conf(r);

    values = ngx_pcalloc(r->pool, (p->nkeys + 1) * sizeof(char *));
    lens = ngx_pcalloc(r->pool, (p->nkeys + 1) * sizeof(size_t));

    if (values == NULL || lens == NULL) {
        return NGX_ERROR;
    }

    resp->values = values;
    resp->lens = lens;

    for (i = 0; i < p->nkeys; i++) {
        key.data = (u_char *) p->keys[i];
        key.len = ngx_strlen(p->keys[i]);

        /* a tool that reads a symbol's stream asks the feed to carry it */
        ngx_http_ttai_dxlink_want(&key);

        if (tmcf->kv != NULL
            && ngx_http_ttai_kv_get(tmcf->kv, &key, r->pool, &entry)
               == NGX_OK)
        {
            values[i] = (char *) entry.value.data;
            lens[i] = entry.value.len;
            ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_HITS);

        } else {
            ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_MISSES);
        }
    }

    return NGX_OK;
}


void
ngx_http_ttai_fetch_store(ngx_http_request_t *r, ttai_mcp_store_t **stores,
    size_t *n)
{
    ngx_uint_t                  i;
    ttai_mcp_store_t           *st;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    for (i = 0; tmcf->kv != NULL && i < *n; i++) {
        st = &(*stores)[i];

        ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));

        entry.key.data = (u_char *) st->key;
        entry.key.len = ngx_strlen(st->key);

        if (st->ttl < 0) {
            /* a cached answer the tool's change made stale */
            (void) ngx_http_ttai_kv_delete(tmcf->kv, &entry.key, NULL,
                                           r->connection->log);
            continue;
        }

        entry.value.data = (u_char *) st->value;
        entry.value.len = st->len;
        entry.expires = (uint64_t) (ngx_time() + st->ttl) * 1000;

        /*
         * A cache fill: fetched again on a miss, so never journaled, and
         * no fsync on the way of a tool's answer
         */
        (void) ngx_http_ttai_kv_put(tmcf->kv, &entry, r->connection->log);
    }

    ttai_mcp_stores_free(*stores, *n);
    *stores = NULL;
    *n = 0;
}


/* NGX_OK: finished, the outcome is set; NGX_AGAIN: an operation runs */

static ngx_int_t
ngx_http_ttai_fetch_run(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_int_t                   rc;
    ngx_msec_t                  delay;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    ttcf = ngx_http_ttai_tt_conf(r);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    switch (f->state) {

    case NGX_HTTP_TTAI_FETCH_START:

        if (f->direct) {
            f->state = NGX_HTTP_TTAI_FETCH_SEND;
            return ngx_http_ttai_fetch_send(r, f);
        }

        if (f->cache_key.len && tmcf->kv != NULL) {
            rc = ngx_http_ttai_kv_get(tmcf->kv, &f->cache_key, r->pool,
                                      &entry);

            if (rc == NGX_OK) {
                ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_HITS);

                f->status = NGX_HTTP_OK;
                f->response = entry.value;
                f->cached = 1;
                return NGX_OK;
            }

            ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_MISSES);
        }

        if (f->service == TTAI_SERVICE_WORKER) {
            /* the worker service limits and authenticates for itself */
            f->state = NGX_HTTP_TTAI_FETCH_SEND;
            return ngx_http_ttai_fetch_send(r, f);
        }

        if (ttcf->zone == NULL) {
            return ngx_http_ttai_fetch_fail(f, r->pool,
                       "TastyTrade is not configured on this server "
                       "(ttai_tastytrade_zone is missing)");
        }

        f->state = NGX_HTTP_TTAI_FETCH_TOKEN;

        rc = ngx_http_ttai_tt_limit(ttcf, &f->user, &delay);

        if (rc == NGX_BUSY) {
            ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_LIMITED);

            return ngx_http_ttai_fetch_fail(f, r->pool,
                       "too many requests to TastyTrade for this user (the "
                       "limit is %ui.%03ui per second); try again in %M ms",
                       ttcf->rate / 1000, ttcf->rate % 1000, delay);
        }

        if (rc == NGX_AGAIN) {
            ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_DELAYED);
            return ngx_http_ttai_fetch_wait(r, f, delay);
        }

        /* fall through */

    case NGX_HTTP_TTAI_FETCH_TOKEN:
        return ngx_http_ttai_fetch_token(r, f);

    default: /* NGX_HTTP_TTAI_FETCH_SEND */
        return ngx_http_ttai_fetch_send(r, f);
    }
}


/*
 * The user's access token: from the zone when one is good for another
 * minute, else from SQLite under the user's refresh lease, refreshed
 * there if it must be.  A caller that finds the lease taken waits for
 * the worker that holds it, then finds the new token in the zone.
 */

static ngx_int_t
ngx_http_ttai_fetch_token(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    char                       *user;
    time_t                      until;
    ngx_int_t                   rc;
    ngx_http_ttai_tt_token_t    tk;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_d1_query_t   *q;

    ttcf = ngx_http_ttai_tt_conf(r);

    if (!f->force_refresh) {
        rc = ngx_http_ttai_tt_token_get(ttcf->zone, &f->user,
                                        NGX_HTTP_TTAI_REFRESH_MARGIN,
                                        r->pool, &tk);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            f->token.data = tk.token;
            f->token.len = tk.len;
            f->state = NGX_HTTP_TTAI_FETCH_SEND;
            return ngx_http_ttai_fetch_send(r, f);
        }
    }

    rc = ngx_http_ttai_tt_lease(ttcf->zone, &f->user, NGX_HTTP_TTAI_LEASE_TTL,
                                &until);

    if (rc == NGX_BUSY) {
        if (f->deadline == 0) {
            f->deadline = until + 1;
        }

        if (ngx_time() > f->deadline) {
            return ngx_http_ttai_fetch_fail(f, r->pool,
                       "refreshing the TastyTrade access token took too "
                       "long; try again in a moment");
        }

        /* the other worker's refresh serves this call too */
        f->force_refresh = 0;

        return ngx_http_ttai_fetch_wait(r, f, NGX_HTTP_TTAI_LEASE_POLL);
    }

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    user = ngx_http_ttai_cstr(r->pool, &f->user);

    q->batch = (user != NULL) ? ttai_oauth_store_tt_tokens(user) : NULL;
    q->handler = ngx_http_ttai_fetch_load;
    q->data = f;

    if (q->batch == NULL) {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    rc = ngx_http_ttai_d1_post(r, q);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    ngx_http_ttai_tt_release(ttcf->zone, &f->user);

    return ngx_http_ttai_fetch_fail(f, r->pool,
               rc == NGX_BUSY ? "the database is busy; try again in a moment"
                              : "the token store (D1) is not available");
}


static ngx_int_t
ngx_http_ttai_fetch_load(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_fetch_t *f = q->data;

    time_t                    expires;
    ngx_int_t                 rc;
    ngx_http_ttai_tt_conf_t  *ttcf;
    ttai_oauth_tt_sealed_t    sealed;

    ttcf = ngx_http_ttai_tt_conf(r);

    if (q->rc != NGX_OK) {
        rc = ngx_http_ttai_fetch_fail(f, r->pool,
                 "reading the stored TastyTrade tokens failed");
        goto done;
    }

    if (!ttai_oauth_store_tt_read(q->result, &sealed)) {
        rc = ngx_http_ttai_fetch_fail(f, r->pool,
                 "no TastyTrade account is connected for user %V: connect "
                 "one with \"ttai tastytrade connect --user %V "
                 "--refresh-token <token>\"", &f->user, &f->user);
        goto done;
    }

    if (ngx_http_ttai_fetch_open(r, f, sealed.refresh, "refresh_token",
                                 &f->refresh)
        != NGX_OK
        || ngx_http_ttai_fetch_open(r, f, sealed.access, "access_token",
                                    &f->token)
           != NGX_OK)
    {
        rc = NGX_OK;    /* the outcome says why */
        goto done;
    }

    expires = (time_t) sealed.expires_at;

    if (f->token.len && !f->force_refresh
        && expires - NGX_HTTP_TTAI_REFRESH_MARGIN > ngx_time())
    {
        ngx_http_ttai_tt_token_set(ttcf->zone, &f->user, &f->token, expires);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);

        f->state = NGX_HTTP_TTAI_FETCH_SEND;

        return ngx_http_ttai_fetch_resume(r, f,
                                          ngx_http_ttai_fetch_send(r, f));
    }

    if (f->refresh.len == 0) {
        rc = ngx_http_ttai_fetch_fail(f, r->pool,
                 "the TastyTrade access token has expired and no refresh "
                 "token is stored: reconnect TastyTrade with \"ttai "
                 "tastytrade connect --user %V --refresh-token <token>\"",
                 &f->user);
        goto done;
    }

    return ngx_http_ttai_fetch_resume(r, f,
                                      ngx_http_ttai_fetch_refresh(r, f));

done:

    ngx_http_ttai_tt_release(ttcf->zone, &f->user);

    return ngx_http_ttai_fetch_resume(r, f, rc);
}


/* a sealed column into out; NGX_DECLINED with the outcome set if bad */

static ngx_int_t
ngx_http_ttai_fetch_open(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f,
    const char *b64, char *field, ngx_str_t *out)
{
    u_char                     *blob;
    size_t                      len, n;
    char                       *user;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    ngx_str_null(out);

    if (b64 == NULL) {
        return NGX_OK;
    }

    len = ngx_strlen(b64);
    user = ngx_http_ttai_cstr(r->pool, &f->user);
    blob = ngx_pnalloc(r->pool, len + 1);
    out->data = ngx_pnalloc(r->pool, len + 1);

    if (user == NULL || blob == NULL || out->data == NULL) {
        goto failed;
    }

    if (sodium_base642bin(blob, len + 1, b64, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL)
        != 0
        || ttai_token_open(tmcf->token_key, user, field, blob, n, out->data,
                           &out->len)
           != 0)
    {
        goto failed;
    }

    return NGX_OK;

failed:

    /* never the value: only that it does not open */
    ngx_http_ttai_throttle(r->connection->log, ngx_http_ttai_fetch_log_sealed,
                           &f->user, 1, field);

    (void) ngx_http_ttai_fetch_fail(f, r->pool,
               "the stored TastyTrade tokens cannot be decrypted with this "
               "server's TOKEN_ENCRYPTION_KEY (was it changed?); reconnect "
               "TastyTrade with \"ttai tastytrade connect --user %V "
               "--refresh-token <token>\"", &f->user);

    return NGX_DECLINED;
}


/* POST /oauth/token with grant_type=refresh_token, under the lease */

static ngx_int_t
ngx_http_ttai_fetch_refresh(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    char                     *id, *secret;
    ngx_str_t                 uri, b;
    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_http_ttai_tt_conf(r);

    if (ngx_http_ttai_tt_client(r, &id, &secret) != NGX_OK) {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);

        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "TASTYTRADE_CLIENT_SECRET is not set on this server, "
                   "so the TastyTrade access token cannot be refreshed");
    }

    /* client_id is optional, but must be ours when sent */
    if (ngx_http_ttai_tt_secret_body(r->pool,
            json_pack("{s:s, s:s%, s:s, s:s*}", "grant_type", "refresh_token",
                      "refresh_token", f->refresh.data, f->refresh.len,
                      "client_secret", secret, "client_id", id), &b)
        != NGX_OK)
    {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    uri.len = ttcf->location.len + sizeof("/oauth/token") - 1;
    uri.data = ngx_pnalloc(r->pool, uri.len);

    if (uri.data == NULL) {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    ngx_sprintf(uri.data, "%V/oauth/token", &ttcf->location);

    ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_REFRESHES);
    ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_REQUESTS);

    if (ngx_http_ttai_fetch_post(r, f, ttcf->location.len, &uri, &b, NULL,
                                 ngx_http_ttai_fetch_refreshed)
        != NGX_OK)
    {
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/* the token endpoint answered, or did not: runs on the parent */

static ngx_int_t
ngx_http_ttai_fetch_refreshed(ngx_http_request_t *r, ngx_int_t rc,
    void *data)
{
    ngx_http_ttai_fetch_sr_t *fs = data;

    json_t                    *j, *batch;
    time_t                     expires;
    ngx_str_t                  fresh[2];
    const char                *code;
    ngx_http_ttai_fetch_t     *f;
    ngx_http_ttai_capture_t   *cap;
    ngx_http_ttai_fetch_log_t  refused;
    ngx_http_ttai_tt_conf_t   *ttcf;
    ngx_http_ttai_d1_query_t  *q;
    ngx_http_ttai_main_conf_t *tmcf;
    ttai_oauth_tt_tokens_t     tt;

    f = fs->fetch;
    cap = fs->capture;
    ttcf = ngx_http_ttai_tt_conf(r);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    j = NULL;

    if (cap->answered && !cap->oversized) {
        j = json_loadb((char *) cap->data, cap->len, 0, NULL);
    }

    if (!cap->answered || cap->status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        json_decref(j);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);

        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "refreshing the TastyTrade access token failed (%s); "
                   "try again in a moment",
                   cap->answered ? "TastyTrade had an internal error"
                                 : "TastyTrade did not answer");
    }

    if (cap->status != NGX_HTTP_OK) {
        code = json_string_value(json_object_get(j, "error_code"));

        ngx_http_ttai_tt_count(ttcf->zone, NGX_HTTP_TTAI_TT_REFUSED);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);

        refused.status = cap->status;
        refused.code = code ? code : "";

        ngx_http_ttai_throttle(r->connection->log,
                               ngx_http_ttai_fetch_log_refused, &f->user, 1,
                               &refused);

        rc = ngx_http_ttai_fetch_fail(f, r->pool,
                 "TastyTrade refused the stored refresh token (%s): the "
                 "grant was revoked or belongs to another environment.  "
                 "Reconnect TastyTrade: create a new grant and run \"ttai "
                 "tastytrade connect --user %V --refresh-token <token>\"",
                 code ? code : "refused", &f->user);

        json_decref(j);

        return rc;
    }

    fresh[0].data = (u_char *) json_string_value(json_object_get(j,
                                                     "access_token"));
    fresh[0].len = json_string_length(json_object_get(j, "access_token"));
    fresh[1].data = (u_char *) json_string_value(json_object_get(j,
                                                     "refresh_token"));
    fresh[1].len = json_string_length(json_object_get(j, "refresh_token"));
    expires = (time_t) json_integer_value(json_object_get(j, "expires_in"));

    if (fresh[0].data == NULL || fresh[0].len == 0) {
        json_decref(j);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);

        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "TastyTrade's token endpoint sent no access token");
    }

    /* the documented lifetime when none is given */
    expires = ngx_time() + (expires > 0 ? expires : 900);

    if (fresh[1].data == NULL || fresh[1].len == 0) {
        /* refresh tokens do not rotate today: keep the one we have */
        fresh[1] = f->refresh;
    }

    /* sealed by the store while the plaintext is still in the answer */
    tt.user = ngx_http_ttai_cstr(r->pool, &f->user);
    tt.email = NULL;
    tt.key = tmcf->token_key;
    tt.access = (const char *) fresh[0].data;
    tt.access_len = fresh[0].len;
    tt.refresh = (const char *) fresh[1].data;
    tt.refresh_len = fresh[1].len;
    tt.expires_at = expires;
    tt.scope = NULL;

    batch = (tt.user != NULL) ? ttai_oauth_store_tt_refreshed(&tt,
                                                              ngx_time())
                              : NULL;

    /* the plaintext goes on in the fetch; the JSON copy is wiped */
    f->token.len = fresh[0].len;
    f->token.data = ngx_pnalloc(r->pool, fresh[0].len);
    f->refresh.data = (fresh[1].data == f->refresh.data)
                      ? f->refresh.data : ngx_pnalloc(r->pool, fresh[1].len);
    f->refresh.len = fresh[1].len;

    if (f->token.data != NULL) {
        ngx_memcpy(f->token.data, fresh[0].data, fresh[0].len);
    }

    if (f->refresh.data != NULL && fresh[1].data != f->refresh.data) {
        ngx_memcpy(f->refresh.data, fresh[1].data, fresh[1].len);
    }

    sodium_memzero(cap->data, cap->len);
    json_decref(j);

    if (batch == NULL || f->token.data == NULL || f->refresh.data == NULL) {
        json_decref(batch);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    /* other workers may use the new token at once; SQLite follows */
    ngx_http_ttai_tt_token_set(ttcf->zone, &f->user, &f->token, expires);
    f->force_refresh = 0;

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        json_decref(batch);
        ngx_http_ttai_tt_release(ttcf->zone, &f->user);
        return NGX_ERROR;
    }

    q->batch = batch;
    q->handler = ngx_http_ttai_fetch_saved;
    q->data = f;

    rc = ngx_http_ttai_d1_post(r, q);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    /* the token works; only its copy on disk is older */
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "ttai: the refreshed TastyTrade token of user \"%V\" was "
                  "not saved: the database is busy", &f->user);

    ngx_http_ttai_tt_release(ttcf->zone, &f->user);

    f->state = NGX_HTTP_TTAI_FETCH_SEND;

    return ngx_http_ttai_fetch_send(r, f);
}


static ngx_int_t
ngx_http_ttai_fetch_saved(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_fetch_t *f = q->data;

    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_http_ttai_tt_conf(r);

    if (q->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: the refreshed TastyTrade token of user \"%V\" "
                      "was not saved: %s", &f->user, q->error.msg);
    }

    ngx_http_ttai_tt_release(ttcf->zone, &f->user);

    f->state = NGX_HTTP_TTAI_FETCH_SEND;

    return ngx_http_ttai_fetch_resume(r, f, ngx_http_ttai_fetch_send(r, f));
}


static ngx_int_t
ngx_http_ttai_fetch_send(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    u_char                   *p;
    ngx_str_t                 uri, auth, *prefix;
    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_http_ttai_tt_conf(r);

    prefix = (f->service == TTAI_SERVICE_WORKER) ? &ttcf->worker
                                                 : &ttcf->location;

    uri.len = prefix->len + f->path.len;
    uri.data = ngx_pnalloc(r->pool, uri.len);

    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(uri.data, prefix->data, prefix->len),
               f->path.data, f->path.len);

    ngx_str_null(&auth);

    if (f->service != TTAI_SERVICE_WORKER && f->token.len) {
        auth.len = sizeof("Bearer ") - 1 + f->token.len;
        auth.data = ngx_pnalloc(r->pool, auth.len);

        if (auth.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(auth.data, "Bearer ", sizeof("Bearer ") - 1);
        ngx_memcpy(p, f->token.data, f->token.len);
    }

    ngx_http_ttai_tt_count(ttcf->zone,
                           f->service == TTAI_SERVICE_WORKER
                           ? NGX_HTTP_TTAI_TT_WORKER
                           : NGX_HTTP_TTAI_TT_REQUESTS);

    if (ngx_http_ttai_fetch_post(r, f, prefix->len, &uri,
                                 f->method == NGX_HTTP_POST
                                 || f->method == NGX_HTTP_PUT
                                 ? &f->body : NULL,
                                 &auth, ngx_http_ttai_fetch_sent)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_ttai_fetch_sent(ngx_http_request_t *r, ngx_int_t rc, void *data)
{
    ngx_http_ttai_fetch_sr_t *fs = data;

    ngx_http_ttai_fetch_t       *f;
    ngx_http_ttai_capture_t     *cap;
    ngx_http_ttai_tt_conf_t     *ttcf;
    ngx_http_ttai_kv_entry_t     entry;
    ngx_http_ttai_main_conf_t   *tmcf;

    f = fs->fetch;
    cap = fs->capture;
    ttcf = ngx_http_ttai_tt_conf(r);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (!cap->answered) {
        if (f->service == TTAI_SERVICE_WORKER) {
            return ngx_http_ttai_fetch_fail(f, r->pool,
                       "worker service unreachable (%s): start it with "
                       "scripts/dev.sh, which runs both services",
                       fs->rc == NGX_HTTP_GATEWAY_TIME_OUT
                       ? "it did not answer in time" : "the connection failed");
        }

        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "TastyTrade %s; this is usually temporary, try again in "
                   "a moment",
                   fs->rc == NGX_HTTP_GATEWAY_TIME_OUT
                   ? "did not answer in time"
                   : "could not be reached");
    }

    if (cap->oversized) {
        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "the answer from %s is larger than the %uz-byte limit "
                   "(ttai_tastytrade_max_body); ask for less",
                   f->service == TTAI_SERVICE_WORKER ? "the worker service"
                                                     : "TastyTrade",
                   cap->max);
    }

    if (!cap->finished) {
        /*
         * the peer closed before the end of its body (a Content-Length
         * not reached, a chunk cut): nginx ends the subrequest without
         * its last buffer, and what came is not the answer
         */
        return ngx_http_ttai_fetch_fail(f, r->pool,
                   "the answer from %s was cut short: the connection "
                   "closed before all of it arrived; this is usually "
                   "temporary, try again in a moment",
                   f->service == TTAI_SERVICE_WORKER ? "the worker service"
                                                     : "TastyTrade");
    }

    if (cap->status == NGX_HTTP_UNAUTHORIZED
        && f->service != TTAI_SERVICE_WORKER
        && (f->method == 0 || f->method == NGX_HTTP_GET) && !f->retried
        && !f->direct)
    {
        /* the token was revoked or expired early: refresh, retry once */
        ngx_http_ttai_tt_token_drop(ttcf->zone, &f->user, &f->token);

        f->retried = 1;
        f->force_refresh = 1;
        f->state = NGX_HTTP_TTAI_FETCH_TOKEN;

        return ngx_http_ttai_fetch_token(r, f);
    }

    f->status = cap->status;
    f->response.data = cap->data;
    f->response.len = cap->len;

    /*
     * only an answer that parses is kept: one that cannot be read would
     * be served from KV until it expires, without TastyTrade being asked
     * again
     */
    if (f->status == NGX_HTTP_OK && f->cache_key.len && f->cache_ttl > 0
        && tmcf->kv != NULL && ngx_http_ttai_fetch_json(&f->response))
    {
        ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));
        entry.key = f->cache_key;
        entry.value = f->response;
        entry.expires = (uint64_t) (ngx_time() + f->cache_ttl) * 1000;

        /* a value past the KV limits is served, just not cached */
        (void) ngx_http_ttai_kv_put(tmcf->kv, &entry, r->connection->log);

        if (f->watch) {
            f->changed = ngx_http_ttai_fetch_changed(r, f);
        }
    }

    return NGX_OK;
}


/*
 * Whether a fresh body differs from the last one fetched for its cache
 * key, by a checksum kept in KV for a day beside it (the cached body
 * itself expires in seconds).  The first fetch has nothing to differ
 * from; a missed change costs one notification, never a wrong answer.
 */

static ngx_uint_t
ngx_http_ttai_fetch_changed(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    u_char                     *p, sum[NGX_INT32_LEN + NGX_SIZE_T_LEN + 2];
    ngx_str_t                   key;
    ngx_uint_t                  changed;
    ngx_http_ttai_kv_entry_t    entry, old;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    key.len = sizeof("changed:") - 1 + f->cache_key.len;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return 0;
    }

    ngx_memcpy(ngx_cpymem(key.data, "changed:", sizeof("changed:") - 1),
               f->cache_key.data, f->cache_key.len);

    p = ngx_sprintf(sum, "%08xD-%uz",
                    ngx_crc32_long(f->response.data, f->response.len),
                    f->response.len);

    changed = (ngx_http_ttai_kv_get(tmcf->kv, &key, r->pool, &old) == NGX_OK
               && (old.value.len != (size_t) (p - sum)
                   || ngx_memcmp(old.value.data, sum, p - sum) != 0));

    ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));
    entry.key = key;
    entry.value.data = sum;
    entry.value.len = p - sum;
    entry.expires = (uint64_t) (ngx_time() + 86400) * 1000;

    (void) ngx_http_ttai_kv_put(tmcf->kv, &entry, r->connection->log);

    return changed;
}


static ngx_uint_t
ngx_http_ttai_fetch_json(ngx_str_t *body)
{
    json_t  *j;

    j = json_loadb((char *) body->data, body->len, 0, NULL);

    if (j == NULL) {
        return 0;
    }

    json_decref(j);

    return 1;
}


static ngx_int_t
ngx_http_ttai_fetch_post(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f,
    size_t prefix, ngx_str_t *uri, ngx_str_t *body, ngx_str_t *authorization,
    ngx_int_t (*handler)(ngx_http_request_t *r, ngx_int_t rc, void *data))
{
    u_char                    *q;
    ngx_str_t                  path, args;
    ngx_http_ttai_capture_t   *ctx;
    ngx_http_ttai_tt_conf_t   *ttcf;
    ngx_http_ttai_fetch_sr_t  *fs;

    ttcf = ngx_http_ttai_tt_conf(r);

    fs = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_sr_t));
    if (fs == NULL) {
        return NGX_ERROR;
    }

    fs->fetch = f;

    path = *uri;
    ngx_str_null(&args);

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');

    if (q != NULL) {
        path.len = q - uri->data;
        args.data = q + 1;
        args.len = uri->data + uri->len - args.data;
    }

    ctx = ngx_http_ttai_capture(r, &path, &args, body, ttcf->max_body,
                                ngx_http_ttai_fetch_subrequest_done, fs);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    fs->capture = ctx;

    if (f->method == NGX_HTTP_PUT || f->method == NGX_HTTP_DELETE) {
        ngx_http_ttai_capture_method(ctx, f->method);
    }

    /* past the location prefix: the path as TastyTrade should see it */
    ctx->uri.data = uri->data + prefix;
    ctx->uri.len = uri->len - prefix;

    if (authorization != NULL) {
        ctx->authorization = *authorization;
    }

    f->sr = fs;
    f->sr_done = handler;

    /* the fetch's own hold on the request, until the parent wakes */
    r->main->count++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_fetch_subrequest_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_ttai_fetch_sr_t *fs = data;

    ngx_http_request_t       *pr;
    ngx_http_ttai_capture_t  *pctx;

    /* called again for nginx's own error page: the first call counts */
    if (fs->called) {
        return rc;
    }

    fs->called = 1;
    fs->rc = rc;

    pr = sr->parent;

    pctx = ngx_http_get_module_ctx(pr, ngx_http_ttai_tt_module);

    if (pctx == NULL) {
        pctx = ngx_pcalloc(pr->pool, sizeof(ngx_http_ttai_capture_t));
        if (pctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(pr, pctx, ngx_http_ttai_tt_module);
    }

    pctx->waiting = fs->fetch;

    /* nginx posts the parent when the subrequest is done */
    pr->write_event_handler = ngx_http_ttai_fetch_wake;

    return rc;
}


static void
ngx_http_ttai_fetch_wake(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_ttai_fetch_t     *f;
    ngx_http_ttai_capture_t   *pctx;
    ngx_http_ttai_fetch_sr_t  *fs;

    pctx = ngx_http_get_module_ctx(r, ngx_http_ttai_tt_module);

    if (pctx == NULL || pctx->waiting == NULL) {
        return;
    }

    f = pctx->waiting;
    pctx->waiting = NULL;
    fs = f->sr;
    f->sr = NULL;

    r->write_event_handler = ngx_http_request_empty_handler;

    rc = f->sr_done(r, fs->rc, fs);

    ngx_http_finalize_request(r, ngx_http_ttai_fetch_resume(r, f, rc));
}


/* waits delay ms, then runs the fetch's current state again */

static ngx_int_t
ngx_http_ttai_fetch_wait(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f,
    ngx_msec_t delay)
{
    /* ngx_event_ident() in debug logs reads a connection's fd */
    f->timer.data = r->connection;
    f->timer.handler = ngx_http_ttai_fetch_timer;
    f->timer.log = r->connection->log;

    ngx_add_timer(&f->timer, delay ? delay : 1);

    r->main->count++;

    return NGX_AGAIN;
}


static void
ngx_http_ttai_fetch_timer(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_ttai_fetch_t  *f;

    f = (ngx_http_ttai_fetch_t *)
            ((u_char *) ev - offsetof(ngx_http_ttai_fetch_t, timer));

    r = f->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_http_finalize_request(r,
        ngx_http_ttai_fetch_resume(r, f, ngx_http_ttai_fetch_run(r, f)));

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_ttai_fetch_cleanup(void *data)
{
    ngx_http_ttai_fetch_t *f = data;

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }
}


/*
 * After an asynchronous step: what to hand ngx_http_finalize_request().
 * Another operation runs (NGX_AGAIN): NGX_DONE.  Finished: the caller's
 * done handler says.
 */

static ngx_int_t
ngx_http_ttai_fetch_resume(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f,
    ngx_int_t rc)
{
    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc == NGX_ERROR) {
        (void) ngx_http_ttai_fetch_fail(f, r->pool,
                   "ttai ran out of memory; try again");
    }

    return f->done(r, f);
}


static ngx_int_t
ngx_http_ttai_fetch_fail(ngx_http_ttai_fetch_t *f, ngx_pool_t *pool,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    f->status = 0;
    ngx_str_null(&f->response);

    f->error = ngx_pnalloc(pool, 512);
    if (f->error == NULL) {
        f->error = "out of memory";
        return NGX_OK;
    }

    last = (u_char *) f->error + 511;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) f->error, last, fmt, args);
    va_end(args);

    *p = '\0';

    return NGX_OK;
}



/*
 * A user whose tokens are unusable meets these on every call, a few a
 * second within the rate limit: a few lines at once, then a sum.
 */

static void
ngx_http_ttai_fetch_log_sealed(ngx_log_t *log, ngx_str_t *user, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    char  *field = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ttai: the stored TastyTrade %s of user \"%V\" does "
                      "not decrypt with TOKEN_ENCRYPTION_KEY", field, user);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ttai: the stored TastyTrade tokens of user \"%V\" did "
                  "not decrypt with TOKEN_ENCRYPTION_KEY %ui %s%V", user, n,
                  n == 1 ? "time" : "times", span);
}


static void
ngx_http_ttai_fetch_log_refused(ngx_log_t *log, ngx_str_t *user,
    ngx_uint_t n, ngx_str_t *span, void *data)
{
    ngx_http_ttai_fetch_log_t  *refused = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ttai: TastyTrade refused to refresh the token of "
                      "user \"%V\": %ui %s", user, refused->status,
                      refused->code);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: TastyTrade refused to refresh the token of user "
                  "\"%V\" %ui %s%V", user, n, n == 1 ? "time" : "times",
                  span);
}
