
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_TT_H_INCLUDED_
#define _NGX_HTTP_TTAI_TT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_ttai_module.h"
#include "ttai_mcp.h"


/*
 * TastyTrade: the directives, what the workers share about each user
 * (tokens, refresh leases, rate limits) in one shared-memory zone, and
 * the variables the internal locations send upstream.  The module also
 * installs the capture filter of ngx_http_ttai_fetch.h, whose context
 * lives in its slot.
 */


typedef struct ngx_http_ttai_tt_s  ngx_http_ttai_tt_t;

extern ngx_module_t  ngx_http_ttai_tt_module;


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


#endif /* _NGX_HTTP_TTAI_TT_H_INCLUDED_ */
