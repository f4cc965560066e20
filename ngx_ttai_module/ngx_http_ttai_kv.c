
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_kv_zone.h"


/*
 * The KV cache: one shared-memory zone that every worker reads and
 * writes, an rbtree in key order for lookups and prefix lists, an LRU
 * queue for eviction, and TTLs.  Expired entries are never returned;
 * their memory comes back lazily (a couple from the LRU tail on each
 * operation) and from a sweep that worker 0 runs in small batches.
 *
 * The zone's slab mutex is the only lock, so that the master can free it
 * when a worker dies holding it, and it is held only to copy.
 */


/* entries looked at, at most, per lock in the sweep and in clear */
#define NGX_HTTP_TTAI_KV_BATCH         256
#define NGX_HTTP_TTAI_KV_SWEEP_BATCHES 16

/* how often worker 0 checks whether an expiry is due, ms */
#define NGX_HTTP_TTAI_KV_SWEEP_EVERY   1000

/* a sweep pass that did not finish continues after this, ms */
#define NGX_HTTP_TTAI_KV_SWEEP_AGAIN   1

/* a safety net: sweep at least this often while TTLs exist, ms */
#define NGX_HTTP_TTAI_KV_SWEEP_LATEST  60000

/* entries a put may free to make room, at most, before it gives up */
#define NGX_HTTP_TTAI_KV_MAX_EVICT     4096

#define NGX_HTTP_TTAI_KV_INTERVAL      30000


/*
 * The timers of the process that sweeps and saves (worker 0, or the
 * single process).  This lives in the process, not in a cycle: a reload
 * without a master does not run init_process again, so the timers must
 * outlive the cycle that started them and find the zone through
 * ngx_cycle each time.
 */
typedef struct {
    /* a sweep pass in progress resumes at this key */
    ngx_uint_t                sweeping;
    uint64_t                  sweep_min;
    size_t                    sweep_key_len;
    u_char                    sweep_key[NGX_HTTP_TTAI_KV_MAX_KEY];
} ngx_http_ttai_kv_sweep_t;


typedef struct {
    /* ev->data of both timers: ngx_event_ident() reads its fd */
    ngx_connection_t          conn;

    ngx_event_t               sweep;
    ngx_event_t               save;

    /* one per zone: the KV cache, the MCP sessions */
    ngx_http_ttai_kv_sweep_t  zones[NGX_HTTP_TTAI_KV_ZONES];
} ngx_http_ttai_kv_worker_t;


static ngx_int_t ngx_http_ttai_kv_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_uint_t ngx_http_ttai_kv_valid_name(ngx_str_t *name);
static ngx_rbtree_key_t ngx_http_ttai_kv_order(u_char *key, size_t len);
static ngx_int_t ngx_http_ttai_kv_cmp(u_char *key, size_t len,
    ngx_rbtree_key_t order, ngx_rbtree_node_t *node);
static void ngx_http_ttai_kv_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_rbtree_node_t *ngx_http_ttai_kv_lookup(ngx_http_ttai_kv_t *kv,
    ngx_str_t *key);
static void ngx_http_ttai_kv_expire_locked(ngx_http_ttai_kv_t *kv,
    ngx_uint_t n, uint64_t now);
static void ngx_http_ttai_kv_set_expiry(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_node_t *kn, uint64_t expires);
static void ngx_http_ttai_kv_copy(u_char *p, ngx_http_ttai_kv_entry_t *entry);
static ngx_int_t ngx_http_ttai_kv_write(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t journal,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log);
static ngx_int_t ngx_http_ttai_kv_failing(ngx_http_request_t *r,
    ngx_http_ttai_kv_stats_t *st, ngx_http_ttai_health_t *h);
static ngx_http_ttai_kv_t *ngx_http_ttai_kv_of(
    ngx_http_ttai_main_conf_t *tmcf, ngx_uint_t zone);
static void ngx_http_ttai_kv_sweep_handler(ngx_event_t *ev);
static ngx_uint_t ngx_http_ttai_kv_sweep(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_sweep_t *w);
static void ngx_http_ttai_kv_save_handler(ngx_event_t *ev);


static ngx_http_ttai_kv_worker_t  *ngx_http_ttai_kv_worker;


/*
 * ttai_kv_zone NAME SIZE [snapshot=PATH|off] [snapshot_interval=TIME]
 *     [journal=on|off]
 */

char *
ngx_http_ttai_kv_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ssize_t               size;
    ngx_str_t            *value, s;
    ngx_int_t             ms;
    ngx_uint_t            i;
    ngx_shm_zone_t       *shm_zone;
    ngx_http_ttai_kv_t   *kv, **slot;

    /* the same zone serves the KV cache and the MCP sessions */
    slot = (ngx_http_ttai_kv_t **) ((u_char *) tmcf + cmd->offset);

    if (*slot != NULL) {
        return "is duplicate: one zone serves the whole server";
    }

    value = cf->args->elts;

    kv = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_kv_t));
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     kv->sh = NULL;
     *     kv->snapshot = { 0, NULL };
     *     kv->snapshot_set = 0;
     *     kv->journal_dir = { 0, NULL };
     *     kv->journal_prefix = { 0, NULL };
     */

    kv->name = value[1];
    kv->zone = (cmd->offset == offsetof(ngx_http_ttai_main_conf_t, kv))
               ? NGX_HTTP_TTAI_KV_CACHE : NGX_HTTP_TTAI_KV_SESSIONS;

    if (!ngx_http_ttai_kv_valid_name(&kv->name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid KV zone name \"%V\": use letters, "
                           "digits, \"_\", \"-\" and \".\", not first",
                           &kv->name);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid KV zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "KV zone \"%V\" is too small: it needs at least "
                           "%uzk", &kv->name, 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    kv->interval = NGX_CONF_UNSET_MSEC;
    kv->journal = NGX_CONF_UNSET;

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "journal=", 8) == 0) {

            if (kv->journal != NGX_CONF_UNSET) {
                goto invalid;
            }

            if (ngx_strcmp(value[i].data + 8, "on") == 0) {
                kv->journal = 1;

            } else if (ngx_strcmp(value[i].data + 8, "off") == 0) {
                kv->journal = 0;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the journal is "
                                   "\"on\" or \"off\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "snapshot=", 9) == 0) {

            if (kv->snapshot_set) {
                goto invalid;
            }

            kv->snapshot_set = 1;

            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                continue;
            }

            if (s.len == 0) {
                goto invalid;
            }

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            kv->snapshot = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "snapshot_interval=", 18) == 0) {

            if (kv->interval != NGX_CONF_UNSET_MSEC) {
                goto invalid;
            }

            s.data = value[i].data + 18;
            s.len = value[i].len - 18;

            ms = ngx_parse_time(&s, 0);

            if (ms == NGX_ERROR || ms < 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the interval is a time "
                                   "of at least 1s, such as 30s or 5m",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            kv->interval = (ngx_msec_t) ms;
            continue;
        }

        goto invalid;
    }

    if (kv->interval == NGX_CONF_UNSET_MSEC) {
        kv->interval = NGX_HTTP_TTAI_KV_INTERVAL;
    }

    shm_zone = ngx_shared_memory_add(cf, &kv->name, size,
                                     &ngx_http_ttai_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "KV zone \"%V\" is already defined", &kv->name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_ttai_kv_init_zone;
    shm_zone->data = kv;

    kv->shm_zone = shm_zone;

    *slot = kv;
    tmcf->enabled = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid or repeated parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/* the name becomes a file name in the state folder */

static ngx_uint_t
ngx_http_ttai_kv_valid_name(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 64 || name->data[0] == '.') {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')
        {
            continue;
        }

        return 0;
    }

    return 1;
}


char *
ngx_http_ttai_kv_init_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    u_char              *p;
    ngx_uint_t           i;
    ngx_http_ttai_kv_t  *kv;

    /* the cache's snapshot goes to kv/, the sessions' to do/ */
    static char  *folders[] = { "kv", "do" };

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        kv = ngx_http_ttai_kv_of(tmcf, i);

        if (kv == NULL) {
            continue;
        }

        if (kv->snapshot_set || tmcf->state_dir.len == 0) {
            goto journal;
        }

        kv->snapshot.len = tmcf->state_dir.len + sizeof("//") - 1
                           + ngx_strlen(folders[i]) + kv->name.len
                           + sizeof(".snapshot") - 1;

        kv->snapshot.data = ngx_pnalloc(cf->pool, kv->snapshot.len + 1);
        if (kv->snapshot.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_sprintf(kv->snapshot.data, "%V/%s/%V.snapshot",
                        &tmcf->state_dir, folders[i], &kv->name);
        *p = '\0';

    journal:

        if (ngx_http_ttai_kv_journal_init_conf(cf, tmcf, kv) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_kv_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ttai_kv_t *okv = data;

    size_t               len;
    ngx_http_ttai_kv_t  *kv;

    kv = shm_zone->data;

    if (okv != NULL) {
        /* a reload: the zone and its contents carry over */
        kv->sh = okv->sh;
        kv->shpool = okv->shpool;
        goto existing;
    }

    kv->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        kv->sh = kv->shpool->data;
        goto existing;
    }

    kv->sh = ngx_slab_alloc(kv->shpool, sizeof(ngx_http_ttai_kv_sh_t));
    if (kv->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(kv->sh, sizeof(ngx_http_ttai_kv_sh_t));

    kv->shpool->data = kv->sh;

    ngx_rbtree_init(&kv->sh->rbtree, &kv->sh->sentinel,
                    ngx_http_ttai_kv_rbtree_insert_value);
    ngx_queue_init(&kv->sh->lru);

    kv->sh->pages = (kv->shpool->end - kv->shpool->start) / ngx_pagesize;

    len = sizeof(" in ttai_kv_zone \"\"") + kv->name.len;

    kv->shpool->log_ctx = ngx_slab_alloc(kv->shpool, len);
    if (kv->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(kv->shpool->log_ctx, " in ttai_kv_zone \"%V\"%Z", &kv->name);

    /* a full zone is an answer (evict, or 507), not a slab alert */
    kv->shpool->log_nomem = 0;

    if (kv->owner != NULL) {
        kv->sh->owners = ngx_http_ttai_owners_create(kv->shpool);
        if (kv->sh->owners == NULL) {
            return NGX_ERROR;
        }
    }

    /* the owners are counted again as the entries come back */
    ngx_http_ttai_kv_snapshot_load(kv, shm_zone->shm.log);

    return NGX_OK;

existing:

    /* entries stored without their owner's link cannot be counted */
    if ((kv->owner != NULL) != (kv->sh->owners != NULL)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "ttai: zone \"%V\" cannot serve both as the KV cache "
                      "and for MCP sessions; give each its own name",
                      &kv->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* order and lookup */

uint64_t
ngx_http_ttai_kv_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


/*
 * The first bytes of the key, big-endian and zero-padded: comparing these
 * numbers orders keys as their bytes do, as long as keys hold no NUL, and
 * only ties need a memcmp.
 */

static ngx_rbtree_key_t
ngx_http_ttai_kv_order(u_char *key, size_t len)
{
    ngx_uint_t        i;
    ngx_rbtree_key_t  order;

    order = 0;

    for (i = 0; i < sizeof(ngx_rbtree_key_t); i++) {
        order <<= 8;

        if (i < len) {
            order |= key[i];
        }
    }

    return order;
}


static ngx_int_t
ngx_http_ttai_kv_cmp(u_char *key, size_t len, ngx_rbtree_key_t order,
    ngx_rbtree_node_t *node)
{
    ngx_http_ttai_kv_node_t  *kn;

    if (order != node->key) {
        return (order < node->key) ? -1 : 1;
    }

    kn = ngx_http_ttai_kv_node(node);

    return ngx_memn2cmp(key, kn->data, len, kn->key_len);
}


static void
ngx_http_ttai_kv_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t        **p;
    ngx_http_ttai_kv_node_t   *kn;

    kn = ngx_http_ttai_kv_node(node);

    for ( ;; ) {

        p = (ngx_http_ttai_kv_cmp(kn->data, kn->key_len, node->key, temp) < 0)
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


static ngx_rbtree_node_t *
ngx_http_ttai_kv_lookup(ngx_http_ttai_kv_t *kv, ngx_str_t *key)
{
    ngx_int_t           rc;
    ngx_rbtree_key_t    order;
    ngx_rbtree_node_t  *node, *sentinel;

    order = ngx_http_ttai_kv_order(key->data, key->len);

    node = kv->sh->rbtree.root;
    sentinel = kv->sh->rbtree.sentinel;

    while (node != sentinel) {
        rc = ngx_http_ttai_kv_cmp(key->data, key->len, order, node);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_rbtree_node_t *
ngx_http_ttai_kv_lower_bound(ngx_http_ttai_kv_t *kv, u_char *key,
    size_t len, ngx_uint_t after)
{
    ngx_int_t           rc;
    ngx_rbtree_key_t    order;
    ngx_rbtree_node_t  *node, *sentinel, *found;

    order = ngx_http_ttai_kv_order(key, len);

    node = kv->sh->rbtree.root;
    sentinel = kv->sh->rbtree.sentinel;
    found = NULL;

    while (node != sentinel) {
        rc = ngx_http_ttai_kv_cmp(key, len, order, node);

        if (rc < 0 || (rc == 0 && !after)) {
            found = node;
            node = node->left;

        } else {
            node = node->right;
        }
    }

    return found;
}


/* changes, all with the zone locked */

void
ngx_http_ttai_kv_free_locked(ngx_http_ttai_kv_t *kv, ngx_rbtree_node_t *node)
{
    ngx_http_ttai_kv_node_t  *kn;

    kn = ngx_http_ttai_kv_node(node);

    if (kn->expires) {
        kv->sh->expiring--;
    }

    if (kv->sh->owners != NULL) {
        ngx_http_ttai_owner_detach_locked(kv->sh->owners, kv->shpool,
                                          ngx_http_ttai_kv_link(kn));
    }

    ngx_queue_remove(&kn->queue);
    ngx_rbtree_delete(&kv->sh->rbtree, node);
    ngx_slab_free_locked(kv->shpool, node);

    kv->sh->entries--;
    kv->sh->changes++;
}


ngx_int_t
ngx_http_ttai_kv_remove_locked(ngx_http_ttai_kv_t *kv, ngx_str_t *key)
{
    ngx_rbtree_node_t  *node;

    node = ngx_http_ttai_kv_lookup(kv, key);

    if (node == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_ttai_kv_free_locked(kv, node);

    return NGX_OK;
}


/* frees up to n expired entries from the LRU tail, as lua_shared_dict */

static void
ngx_http_ttai_kv_expire_locked(ngx_http_ttai_kv_t *kv, ngx_uint_t n,
    uint64_t now)
{
    ngx_queue_t              *q;
    ngx_http_ttai_kv_node_t  *kn;

    while (n-- && !ngx_queue_empty(&kv->sh->lru)) {
        q = ngx_queue_last(&kv->sh->lru);
        kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);

        if (!ngx_http_ttai_kv_expired(kn, now)) {
            return;
        }

        ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
    }
}


static void
ngx_http_ttai_kv_set_expiry(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_node_t *kn, uint64_t expires)
{
    if (kn->expires) {
        kv->sh->expiring--;
    }

    kn->expires = expires;

    if (expires == 0) {
        return;
    }

    kv->sh->expiring++;

    if (kv->sh->expiring == 1 || expires < kv->sh->next_expiry) {
        kv->sh->next_expiry = expires;
    }
}


/* metadata then value; either may be empty, with a NULL data */

static void
ngx_http_ttai_kv_copy(u_char *p, ngx_http_ttai_kv_entry_t *entry)
{
    if (entry->metadata.len) {
        p = ngx_cpymem(p, entry->metadata.data, entry->metadata.len);
    }

    if (entry->value.len) {
        ngx_memcpy(p, entry->value.data, entry->value.len);
    }
}


ngx_int_t
ngx_http_ttai_kv_store_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t evict, ngx_uint_t *evicted)
{
    ngx_int_t                rc;
    ngx_http_ttai_kv_room_t  room;

    rc = ngx_http_ttai_kv_store_room_locked(kv, entry, evict, &room);

    *evicted = room.evicted + room.limited + room.own;

    return rc == NGX_OK ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_ttai_kv_store_room_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t evict,
    ngx_http_ttai_kv_room_t *room)
{
    size_t                    size;
    uint64_t                  now;
    ngx_int_t                 rc;
    ngx_uint_t                tries;
    ngx_queue_t              *q;
    ngx_rbtree_node_t        *node, *old;
    ngx_http_ttai_owner_t    *owner;
    ngx_http_ttai_kv_node_t  *kn;

    ngx_memzero(room, sizeof(ngx_http_ttai_kv_room_t));
    now = ngx_http_ttai_kv_now();

    old = ngx_http_ttai_kv_lookup(kv, &entry->key);
    owner = NULL;

    if (kv->sh->owners != NULL) {
        rc = ngx_http_ttai_kv_owner_hold_locked(kv, entry, old, evict, room,
                                                &owner);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (old != NULL) {
        kn = ngx_http_ttai_kv_node(old);

        if (kn->value_len == entry->value.len
            && kn->metadata_len == entry->metadata.len
            && (kv->sh->owners == NULL
                || ngx_http_ttai_kv_link(kn)->owner == owner))
        {
            /* same sizes: overwrite in place, no allocation can fail */
            ngx_http_ttai_kv_copy(kn->data + kn->key_len, entry);

            ngx_http_ttai_kv_set_expiry(kv, kn, entry->expires);

            ngx_queue_remove(&kn->queue);
            ngx_queue_insert_head(&kv->sh->lru, &kn->queue);

            if (owner != NULL) {
                /* the entry keeps its link: the count held goes back */
                ngx_http_ttai_owner_touch_locked(ngx_http_ttai_kv_link(kn));
                ngx_http_ttai_owner_release_locked(kv->sh->owners,
                                                   kv->shpool, owner);
            }

            kv->sh->changes++;

            return NGX_OK;
        }
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_ttai_kv_node_t, data)
           + entry->key.len + entry->metadata.len + entry->value.len;

    if (kv->sh->owners != NULL) {
        size = ngx_align(size, NGX_ALIGNMENT)
               + sizeof(ngx_http_ttai_owner_link_t);
    }

    /* an entry the empty zone could not hold must not empty it first */
    if (size > (kv->sh->pages - 1) * ngx_pagesize) {
        node = NULL;
        goto failed;
    }

    node = ngx_slab_alloc_locked(kv->shpool, size);

    if (node == NULL && old != NULL) {
        /* the old value is going anyway: its room comes first */
        ngx_http_ttai_kv_free_locked(kv, old);
        old = NULL;

        node = ngx_slab_alloc_locked(kv->shpool, size);
    }

    if (node == NULL && evict && kv->keep) {
        node = ngx_http_ttai_kv_reclaim_locked(kv, size, owner, now, room);
    }

    for (tries = 0;
         node == NULL && evict && !kv->keep
         && tries < NGX_HTTP_TTAI_KV_MAX_EVICT;
         tries++)
    {
        if (ngx_queue_empty(&kv->sh->lru)) {
            break;
        }

        q = ngx_queue_last(&kv->sh->lru);
        kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);

        if (!ngx_http_ttai_kv_expired(kn, now)) {
            room->evicted++;
            kv->sh->evictions++;
        }

        ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));

        node = ngx_slab_alloc_locked(kv->shpool, size);
    }

    if (node == NULL) {
        goto failed;
    }

    if (old != NULL) {
        ngx_http_ttai_kv_free_locked(kv, old);
    }

    kn = ngx_http_ttai_kv_node(node);

    node->key = ngx_http_ttai_kv_order(entry->key.data, entry->key.len);

    kn->dummy = 0;
    kn->key_len = (u_short) entry->key.len;
    kn->metadata_len = (u_short) entry->metadata.len;
    kn->value_len = (uint32_t) entry->value.len;
    kn->expires = 0;

    ngx_memcpy(kn->data, entry->key.data, entry->key.len);
    ngx_http_ttai_kv_copy(kn->data + entry->key.len, entry);

    ngx_http_ttai_kv_set_expiry(kv, kn, entry->expires);

    ngx_rbtree_insert(&kv->sh->rbtree, node);
    ngx_queue_insert_head(&kv->sh->lru, &kn->queue);

    if (kv->sh->owners != NULL) {
        if (owner != NULL) {
            ngx_http_ttai_owner_attach_locked(owner,
                                              ngx_http_ttai_kv_link(kn), kn);
        } else {
            ngx_http_ttai_kv_link(kn)->owner = NULL;
        }
    }

    kv->sh->entries++;
    kv->sh->changes++;

    return NGX_OK;

failed:

    if (owner != NULL) {
        ngx_http_ttai_owner_release_locked(kv->sh->owners, kv->shpool, owner);
    }

    return NGX_ERROR;
}


/* the operations */

ngx_int_t
ngx_http_ttai_kv_get(ngx_http_ttai_kv_t *kv, ngx_str_t *key,
    ngx_pool_t *pool, ngx_http_ttai_kv_entry_t *entry)
{
    u_char                   *p;
    uint64_t                  now;
    ngx_rbtree_node_t        *node;
    ngx_http_ttai_kv_node_t  *kn;

    ngx_memzero(entry, sizeof(ngx_http_ttai_kv_entry_t));
    entry->key = *key;

    now = ngx_http_ttai_kv_now();

    ngx_shmtx_lock(&kv->shpool->mutex);

    ngx_http_ttai_kv_expire_locked(kv, 2, now);

    node = ngx_http_ttai_kv_lookup(kv, key);

    if (node == NULL) {
        kv->sh->misses++;
        ngx_shmtx_unlock(&kv->shpool->mutex);
        return NGX_DECLINED;
    }

    kn = ngx_http_ttai_kv_node(node);

    if (ngx_http_ttai_kv_expired(kn, now)) {
        ngx_http_ttai_kv_free_locked(kv, node);
        kv->sh->misses++;
        ngx_shmtx_unlock(&kv->shpool->mutex);
        return NGX_DECLINED;
    }

    /* one allocation for both; a value may be empty */
    p = ngx_pnalloc(pool, kn->metadata_len + kn->value_len + 1);
    if (p == NULL) {
        ngx_shmtx_unlock(&kv->shpool->mutex);
        return NGX_ERROR;
    }

    entry->metadata.data = p;
    entry->metadata.len = kn->metadata_len;
    entry->value.data = p + kn->metadata_len;
    entry->value.len = kn->value_len;
    entry->expires = kn->expires;

    ngx_memcpy(p, kn->data + kn->key_len, kn->metadata_len + kn->value_len);

    ngx_queue_remove(&kn->queue);
    ngx_queue_insert_head(&kv->sh->lru, &kn->queue);

    if (kv->sh->owners != NULL) {
        ngx_http_ttai_owner_touch_locked(ngx_http_ttai_kv_link(kn));
    }

    kv->sh->hits++;

    ngx_shmtx_unlock(&kv->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_kv_put(ngx_http_ttai_kv_t *kv, ngx_http_ttai_kv_entry_t *entry,
    ngx_log_t *log)
{
    return ngx_http_ttai_kv_write(kv, entry, 0, NULL, log);
}


ngx_int_t
ngx_http_ttai_kv_set(ngx_http_ttai_kv_t *kv, ngx_http_ttai_kv_entry_t *entry,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log)
{
    return ngx_http_ttai_kv_write(kv, entry, kv->journal, w, log);
}


static ngx_int_t
ngx_http_ttai_kv_write(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t journal,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log)
{
    uint64_t                 now, generation;
    ngx_err_t                err;
    ngx_int_t                rc;
    ttai_kvjournal_record_t  rec;
    ngx_http_ttai_kv_room_t  room;

    if (entry->key.len == 0
        || entry->key.len > NGX_HTTP_TTAI_KV_MAX_KEY
        || ngx_strlchr(entry->key.data, entry->key.data + entry->key.len, '\0')
           != NULL
        || entry->value.len > NGX_HTTP_TTAI_KV_MAX_VALUE
        || entry->metadata.len > NGX_HTTP_TTAI_KV_MAX_METADATA)
    {
        return NGX_DECLINED;
    }

    now = ngx_http_ttai_kv_now();
    generation = 0;

    ngx_shmtx_lock(&kv->shpool->mutex);

    if (journal
        && ngx_http_ttai_kv_journal_gate_locked(kv, now, &err) != NGX_OK)
    {
        ngx_shmtx_unlock(&kv->shpool->mutex);

        if (w != NULL) {
            w->err = err;
        }

        return NGX_ABORT;
    }

    ngx_http_ttai_kv_expire_locked(kv, 2, now);

    rc = ngx_http_ttai_kv_store_room_locked(kv, entry, 1, &room);

    /* numbered as it is applied: a replay applies in this order */
    if (rc == NGX_OK && journal) {
        rec.seq = ++kv->sh->seq;
        generation = kv->sh->generation;
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);

    ngx_http_ttai_kv_room_log(kv, rc, entry, &room, log);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (!journal) {
        return NGX_OK;
    }

    rec.op = TTAI_KVJOURNAL_PUT;
    rec.key = entry->key.data;
    rec.key_len = entry->key.len;
    rec.metadata = entry->metadata.data;
    rec.metadata_len = entry->metadata.len;
    rec.value = entry->value.data;
    rec.value_len = entry->value.len;
    rec.expires = entry->expires;

    return ngx_http_ttai_kv_journal_append(kv, &rec, generation, w, log);
}


ngx_int_t
ngx_http_ttai_kv_delete(ngx_http_ttai_kv_t *kv, ngx_str_t *key,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log)
{
    uint64_t                 now, generation;
    ngx_err_t                err;
    ngx_int_t                rc;
    ngx_rbtree_node_t       *node;
    ttai_kvjournal_record_t  rec;

    now = ngx_http_ttai_kv_now();
    generation = 0;

    ngx_memzero(&rec, sizeof(ttai_kvjournal_record_t));

    ngx_shmtx_lock(&kv->shpool->mutex);

    if (kv->journal
        && ngx_http_ttai_kv_journal_gate_locked(kv, now, &err) != NGX_OK)
    {
        ngx_shmtx_unlock(&kv->shpool->mutex);

        if (w != NULL) {
            w->err = err;
        }

        return NGX_ABORT;
    }

    ngx_http_ttai_kv_expire_locked(kv, 2, now);

    node = ngx_http_ttai_kv_lookup(kv, key);

    if (node == NULL) {
        rc = NGX_DECLINED;

    } else {
        rc = ngx_http_ttai_kv_expired(ngx_http_ttai_kv_node(node), now)
             ? NGX_DECLINED : NGX_OK;

        ngx_http_ttai_kv_free_locked(kv, node);
    }

    /* an expired key needs no record: its put replays as expired */
    if (rc == NGX_OK && kv->journal) {
        rec.seq = ++kv->sh->seq;
        generation = kv->sh->generation;
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);

    if (rc != NGX_OK || !kv->journal) {
        return rc;
    }

    rec.op = TTAI_KVJOURNAL_DELETE;
    rec.key = key->data;
    rec.key_len = key->len;

    return ngx_http_ttai_kv_journal_append(kv, &rec, generation, w, log);
}


/*
 * Batches under the lock until the zone is empty.  A put that lands
 * between two batches is removed by a later one, unless it comes after
 * the last: the clear's record is numbered in that last batch, so that a
 * replay keeps exactly the puts that came after it.
 */

ngx_int_t
ngx_http_ttai_kv_clear(ngx_http_ttai_kv_t *kv, ngx_uint_t *deleted,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log)
{
    uint64_t                  now, generation;
    ngx_err_t                 err;
    ngx_uint_t                n, first;
    ngx_queue_t              *q;
    ttai_kvjournal_record_t   rec;
    ngx_http_ttai_kv_node_t  *kn;

    *deleted = 0;
    now = ngx_http_ttai_kv_now();
    generation = 0;

    ngx_memzero(&rec, sizeof(ttai_kvjournal_record_t));
    rec.op = TTAI_KVJOURNAL_CLEAR;

    for (first = 1; /* void */; first = 0) {
        ngx_shmtx_lock(&kv->shpool->mutex);

        if (first && kv->journal
            && ngx_http_ttai_kv_journal_gate_locked(kv, now, &err) != NGX_OK)
        {
            ngx_shmtx_unlock(&kv->shpool->mutex);

            if (w != NULL) {
                w->err = err;
            }

            return NGX_ABORT;
        }

        for (n = 0; n < NGX_HTTP_TTAI_KV_BATCH; n++) {
            if (ngx_queue_empty(&kv->sh->lru)) {
                break;
            }

            q = ngx_queue_last(&kv->sh->lru);
            kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);

            if (!ngx_http_ttai_kv_expired(kn, now)) {
                (*deleted)++;
            }

            ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
        }

        if (n < NGX_HTTP_TTAI_KV_BATCH && kv->journal) {
            rec.seq = ++kv->sh->seq;
            generation = kv->sh->generation;
        }

        ngx_shmtx_unlock(&kv->shpool->mutex);

        if (n < NGX_HTTP_TTAI_KV_BATCH) {
            break;
        }
    }

    if (!kv->journal) {
        return NGX_OK;
    }

    return ngx_http_ttai_kv_journal_append(kv, &rec, generation, w, log);
}


char *
ngx_http_ttai_kv_strerror(ngx_pool_t *pool, const char *what, ngx_err_t err)
{
    u_char  *p, *last, *s;
    size_t   len;

    len = ngx_strlen(what) + sizeof(": ") - 1 + NGX_MAX_ERROR_STR + 1;

    s = ngx_pnalloc(pool, len);
    if (s == NULL) {
        return NULL;
    }

    last = s + len - 1;
    p = ngx_slprintf(s, last, "%s: ", what);
    p = ngx_strerror(err, p, last - p);
    *p = '\0';

    return (char *) s;
}


ngx_int_t
ngx_http_ttai_kv_list(ngx_http_ttai_kv_t *kv, ngx_str_t *prefix,
    ngx_str_t *cursor, ngx_uint_t limit, ngx_pool_t *pool,
    ngx_array_t **keys, ngx_uint_t *complete)
{
    u_char                    *p;
    uint64_t                   now;
    ngx_int_t                  rc;
    ngx_array_t               *a;
    ngx_rbtree_node_t         *node, *next;
    ngx_http_ttai_kv_node_t   *kn;
    ngx_http_ttai_kv_entry_t  *e;

    limit = ngx_min(ngx_max(limit, 1), NGX_HTTP_TTAI_KV_MAX_LIST);

    a = ngx_array_create(pool, ngx_min(limit, 16),
                         sizeof(ngx_http_ttai_kv_entry_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    *keys = a;
    *complete = 1;
    rc = NGX_OK;

    now = ngx_http_ttai_kv_now();

    ngx_shmtx_lock(&kv->shpool->mutex);

    ngx_http_ttai_kv_expire_locked(kv, 2, now);

    if (cursor->len
        && ngx_memn2cmp(cursor->data, prefix->data, cursor->len, prefix->len)
           >= 0)
    {
        node = ngx_http_ttai_kv_lower_bound(kv, cursor->data, cursor->len, 1);

    } else {
        node = ngx_http_ttai_kv_lower_bound(kv, prefix->data, prefix->len, 0);
    }

    /*
     * Expired entries met on the way are freed, so a later list does not
     * step over them again; one more live key after the last one copied
     * tells whether the list is complete.
     */

    while (node != NULL) {
        kn = ngx_http_ttai_kv_node(node);

        if (kn->key_len < prefix->len
            || ngx_memcmp(kn->data, prefix->data, prefix->len) != 0)
        {
            break;
        }

        next = ngx_rbtree_next(&kv->sh->rbtree, node);

        if (ngx_http_ttai_kv_expired(kn, now)) {
            ngx_http_ttai_kv_free_locked(kv, node);
            node = next;
            continue;
        }

        if (a->nelts == limit) {
            *complete = 0;
            break;
        }

        e = ngx_array_push(a);
        p = ngx_pnalloc(pool, kn->key_len + kn->metadata_len);

        if (e == NULL || p == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(p, kn->data, kn->key_len + kn->metadata_len);

        e->key.data = p;
        e->key.len = kn->key_len;
        e->metadata.data = p + kn->key_len;
        e->metadata.len = kn->metadata_len;
        ngx_str_null(&e->value);
        e->expires = kn->expires;

        node = next;
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);

    return rc;
}


void
ngx_http_ttai_kv_stats(ngx_http_ttai_kv_t *kv, ngx_http_ttai_kv_stats_t *stats)
{
    ngx_shmtx_lock(&kv->shpool->mutex);

    stats->entries = kv->sh->entries;
    stats->hits = kv->sh->hits;
    stats->misses = kv->sh->misses;
    stats->evictions = kv->sh->evictions;
    stats->used = (kv->sh->pages - kv->shpool->pfree) * ngx_pagesize;
    stats->owners = kv->sh->owners ? kv->sh->owners->count : 0;
    stats->refused = kv->sh->refused;
    stats->journal_err = kv->sh->journal_err;
    stats->snapshot_err = kv->sh->snapshot_err;

    ngx_shmtx_unlock(&kv->shpool->mutex);

    stats->size = kv->shm_zone->shm.size;
}


ngx_int_t
ngx_http_ttai_kv_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    ngx_http_ttai_kv_stats_t   st;

    static ngx_str_t  names[] = {
        ngx_string("entries"),
        ngx_string("hits"),
        ngx_string("misses"),
        ngx_string("evictions"),
        ngx_string("used_bytes"),
        ngx_string("size_bytes")
    };

    if (tmcf->kv == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_ttai_kv_stats(tmcf->kv, &st);

    h->names = names;
    h->ncounters = 6;
    h->counters[0] = st.entries;
    h->counters[1] = st.hits;
    h->counters[2] = st.misses;
    h->counters[3] = st.evictions;
    h->counters[4] = st.used;
    h->counters[5] = st.size;

    return ngx_http_ttai_kv_failing(r, &st, h);
}


/* the sessions zone for /health: how many sessions are live */

ngx_int_t
ngx_http_ttai_kv_sessions_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    ngx_http_ttai_kv_stats_t   st;

    static ngx_str_t  names[] = {
        ngx_string("entries"),
        ngx_string("evictions"),
        ngx_string("users"),
        ngx_string("refused")
    };

    if (tmcf->sessions == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_ttai_kv_stats(tmcf->sessions, &st);

    h->names = names;
    h->ncounters = 4;
    h->counters[0] = st.entries;
    h->counters[1] = st.evictions;
    h->counters[2] = st.owners;
    h->counters[3] = st.refused;

    return ngx_http_ttai_kv_failing(r, &st, h);
}


/*
 * A zone whose journal or last snapshot failed cannot promise that its
 * changes last: the check fails, with the error, until a write or a
 * snapshot works again.
 */

static ngx_int_t
ngx_http_ttai_kv_failing(ngx_http_request_t *r, ngx_http_ttai_kv_stats_t *st,
    ngx_http_ttai_health_t *h)
{
    u_char  *p;
    char    *journal, *snapshot;
    size_t   len;

    if (st->journal_err == 0 && st->snapshot_err == 0) {
        return NGX_OK;
    }

    journal = st->journal_err
              ? ngx_http_ttai_kv_strerror(r->pool, "journal", st->journal_err)
              : "";
    snapshot = st->snapshot_err
               ? ngx_http_ttai_kv_strerror(r->pool, "snapshot",
                                           st->snapshot_err)
               : "";

    if (journal == NULL || snapshot == NULL) {
        ngx_str_set(&h->error, "out of memory");
        return NGX_ERROR;
    }

    len = ngx_strlen(journal) + sizeof("; ") - 1 + ngx_strlen(snapshot);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_str_set(&h->error, "out of memory");
        return NGX_ERROR;
    }

    /* the system's messages have no quote or backslash: JSON as they are */
    h->error.data = p;
    h->error.len = ngx_sprintf(p, "%s%s%s", journal,
                               (*journal && *snapshot) ? "; " : "", snapshot)
                   - p;

    return NGX_ERROR;
}


/* worker 0: the sweep and the snapshot */

ngx_int_t
ngx_http_ttai_kv_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_msec_t                  interval;
    ngx_uint_t                  i;
    ngx_http_ttai_kv_t         *kv;
    ngx_http_ttai_kv_worker_t  *w;

    interval = 0;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        kv = ngx_http_ttai_kv_of(tmcf, i);

        if (kv != NULL && (interval == 0 || kv->interval < interval)) {
            interval = kv->interval;
        }
    }

    if (interval == 0 || ngx_http_ttai_kv_worker != NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_SINGLE
        && !(ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0))
    {
        return NGX_OK;
    }

    w = ngx_calloc(sizeof(ngx_http_ttai_kv_worker_t), cycle->log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->conn.fd = (ngx_socket_t) -1;

    w->sweep.handler = ngx_http_ttai_kv_sweep_handler;
    w->sweep.data = &w->conn;
    w->sweep.log = cycle->log;
    w->sweep.cancelable = 1;

    w->save.handler = ngx_http_ttai_kv_save_handler;
    w->save.data = &w->conn;
    w->save.log = cycle->log;
    w->save.cancelable = 1;

    ngx_http_ttai_kv_worker = w;

    ngx_add_timer(&w->sweep, NGX_HTTP_TTAI_KV_SWEEP_EVERY);
    ngx_add_timer(&w->save, interval);

    return NGX_OK;
}


void
ngx_http_ttai_kv_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_uint_t                  i;
    ngx_http_ttai_kv_t         *kv;
    ngx_http_ttai_kv_worker_t  *w;

    /* every process: what it has queued for its journal goes out first */
    ngx_http_ttai_kv_journal_exit(cycle);

    w = ngx_http_ttai_kv_worker;

    if (w == NULL) {
        return;
    }

    ngx_http_ttai_kv_worker = NULL;

    if (w->sweep.timer_set) {
        ngx_del_timer(&w->sweep);
    }

    if (w->save.timer_set) {
        ngx_del_timer(&w->save);
    }

    ngx_free(w);

    /*
     * The final save runs here, on what was the event loop: the worker is
     * leaving, no request waits on it any more, and the thread pools have
     * stopped.  It comes after any save still posted, whose outcome is
     * taken first.
     */
    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        kv = ngx_http_ttai_kv_of(tmcf, i);

        if (ngx_http_ttai_kv_snapshot_exit(i, cycle->log) == NGX_OK
            && kv != NULL)
        {
            (void) ngx_http_ttai_kv_snapshot_save(kv, cycle->log);
        }
    }
}


ngx_http_ttai_kv_t *
ngx_http_ttai_kv_current(ngx_uint_t zone)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_ttai_module);

    return (tmcf != NULL) ? ngx_http_ttai_kv_of(tmcf, zone) : NULL;
}


static ngx_http_ttai_kv_t *
ngx_http_ttai_kv_of(ngx_http_ttai_main_conf_t *tmcf, ngx_uint_t zone)
{
    return (zone == NGX_HTTP_TTAI_KV_CACHE) ? tmcf->kv : tmcf->sessions;
}


static void
ngx_http_ttai_kv_sweep_handler(ngx_event_t *ev)
{
    ngx_uint_t                  i, done;
    ngx_http_ttai_kv_t         *kv;
    ngx_http_ttai_kv_worker_t  *w;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    w = ngx_http_ttai_kv_worker;

    if (w == NULL) {
        return;
    }

    done = 1;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        kv = ngx_http_ttai_kv_current(i);

        if (kv != NULL && !ngx_http_ttai_kv_sweep(kv, &w->zones[i])) {
            done = 0;
        }
    }

    ngx_add_timer(ev, done ? NGX_HTTP_TTAI_KV_SWEEP_EVERY
                           : NGX_HTTP_TTAI_KV_SWEEP_AGAIN);
}


/*
 * One step of a sweep: a few batches of entries in key order, each under
 * the lock on its own, resuming at the key where the last batch stopped.
 * Returns 1 when no pass is left to finish.
 */

static ngx_uint_t
ngx_http_ttai_kv_sweep(ngx_http_ttai_kv_t *kv, ngx_http_ttai_kv_sweep_t *w)
{
    uint64_t                  now;
    ngx_uint_t                batch, n, freed, done;
    ngx_rbtree_node_t        *node, *next;
    ngx_http_ttai_kv_node_t  *kn;

    now = ngx_http_ttai_kv_now();

    if (!w->sweeping) {
        ngx_shmtx_lock(&kv->shpool->mutex);

        if (kv->sh->expiring == 0 || kv->sh->next_expiry > now) {
            ngx_shmtx_unlock(&kv->shpool->mutex);
            return 1;
        }

        /* puts during the pass lower this again */
        kv->sh->next_expiry = now + NGX_HTTP_TTAI_KV_SWEEP_LATEST;

        ngx_shmtx_unlock(&kv->shpool->mutex);

        w->sweeping = 1;
        w->sweep_min = (uint64_t) -1;
        w->sweep_key_len = 0;
    }

    freed = 0;
    done = 0;

    for (batch = 0; batch < NGX_HTTP_TTAI_KV_SWEEP_BATCHES && !done; batch++)
    {
        ngx_shmtx_lock(&kv->shpool->mutex);

        /* the empty key sorts first: a new pass starts at the minimum */
        node = ngx_http_ttai_kv_lower_bound(kv, w->sweep_key,
                                            w->sweep_key_len, 0);

        for (n = 0; node != NULL && n < NGX_HTTP_TTAI_KV_BATCH; n++) {
            kn = ngx_http_ttai_kv_node(node);
            next = ngx_rbtree_next(&kv->sh->rbtree, node);

            if (ngx_http_ttai_kv_expired(kn, now)) {
                ngx_http_ttai_kv_free_locked(kv, node);
                freed++;

            } else if (kn->expires && kn->expires < w->sweep_min) {
                w->sweep_min = kn->expires;
            }

            node = next;
        }

        if (node != NULL) {
            kn = ngx_http_ttai_kv_node(node);
            ngx_memcpy(w->sweep_key, kn->data, kn->key_len);
            w->sweep_key_len = kn->key_len;

        } else {
            if (w->sweep_min < kv->sh->next_expiry) {
                kv->sh->next_expiry = w->sweep_min;
            }

            w->sweeping = 0;
            done = 1;
        }

        ngx_shmtx_unlock(&kv->shpool->mutex);
    }

    if (freed) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ttai: KV zone \"%V\": swept %ui expired entries",
                       &kv->name, freed);
    }

    return done;
}


static void
ngx_http_ttai_kv_save_handler(ngx_event_t *ev)
{
    ngx_uint_t           i;
    ngx_http_ttai_kv_t  *kv;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        kv = ngx_http_ttai_kv_current(i);

        if (kv != NULL) {
            (void) ngx_http_ttai_kv_snapshot_start(kv, ev->log);
        }
    }

    ngx_http_ttai_kv_save_next();
}


/*
 * The interval runs from the end of a save: with one still on the thread
 * pool, its completion handler times the next.
 */

void
ngx_http_ttai_kv_save_next(void)
{
    ngx_msec_t                  interval;
    ngx_uint_t                  i;
    ngx_http_ttai_kv_t         *kv;
    ngx_http_ttai_kv_worker_t  *w;

    w = ngx_http_ttai_kv_worker;

    if (w == NULL || w->save.timer_set || ngx_exiting || ngx_terminate) {
        return;
    }

    interval = 0;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        if (ngx_http_ttai_kv_snapshot_busy(i)) {
            return;
        }

        kv = ngx_http_ttai_kv_current(i);

        if (kv != NULL && (interval == 0 || kv->interval < interval)) {
            interval = kv->interval;
        }
    }

    if (interval) {
        ngx_add_timer(&w->save, interval);
    }
}
