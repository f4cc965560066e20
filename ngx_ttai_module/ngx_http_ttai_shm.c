
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/*
 * A zone that holds one fixed table the workers share and that is not a
 * cache: the questions waiting for an answer, the ring of changes, the
 * lease of the background work.  A reload keeps the table, since the old
 * workers may still be using it.
 */

typedef struct {
    size_t                        size;
    ngx_http_ttai_shm_fresh_pt    fresh;
} ngx_http_ttai_shm_table_t;


static ngx_int_t ngx_http_ttai_shm_init(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_shm_zone_t *
ngx_http_ttai_shm_table(ngx_conf_t *cf, char *name, size_t size,
    size_t table, ngx_http_ttai_shm_fresh_pt fresh)
{
    ngx_str_t                   zname;
    ngx_shm_zone_t             *zone;
    ngx_http_ttai_shm_table_t  *t;

    zname.data = (u_char *) name;
    zname.len = ngx_strlen(name);

    zone = ngx_shared_memory_add(cf, &zname, size, &ngx_http_ttai_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data != NULL) {
        /* asked for again in the same configuration */
        return zone;
    }

    t = ngx_palloc(cf->pool, sizeof(ngx_http_ttai_shm_table_t));
    if (t == NULL) {
        return NULL;
    }

    t->size = table;
    t->fresh = fresh;

    zone->data = t;
    zone->init = ngx_http_ttai_shm_init;

    return zone;
}


static ngx_int_t
ngx_http_ttai_shm_init(ngx_shm_zone_t *shm_zone, void *data)
{
    void                       *sh;
    ngx_slab_pool_t            *shpool;
    ngx_http_ttai_shm_table_t  *t;

    if (data != NULL) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    t = shm_zone->data;

    sh = ngx_slab_calloc(shpool, t->size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    if (t->fresh != NULL) {
        t->fresh(sh);
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}
