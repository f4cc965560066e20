
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_KV_ZONE_H_INCLUDED_
#define _NGX_HTTP_TTAI_KV_ZONE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_owner.h"
#include "ttai_kvjournal.h"


/*
 * The layout of a KV zone in shared memory, shared by the zone's
 * operations (ngx_http_ttai_kv.c), its snapshot on disk
 * (ngx_http_ttai_kv_snapshot.c), its journal (ngx_http_ttai_kv_journal.c)
 * and its owners and policy when full (ngx_http_ttai_kv_owner.c).
 * Nothing else looks inside.
 */


/*
 * An entry is a single slab allocation: an ngx_rbtree_node_t up to its
 * "color" byte, continued by this struct, whose first byte is "color".
 * The tree is in byte order of the keys, so that a prefix is a range.
 */
typedef struct {
    u_char                    color;
    u_char                    dummy;
    u_short                   key_len;
    u_short                   metadata_len;
    uint32_t                  value_len;
    uint64_t                  expires;     /* epoch ms, 0: never */
    ngx_queue_t               queue;       /* LRU, most recent first */
    u_char                    data[1];     /* key, metadata, value */
} ngx_http_ttai_kv_node_t;


typedef struct {
    ngx_rbtree_t              rbtree;
    ngx_rbtree_node_t         sentinel;
    ngx_queue_t               lru;

    ngx_uint_t                entries;
    ngx_uint_t                hits;
    ngx_uint_t                misses;
    ngx_uint_t                evictions;

    /* entries with a TTL, and no sooner expiry than next_expiry (ms) */
    ngx_uint_t                expiring;
    uint64_t                  next_expiry;

    /* every change counts; "saved" is the count the snapshot reflects */
    ngx_uint_t                changes;
    ngx_uint_t                saved;

    ngx_uint_t                pages;       /* of the slab pool */

    /* who owns which entries; NULL: the zone does not count them */
    ngx_http_ttai_owners_t   *owners;
    ngx_uint_t                refused;     /* new entries, the zone full */

    /*
     * The journal: the number of the last change given to it, and the
     * generation of its files written now.  A snapshot starts at "seq"
     * and moves to the next generation; once it is on disk, the files of
     * the earlier generations are removed.
     */
    uint64_t                  seq;
    uint64_t                  generation;

    /*
     * Why the zone cannot make changes last, for /health and for the
     * answers: the error of the journal's last write (0: it works), and
     * of the last snapshot.  While the journal fails, changes that would
     * be journaled are refused, but the first one after "probe" (epoch
     * ms) goes through, to find out whether it works again.
     */
    ngx_err_t                 journal_err;
    ngx_err_t                 snapshot_err;
    uint64_t                  probe;
} ngx_http_ttai_kv_sh_t;


struct ngx_http_ttai_kv_s {
    ngx_http_ttai_kv_sh_t    *sh;
    ngx_slab_pool_t          *shpool;
    ngx_shm_zone_t           *shm_zone;
    ngx_str_t                 name;

    /* NGX_HTTP_TTAI_KV_CACHE or NGX_HTTP_TTAI_KV_SESSIONS */
    ngx_uint_t                zone;

    /* the snapshot file, NUL-terminated; empty when snapshots are off */
    ngx_str_t                 snapshot;
    ngx_flag_t                snapshot_set;
    ngx_msec_t                interval;

    /* the policy when full: see ngx_http_ttai_kv_policy() */
    ngx_uint_t                keep;
    ngx_http_ttai_kv_owner_pt owner;
    ngx_uint_t                per_owner;   /* 0: no limit */

    /*
     * The journal (NGX_CONF_UNSET until the http block is read): its
     * folder, the snapshot's, and the start of its file names there,
     * "<folder>/<name>.journal.", both NUL-terminated
     */
    ngx_flag_t                journal;
    ngx_str_t                 journal_dir;
    ngx_str_t                 journal_prefix;
#if (NGX_THREADS)
    ngx_thread_pool_t        *thread_pool;
#endif
};


/* what a store did to make room, for its log lines */
typedef struct {
    ngx_uint_t                evicted;     /* live, least recently used */
    ngx_uint_t                limited;     /* the owner's, past its limit */
    ngx_uint_t                own;         /* the owner's, for room */
    ngx_uint_t                refused;     /* 1: only others' live ones */
} ngx_http_ttai_kv_room_t;


#define ngx_http_ttai_kv_node(node)                                           \
    ((ngx_http_ttai_kv_node_t *) &(node)->color)

#define ngx_http_ttai_kv_rbnode(kn)                                           \
    ((ngx_rbtree_node_t *) ((u_char *) (kn)                                   \
                            - offsetof(ngx_rbtree_node_t, color)))

#define ngx_http_ttai_kv_expired(kn, now)                                     \
    ((kn)->expires != 0 && (kn)->expires <= (now))

/*
 * In a zone that counts owners, each entry's allocation ends with its
 * link to its owner, after the value.
 */
#define ngx_http_ttai_kv_link(kn)                                             \
    ((ngx_http_ttai_owner_link_t *)                                           \
     ngx_align_ptr((kn)->data + (kn)->key_len + (kn)->metadata_len            \
                   + (kn)->value_len, NGX_ALIGNMENT))


uint64_t ngx_http_ttai_kv_now(void);

/* the first node at or after key (strictly after it with "after") */
ngx_rbtree_node_t *ngx_http_ttai_kv_lower_bound(ngx_http_ttai_kv_t *kv,
    u_char *key, size_t len, ngx_uint_t after);

/*
 * Stores an entry, with the zone locked.  With "evict", makes room by
 * dropping least recently used entries and counts the live ones it
 * dropped in *evicted.  NGX_ERROR: no room.
 */
ngx_int_t ngx_http_ttai_kv_store_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t evict, ngx_uint_t *evicted);

/* the same, saying in *room what it dropped, or that it refused */
ngx_int_t ngx_http_ttai_kv_store_room_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_uint_t evict,
    ngx_http_ttai_kv_room_t *room);

void ngx_http_ttai_kv_free_locked(ngx_http_ttai_kv_t *kv,
    ngx_rbtree_node_t *node);

/*
 * Owners (ngx_http_ttai_kv_owner.c), with the zone locked.  hold finds
 * the entry's owner, keeps it within its limit, and counts the entry
 * before it is stored: NGX_OK with *owner (NULL for an entry of no one),
 * NGX_ERROR when there is no room or the limit cannot be kept, and
 * NGX_DECLINED for an entry whose owner cannot be read.
 */
ngx_int_t ngx_http_ttai_kv_owner_hold_locked(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_rbtree_node_t *old,
    ngx_uint_t evict, ngx_http_ttai_kv_room_t *room,
    ngx_http_ttai_owner_t **owner);

/*
 * Room for size bytes in a zone that keeps others' entries: expired
 * entries go first, then the owner's own least recently used; NULL when
 * only others' live entries are left.
 */
ngx_rbtree_node_t *ngx_http_ttai_kv_reclaim_locked(ngx_http_ttai_kv_t *kv,
    size_t size, ngx_http_ttai_owner_t *owner, uint64_t now,
    ngx_http_ttai_kv_room_t *room);

/* the log lines of a put, throttled; with the zone unlocked */
void ngx_http_ttai_kv_room_log(ngx_http_ttai_kv_t *kv, ngx_int_t rc,
    ngx_http_ttai_kv_entry_t *entry, ngx_http_ttai_kv_room_t *room,
    ngx_log_t *log);

/* removes a key, with the zone locked: NGX_DECLINED when it was absent */
ngx_int_t ngx_http_ttai_kv_remove_locked(ngx_http_ttai_kv_t *kv,
    ngx_str_t *key);

/* the zone of this index in the current cycle, or NULL */
ngx_http_ttai_kv_t *ngx_http_ttai_kv_current(ngx_uint_t zone);

/* at start with a fresh zone; never fails the start */
void ngx_http_ttai_kv_snapshot_load(ngx_http_ttai_kv_t *kv, ngx_log_t *log);

/*
 * Writes the snapshot when the zone changed since the last one, here and
 * now, on the event loop: at exit, and for a zone without a thread pool.
 */
ngx_int_t ngx_http_ttai_kv_snapshot_save(ngx_http_ttai_kv_t *kv,
    ngx_log_t *log);

/*
 * The periodic snapshot, on the zone's thread pool when it has one:
 * NGX_AGAIN while it is posted (or another save of the zone still is),
 * and then ngx_http_ttai_kv_save_next() runs once it is done.  Without a
 * pool, it is written at once, as ngx_http_ttai_kv_snapshot_save() does.
 */
ngx_int_t ngx_http_ttai_kv_snapshot_start(ngx_http_ttai_kv_t *kv,
    ngx_log_t *log);

/* 1 while a save of this zone is on the thread pool */
ngx_uint_t ngx_http_ttai_kv_snapshot_busy(ngx_uint_t zone);

/*
 * At exit, before the final save: takes the outcome of a save posted to
 * the thread pool.  NGX_OK when the final save may run.
 */
ngx_int_t ngx_http_ttai_kv_snapshot_exit(ngx_uint_t zone, ngx_log_t *log);

/* on the event loop, when a posted save is done: the next one is timed */
void ngx_http_ttai_kv_save_next(void);


/* the journal (ngx_http_ttai_kv_journal.c) */

/* once the http block is read, with the snapshot's file known */
char *ngx_http_ttai_kv_journal_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_kv_t *kv);

/*
 * With the zone locked, before a change that is to be journaled: NGX_OK,
 * or NGX_ABORT with *err set when the journal fails and this change is
 * not the one let through to try it again.
 */
ngx_int_t ngx_http_ttai_kv_journal_gate_locked(ngx_http_ttai_kv_t *kv,
    uint64_t now, ngx_err_t *err);

/*
 * Queues the record of a change just applied, numbered under the lock
 * and tagged with the generation of that moment, for the next write of
 * this process.  With w, the request waits: NGX_AGAIN, and w->handler
 * runs once the record is on disk or its write failed.  Without, NGX_OK.
 * NGX_ERROR: out of memory, nothing queued.
 */
ngx_int_t ngx_http_ttai_kv_journal_append(ngx_http_ttai_kv_t *kv,
    ttai_kvjournal_record_t *rec, uint64_t generation,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log);

/* at start, after the snapshot: the later changes, in order */
void ngx_http_ttai_kv_journal_replay(ngx_http_ttai_kv_t *kv, uint64_t seq,
    ngx_log_t *log);

/* what a compaction did, for the log lines of its snapshot */
typedef struct {
    ngx_uint_t                removed;
    ngx_uint_t                failed;
    ngx_err_t                 err;         /* the first file's that failed */
} ngx_http_ttai_kv_compact_t;

/* room for a journal file's path in the snapshot's folder */
#define ngx_http_ttai_kv_compact_path_size(kv)                                \
    ((kv)->journal_dir.len + NGX_MAX_PATH + 2)

/*
 * After a snapshot is on disk: the files of earlier generations go.  In
 * any thread: no log, no allocation; path has the size above.
 */
void ngx_http_ttai_kv_journal_compact(ngx_http_ttai_kv_t *kv,
    uint64_t generation, u_char *path, ngx_http_ttai_kv_compact_t *out);

/* at exit: what is queued is written, without waiting on the pool */
void ngx_http_ttai_kv_journal_exit(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_TTAI_KV_ZONE_H_INCLUDED_ */
