
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_UPSTREAM_H_INCLUDED_
#define _NGX_HTTP_TTAI_UPSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ttai_mcp.h"


/*
 * Requests to TastyTrade and to the worker service, as subrequests to
 * internal locations that proxy_pass (conf/tastytrade/, conf/dev.conf).
 *
 * A fetch answers from the KV cache when it can; otherwise it waits for
 * the user's turn under the rate limit, gets the user's access token
 * (refreshing it first when it expires within 60 s, one refresh per
 * user across the workers), makes the subrequest, refreshes and retries
 * once on a 401 to a GET, and stores a 200 in KV.
 *
 *     f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
 *     f->service = ...; f->method = ...; f->path = ...; f->user = ...;
 *     f->done = my_done;
 *
 *     rc = ngx_http_ttai_fetch(r, f);
 *
 * NGX_OK: done already (a cache hit, or a failure with f->error set);
 * the caller goes on.  NGX_AGAIN: my_done(r, f) runs later, and what it
 * returns is passed to ngx_http_finalize_request(); the caller returns
 * NGX_DONE to its own finalizer meanwhile.  NGX_ERROR: out of memory.
 */


typedef struct ngx_http_ttai_fetch_s  ngx_http_ttai_fetch_t;

typedef ngx_int_t (*ngx_http_ttai_fetch_done_pt)(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);


/* per-user state in shared memory: tokens, refresh leases, rate limits */
typedef struct ngx_http_ttai_tt_s  ngx_http_ttai_tt_t;


struct ngx_http_ttai_fetch_s {
    /* set by the caller */
    ngx_uint_t                   service;    /* TTAI_SERVICE_* */
    ngx_uint_t                   post;       /* 1: POST, else GET */
    ngx_str_t                    path;       /* with its query */
    ngx_str_t                    body;       /* JSON, for a POST */
    ngx_str_t                    cache_key;  /* empty: not cached */
    time_t                       cache_ttl;
    ngx_str_t                    user;       /* the JWT's sub */

    /*
     * 1: no cache, limit or token store; sent as it is, with "token" as
     * the bearer when there is one (the sign-in's own calls)
     */
    ngx_uint_t                   direct;
    ngx_http_ttai_fetch_done_pt  done;
    void                        *data;

    /* the outcome */
    ngx_uint_t                   status;     /* 0: no response */
    ngx_str_t                    response;
    char                        *error;      /* with status 0: why */
    unsigned                     cached:1;

    /* the engine's own */
    ngx_uint_t                   state;
    ngx_uint_t                   retried;
    ngx_uint_t                   force_refresh;
    ngx_str_t                    token;      /* the access token used */
    ngx_str_t                    refresh;    /* the refresh token */
    time_t                       deadline;   /* of waiting for a lease */
    ngx_event_t                  timer;
    ngx_http_request_t          *request;

    /* the subrequest in flight, and what runs when it ends */
    void                        *sr;
    ngx_int_t                  (*sr_done)(ngx_http_request_t *r,
                                          ngx_int_t rc, void *data);
};


/* ngx_http_ttai_upstream.c */
ngx_int_t ngx_http_ttai_fetch(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);

/*
 * One step the core waits for: KV reads at once, a request through a
 * fetch.  NGX_OK: *resp is filled (it points into r->pool); NGX_AGAIN:
 * done(r, f) runs later, and ngx_http_ttai_step_response() fills a
 * response from f then; NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_ttai_step(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    const char *user, ttai_mcp_response_t *resp,
    ngx_http_ttai_fetch_done_pt done, void *data);
void ngx_http_ttai_step_response(ngx_http_ttai_fetch_t *f,
    ttai_mcp_response_t *resp);

/*
 * Makes the KV writes the core asked for, and frees them (*stores and *n
 * are cleared); one that fails is only not cached
 */
void ngx_http_ttai_store(ngx_http_request_t *r, ttai_mcp_store_t **stores,
    size_t *n);


/* ngx_http_ttai_capture.c: a subrequest whose response is kept */

typedef struct {
    ngx_uint_t                   status;
    u_char                      *data;
    size_t                       len;
    size_t                       size;
    size_t                       max;
    unsigned                     answered:1;  /* the peer sent a header */
    unsigned                     oversized:1;
    unsigned                     finished:1;

    /* what the proxy location sends, through $ttai_upstream_* */
    ngx_str_t                    uri;
    ngx_str_t                    authorization;
    ngx_str_t                    content_type;

    /* on a parent: the fetch that waits for its subrequest */
    ngx_http_ttai_fetch_t       *waiting;
} ngx_http_ttai_capture_t;


extern ngx_module_t  ngx_http_ttai_upstream_module;

/*
 * Makes a subrequest to uri (with args) whose response is captured, up
 * to max bytes, into the returned context; handler runs when it ends,
 * with the parent's write_event_handler set to wake.  NULL on error.
 */
ngx_http_ttai_capture_t *ngx_http_ttai_capture(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t *args, ngx_str_t *body, size_t max,
    ngx_http_post_subrequest_pt handler, void *data);


/* ngx_http_ttai_tastytrade.c: directives, the shared zone, variables */

typedef struct {
    ngx_uint_t                   env;        /* NGX_HTTP_TTAI_TT_* */
    ngx_str_t                    location;   /* "/_tastytrade" */
    ngx_str_t                    worker;     /* "/_worker" */
    size_t                       max_body;
    ngx_uint_t                   rate;       /* requests per 1000 s */
    ngx_uint_t                   burst;
    ngx_msec_t                   wait;       /* the longest wait */
    ngx_http_ttai_tt_t          *zone;
    ttai_cache_ttl_t             ttl;        /* -1: the core's default */

    /* TastyTrade's authorize page, where sign-in sends the browser */
    ngx_str_t                    authorize_url;
} ngx_http_ttai_tt_conf_t;

#define NGX_HTTP_TTAI_TT_MOCK        0
#define NGX_HTTP_TTAI_TT_SANDBOX     1
#define NGX_HTTP_TTAI_TT_PRODUCTION  2


/* what a user's cached token looks like */
typedef struct {
    u_char                      *token;
    size_t                       len;
    time_t                       expires;
} ngx_http_ttai_tt_token_t;


#define NGX_HTTP_TTAI_TT_REQUESTS    0
#define NGX_HTTP_TTAI_TT_WORKER      1
#define NGX_HTTP_TTAI_TT_HITS        2
#define NGX_HTTP_TTAI_TT_MISSES      3
#define NGX_HTTP_TTAI_TT_REFRESHES   4
#define NGX_HTTP_TTAI_TT_REFUSED     5   /* refresh tokens rejected */
#define NGX_HTTP_TTAI_TT_LIMITED     6   /* calls refused by the limit */
#define NGX_HTTP_TTAI_TT_DELAYED     7   /* calls that waited for it */
#define NGX_HTTP_TTAI_TT_COUNTERS    8


ngx_http_ttai_tt_conf_t *ngx_http_ttai_tt_conf(ngx_http_request_t *r);

/*
 * The OAuth client ttai is at TastyTrade, as C strings in r->pool: from
 * TASTYTRADE_CLIENT_ID and TASTYTRADE_CLIENT_SECRET.  The mock wants a
 * client, not a particular one: stand-ins fill what is unset there.
 * Elsewhere a missing secret is NGX_DECLINED, and a missing id is NULL.
 */
ngx_int_t ngx_http_ttai_tt_client(ngx_http_request_t *r, char **id,
    char **secret);

/*
 * A JSON body that holds secrets, as text in pool; the intermediate copy
 * is wiped.  Takes the reference to j.  NGX_ERROR when out of memory.
 */
ngx_int_t ngx_http_ttai_tt_secret_body(ngx_pool_t *pool, json_t *j,
    ngx_str_t *out);

/* the cache lifetimes set by ttai_cache_ttl, over the given defaults */
void ngx_http_ttai_tt_cache_ttl(ngx_conf_t *cf, ttai_cache_ttl_t *ttl);
const char *ngx_http_ttai_tt_env_name(ngx_uint_t env);

/*
 * The user's access token, copied into pool, when one is cached that
 * is good for more than margin seconds: NGX_OK, else NGX_DECLINED.
 */
ngx_int_t ngx_http_ttai_tt_token_get(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    time_t margin, ngx_pool_t *pool, ngx_http_ttai_tt_token_t *tk);
void ngx_http_ttai_tt_token_set(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_str_t *token, time_t expires);
/* forgets the cached token, if it is still this one */
void ngx_http_ttai_tt_token_drop(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_str_t *token);

/*
 * The refresh lease: NGX_OK when this caller now holds it, NGX_BUSY
 * when another does (until *until).
 */
ngx_int_t ngx_http_ttai_tt_lease(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    time_t ttl, time_t *until);
void ngx_http_ttai_tt_release(ngx_http_ttai_tt_t *tt, ngx_str_t *user);

/*
 * The rate limit: NGX_OK to go now, NGX_AGAIN to go after *delay ms,
 * NGX_BUSY when the wait would be longer than allowed (*delay says how
 * long it would be).
 */
ngx_int_t ngx_http_ttai_tt_limit(ngx_http_ttai_tt_conf_t *ttcf,
    ngx_str_t *user, ngx_msec_t *delay);

/* the same for any key, at rate (requests per 1000 s) and burst */
ngx_int_t ngx_http_ttai_tt_limit_key(ngx_http_ttai_tt_t *tt, ngx_str_t *key,
    ngx_uint_t rate, ngx_uint_t burst, ngx_msec_t wait, ngx_msec_t *delay);

void ngx_http_ttai_tt_count(ngx_http_ttai_tt_t *tt, ngx_uint_t counter);

/* for /health: NGX_DECLINED without TastyTrade configured */
ngx_int_t ngx_http_ttai_tt_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);

ngx_int_t ngx_http_ttai_capture_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_TTAI_UPSTREAM_H_INCLUDED_ */
