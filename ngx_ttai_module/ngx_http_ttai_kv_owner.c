
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_kv_zone.h"
#include "ngx_http_ttai_throttle.h"


/*
 * A KV zone's policy when it is full, and its owners: the MCP sessions
 * zone counts each user's sessions, keeps every user within a limit, and
 * never drops one user's live session for another's.  The KV cache keeps
 * the default: it evicts the least recently used entries, whoever wrote
 * them.  The counts change with the entries, under the zone's lock, in
 * every path an entry comes or goes by (put, delete, expiry, the sweep,
 * eviction, the snapshot's restore), so they cannot drift from them.
 */


/* expired entries looked at, at most, from the least recently used end */
#define NGX_HTTP_TTAI_KV_RECLAIM  64


static void ngx_http_ttai_kv_log_evicted(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_kv_log_limited(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_kv_log_own(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_kv_log_refused(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_kv_log_nofit(ngx_log_t *log, ngx_str_t *name,
    ngx_uint_t n, ngx_str_t *span, void *data);


void
ngx_http_ttai_kv_policy(ngx_http_ttai_kv_t *kv, ngx_uint_t keep,
    ngx_http_ttai_kv_owner_pt owner, ngx_uint_t per_owner)
{
    kv->keep = keep;
    kv->owner = owner;
    kv->per_owner = per_owner;
}


ngx_str_t *
ngx_http_ttai_kv_name(ngx_http_ttai_kv_t *kv)
{
    return &kv->name;
}


ngx_uint_t
ngx_http_ttai_kv_owner_count(ngx_http_ttai_kv_t *kv, ngx_str_t *owner)
{
    ngx_uint_t              n;
    ngx_http_ttai_owner_t  *o;

    if (kv->sh->owners == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&kv->shpool->mutex);

    o = ngx_http_ttai_owner_lookup_locked(kv->sh->owners, owner);
    n = (o != NULL) ? o->count : 0;

    ngx_shmtx_unlock(&kv->shpool->mutex);

    return n;
}


ngx_int_t
ngx_http_ttai_kv_owner_hold_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_rbtree_node_t *old,
    ngx_uint_t evict, ngx_http_ttai_kv_room_t *room,
    ngx_http_ttai_owner_t **owner)
{
    uint64_t                     now;
    ngx_str_t                    name;
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_http_ttai_owner_t       *o;
    ngx_http_ttai_kv_node_t     *kn;
    ngx_http_ttai_owner_link_t  *link;

    *owner = NULL;

    if (kv->owner(entry, &name) != NGX_OK
        || name.len > NGX_HTTP_TTAI_OWNER_MAX_NAME)
    {
        return NGX_DECLINED;
    }

    if (name.len == 0) {
        return NGX_OK;
    }

    now = ngx_http_ttai_kv_now();

    o = ngx_http_ttai_owner_hold_locked(kv->sh->owners, kv->shpool, &name);

    /* a new owner's record may need an expired entry's room */
    for (n = 0, q = ngx_queue_last(&kv->sh->lru);
         o == NULL && evict && n < NGX_HTTP_TTAI_KV_RECLAIM
         && q != ngx_queue_sentinel(&kv->sh->lru);
         n++)
    {
        kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);
        q = ngx_queue_prev(q);

        if (ngx_http_ttai_kv_expired(kn, now)) {
            ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
            o = ngx_http_ttai_owner_hold_locked(kv->sh->owners, kv->shpool,
                                                &name);
        }
    }

    if (o == NULL) {
        if (evict && kv->keep) {
            room->refused = 1;
            kv->sh->refused++;
        }

        return NGX_ERROR;
    }

    /* a new value of one of the owner's entries is no new entry */
    if (kv->per_owner == 0
        || (old != NULL
            && ngx_http_ttai_kv_link(ngx_http_ttai_kv_node(old))->owner == o))
    {
        *owner = o;
        return NGX_OK;
    }

    /* the count already holds the entry to come */
    while (o->count > kv->per_owner) {
        link = ngx_http_ttai_owner_lru(o);

        if (link == NULL || !evict) {
            /* a restore past a limit lowered since: the rest stay out */
            ngx_http_ttai_owner_release_locked(kv->sh->owners, kv->shpool,
                                               o);
            return NGX_ERROR;
        }

        kn = link->data;

        if (!ngx_http_ttai_kv_expired(kn, now)) {
            room->limited++;
            kv->sh->evictions++;
        }

        ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
    }

    *owner = o;

    return NGX_OK;
}


ngx_rbtree_node_t *
ngx_http_ttai_kv_reclaim_locked(ngx_http_ttai_kv_t *kv, size_t size,
    ngx_http_ttai_owner_t *owner, uint64_t now, ngx_http_ttai_kv_room_t *room)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_rbtree_node_t           *node;
    ngx_http_ttai_kv_node_t     *kn;
    ngx_http_ttai_owner_link_t  *link;

    node = NULL;

    /*
     * Expired entries first.  The sweep frees them all within a second
     * or so; here, a bounded look at the least recently used end, where
     * an idle timeout puts them.
     */

    for (n = 0, q = ngx_queue_last(&kv->sh->lru);
         node == NULL && n < NGX_HTTP_TTAI_KV_RECLAIM
         && q != ngx_queue_sentinel(&kv->sh->lru);
         n++)
    {
        kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);
        q = ngx_queue_prev(q);

        if (ngx_http_ttai_kv_expired(kn, now)) {
            ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
            node = ngx_slab_alloc_locked(kv->shpool, size);
        }
    }

    /* then the writer's own, least recently used first */

    while (node == NULL && owner != NULL) {
        link = ngx_http_ttai_owner_lru(owner);

        if (link == NULL) {
            break;
        }

        kn = link->data;

        if (!ngx_http_ttai_kv_expired(kn, now)) {
            room->own++;
            kv->sh->evictions++;
        }

        ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
        node = ngx_slab_alloc_locked(kv->shpool, size);
    }

    /* what is left is others' and live: theirs to keep */

    if (node == NULL) {
        room->refused = 1;
        kv->sh->refused++;
    }

    return node;
}


/* the lines of many puts: at most one a kind per interval per worker */

void
ngx_http_ttai_kv_room_log(ngx_http_ttai_kv_t *kv, ngx_int_t rc,
    ngx_http_ttai_kv_entry_t *entry, ngx_http_ttai_kv_room_t *room,
    ngx_log_t *log)
{
    size_t  size;

    if (room->evicted) {
        ngx_http_ttai_throttle(log, ngx_http_ttai_kv_log_evicted, &kv->name,
                               room->evicted, NULL);
    }

    if (room->limited) {
        ngx_http_ttai_throttle(log, ngx_http_ttai_kv_log_limited, &kv->name,
                               room->limited, &kv->per_owner);
    }

    if (room->own) {
        ngx_http_ttai_throttle(log, ngx_http_ttai_kv_log_own, &kv->name,
                               room->own, NULL);
    }

    if (rc == NGX_OK) {
        return;
    }

    if (room->refused) {
        ngx_http_ttai_throttle(log, ngx_http_ttai_kv_log_refused, &kv->name,
                               1, NULL);
        return;
    }

    size = entry->key.len + entry->metadata.len + entry->value.len;

    ngx_http_ttai_throttle(log, ngx_http_ttai_kv_log_nofit, &kv->name, 1,
                           &size);
}


static void
ngx_http_ttai_kv_log_evicted(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: KV zone \"%V\" is full: evicted %ui least recently "
                  "used %s%V", name, n, n == 1 ? "entry" : "entries", span);
}


static void
ngx_http_ttai_kv_log_limited(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_uint_t  *limit = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "ttai: KV zone \"%V\" dropped %ui %s: %s owner was at "
                      "the limit of %ui", name, n,
                      n == 1 ? "entry" : "entries", n == 1 ? "its" : "their",
                      *limit);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "ttai: KV zone \"%V\" dropped %ui %s%V: their owners were "
                  "at their limit", name, n, n == 1 ? "entry" : "entries",
                  span);
}


static void
ngx_http_ttai_kv_log_own(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: KV zone \"%V\" is full of live entries: dropped %ui "
                  "of the writer's own%V to store a new one", name, n, span);
}


static void
ngx_http_ttai_kv_log_refused(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ttai: KV zone \"%V\" is full of others' live entries: "
                  "refused %ui new %s%V; make the zone larger", name, n,
                  n == 1 ? "entry" : "entries", span);
}


static void
ngx_http_ttai_kv_log_nofit(ngx_log_t *log, ngx_str_t *name, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    size_t  *size = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ttai: KV zone \"%V\" cannot hold an entry of %uz "
                      "bytes", name, *size);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "ttai: KV zone \"%V\" could not hold %ui %s%V", name, n,
                  n == 1 ? "entry" : "entries", span);
}
