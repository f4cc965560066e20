
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_OWNER_H_INCLUDED_
#define _NGX_HTTP_TTAI_OWNER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Per-user accounting inside a shared-memory zone: who holds how many of
 * the zone's entries, and which of them each used least recently, so
 * that a limit per user can be kept exactly and a user's own entry can
 * make way for a new one of theirs.  It lives in the zone's slab pool and
 * is changed under the zone's lock, together with the entries, so the
 * counts cannot drift from them.
 *
 * An owner is a name (a JWT subject), kept whole: two users never share
 * a count.  An entry carries a link; a zone that holds several kinds of
 * entries per user (sessions, streams, confirmations) gives each kind a
 * table of its own.  All functions are called with the zone locked.
 */


#define NGX_HTTP_TTAI_OWNER_MAX_NAME  1024


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_uint_t                  count;      /* owners */
} ngx_http_ttai_owners_t;


typedef struct {
    ngx_rbtree_node_t           node;       /* key: a hash of the name */
    ngx_queue_t                 links;      /* most recently used first */
    ngx_uint_t                  count;      /* links, and holds to come */
    size_t                      len;
    u_char                      name[1];
} ngx_http_ttai_owner_t;


typedef struct {
    ngx_queue_t                 queue;
    ngx_http_ttai_owner_t      *owner;      /* NULL: no one's */
    void                       *data;       /* the entry */
} ngx_http_ttai_owner_link_t;


/* at the zone's creation; NULL when the pool has no room */
ngx_http_ttai_owners_t *ngx_http_ttai_owners_create(ngx_slab_pool_t *shpool);

ngx_http_ttai_owner_t *ngx_http_ttai_owner_lookup_locked(
    ngx_http_ttai_owners_t *owners, ngx_str_t *name);

/*
 * Finds or adds the owner and counts one more entry for it, before the
 * entry exists, so that the owner stays while room is made for it.  NULL
 * when there is no room for a new owner.
 */
ngx_http_ttai_owner_t *ngx_http_ttai_owner_hold_locked(
    ngx_http_ttai_owners_t *owners, ngx_slab_pool_t *shpool,
    ngx_str_t *name);

/* gives back a count; an owner with none left goes */
void ngx_http_ttai_owner_release_locked(ngx_http_ttai_owners_t *owners,
    ngx_slab_pool_t *shpool, ngx_http_ttai_owner_t *owner);

/* the entry of a count held becomes this link, the most recently used */
void ngx_http_ttai_owner_attach_locked(ngx_http_ttai_owner_t *owner,
    ngx_http_ttai_owner_link_t *link, void *data);

/* the entry goes: its link, and its count */
void ngx_http_ttai_owner_detach_locked(ngx_http_ttai_owners_t *owners,
    ngx_slab_pool_t *shpool, ngx_http_ttai_owner_link_t *link);


/* the entry was used: it becomes its owner's most recently used */
void ngx_http_ttai_owner_touch_locked(ngx_http_ttai_owner_link_t *link);

/* the owner's least recently used entry, or NULL */
#define ngx_http_ttai_owner_lru(owner)                                        \
    (ngx_queue_empty(&(owner)->links) ? NULL                                  \
     : ngx_queue_data(ngx_queue_last(&(owner)->links),                        \
                      ngx_http_ttai_owner_link_t, queue))


#endif /* _NGX_HTTP_TTAI_OWNER_H_INCLUDED_ */
