
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ttai_owner.h"


static ngx_int_t ngx_http_ttai_owner_cmp(ngx_str_t *name,
    ngx_rbtree_key_t hash, ngx_rbtree_node_t *node);
static void ngx_http_ttai_owner_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


ngx_http_ttai_owners_t *
ngx_http_ttai_owners_create(ngx_slab_pool_t *shpool)
{
    ngx_http_ttai_owners_t  *owners;

    owners = ngx_slab_alloc(shpool, sizeof(ngx_http_ttai_owners_t));
    if (owners == NULL) {
        return NULL;
    }

    ngx_rbtree_init(&owners->rbtree, &owners->sentinel,
                    ngx_http_ttai_owner_insert_value);
    owners->count = 0;

    return owners;
}


static ngx_int_t
ngx_http_ttai_owner_cmp(ngx_str_t *name, ngx_rbtree_key_t hash,
    ngx_rbtree_node_t *node)
{
    ngx_http_ttai_owner_t  *o;

    if (hash != node->key) {
        return (hash < node->key) ? -1 : 1;
    }

    o = (ngx_http_ttai_owner_t *) node;

    return ngx_memn2cmp(name->data, o->name, name->len, o->len);
}


static void
ngx_http_ttai_owner_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t               name;
    ngx_rbtree_node_t     **p;
    ngx_http_ttai_owner_t  *o;

    o = (ngx_http_ttai_owner_t *) node;

    name.data = o->name;
    name.len = o->len;

    for ( ;; ) {

        p = (ngx_http_ttai_owner_cmp(&name, node->key, temp) < 0)
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


ngx_http_ttai_owner_t *
ngx_http_ttai_owner_lookup_locked(ngx_http_ttai_owners_t *owners,
    ngx_str_t *name)
{
    ngx_int_t           rc;
    ngx_rbtree_key_t    hash;
    ngx_rbtree_node_t  *node, *sentinel;

    hash = ngx_murmur_hash2(name->data, name->len);

    node = owners->rbtree.root;
    sentinel = owners->rbtree.sentinel;

    while (node != sentinel) {
        rc = ngx_http_ttai_owner_cmp(name, hash, node);

        if (rc == 0) {
            return (ngx_http_ttai_owner_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_http_ttai_owner_t *
ngx_http_ttai_owner_hold_locked(ngx_http_ttai_owners_t *owners,
    ngx_slab_pool_t *shpool, ngx_str_t *name)
{
    ngx_http_ttai_owner_t  *o;

    if (name->len > NGX_HTTP_TTAI_OWNER_MAX_NAME) {
        return NULL;
    }

    o = ngx_http_ttai_owner_lookup_locked(owners, name);

    if (o == NULL) {
        o = ngx_slab_alloc_locked(shpool,
                                  offsetof(ngx_http_ttai_owner_t, name)
                                  + name->len);
        if (o == NULL) {
            return NULL;
        }

        o->node.key = ngx_murmur_hash2(name->data, name->len);
        ngx_queue_init(&o->links);
        o->count = 0;
        o->len = name->len;
        ngx_memcpy(o->name, name->data, name->len);

        ngx_rbtree_insert(&owners->rbtree, &o->node);
        owners->count++;
    }

    o->count++;

    return o;
}


void
ngx_http_ttai_owner_release_locked(ngx_http_ttai_owners_t *owners,
    ngx_slab_pool_t *shpool, ngx_http_ttai_owner_t *owner)
{
    if (--owner->count) {
        return;
    }

    ngx_rbtree_delete(&owners->rbtree, &owner->node);
    ngx_slab_free_locked(shpool, owner);

    owners->count--;
}


void
ngx_http_ttai_owner_attach_locked(ngx_http_ttai_owner_t *owner,
    ngx_http_ttai_owner_link_t *link, void *data)
{
    link->owner = owner;
    link->data = data;

    ngx_queue_insert_head(&owner->links, &link->queue);
}


void
ngx_http_ttai_owner_detach_locked(ngx_http_ttai_owners_t *owners,
    ngx_slab_pool_t *shpool, ngx_http_ttai_owner_link_t *link)
{
    if (link->owner == NULL) {
        return;
    }

    ngx_queue_remove(&link->queue);
    ngx_http_ttai_owner_release_locked(owners, shpool, link->owner);

    link->owner = NULL;
}


void
ngx_http_ttai_owner_touch_locked(ngx_http_ttai_owner_link_t *link)
{
    if (link->owner != NULL) {
        ngx_queue_remove(&link->queue);
        ngx_queue_insert_head(&link->owner->links, &link->queue);
    }
}
