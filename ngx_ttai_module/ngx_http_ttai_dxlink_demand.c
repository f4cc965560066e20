
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_dxlink.h"


/*
 * Which symbols the market-data stream is to carry: every worker notes
 * the symbols its tools read, with the time; the feed worker subscribes
 * those asked for lately.  An open-addressed table with no deletion: the
 * feed worker rebuilds it without the stale entries when it fills, so a
 * lookup holds the lock for a few comparisons.
 */

#define NGX_HTTP_TTAI_DXD_SLOTS   4096          /* a power of two */

typedef struct {
    time_t                    asked;
    u_char                    len;
    u_char                    symbol[NGX_HTTP_TTAI_DXLINK_SYMBOL];
} ngx_http_ttai_dxd_slot_t;

typedef struct {
    ngx_uint_t                used;
    ngx_http_ttai_dxd_slot_t  slots[NGX_HTTP_TTAI_DXD_SLOTS];
} ngx_http_ttai_dxd_shm_t;


static void ngx_http_ttai_dxd_insert(ngx_http_ttai_dxd_shm_t *sh,
    u_char *symbol, size_t len, time_t asked);
static int ngx_http_ttai_dxd_cmp(const void *a, const void *b);


static ngx_shm_zone_t            *ngx_http_ttai_dxd_zone;

/* the feed worker's copy, outside the lock */
static ngx_http_ttai_dxd_slot_t   ngx_http_ttai_dxd_copy[
                                      NGX_HTTP_TTAI_DXD_SLOTS];


char *
ngx_http_ttai_dxlink_demand_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    if (!tmcf->dxlink) {
        ngx_http_ttai_dxd_zone = NULL;
        return NGX_CONF_OK;
    }

    ngx_http_ttai_dxd_zone = ngx_http_ttai_shm_table(cf, "ttai_dxlink",
                                 sizeof(ngx_http_ttai_dxd_shm_t)
                                 + 16 * ngx_pagesize,
                                 sizeof(ngx_http_ttai_dxd_shm_t), NULL);

    return ngx_http_ttai_dxd_zone ? NGX_CONF_OK : NGX_CONF_ERROR;
}


void
ngx_http_ttai_dxlink_want(ngx_str_t *key)
{
    size_t                    len, plen;
    u_char                   *symbol;
    ngx_slab_pool_t          *shpool;
    ngx_http_ttai_dxd_shm_t  *sh;

    plen = sizeof(NGX_HTTP_TTAI_DXLINK_PREFIX) - 1;

    if (ngx_http_ttai_dxd_zone == NULL
        || key->len <= plen
        || ngx_strncmp(key->data, NGX_HTTP_TTAI_DXLINK_PREFIX, plen) != 0
        || key->data[plen] == '@')
    {
        return;
    }

    symbol = key->data + plen;
    len = key->len - plen;

    if (len >= NGX_HTTP_TTAI_DXLINK_SYMBOL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_dxd_zone->shm.addr;
    sh = ngx_http_ttai_dxd_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    ngx_http_ttai_dxd_insert(sh, symbol, len, ngx_time());
    ngx_shmtx_unlock(&shpool->mutex);
}


/* under the lock; a full table drops the symbol until the next rebuild */

static void
ngx_http_ttai_dxd_insert(ngx_http_ttai_dxd_shm_t *sh, u_char *symbol,
    size_t len, time_t asked)
{
    ngx_uint_t                 i, n;
    ngx_http_ttai_dxd_slot_t  *s;

    i = ngx_hash_key(symbol, len) & (NGX_HTTP_TTAI_DXD_SLOTS - 1);

    for (n = 0; n < NGX_HTTP_TTAI_DXD_SLOTS; n++) {
        s = &sh->slots[i];

        if (s->len == 0) {
            if (sh->used >= NGX_HTTP_TTAI_DXD_SLOTS * 3 / 4) {
                return;
            }

            s->len = (u_char) len;
            ngx_memcpy(s->symbol, symbol, len);
            s->asked = asked;
            sh->used++;
            return;
        }

        if (s->len == len && ngx_memcmp(s->symbol, symbol, len) == 0) {
            s->asked = asked;
            return;
        }

        i = (i + 1) & (NGX_HTTP_TTAI_DXD_SLOTS - 1);
    }
}


json_t *
ngx_http_ttai_dxlink_wanted(time_t idle, ngx_uint_t max, ngx_uint_t *over)
{
    time_t                     since;
    json_t                    *out;
    ngx_uint_t                 i, n, stale;
    ngx_slab_pool_t           *shpool;
    ngx_http_ttai_dxd_slot_t  *s, *copy;
    ngx_http_ttai_dxd_shm_t   *sh;

    *over = 0;

    if (ngx_http_ttai_dxd_zone == NULL) {
        return json_array();
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_dxd_zone->shm.addr;
    sh = ngx_http_ttai_dxd_zone->data;
    copy = ngx_http_ttai_dxd_copy;
    since = ngx_time() - idle;
    n = 0;
    stale = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_TTAI_DXD_SLOTS; i++) {
        s = &sh->slots[i];

        if (s->len == 0) {
            continue;
        }

        if (s->asked < since) {
            stale++;
            continue;
        }

        copy[n++] = *s;
    }

    /* more than half of the table stale: rebuilt with the fresh ones */
    if (stale > NGX_HTTP_TTAI_DXD_SLOTS / 2
        || (stale && sh->used >= NGX_HTTP_TTAI_DXD_SLOTS * 3 / 4))
    {
        ngx_memzero(sh, sizeof(ngx_http_ttai_dxd_shm_t));

        for (i = 0; i < n; i++) {
            ngx_http_ttai_dxd_insert(sh, copy[i].symbol, copy[i].len,
                                     copy[i].asked);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (n > max) {
        ngx_qsort(copy, n, sizeof(ngx_http_ttai_dxd_slot_t),
                  ngx_http_ttai_dxd_cmp);
        *over = n - max;
        n = max;
    }

    out = json_array();

    for (i = 0; out != NULL && i < n; i++) {
        if (json_array_append_new(out,
                json_stringn((char *) copy[i].symbol, copy[i].len))
            != 0)
        {
            json_decref(out);
            out = NULL;
        }
    }

    return out;
}


/* the most recently asked first */

static int
ngx_http_ttai_dxd_cmp(const void *a, const void *b)
{
    const ngx_http_ttai_dxd_slot_t  *x = a, *y = b;

    return (x->asked < y->asked) - (x->asked > y->asked);
}
