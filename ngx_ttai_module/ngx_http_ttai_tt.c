
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_throttle.h"
#include "ttai_version.h"


/*
 * TastyTrade's configuration, and what the workers share about each
 * user in one shared-memory zone: the access token in use (so that a
 * call needs neither SQLite nor libsodium), the refresh lease (so that
 * one refresh per user is in flight across the workers), and the rate
 * limiter's state.  Tokens live here in memory only: the zone is never
 * written to disk, unlike the KV cache.
 *
 * A user (a JWT subject) has one node, however many accounts: a user
 * cannot make more.  Other limits (registrations per client address)
 * have nodes of their own kind, small, at most NGX_HTTP_TTAI_TT_MAX_KEYS
 * of them, and never take a user's room: anyone can make them.
 */


/* the longest access token kept in the zone; longer ones are not cached */
#define NGX_HTTP_TTAI_TT_MAX_TOKEN  4096
#define NGX_HTTP_TTAI_TT_MAX_USER   256

#define NGX_HTTP_TTAI_TT_USER       0
#define NGX_HTTP_TTAI_TT_KEY        1
#define NGX_HTTP_TTAI_TT_MAX_KEYS   4096

/* nodes looked at, at most, from a least recently used end */
#define NGX_HTTP_TTAI_TT_RECLAIM    32


typedef struct {
    ngx_rbtree_node_t            node;       /* key: crc32 of the key */
    ngx_queue_t                  lru;        /* in its kind's queue */
    time_t                       expires;    /* of the token */
    time_t                       lease;      /* a refresh runs until */
    ngx_msec_t                   tat;        /* the limiter's next slot */
    u_short                      user_len;   /* of the user, or key */
    u_short                      token_len;
    u_char                       kind;       /* NGX_HTTP_TTAI_TT_USER... */
    u_char                       data[1];    /* user, then token */
} ngx_http_ttai_tt_node_t;


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  lru;        /* users' */
    ngx_queue_t                  keys;       /* other limits' */
    ngx_uint_t                   nkeys;
    ngx_atomic_t                 counters[NGX_HTTP_TTAI_TT_COUNTERS];
} ngx_http_ttai_tt_sh_t;


/* what making room for a node cost, for the log */
typedef struct {
    ngx_uint_t                   dropped;    /* users' live tokens */
    ngx_uint_t                   full;       /* 1: no room at all */
} ngx_http_ttai_tt_room_t;


struct ngx_http_ttai_tt_s {
    ngx_str_t                    name;
    ngx_http_ttai_tt_sh_t       *sh;
    ngx_slab_pool_t             *shpool;
};


static ngx_int_t ngx_http_ttai_tt_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_ttai_tt_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ttai_tt_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_ttai_tt_env(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ttai_tt_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ttai_tt_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ttai_tt_ttl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_ttai_tt_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_ttai_tt_node_t *ngx_http_ttai_tt_lookup(
    ngx_http_ttai_tt_t *tt, ngx_str_t *user, ngx_uint_t kind,
    ngx_http_ttai_tt_room_t *room);
static ngx_int_t ngx_http_ttai_tt_cmp(ngx_str_t *key, uint32_t hash,
    ngx_uint_t kind, ngx_rbtree_node_t *node);
static ngx_http_ttai_tt_node_t *ngx_http_ttai_tt_reclaim(
    ngx_http_ttai_tt_t *tt, size_t size, ngx_uint_t kind,
    ngx_http_ttai_tt_room_t *room);
static ngx_uint_t ngx_http_ttai_tt_idle(ngx_http_ttai_tt_node_t *n,
    time_t now, ngx_msec_t now_ms);
static void ngx_http_ttai_tt_free(ngx_http_ttai_tt_t *tt,
    ngx_http_ttai_tt_node_t *n);
static void ngx_http_ttai_tt_room_log(ngx_http_ttai_tt_t *tt,
    ngx_http_ttai_tt_room_t *room);
static void ngx_http_ttai_tt_log_dropped(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_tt_log_full(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static ngx_int_t ngx_http_ttai_tt_limit_node(ngx_http_ttai_tt_t *tt,
    ngx_str_t *key, ngx_uint_t kind, ngx_uint_t rate, ngx_uint_t burst,
    ngx_msec_t wait, ngx_msec_t *delay);
static void ngx_http_ttai_tt_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_ttai_tt_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_ttai_tt_user_agent(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_ttai_tt_peer(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_command_t  ngx_http_ttai_tt_commands[] = {

    /* which TastyTrade the internal location points at: for /health */
    { ngx_string("ttai_tastytrade"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_tt_env,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_tastytrade_location"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_tt_conf_t, location),
      NULL },

    { ngx_string("ttai_worker_location"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_tt_conf_t, worker),
      NULL },

    { ngx_string("ttai_tastytrade_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_ttai_tt_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_tastytrade_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_ttai_tt_rate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* ttai_cache_ttl quote=5s metrics=60s chain=10m account=5s */
    { ngx_string("ttai_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_tt_ttl,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* TastyTrade's OAuth authorize page, for sign-in */
    { ngx_string("ttai_tastytrade_authorize_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_tt_conf_t, authorize_url),
      NULL },

    { ngx_string("ttai_tastytrade_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_tt_conf_t, max_body),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ttai_tt_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_ttai_tt_postconfiguration,    /* postconfiguration */

    ngx_http_ttai_tt_create_main_conf,     /* create main configuration */
    ngx_http_ttai_tt_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_ttai_tt_module = {
    NGX_MODULE_V1,
    &ngx_http_ttai_tt_module_ctx,    /* module context */
    ngx_http_ttai_tt_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_ttai_tt_vars[] = {

    { ngx_string("ttai_upstream_authorization"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, authorization),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_content_type"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, content_type),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* the path and query as the core wrote them, percent-encoding kept */
    { ngx_string("ttai_upstream_uri"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, uri),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_scheme"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, scheme),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_peer"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, peer),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_host"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, host),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_amz_date"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, amz_date),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_upstream_amz_security_token"), NULL,
      ngx_http_ttai_tt_variable,
      offsetof(ngx_http_ttai_capture_t, amz_token),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_user_agent"), NULL, ngx_http_ttai_tt_user_agent, 0,
      0, 0 },

    { ngx_string("ttai_tastytrade_scheme"), NULL, ngx_http_ttai_tt_peer, 0,
      0, 0 },

    { ngx_string("ttai_tastytrade_host"), NULL, ngx_http_ttai_tt_peer, 1,
      0, 0 },

      ngx_http_null_variable
};


static const char  *ngx_http_ttai_tt_envs[] = {
    "mock", "sandbox", "production", NULL
};

/* the scheme and the name TastyTrade's certificate and Host must carry */
static ngx_str_t  ngx_http_ttai_tt_peers[][2] = {
    { ngx_string("http"), ngx_string("127.0.0.1") },
    { ngx_string("https"), ngx_string("api.cert.tastyworks.com") },
    { ngx_string("https"), ngx_string("api.tastyworks.com") }
};


ngx_http_ttai_tt_conf_t *
ngx_http_ttai_tt_conf(ngx_http_request_t *r)
{
    return ngx_http_get_module_main_conf(r, ngx_http_ttai_tt_module);
}


const char *
ngx_http_ttai_tt_env_name(ngx_uint_t env)
{
    return ngx_http_ttai_tt_envs[env];
}


static ngx_int_t
ngx_http_ttai_tt_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_ttai_tt_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return ngx_http_ttai_capture_init(cf);
}


static void *
ngx_http_ttai_tt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_tt_conf_t));
    if (ttcf == NULL) {
        return NULL;
    }

    ttcf->env = NGX_CONF_UNSET_UINT;
    ttcf->max_body = NGX_CONF_UNSET_SIZE;
    ttcf->rate = NGX_CONF_UNSET_UINT;
    ttcf->ttl.quote = -1;
    ttcf->ttl.metrics = -1;
    ttcf->ttl.chain = -1;
    ttcf->ttl.account = -1;

    return ttcf;
}


static char *
ngx_http_ttai_tt_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ttai_tt_conf_t *ttcf = conf;

    ngx_conf_init_uint_value(ttcf->env, NGX_HTTP_TTAI_TT_MOCK);

    if (ttcf->location.data == NULL) {
        ngx_str_set(&ttcf->location, "/_tastytrade");
    }

    if (ttcf->worker.data == NULL) {
        ngx_str_set(&ttcf->worker, "/_worker");
    }

    /* a real AAPL nested option chain is 0.5 MB, an index's several */
    ngx_conf_init_size_value(ttcf->max_body, 16 * 1024 * 1024);

    /* the core's defaults, for the worker service */
    if (ttcf->ttl.quote < 0) {
        ttcf->ttl.quote = 5;
    }

    if (ttcf->ttl.metrics < 0) {
        ttcf->ttl.metrics = 60;
    }

    if (ttcf->ttl.chain < 0) {
        ttcf->ttl.chain = 600;
    }

    if (ttcf->ttl.account < 0) {
        ttcf->ttl.account = 5;
    }

    if (ttcf->rate == NGX_CONF_UNSET_UINT) {
        /* what peer servers hold themselves to: 2 requests a second */
        ttcf->rate = 2000;
        ttcf->burst = 4;
        ttcf->wait = 3000;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_ttai_tt_env(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_tt_conf_t *ttcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (ttcf->env != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_ttai_tt_envs[i] != NULL; i++) {
        if (value[1].len == ngx_strlen(ngx_http_ttai_tt_envs[i])
            && ngx_strncmp(value[1].data, ngx_http_ttai_tt_envs[i],
                           value[1].len) == 0)
        {
            ttcf->env = i;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid TastyTrade environment \"%V\", it must be "
                       "\"mock\", \"sandbox\" or \"production\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_ttai_tt_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_tt_conf_t *ttcf = conf;

    long        *slot;
    time_t       t;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = value[i];

        if (ngx_strncmp(s.data, "quote=", 6) == 0) {
            slot = &ttcf->ttl.quote;
            s.data += 6;
            s.len -= 6;

        } else if (ngx_strncmp(s.data, "metrics=", 8) == 0) {
            slot = &ttcf->ttl.metrics;
            s.data += 8;
            s.len -= 8;

        } else if (ngx_strncmp(s.data, "chain=", 6) == 0) {
            slot = &ttcf->ttl.chain;
            s.data += 6;
            s.len -= 6;

        } else if (ngx_strncmp(s.data, "account=", 8) == 0) {
            slot = &ttcf->ttl.account;
            s.data += 8;
            s.len -= 8;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", it must be "
                               "quote=, metrics=, chain= or account=",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        t = ngx_parse_time(&s, 1);

        if (t == (time_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        *slot = (long) t;
    }

    return NGX_CONF_OK;
}


void
ngx_http_ttai_tt_cache_ttl(ngx_conf_t *cf, ttai_cache_ttl_t *ttl)
{
    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_ttai_tt_module);

    if (ttcf->ttl.quote >= 0) {
        ttl->quote = ttcf->ttl.quote;
    }

    if (ttcf->ttl.metrics >= 0) {
        ttl->metrics = ttcf->ttl.metrics;
    }

    if (ttcf->ttl.chain >= 0) {
        ttl->chain = ttcf->ttl.chain;
    }

    if (ttcf->ttl.account >= 0) {
        ttl->account = ttcf->ttl.account;
    }
}


static char *
ngx_http_ttai_tt_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_tt_conf_t *ttcf = conf;

    ssize_t              size;
    ngx_str_t           *value;
    ngx_shm_zone_t      *shm_zone;
    ngx_http_ttai_tt_t  *tt;

    if (ttcf->zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\", it must be at least "
                           "%uz bytes", &value[2], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    tt = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_tt_t));
    if (tt == NULL) {
        return NGX_CONF_ERROR;
    }

    tt->name = value[1];

    shm_zone = ngx_shared_memory_add(cf, &tt->name, size,
                                     &ngx_http_ttai_tt_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &tt->name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_ttai_tt_init_zone;
    shm_zone->data = tt;

    ttcf->zone = tt;

    return NGX_CONF_OK;
}


/* ttai_tastytrade_rate 2r/s [burst=4] [wait=3s] */

static char *
ngx_http_ttai_tt_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_tt_conf_t *ttcf = conf;

    u_char      *p;
    ngx_int_t    n, scale;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (ttcf->rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = value[1].data + value[1].len;
    scale = 1;

    if (value[1].len > 3 && ngx_strncmp(p - 3, "r/s", 3) == 0) {
        n = ngx_atoi(value[1].data, value[1].len - 3);

    } else if (value[1].len > 3 && ngx_strncmp(p - 3, "r/m", 3) == 0) {
        n = ngx_atoi(value[1].data, value[1].len - 3);
        scale = 60;

    } else {
        n = NGX_ERROR;
    }

    if (n <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\", it must look like \"2r/s\" "
                           "or \"60r/m\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ttcf->rate = n * 1000 / scale;
    ttcf->burst = 4;
    ttcf->wait = 3000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            ttcf->burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "wait=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            ttcf->wait = n;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_ttai_tt_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ttai_tt_t  *ott = data;

    size_t               len;
    ngx_http_ttai_tt_t  *tt;

    tt = shm_zone->data;

    if (ott) {
        /* a reload keeps the zone: its tokens and limits stay */
        tt->sh = ott->sh;
        tt->shpool = ott->shpool;
        return NGX_OK;
    }

    tt->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        tt->sh = tt->shpool->data;
        return NGX_OK;
    }

    tt->sh = ngx_slab_alloc(tt->shpool, sizeof(ngx_http_ttai_tt_sh_t));
    if (tt->sh == NULL) {
        return NGX_ERROR;
    }

    tt->shpool->data = tt->sh;

    ngx_memzero((void *) tt->sh->counters, sizeof(tt->sh->counters));
    ngx_rbtree_init(&tt->sh->rbtree, &tt->sh->sentinel,
                    ngx_http_ttai_tt_rbtree_insert);
    ngx_queue_init(&tt->sh->lru);
    ngx_queue_init(&tt->sh->keys);
    tt->sh->nkeys = 0;

    len = sizeof(" in ttai_tastytrade_zone \"\"") + shm_zone->shm.name.len;

    tt->shpool->log_ctx = ngx_slab_alloc(tt->shpool, len);
    if (tt->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(tt->shpool->log_ctx, " in ttai_tastytrade_zone \"%V\"%Z",
                &shm_zone->shm.name);

    tt->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * Called with the zone locked.  With room, a key not yet known gets a
 * node: a user's with room for the longest token, another limit's with
 * room for its key.
 */

static ngx_http_ttai_tt_node_t *
ngx_http_ttai_tt_lookup(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_uint_t kind, ngx_http_ttai_tt_room_t *room)
{
    size_t                    size;
    uint32_t                  hash;
    ngx_int_t                 rc;
    ngx_queue_t              *queue;
    ngx_rbtree_node_t        *node, *sentinel;
    ngx_http_ttai_tt_node_t  *n;

    if (user->len == 0 || user->len > NGX_HTTP_TTAI_TT_MAX_USER) {
        return NULL;
    }

    hash = ngx_crc32_short(user->data, user->len);
    queue = (kind == NGX_HTTP_TTAI_TT_USER) ? &tt->sh->lru : &tt->sh->keys;

    node = tt->sh->rbtree.root;
    sentinel = tt->sh->rbtree.sentinel;

    while (node != sentinel) {
        rc = ngx_http_ttai_tt_cmp(user, hash, kind, node);

        if (rc == 0) {
            n = (ngx_http_ttai_tt_node_t *) node;

            ngx_queue_remove(&n->lru);
            ngx_queue_insert_head(queue, &n->lru);
            return n;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    if (room == NULL) {
        return NULL;
    }

    if (kind == NGX_HTTP_TTAI_TT_USER) {
        size = offsetof(ngx_http_ttai_tt_node_t, data)
               + NGX_HTTP_TTAI_TT_MAX_USER + NGX_HTTP_TTAI_TT_MAX_TOKEN;

    } else {
        size = offsetof(ngx_http_ttai_tt_node_t, data) + user->len;

        if (tt->sh->nkeys >= NGX_HTTP_TTAI_TT_MAX_KEYS) {
            ngx_http_ttai_tt_free(tt, ngx_queue_data(
                                          ngx_queue_last(&tt->sh->keys),
                                          ngx_http_ttai_tt_node_t, lru));
        }
    }

    n = ngx_slab_alloc_locked(tt->shpool, size);

    if (n == NULL) {
        n = ngx_http_ttai_tt_reclaim(tt, size, kind, room);

        if (n == NULL) {
            room->full = 1;
            return NULL;
        }
    }

    ngx_memzero(n, offsetof(ngx_http_ttai_tt_node_t, data));
    n->node.key = hash;
    n->user_len = (u_short) user->len;
    n->kind = (u_char) kind;
    ngx_memcpy(n->data, user->data, user->len);

    ngx_rbtree_insert(&tt->sh->rbtree, &n->node);
    ngx_queue_insert_head(queue, &n->lru);

    if (kind != NGX_HTTP_TTAI_TT_USER) {
        tt->sh->nkeys++;
    }

    return n;
}


static ngx_int_t
ngx_http_ttai_tt_cmp(ngx_str_t *key, uint32_t hash, ngx_uint_t kind,
    ngx_rbtree_node_t *node)
{
    ngx_http_ttai_tt_node_t  *n;

    if (hash != node->key) {
        return (hash < node->key) ? -1 : 1;
    }

    n = (ngx_http_ttai_tt_node_t *) node;

    if (kind != n->kind) {
        return (kind < n->kind) ? -1 : 1;
    }

    return ngx_memn2cmp(key->data, n->data, key->len, n->user_len);
}


/*
 * Room for a new node in a full zone, in the order of what is lost:
 * nodes at rest first (no token, lease or wait: nothing is lost), then
 * other limits' nodes, least recently used first, and for a user only,
 * the least recently used user without a refresh in flight, whose token
 * comes again from the database.  A refresh in flight keeps its lease,
 * and a user's node never makes way for another limit's.
 */

static ngx_http_ttai_tt_node_t *
ngx_http_ttai_tt_reclaim(ngx_http_ttai_tt_t *tt, size_t size,
    ngx_uint_t kind, ngx_http_ttai_tt_room_t *room)
{
    time_t                    now;
    ngx_uint_t                i, k;
    ngx_msec_t                now_ms;
    ngx_time_t               *tp;
    ngx_queue_t              *q, *queues[2];
    ngx_http_ttai_tt_node_t  *n, *node;

    tp = ngx_timeofday();
    now = tp->sec;
    now_ms = (ngx_msec_t) (tp->sec * 1000 + tp->msec);

    queues[0] = &tt->sh->keys;
    queues[1] = &tt->sh->lru;

    for (k = 0; k < 2; k++) {
        q = ngx_queue_last(queues[k]);

        for (i = 0;
             i < NGX_HTTP_TTAI_TT_RECLAIM && q != ngx_queue_sentinel(queues[k]);
             i++)
        {
            n = ngx_queue_data(q, ngx_http_ttai_tt_node_t, lru);
            q = ngx_queue_prev(q);

            if (!ngx_http_ttai_tt_idle(n, now, now_ms)) {
                continue;
            }

            ngx_http_ttai_tt_free(tt, n);

            node = ngx_slab_alloc_locked(tt->shpool, size);
            if (node != NULL) {
                return node;
            }
        }
    }

    while (!ngx_queue_empty(&tt->sh->keys)) {
        ngx_http_ttai_tt_free(tt, ngx_queue_data(
                                      ngx_queue_last(&tt->sh->keys),
                                      ngx_http_ttai_tt_node_t, lru));

        node = ngx_slab_alloc_locked(tt->shpool, size);
        if (node != NULL) {
            return node;
        }
    }

    if (kind != NGX_HTTP_TTAI_TT_USER) {
        return NULL;
    }

    q = ngx_queue_last(&tt->sh->lru);

    for (i = 0;
         i < NGX_HTTP_TTAI_TT_RECLAIM && q != ngx_queue_sentinel(&tt->sh->lru);
         i++)
    {
        n = ngx_queue_data(q, ngx_http_ttai_tt_node_t, lru);
        q = ngx_queue_prev(q);

        if (n->lease > now) {
            continue;
        }

        if (n->token_len && n->expires > now) {
            room->dropped++;
        }

        ngx_http_ttai_tt_free(tt, n);

        node = ngx_slab_alloc_locked(tt->shpool, size);
        if (node != NULL) {
            return node;
        }
    }

    return NULL;
}


/* a node at rest: dropping it loses nothing */

static ngx_uint_t
ngx_http_ttai_tt_idle(ngx_http_ttai_tt_node_t *n, time_t now,
    ngx_msec_t now_ms)
{
    return n->lease <= now
           && (n->token_len == 0 || n->expires <= now)
           && n->tat <= now_ms;
}


static void
ngx_http_ttai_tt_free(ngx_http_ttai_tt_t *tt, ngx_http_ttai_tt_node_t *n)
{
    ngx_queue_remove(&n->lru);
    ngx_rbtree_delete(&tt->sh->rbtree, &n->node);

    if (n->kind != NGX_HTTP_TTAI_TT_USER) {
        tt->sh->nkeys--;
    }

    ngx_slab_free_locked(tt->shpool, n);
}


static void
ngx_http_ttai_tt_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t                  key;
    ngx_rbtree_node_t        **p;
    ngx_http_ttai_tt_node_t   *n;

    n = (ngx_http_ttai_tt_node_t *) node;

    key.data = n->data;
    key.len = n->user_len;

    for ( ;; ) {

        p = (ngx_http_ttai_tt_cmp(&key, (uint32_t) node->key, n->kind, temp)
             < 0)
            ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* written with the zone unlocked: a few lines an interval at most */

static void
ngx_http_ttai_tt_room_log(ngx_http_ttai_tt_t *tt,
    ngx_http_ttai_tt_room_t *room)
{
    if (room->dropped) {
        ngx_http_ttai_throttle(ngx_cycle->log, ngx_http_ttai_tt_log_dropped,
                               &tt->name, room->dropped, NULL);
    }

    if (room->full) {
        ngx_http_ttai_throttle(ngx_cycle->log, ngx_http_ttai_tt_log_full,
                               &tt->name, 1, NULL);
    }
}


static void
ngx_http_ttai_tt_log_dropped(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: TastyTrade zone \"%V\" is full: dropped %ui "
                  "access %s in use%V; make the zone larger", name, n,
                  n == 1 ? "token" : "tokens", span);
}


static void
ngx_http_ttai_tt_log_full(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: TastyTrade zone \"%V\" is full: %ui %s no "
                  "room%V; make the zone larger", name, n,
                  n == 1 ? "call found" : "calls found", span);
}


ngx_int_t
ngx_http_ttai_tt_token_get(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    time_t margin, ngx_pool_t *pool, ngx_http_ttai_tt_token_t *tk)
{
    u_char                   *copy;
    ngx_http_ttai_tt_node_t  *n;

    /* allocated before the lock: nothing but copying happens under it */
    copy = ngx_pnalloc(pool, NGX_HTTP_TTAI_TT_MAX_TOKEN);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, NGX_HTTP_TTAI_TT_USER, NULL);

    if (n == NULL || n->token_len == 0
        || n->expires - margin <= ngx_time())
    {
        ngx_shmtx_unlock(&tt->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_memcpy(copy, n->data + n->user_len, n->token_len);
    tk->token = copy;
    tk->len = n->token_len;
    tk->expires = n->expires;

    ngx_shmtx_unlock(&tt->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_ttai_tt_token_set(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_str_t *token, time_t expires)
{
    ngx_http_ttai_tt_node_t  *n;
    ngx_http_ttai_tt_room_t   room;

    ngx_memzero(&room, sizeof(ngx_http_ttai_tt_room_t));

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, NGX_HTTP_TTAI_TT_USER, &room);

    if (n != NULL) {
        if (token->len <= NGX_HTTP_TTAI_TT_MAX_TOKEN) {
            ngx_memcpy(n->data + n->user_len, token->data, token->len);
            n->token_len = (u_short) token->len;
            n->expires = expires;

        } else {
            n->token_len = 0;
        }
    }

    ngx_shmtx_unlock(&tt->shpool->mutex);

    ngx_http_ttai_tt_room_log(tt, &room);
}


void
ngx_http_ttai_tt_token_drop(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_str_t *token)
{
    ngx_http_ttai_tt_node_t  *n;

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, NGX_HTTP_TTAI_TT_USER, NULL);

    /* another worker may have put a fresh one there meanwhile */
    if (n != NULL && n->token_len == token->len
        && sodium_memcmp(n->data + n->user_len, token->data, token->len)
           == 0)
    {
        n->token_len = 0;
    }

    ngx_shmtx_unlock(&tt->shpool->mutex);
}


ngx_int_t
ngx_http_ttai_tt_lease(ngx_http_ttai_tt_t *tt, ngx_str_t *user, time_t ttl,
    time_t *until)
{
    time_t                    now;
    ngx_int_t                 rc;
    ngx_http_ttai_tt_node_t  *n;
    ngx_http_ttai_tt_room_t   room;

    now = ngx_time();
    ngx_memzero(&room, sizeof(ngx_http_ttai_tt_room_t));

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, NGX_HTTP_TTAI_TT_USER, &room);

    if (n == NULL) {
        /* no room at all: refresh without the lease rather than fail */
        rc = NGX_OK;

    } else if (n->lease > now) {
        *until = n->lease;
        rc = NGX_BUSY;

    } else {
        n->lease = now + ttl;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&tt->shpool->mutex);

    ngx_http_ttai_tt_room_log(tt, &room);

    return rc;
}


void
ngx_http_ttai_tt_release(ngx_http_ttai_tt_t *tt, ngx_str_t *user)
{
    ngx_http_ttai_tt_node_t  *n;

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, NGX_HTTP_TTAI_TT_USER, NULL);

    if (n != NULL) {
        n->lease = 0;
    }

    ngx_shmtx_unlock(&tt->shpool->mutex);
}


/*
 * GCRA: tat is when the user's next request would be on schedule; up to
 * burst requests may run ahead of it, and a request that would run
 * further ahead waits, or is refused when the wait is too long.
 */

ngx_int_t
ngx_http_ttai_tt_limit(ngx_http_ttai_tt_conf_t *ttcf, ngx_str_t *user,
    ngx_msec_t *delay)
{
    return ngx_http_ttai_tt_limit_node(ttcf->zone, user,
                                       NGX_HTTP_TTAI_TT_USER, ttcf->rate,
                                       ttcf->burst, ttcf->wait, delay);
}


ngx_int_t
ngx_http_ttai_tt_limit_key(ngx_http_ttai_tt_t *tt, ngx_str_t *key,
    ngx_uint_t rate, ngx_uint_t burst, ngx_msec_t wait, ngx_msec_t *delay)
{
    return ngx_http_ttai_tt_limit_node(tt, key, NGX_HTTP_TTAI_TT_KEY, rate,
                                       burst, wait, delay);
}


static ngx_int_t
ngx_http_ttai_tt_limit_node(ngx_http_ttai_tt_t *tt, ngx_str_t *user,
    ngx_uint_t kind, ngx_uint_t rate, ngx_uint_t burst, ngx_msec_t wait,
    ngx_msec_t *delay)
{
    ngx_int_t                 rc;
    ngx_msec_t                now, start, interval, ahead;
    ngx_time_t               *tp;
    ngx_http_ttai_tt_node_t  *n;
    ngx_http_ttai_tt_room_t   room;

    tp = ngx_timeofday();
    now = (ngx_msec_t) (tp->sec * 1000 + tp->msec);

    interval = 1000000 / rate;
    ahead = burst * interval;

    ngx_memzero(&room, sizeof(ngx_http_ttai_tt_room_t));

    ngx_shmtx_lock(&tt->shpool->mutex);

    n = ngx_http_ttai_tt_lookup(tt, user, kind, &room);

    if (n == NULL) {
        ngx_shmtx_unlock(&tt->shpool->mutex);

        ngx_http_ttai_tt_room_log(tt, &room);

        /*
         * A user's calls go on unlimited rather than fail; a limit
         * anyone can make fresh ones of is kept by refusing.
         */
        if (kind == NGX_HTTP_TTAI_TT_USER) {
            *delay = 0;
            return NGX_OK;
        }

        *delay = wait;
        return NGX_BUSY;
    }

    start = (n->tat > now) ? n->tat : now;

    if (start <= now + ahead) {
        *delay = 0;
        rc = NGX_OK;

    } else {
        *delay = start - now - ahead;
        rc = (*delay <= wait) ? NGX_AGAIN : NGX_BUSY;
    }

    if (rc != NGX_BUSY) {
        n->tat = start + interval;
    }

    ngx_shmtx_unlock(&tt->shpool->mutex);

    ngx_http_ttai_tt_room_log(tt, &room);

    return rc;
}


void
ngx_http_ttai_tt_count(ngx_http_ttai_tt_t *tt, ngx_uint_t counter)
{
    if (tt != NULL && tt->sh != NULL) {
        (void) ngx_atomic_fetch_add(&tt->sh->counters[counter], 1);
    }
}


#if (NGX_HTTP_TTAI_TT_COUNTERS > NGX_HTTP_TTAI_HEALTH_COUNTERS)
#error "/health shows fewer counters than TastyTrade's zone has"
#endif


ngx_int_t
ngx_http_ttai_tt_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    u_char                   *env;
    ngx_uint_t                i;
    ngx_atomic_t             *c;
    ngx_http_ttai_tt_conf_t  *ttcf;

    /* in the order of the counters */
    static ngx_str_t  names[] = {
        ngx_string("requests"),
        ngx_string("worker_requests"),
        ngx_string("cache_hits"),
        ngx_string("cache_misses"),
        ngx_string("refreshes"),
        ngx_string("refresh_refused"),
        ngx_string("rate_limited"),
        ngx_string("rate_delayed")
    };

    ttcf = ngx_http_ttai_tt_conf(r);

    if (ttcf == NULL || ttcf->zone == NULL) {
        return NGX_DECLINED;
    }

    env = (u_char *) ngx_http_ttai_tt_env_name(ttcf->env);

    ngx_str_set(&h->string_name, "upstream");
    h->string.data = env;
    h->string.len = ngx_strlen(env);

    c = ttcf->zone->sh->counters;

    h->names = names;
    h->ncounters = sizeof(names) / sizeof(ngx_str_t);

    for (i = 0; i < h->ncounters; i++) {
        h->counters[i] = c[i];
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_tt_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                *s;
    ngx_http_ttai_capture_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_tt_module);

    if (ctx == NULL || r == r->main) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    if (s->len == 0) {
        /* an empty value: proxy_set_header sends no header at all */
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        v->len = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->len = s->len;
    v->data = s->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_tt_user_agent(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    /* TastyTrade refuses requests without "<product>/<version>" */
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = (u_char *) TTAI_NAME "/" TTAI_VERSION;
    v->len = sizeof(TTAI_NAME "/" TTAI_VERSION) - 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_tt_peer(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                *s;
    ngx_http_ttai_tt_conf_t  *ttcf;

    ttcf = ngx_http_ttai_tt_conf(r);
    s = &ngx_http_ttai_tt_peers[ttcf->env][data];

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;
    v->len = s->len;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_tt_client(ngx_http_request_t *r, char **id, char **secret)
{
    ngx_str_t                  *v;
    ngx_http_ttai_tt_conf_t    *ttcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    ttcf = ngx_http_ttai_tt_conf(r);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    v = ngx_http_ttai_var(tmcf, "TASTYTRADE_CLIENT_ID");
    *id = (v != NULL && v->len) ? ngx_http_ttai_cstr(r->pool, v) : NULL;

    v = ngx_http_ttai_var(tmcf, "TASTYTRADE_CLIENT_SECRET");
    *secret = (v != NULL && v->len) ? ngx_http_ttai_cstr(r->pool, v) : NULL;

    if (ttcf->env == NGX_HTTP_TTAI_TT_MOCK) {
        if (*id == NULL) {
            *id = "ttai-mock-client";
        }

        if (*secret == NULL) {
            *secret = "ttai-mock-client-secret";
        }
    }

    return (*secret != NULL) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_ttai_tt_secret_body(ngx_pool_t *pool, json_t *j, ngx_str_t *out)
{
    char    *text;
    size_t   len;

    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);
    out->data = ngx_pnalloc(pool, len);

    if (out->data != NULL) {
        ngx_memcpy(out->data, text, len);
        out->len = len;
    }

    /* never left in freed memory, never logged */
    sodium_memzero(text, len);
    free(text);

    return out->data ? NGX_OK : NGX_ERROR;
}
