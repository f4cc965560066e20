
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_revoked.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_throttle.h"
#include "ttai_oauth.h"
#include "ttai_oauth_revoked.h"
#include "ttai_oauth_store.h"


/*
 * The set is an rbtree of sign-ins and users, keyed by a CRC32 of kind
 * and id, with a queue of them, the latest revoked first, for expiry.
 * The rules (which token is refused, how long an entry is needed) are
 * the core's, ttai_oauth_revoked.h: an entry lives for an access
 * token's lifetime and the leeway on its exp (the "window") after its
 * revocation, so the set is as large as the last hour's revocations.
 *
 * A zone that cannot hold a revocation must not let a revoked token in,
 * so nothing is simply dropped.  The set remembers instead that every
 * token issued up to that revocation is refused (full_at) for a window.
 * That covers every older entry too, which are then let go, and the
 * zone has room again.  The clients get new access tokens with their
 * refresh tokens, which the database judges one by one.  Evicting the
 * oldest entries would let their tokens in again; refusing every token
 * that has a fam would never end.
 */


#define NGX_HTTP_TTAI_REVOKED_FAMILY    'f'
#define NGX_HTTP_TTAI_REVOKED_USER      'u'

/* the zone a sign-in server has without the directive */
#define NGX_HTTP_TTAI_REVOKED_NAME      "ttai_revoked"
#define NGX_HTTP_TTAI_REVOKED_SIZE      (1024 * 1024)
#define NGX_HTTP_TTAI_REVOKED_INTERVAL  1000

/* the rows of oauth_revocations one read takes */
#define NGX_HTTP_TTAI_REVOKED_PAGE      1000

/* expired entries let go, at most, before each new one */
#define NGX_HTTP_TTAI_REVOKED_EXPIRE    2


/* laid over an ngx_rbtree_node_t from its color on, as limit_req does */
typedef struct {
    u_char                          color;
    u_char                          kind;
    u_short                         len;
    ngx_queue_t                     queue;
    time_t                          revoked_at;
    u_char                          id[1];
} ngx_http_ttai_revoked_node_t;


typedef struct {
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;
    ngx_uint_t                      entries;

    /* the last id of oauth_revocations read into the set */
    int64_t                         last_id;

    /* when a worker reads the new rows next, in ngx_current_msec */
    ngx_msec_t                      read_next;

    /* every token issued up to then is refused: 0 when never full */
    time_t                          full_at;
} ngx_http_ttai_revoked_sh_t;


struct ngx_http_ttai_revoked_s {
    ngx_str_t                       name;
    ngx_shm_zone_t                 *shm_zone;
    ngx_slab_pool_t                *shpool;
    ngx_http_ttai_revoked_sh_t     *sh;
    ngx_msec_t                      interval;
    time_t                          window;
    ngx_http_ttai_d1_t             *db;

    /* a worker's reads */
    ngx_event_t                     timer;
    ngx_http_ttai_d1_query_t       *query;
    int64_t                         after;
};


static char *ngx_http_ttai_revoked_add_zone(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *name, ssize_t size,
    ngx_msec_t interval);
static ngx_int_t ngx_http_ttai_revoked_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_ttai_revoked_load(ngx_http_ttai_revoked_t *rv,
    ngx_log_t *log);
static void ngx_http_ttai_revoked_tick(ngx_event_t *ev);
static void ngx_http_ttai_revoked_read(ngx_http_ttai_revoked_t *rv,
    int64_t after);
static ngx_int_t ngx_http_ttai_revoked_read_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_uint_t ngx_http_ttai_revoked_copy(ngx_http_ttai_revoked_t *rv,
    json_t *results, int64_t after, int64_t *last, ngx_log_t *log);
static size_t ngx_http_ttai_revoked_rows(ngx_http_ttai_revoked_t *rv,
    json_t *results, ngx_log_t *log);
static ngx_int_t ngx_http_ttai_revoked_insert_locked(
    ngx_http_ttai_revoked_t *rv, ngx_uint_t kind, ngx_str_t *id,
    uint32_t hash, time_t revoked_at);
static void ngx_http_ttai_revoked_expire_locked(ngx_http_ttai_revoked_t *rv,
    time_t now, ngx_uint_t n);
static ngx_http_ttai_revoked_node_t *ngx_http_ttai_revoked_find(
    ngx_http_ttai_revoked_sh_t *sh, ngx_uint_t kind, ngx_str_t *id,
    uint32_t hash);
static uint32_t ngx_http_ttai_revoked_hash(ngx_uint_t kind, ngx_str_t *id);
static void ngx_http_ttai_revoked_log(ngx_log_t *log, ngx_str_t *why,
    ngx_uint_t n, ngx_str_t *span, void *data);
static void ngx_http_ttai_revoked_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


char *
ngx_http_ttai_revoked_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ssize_t      size;
    ngx_int_t    ms;
    ngx_str_t   *value, s;
    ngx_uint_t   i;
    ngx_msec_t   interval;

    if (tmcf->revoked != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: it needs at least "
                           "%uzk", &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    interval = NGX_HTTP_TTAI_REVOKED_INTERVAL;

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "interval=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            ms = ngx_parse_time(&s, 0);

            if (ms == NGX_ERROR || ms == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the interval is a time "
                                   "such as 1s or 500ms", &value[i]);
                return NGX_CONF_ERROR;
            }

            interval = (ngx_msec_t) ms;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return ngx_http_ttai_revoked_add_zone(cf, tmcf, &value[1], size,
                                          interval);
}


static char *
ngx_http_ttai_revoked_add_zone(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *name, ssize_t size,
    ngx_msec_t interval)
{
    ngx_shm_zone_t           *shm_zone;
    ngx_http_ttai_revoked_t  *rv;

    rv = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_revoked_t));
    if (rv == NULL) {
        return NGX_CONF_ERROR;
    }

    rv->name = *name;
    rv->interval = interval;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_ttai_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: zone \"%V\" is already defined", name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_ttai_revoked_init_zone;
    shm_zone->data = rv;

    rv->shm_zone = shm_zone;

    tmcf->revoked = rv;
    tmcf->enabled = 1;

    return NGX_CONF_OK;
}


/*
 * A server that issues tokens (ttai_oauth) has the set whether or not
 * it says so: without it, a revoked access token would go on opening
 * /mcp, and nothing would show it.
 */

char *
ngx_http_ttai_revoked_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_str_t                 name;
    ngx_http_ttai_revoked_t  *rv;

    if (tmcf->revoked == NULL) {
        if (!tmcf->oauth || tmcf->db == NULL) {
            return NGX_CONF_OK;
        }

        ngx_str_set(&name, NGX_HTTP_TTAI_REVOKED_NAME);

        if (ngx_http_ttai_revoked_add_zone(cf, tmcf, &name,
                                           NGX_HTTP_TTAI_REVOKED_SIZE,
                                           NGX_HTTP_TTAI_REVOKED_INTERVAL)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    rv = tmcf->revoked;

    if (tmcf->db == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: \"ttai_oauth_revoked_zone\" needs the "
                      "database the revocations are in: set \"ttai_db\" "
                      "or \"ttai_state_dir\"");
        return NGX_CONF_ERROR;
    }

    rv->db = tmcf->db;
    rv->window = (time_t) ttai_oauth_revoked_window(tmcf->jwt_leeway);

    return NGX_CONF_OK;
}


/*
 * In the master, when the zone is made: at a start, or at a reload that
 * changes its size.  The set is read from the database there, as the
 * migrations are applied, blocking and before any worker serves, so
 * that no worker ever checks a token against a set not yet read.  A
 * reload that keeps the zone keeps the set, which the workers keep
 * current.
 */

static ngx_int_t
ngx_http_ttai_revoked_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ttai_revoked_t *orv = data;

    size_t                    len;
    ngx_http_ttai_revoked_t  *rv;

    rv = shm_zone->data;

    if (orv != NULL) {
        rv->sh = orv->sh;
        rv->shpool = orv->shpool;
        return NGX_OK;
    }

    rv->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        rv->sh = rv->shpool->data;
        return NGX_OK;
    }

    rv->sh = ngx_slab_alloc(rv->shpool, sizeof(ngx_http_ttai_revoked_sh_t));
    if (rv->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(rv->sh, sizeof(ngx_http_ttai_revoked_sh_t));

    rv->shpool->data = rv->sh;

    ngx_rbtree_init(&rv->sh->rbtree, &rv->sh->sentinel,
                    ngx_http_ttai_revoked_insert_value);
    ngx_queue_init(&rv->sh->queue);

    len = sizeof(" in ttai_oauth_revoked_zone \"\"") + rv->name.len;

    rv->shpool->log_ctx = ngx_slab_alloc(rv->shpool, len);
    if (rv->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(rv->shpool->log_ctx, " in ttai_oauth_revoked_zone \"%V\"%Z",
                &rv->name);

    /* a full zone is handled (and said) here, not a slab alert */
    rv->shpool->log_nomem = 0;

    return ngx_http_ttai_revoked_load(rv, shm_zone->shm.log);
}


/* a database the set cannot be read from stops the start */

static ngx_int_t
ngx_http_ttai_revoked_load(ngx_http_ttai_revoked_t *rv, ngx_log_t *log)
{
    json_t           *batch, *results;
    int64_t           after;
    ngx_uint_t        more;
    ttai_d1_error_t   err;

    after = 0;

    do {
        batch = ttai_oauth_store_revocations(after, ngx_time() - rv->window,
                                             NGX_HTTP_TTAI_REVOKED_PAGE);
        if (batch == NULL) {
            return NGX_ERROR;
        }

        results = ngx_http_ttai_d1_load(rv->db, batch, &err);

        json_decref(batch);

        if (results == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "ttai: the revoked access tokens could not be "
                          "read from the database: %s", err.msg);
            return NGX_ERROR;
        }

        more = ngx_http_ttai_revoked_copy(rv, results, after, &after, log);

        json_decref(results);

    } while (more);

    rv->sh->last_id = after;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_revoked_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_revoked_t  *rv;

    rv = tmcf->revoked;

    if (rv == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    rv->query = ngx_http_ttai_d1_query_create(cycle->pool);
    if (rv->query == NULL) {
        return NGX_ERROR;
    }

    rv->query->handler = ngx_http_ttai_revoked_read_done;
    rv->query->data = rv;

    rv->timer.handler = ngx_http_ttai_revoked_tick;
    rv->timer.data = rv;
    rv->timer.log = cycle->log;
    rv->timer.cancelable = 1;

    ngx_add_timer(&rv->timer, rv->interval);

    return NGX_OK;
}


/*
 * Every worker ticks, and the first whose tick finds the interval over
 * reads: one read an interval in all, whichever workers are alive
 */

static void
ngx_http_ttai_revoked_tick(ngx_event_t *ev)
{
    int64_t                      after;
    ngx_uint_t                   mine;
    ngx_http_ttai_revoked_t     *rv;
    ngx_http_ttai_revoked_sh_t  *sh;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    rv = ev->data;
    sh = rv->sh;

    if (!rv->query->posted) {
        ngx_shmtx_lock(&rv->shpool->mutex);

        mine = ((ngx_msec_int_t) (ngx_current_msec - sh->read_next) >= 0);

        if (mine) {
            sh->read_next = ngx_current_msec + rv->interval;
        }

        after = sh->last_id;

        ngx_shmtx_unlock(&rv->shpool->mutex);

        if (mine) {
            ngx_http_ttai_revoked_read(rv, after);
        }
    }

    ngx_add_timer(ev, rv->interval);
}


static void
ngx_http_ttai_revoked_read(ngx_http_ttai_revoked_t *rv, int64_t after)
{
    json_t                    *batch;
    ngx_http_ttai_d1_query_t  *q;

    q = rv->query;

    batch = ttai_oauth_store_revocations(after, ngx_time() - rv->window,
                                         NGX_HTTP_TTAI_REVOKED_PAGE);
    if (batch == NULL) {
        return;
    }

    json_decref(q->batch);
    q->batch = batch;
    rv->after = after;

    /* a full queue: a later tick reads from the same id */
    (void) ngx_http_ttai_d1_post_task(rv->db, q);
}


static ngx_int_t
ngx_http_ttai_revoked_read_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    int64_t                   last;
    ngx_uint_t                more;
    ngx_http_ttai_revoked_t  *rv;

    rv = q->data;

    /* a failure is in the log already; a later tick reads again */
    if (q->rc != NGX_OK || ngx_exiting || ngx_terminate) {
        return NGX_OK;
    }

    more = ngx_http_ttai_revoked_copy(rv, q->result, rv->after, &last,
                                      ngx_cycle->log);

    ngx_shmtx_lock(&rv->shpool->mutex);

    if (last > rv->sh->last_id) {
        rv->sh->last_id = last;
    }

    ngx_shmtx_unlock(&rv->shpool->mutex);

    if (more) {
        ngx_http_ttai_revoked_read(rv, last);
    }

    return NGX_OK;
}


/*
 * A page of revocations into the set, and the id it was read up to:
 * 1 when the page was full and there may be more after it
 */

static ngx_uint_t
ngx_http_ttai_revoked_copy(ngx_http_ttai_revoked_t *rv, json_t *results,
    int64_t after, int64_t *last, ngx_log_t *log)
{
    size_t                   n;
    int64_t                  max;
    ttai_oauth_revocation_t  rev;

    n = ngx_http_ttai_revoked_rows(rv, results, log);

    if (n == NGX_HTTP_TTAI_REVOKED_PAGE
        && ttai_oauth_store_revocation_at(results, n - 1, &rev))
    {
        *last = rev.id;
        return 1;
    }

    /* rows too old to matter are past too */
    max = ttai_oauth_store_revocations_last(results);
    *last = ngx_max(after, max);

    return 0;
}


void
ngx_http_ttai_revoked_add(ngx_http_request_t *r, json_t *results)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->revoked != NULL && results != NULL) {
        (void) ngx_http_ttai_revoked_rows(tmcf->revoked, results,
                                          r->connection->log);
    }
}


/* the lock is taken row by row: other workers check tokens meanwhile */

static size_t
ngx_http_ttai_revoked_rows(ngx_http_ttai_revoked_t *rv, json_t *results,
    ngx_log_t *log)
{
    char                     fam[TTAI_OAUTH_FAMILY_ID_LEN + 1];
    size_t                   i;
    time_t                   full_at;
    uint32_t                 hash;
    ngx_str_t                id;
    ngx_uint_t               kind, dropped;
    ttai_oauth_revocation_t  rev;

    dropped = 0;
    full_at = 0;

    for (i = 0; ttai_oauth_store_revocation_at(results, i, &rev); i++) {

        if (rev.family != NULL) {
            ttai_oauth_family_id(rev.family, fam);
            id.data = (u_char *) fam;
            id.len = TTAI_OAUTH_FAMILY_ID_LEN;
            kind = NGX_HTTP_TTAI_REVOKED_FAMILY;

        } else if (rev.user_id != NULL) {
            id.data = (u_char *) rev.user_id;
            id.len = ngx_strlen(rev.user_id);
            kind = NGX_HTTP_TTAI_REVOKED_USER;

        } else {
            continue;
        }

        /* no token names a longer subject: the verifier refuses it */
        if (id.len == 0 || id.len > TTAI_JWT_MAX_CLAIM) {
            continue;
        }

        hash = ngx_http_ttai_revoked_hash(kind, &id);

        ngx_shmtx_lock(&rv->shpool->mutex);

        if (ngx_http_ttai_revoked_insert_locked(rv, kind, &id, hash,
                                                (time_t) rev.revoked_at)
            != NGX_OK)
        {
            dropped++;
            full_at = rv->sh->full_at;
        }

        ngx_shmtx_unlock(&rv->shpool->mutex);
    }

    if (dropped) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ttai: ttai_oauth_revoked_zone \"%V\" is full: "
                      "rather than forget a revocation, it refuses every "
                      "access token issued until %T (unix time), until "
                      "%T; clients get new ones with their refresh "
                      "tokens.  Make the zone larger",
                      &rv->name, full_at, full_at + rv->window);
    }

    return i;
}


/* NGX_OK, or NGX_DECLINED when the zone was full and full_at moved */

static ngx_int_t
ngx_http_ttai_revoked_insert_locked(ngx_http_ttai_revoked_t *rv,
    ngx_uint_t kind, ngx_str_t *id, uint32_t hash, time_t revoked_at)
{
    size_t                         size;
    time_t                         now;
    ngx_rbtree_node_t             *node;
    ngx_http_ttai_revoked_sh_t    *sh;
    ngx_http_ttai_revoked_node_t  *rn;

    sh = rv->sh;
    now = ngx_time();

    /* every token it concerns has expired, or is refused anyway */
    if (!ttai_oauth_revoked_needed(revoked_at, sh->full_at, rv->window,
                                   now))
    {
        return NGX_OK;
    }

    rn = ngx_http_ttai_revoked_find(sh, kind, id, hash);

    if (rn != NULL) {
        /* a user revoked again covers the tokens issued in between */
        if (revoked_at > rn->revoked_at) {
            rn->revoked_at = revoked_at;
            ngx_queue_remove(&rn->queue);
            ngx_queue_insert_head(&sh->queue, &rn->queue);
        }

        return NGX_OK;
    }

    ngx_http_ttai_revoked_expire_locked(rv, now,
                                        NGX_HTTP_TTAI_REVOKED_EXPIRE);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_ttai_revoked_node_t, id) + id->len;

    node = ngx_slab_alloc_locked(rv->shpool, size);

    if (node == NULL) {
        ngx_http_ttai_revoked_expire_locked(rv, now, 0);
        node = ngx_slab_alloc_locked(rv->shpool, size);
    }

    if (node == NULL) {
        sh->full_at = revoked_at;
        ngx_http_ttai_revoked_expire_locked(rv, now, 0);
        return NGX_DECLINED;
    }

    node->key = hash;

    rn = (ngx_http_ttai_revoked_node_t *) &node->color;

    rn->kind = (u_char) kind;
    rn->len = (u_short) id->len;
    rn->revoked_at = revoked_at;
    ngx_memcpy(rn->id, id->data, id->len);

    ngx_rbtree_insert(&sh->rbtree, node);
    ngx_queue_insert_head(&sh->queue, &rn->queue);
    sh->entries++;

    return NGX_OK;
}


/*
 * Lets go of the entries no token needs any more: those whose tokens
 * have all expired, and those that full_at covers.  From the oldest, n
 * at most, stopping at the first that is still needed; with n = 0,
 * every one of them.
 */

static void
ngx_http_ttai_revoked_expire_locked(ngx_http_ttai_revoked_t *rv,
    time_t now, ngx_uint_t n)
{
    ngx_uint_t                     i;
    ngx_queue_t                   *q, *prev;
    ngx_rbtree_node_t             *node;
    ngx_http_ttai_revoked_sh_t    *sh;
    ngx_http_ttai_revoked_node_t  *rn;

    sh = rv->sh;

    for (q = ngx_queue_last(&sh->queue), i = 0;
         q != ngx_queue_sentinel(&sh->queue) && (n == 0 || i < n);
         q = prev)
    {
        prev = ngx_queue_prev(q);
        rn = ngx_queue_data(q, ngx_http_ttai_revoked_node_t, queue);

        if (ttai_oauth_revoked_needed(rn->revoked_at, sh->full_at,
                                      rv->window, now))
        {
            if (n) {
                break;
            }

            continue;
        }

        node = (ngx_rbtree_node_t *)
                   ((u_char *) rn - offsetof(ngx_rbtree_node_t, color));

        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->rbtree, node);
        ngx_slab_free_locked(rv->shpool, node);
        sh->entries--;
        i++;
    }
}


/*
 * After the token verified.  The hashes are made before the lock is
 * taken; under it, at most two lookups in a tree of the last hour's
 * revocations.
 */

ngx_uint_t
ngx_http_ttai_revoked(ngx_http_request_t *r, ttai_jwt_claims_t *claims)
{
    time_t                         user_at, full_at;
    uint32_t                       fhash, uhash;
    ngx_str_t                      fam, sub, reason;
    ngx_uint_t                     family;
    const char                    *why;
    ngx_http_ttai_revoked_t       *rv;
    ngx_http_ttai_revoked_sh_t    *sh;
    ngx_http_ttai_main_conf_t     *tmcf;
    ngx_http_ttai_revoked_node_t  *rn;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    rv = tmcf->revoked;

    if (rv == NULL) {
        return 0;
    }

    fam.data = (u_char *) claims->fam;
    fam.len = ngx_strlen(claims->fam);
    sub.data = (u_char *) claims->sub;
    sub.len = ngx_strlen(claims->sub);

    fhash = fam.len ? ngx_http_ttai_revoked_hash(NGX_HTTP_TTAI_REVOKED_FAMILY,
                                                 &fam)
                    : 0;
    uhash = ngx_http_ttai_revoked_hash(NGX_HTTP_TTAI_REVOKED_USER, &sub);

    sh = rv->sh;

    ngx_shmtx_lock(&rv->shpool->mutex);

    full_at = sh->full_at;

    family = fam.len
             && ngx_http_ttai_revoked_find(sh, NGX_HTTP_TTAI_REVOKED_FAMILY,
                                           &fam, fhash)
                != NULL;

    rn = ngx_http_ttai_revoked_find(sh, NGX_HTTP_TTAI_REVOKED_USER, &sub,
                                    uhash);
    user_at = (rn != NULL) ? rn->revoked_at : 0;

    ngx_shmtx_unlock(&rv->shpool->mutex);

    why = ttai_oauth_revoked_why(claims->iat, family, user_at, full_at,
                                 rv->window, ngx_time());

    if (why == NULL) {
        return 0;
    }

    reason.data = (u_char *) why;
    reason.len = ngx_strlen(why);

    /* a client can send its revoked token in a loop */
    ngx_http_ttai_throttle(r->connection->log, ngx_http_ttai_revoked_log,
                           &reason, 1, NULL);

    return 1;
}


static void
ngx_http_ttai_revoked_log(ngx_log_t *log, ngx_str_t *why, ngx_uint_t n,
    ngx_str_t *span, void *data)
{
    if (span->len == 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ttai: bearer token refused: revoked: %V", why);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "ttai: bearer tokens refused: revoked: %V: %ui %s%V",
                  why, n, n == 1 ? "time" : "times", span);
}


static ngx_http_ttai_revoked_node_t *
ngx_http_ttai_revoked_find(ngx_http_ttai_revoked_sh_t *sh, ngx_uint_t kind,
    ngx_str_t *id, uint32_t hash)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_ttai_revoked_node_t  *rn;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        rn = (ngx_http_ttai_revoked_node_t *) &node->color;

        rc = (ngx_int_t) kind - rn->kind;

        if (rc == 0) {
            rc = ngx_memn2cmp(id->data, rn->id, id->len, (size_t) rn->len);
        }

        if (rc == 0) {
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static uint32_t
ngx_http_ttai_revoked_hash(ngx_uint_t kind, ngx_str_t *id)
{
    u_char    k;
    uint32_t  crc;

    k = (u_char) kind;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, &k, 1);
    ngx_crc32_update(&crc, id->data, id->len);
    ngx_crc32_final(crc);

    return crc;
}


static void
ngx_http_ttai_revoked_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t            **p;
    ngx_http_ttai_revoked_node_t  *rn, *rnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            rn = (ngx_http_ttai_revoked_node_t *) &node->color;
            rnt = (ngx_http_ttai_revoked_node_t *) &temp->color;

            rc = (ngx_int_t) rn->kind - rnt->kind;

            if (rc == 0) {
                rc = ngx_memn2cmp(rn->id, rnt->id, rn->len, rnt->len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

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
