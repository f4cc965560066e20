
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_kv.h"


/*
 * Trading's side in the shell (README, "Trading safely"): the operator's
 * directives, the key confirmations are made under, and whether the
 * calling user allowed trading.
 *
 * The user's permission is the users.trading column (migration 0010),
 * read on the thread pool and kept in KV for a few seconds, so that a
 * tools/list costs no query while "ttai users trading disable" still
 * takes the tools away within seconds.  The trading tools read it again
 * in the transaction that takes a confirmation: the cached value only
 * decides what is listed, never what is sent.
 */

#define NGX_HTTP_TTAI_TRADING_KEY_ID    2
#define NGX_HTTP_TTAI_TRADING_KEY_CTX   "ttaitrad"

#define NGX_HTTP_TTAI_TRADING_CACHE     5        /* seconds */
#define NGX_HTTP_TTAI_TRADING_PREFIX    "trading:"

/* the value last read, kept for a day, to see that it changed */
#define NGX_HTTP_TTAI_TRADING_SEEN      86400
#define NGX_HTTP_TTAI_TRADING_SEEN_PREFIX  "trading-seen:"

#define NGX_HTTP_TTAI_TRADING_TTL       60


typedef struct {
    ngx_http_ttai_trading_done_pt   handler;
    void                           *data;
    ngx_str_t                       key;
} ngx_http_ttai_trading_lookup_t;


static ngx_int_t ngx_http_ttai_trading_looked_up(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static char *ngx_http_ttai_trading_number(ngx_conf_t *cf, ngx_str_t *v,
    size_t skip, double *out);
static void ngx_http_ttai_trading_seen(ngx_http_request_t *r,
    ngx_http_ttai_trading_lookup_t *lk, ngx_uint_t granted);


/*
 * ttai_trading_limits max_order=N max_day=N max_contracts=N
 *     types=equity,option,future band=F option_market=on|off
 *     outside_hours=warn|refuse
 */

char *
ngx_http_ttai_trading_limits(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_loc_conf_t *tlcf = conf;

    u_char             *p, *last, *comma;
    ngx_str_t          *value, v;
    ngx_uint_t          i;
    ttai_order_conf_t  *oc;

    if (tlcf->trading_limits != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    oc = ngx_pcalloc(cf->pool, sizeof(ttai_order_conf_t));
    if (oc == NULL) {
        return NGX_CONF_ERROR;
    }

    oc->outside_hours = TTAI_ORDER_HOURS_WARN;
    oc->limits.price_band = 0.1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        v = value[i];

#define ngx_http_ttai_is(name)                                               \
        (v.len > sizeof(name) - 1                                            \
         && ngx_strncmp(v.data, name, sizeof(name) - 1) == 0)

        if (ngx_http_ttai_is("max_order=")) {
            if (ngx_http_ttai_trading_number(cf, &v, sizeof("max_order=") - 1,
                                             &oc->limits.max_notional)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_ttai_is("max_day=")) {
            if (ngx_http_ttai_trading_number(cf, &v, sizeof("max_day=") - 1,
                                             &oc->limits.max_day_notional)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_ttai_is("max_contracts=")) {
            if (ngx_http_ttai_trading_number(cf, &v,
                                             sizeof("max_contracts=") - 1,
                                             &oc->limits.max_contracts)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_ttai_is("band=")) {
            if (ngx_http_ttai_trading_number(cf, &v, sizeof("band=") - 1,
                                             &oc->limits.price_band)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_ttai_is("types=")) {
            p = v.data + sizeof("types=") - 1;
            last = v.data + v.len;

            while (p < last) {
                comma = ngx_strlchr(p, last, ',');
                if (comma == NULL) {
                    comma = last;
                }

                if (comma - p == 6 && ngx_strncmp(p, "equity", 6) == 0) {
                    oc->limits.types |= TTAI_ORDER_EQUITY;

                } else if (comma - p == 6
                           && ngx_strncmp(p, "option", 6) == 0)
                {
                    oc->limits.types |= TTAI_ORDER_OPTION;

                } else if (comma - p == 6
                           && ngx_strncmp(p, "future", 6) == 0)
                {
                    oc->limits.types |= TTAI_ORDER_FUTURE;

                } else {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "unknown instrument type in \"%V\": "
                                       "the types are equity, option and "
                                       "future", &v);
                    return NGX_CONF_ERROR;
                }

                p = comma + 1;
            }

        } else if (v.len == sizeof("option_market=on") - 1
                   && ngx_strcmp(v.data, "option_market=on") == 0)
        {
            oc->limits.option_market = 1;

        } else if (v.len == sizeof("option_market=off") - 1
                   && ngx_strcmp(v.data, "option_market=off") == 0)
        {
            oc->limits.option_market = 0;

        } else if (v.len == sizeof("outside_hours=warn") - 1
                   && ngx_strcmp(v.data, "outside_hours=warn") == 0)
        {
            oc->outside_hours = TTAI_ORDER_HOURS_WARN;

        } else if (v.len == sizeof("outside_hours=refuse") - 1
                   && ngx_strcmp(v.data, "outside_hours=refuse") == 0)
        {
            oc->outside_hours = TTAI_ORDER_HOURS_REFUSE;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid limit \"%V\": the limits are "
                               "max_order=, max_day=, max_contracts=, "
                               "types=, band=, option_market=on|off and "
                               "outside_hours=warn|refuse", &v);
            return NGX_CONF_ERROR;
        }

#undef ngx_http_ttai_is
    }

    tlcf->trading_limits = oc;

    return NGX_CONF_OK;
}


static char *
ngx_http_ttai_trading_number(ngx_conf_t *cf, ngx_str_t *v, size_t skip,
    double *out)
{
    u_char     *p, *last;
    ngx_uint_t  dot;
    double      n, scale;

    p = v->data + skip;
    last = v->data + v->len;

    n = 0;
    scale = 1;
    dot = 0;

    if (p == last) {
        goto invalid;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }

        if (*p < '0' || *p > '9') {
            goto invalid;
        }

        n = n * 10 + (*p - '0');

        if (dot) {
            scale *= 10;
        }
    }

    *out = n / scale;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid number in \"%V\"", v);

    return NGX_CONF_ERROR;
}


/* in merge_loc_conf: what a location that trades is told */

char *
ngx_http_ttai_trading_merge(ngx_conf_t *cf, ngx_http_ttai_loc_conf_t *prev,
    ngx_http_ttai_loc_conf_t *conf)
{
    ttai_order_conf_t          *oc;
    ngx_http_ttai_main_conf_t  *tmcf;

    ngx_conf_merge_value(conf->trading, prev->trading, 0);
    ngx_conf_merge_sec_value(conf->trading_ttl, prev->trading_ttl,
                             NGX_HTTP_TTAI_TRADING_TTL);
    ngx_conf_merge_ptr_value(conf->trading_limits, prev->trading_limits,
                             NULL);

    if (!conf->trading) {
        conf->trading_conf = NULL;
        return NGX_CONF_OK;
    }

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ttai_module);

    /* a confirmation is used once, and every attempt kept: in D1 */
    if (tmcf->db == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ttai_trading on\" needs the database: add "
                           "\"ttai_d1\" to the http block, where trading "
                           "keeps its confirmations and its audit");
        return NGX_CONF_ERROR;
    }

    if (conf->trading_ttl < 5 || conf->trading_ttl > 600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ttai_trading_confirm_ttl\" is from 5s to "
                           "10m: a confirmation is for an order the user "
                           "just saw");
        return NGX_CONF_ERROR;
    }

    oc = ngx_pcalloc(cf->pool, sizeof(ttai_order_conf_t));
    if (oc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (conf->trading_limits != NULL) {
        *oc = *conf->trading_limits;

    } else {
        /* no limit on amounts, but the mistakes are still caught */
        oc->limits.price_band = 0.1;
        oc->outside_hours = TTAI_ORDER_HOURS_WARN;
    }

    oc->confirm_ttl = (long) conf->trading_ttl;
    conf->trading_conf = oc;

    return NGX_CONF_OK;
}


/* at the end of the http block: the key, under TOKEN_ENCRYPTION_KEY */

void
ngx_http_ttai_trading_init_conf(ngx_http_ttai_main_conf_t *tmcf)
{
    /* a key of its own: a token never opens another kind of secret */
    crypto_kdf_derive_from_key(tmcf->trading_key, sizeof(tmcf->trading_key),
                               NGX_HTTP_TTAI_TRADING_KEY_ID,
                               NGX_HTTP_TTAI_TRADING_KEY_CTX,
                               tmcf->token_key);
}


/*
 * Whether sub may trade: NGX_OK with *granted set, from KV; NGX_AGAIN
 * when the database is asked (handler(r, data, granted) then returns
 * what finalizes the request); NGX_ERROR.
 */

ngx_int_t
ngx_http_ttai_trading_grant(ngx_http_request_t *r, const char *sub,
    ngx_uint_t *granted, ngx_http_ttai_trading_done_pt handler, void *data)
{
    size_t                           len;
    ngx_int_t                        rc;
    ngx_http_ttai_kv_entry_t         entry;
    ngx_http_ttai_d1_query_t        *q;
    ngx_http_ttai_main_conf_t       *tmcf;
    ngx_http_ttai_trading_lookup_t  *lk;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    *granted = 0;

    lk = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_trading_lookup_t));
    if (lk == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(sub);

    /* NUL-terminated: the sub in it is a C string for the streams */
    lk->key.len = sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1 + len;
    lk->key.data = ngx_pnalloc(r->pool, lk->key.len + 1);
    if (lk->key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(lk->key.data, NGX_HTTP_TTAI_TRADING_PREFIX,
                          sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1),
               sub, len + 1);

    if (tmcf->kv != NULL
        && ngx_http_ttai_kv_get(tmcf->kv, &lk->key, r->pool, &entry)
           == NGX_OK)
    {
        *granted = (entry.value.len == 1 && entry.value.data[0] == '1');
        return NGX_OK;
    }

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&q->sql, "SELECT trading FROM users WHERE id = ?");
    q->params = json_pack("[s]", sub);
    if (q->params == NULL) {
        return NGX_ERROR;
    }

    q->max_rows = 1;
    q->handler = ngx_http_ttai_trading_looked_up;
    q->data = lk;

    lk->handler = handler;
    lk->data = data;

    rc = ngx_http_ttai_d1_post(r, q);

    switch (rc) {

    case NGX_OK:
        return NGX_AGAIN;

    case NGX_BUSY:
    case NGX_DECLINED:
        /* not known: not granted; the tools are not listed this time */
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_ttai_trading_looked_up(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_trading_lookup_t *lk = q->data;

    json_t                     *row;
    ngx_uint_t                  granted;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    granted = 0;

    if (q->rc == NGX_OK) {
        row = json_array_get(json_object_get(q->result, "results"), 0);
        granted = (json_integer_value(json_object_get(row, "trading"))
                   == 1);

        if (tmcf->kv != NULL) {
            ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));
            entry.key = lk->key;
            entry.value.data = (u_char *) (granted ? "1" : "0");
            entry.value.len = 1;
            entry.expires = (uint64_t) (ngx_time()
                                        + NGX_HTTP_TTAI_TRADING_CACHE)
                            * 1000;

            /* only a cache: a full zone costs one more query next time */
            (void) ngx_http_ttai_kv_put(tmcf->kv, &entry, r->connection->log);

            ngx_http_ttai_trading_seen(r, lk, granted);
        }
    }

    return lk->handler(r, lk->data, granted);
}


/*
 * The permission read differs from the one read before ("ttai users
 * trading" changed it, or a sign-in granted it): the user's listening
 * streams are told that the tools changed
 */

static void
ngx_http_ttai_trading_seen(ngx_http_request_t *r,
    ngx_http_ttai_trading_lookup_t *lk, ngx_uint_t granted)
{
    u_char                     *p;
    ngx_str_t                   key;
    ngx_uint_t                  before;
    ttai_mcp_change_t           change;
    ngx_http_ttai_kv_entry_t    entry, old;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    key.len = sizeof(NGX_HTTP_TTAI_TRADING_SEEN_PREFIX) - 1 + lk->key.len
              - (sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1);
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return;
    }

    p = ngx_cpymem(key.data, NGX_HTTP_TTAI_TRADING_SEEN_PREFIX,
                   sizeof(NGX_HTTP_TTAI_TRADING_SEEN_PREFIX) - 1);
    ngx_memcpy(p, lk->key.data + sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1,
               lk->key.len - (sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1));

    before = (ngx_uint_t) -1;

    if (ngx_http_ttai_kv_get(tmcf->kv, &key, r->pool, &old) == NGX_OK) {
        before = (old.value.len == 1 && old.value.data[0] == '1');
    }

    if (before == granted) {
        return;
    }

    ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));
    entry.key = key;
    entry.value.data = (u_char *) (granted ? "1" : "0");
    entry.value.len = 1;
    entry.expires = (uint64_t) (ngx_time() + NGX_HTTP_TTAI_TRADING_SEEN)
                    * 1000;

    (void) ngx_http_ttai_kv_put(tmcf->kv, &entry, r->connection->log);

    if (before == (ngx_uint_t) -1) {
        /* the first read: nothing it differs from */
        return;
    }

    ngx_memzero(&change, sizeof(ttai_mcp_change_t));
    change.kind = TTAI_LISTEN_TOOLS;
    change.user_only = 1;

    ngx_http_ttai_listen_publish(r, &change, 1,
                                 (char *) lk->key.data
                                 + sizeof(NGX_HTTP_TTAI_TRADING_PREFIX) - 1);
}
