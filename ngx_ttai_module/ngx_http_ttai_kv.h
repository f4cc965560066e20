
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_KV_H_INCLUDED_
#define _NGX_HTTP_TTAI_KV_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/* the documented limits; past them a put is refused and nothing is lost */
#define NGX_HTTP_TTAI_KV_MAX_KEY       512
#define NGX_HTTP_TTAI_KV_MAX_VALUE     (1024 * 1024)
#define NGX_HTTP_TTAI_KV_MAX_METADATA  1024
#define NGX_HTTP_TTAI_KV_MAX_LIST      1000

/* the zones the module keeps: the KV cache and the MCP sessions */
#define NGX_HTTP_TTAI_KV_CACHE         0
#define NGX_HTTP_TTAI_KV_SESSIONS      1
#define NGX_HTTP_TTAI_KV_ZONES         2


typedef struct {
    ngx_str_t                 key;
    ngx_str_t                 value;       /* not filled by list */
    ngx_str_t                 metadata;    /* JSON text, or empty */
    uint64_t                  expires;     /* epoch ms, 0: never */
} ngx_http_ttai_kv_entry_t;


/*
 * A request that waits until its change is on disk (the zone's journal):
 *
 *     w = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_kv_wait_t));
 *     w->request = r;
 *     w->handler = my_done;
 *     w->data = my_ctx;
 *
 *     rc = ngx_http_ttai_kv_set(kv, &entry, w, r->connection->log);
 *
 * NGX_AGAIN: the change is made, and the request is held (as the D1
 * bridge holds it) until my_done(r, w) runs on the event loop, with
 * w->err 0 once the change is on disk, or the error that kept it off;
 * what my_done returns goes to ngx_http_finalize_request().  A content
 * handler returns NGX_DONE meanwhile; a request body handler calls
 * ngx_http_finalize_request(r, NGX_DONE).  NGX_OK: the change is made
 * and nothing is to wait for (the zone has no journal).
 */
typedef struct ngx_http_ttai_kv_wait_s  ngx_http_ttai_kv_wait_t;

typedef ngx_int_t (*ngx_http_ttai_kv_done_pt)(ngx_http_request_t *r,
    ngx_http_ttai_kv_wait_t *w);

struct ngx_http_ttai_kv_wait_s {
    ngx_http_request_t       *request;
    ngx_http_ttai_kv_done_pt  handler;
    void                     *data;

    /* the outcome: 0, or why the change is not known to last */
    ngx_err_t                 err;

    /* the journal's own */
    ngx_queue_t               queue;
};


typedef struct {
    ngx_uint_t                entries;
    ngx_uint_t                hits;
    ngx_uint_t                misses;
    ngx_uint_t                evictions;
    size_t                    used;        /* bytes of the zone in use */
    size_t                    size;        /* bytes of the zone */
    ngx_uint_t                owners;      /* with entries, when counted */
    ngx_uint_t                refused;     /* new entries, the zone full */
    ngx_err_t                 journal_err;
    ngx_err_t                 snapshot_err;
} ngx_http_ttai_kv_stats_t;


/*
 * Names the owner of an entry, from its value, into *owner (empty for no
 * one); NGX_ERROR when the value is not one the zone should hold.
 */
typedef ngx_int_t (*ngx_http_ttai_kv_owner_pt)(
    ngx_http_ttai_kv_entry_t *entry, ngx_str_t *owner);


char *ngx_http_ttai_kv_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * What a zone does when it is full.  By default it is a cache: the least
 * recently used entries are evicted, whoever wrote them.  With an owner
 * function the zone counts each owner's entries; with "keep" it never
 * evicts an entry of another owner that has not expired: expired ones go
 * first, then the writer's own least recently used, and otherwise the new
 * entry is refused.  With per_owner, an owner's new entry past that many
 * takes the place of the owner's least recently used one.  Set while the
 * configuration is read; a reload must not change whether owners are
 * counted.
 */
void ngx_http_ttai_kv_policy(ngx_http_ttai_kv_t *kv, ngx_uint_t keep,
    ngx_http_ttai_kv_owner_pt owner, ngx_uint_t per_owner);

/* the zone's name, for messages */
ngx_str_t *ngx_http_ttai_kv_name(ngx_http_ttai_kv_t *kv);

/* how many live or not yet swept entries an owner has */
ngx_uint_t ngx_http_ttai_kv_owner_count(ngx_http_ttai_kv_t *kv,
    ngx_str_t *owner);

/* once the http block is read: the default snapshot file needs the state */
char *ngx_http_ttai_kv_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_kv_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);
void ngx_http_ttai_kv_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/*
 * All copy out of or into shared memory under the zone's lock and do
 * nothing else there.  get and delete return NGX_DECLINED for a key that
 * is absent or expired; put and set return NGX_DECLINED for a key, value
 * or metadata past the limits and NGX_ERROR when the zone cannot hold the
 * entry even after evicting.
 *
 * put is for what the module can fetch again (the cache of TastyTrade's
 * answers): it lives in memory and the next snapshot, and is never
 * journaled.  set, delete and clear are changes that are to last: in a
 * zone with a journal they are journaled, and the request waits with w
 * as above (without w, the record rides the next write and nobody
 * waits).  While the journal fails they return NGX_ABORT, with w->err
 * set, and change nothing.
 */
ngx_int_t ngx_http_ttai_kv_get(ngx_http_ttai_kv_t *kv, ngx_str_t *key,
    ngx_pool_t *pool, ngx_http_ttai_kv_entry_t *entry);
ngx_int_t ngx_http_ttai_kv_put(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_log_t *log);
ngx_int_t ngx_http_ttai_kv_set(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_entry_t *entry, ngx_http_ttai_kv_wait_t *w,
    ngx_log_t *log);
ngx_int_t ngx_http_ttai_kv_delete(ngx_http_ttai_kv_t *kv, ngx_str_t *key,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log);

/* removes every entry, a batch per lock, and counts them in *deleted */
ngx_int_t ngx_http_ttai_kv_clear(ngx_http_ttai_kv_t *kv,
    ngx_uint_t *deleted, ngx_http_ttai_kv_wait_t *w, ngx_log_t *log);

/* "journal: <the system's text for err>", NUL-terminated, for answers */
char *ngx_http_ttai_kv_strerror(ngx_pool_t *pool, const char *what,
    ngx_err_t err);

/*
 * Keys in byte order that start with prefix and sort after cursor (the
 * last key of the previous page, or empty), at most limit of them, into
 * an array of ngx_http_ttai_kv_entry_t without values; *complete is 1
 * when no more follow.
 */
ngx_int_t ngx_http_ttai_kv_list(ngx_http_ttai_kv_t *kv, ngx_str_t *prefix,
    ngx_str_t *cursor, ngx_uint_t limit, ngx_pool_t *pool,
    ngx_array_t **keys, ngx_uint_t *complete);

void ngx_http_ttai_kv_stats(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_stats_t *stats);

/* for /health: NGX_DECLINED without a zone, else its counters */
ngx_int_t ngx_http_ttai_kv_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);
ngx_int_t ngx_http_ttai_kv_sessions_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);


#endif /* _NGX_HTTP_TTAI_KV_H_INCLUDED_ */
