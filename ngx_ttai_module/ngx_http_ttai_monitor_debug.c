
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_admin.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_monitor.h"


/*
 * GET /debug/do/PORTFOLIO_MONITOR[/<user>]: the monitor's state, as
 * /debug/do/SESSIONS shows a session's (development only, loopback
 * only: the caller has checked).  Its last pass, from shared memory,
 * and from the database the user's rules with what they saw, the
 * subjects that have fired, the last alerts and the positions kept; or,
 * without a user, the counts of everything.
 */


static ngx_int_t ngx_http_ttai_monitor_debug_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static json_t *ngx_http_ttai_monitor_debug_pass(void);


ngx_int_t
ngx_http_ttai_monitor_debug(ngx_http_request_t *r, ngx_str_t *user)
{
    char                       *u;
    ngx_int_t                   rc;
    ngx_http_ttai_d1_query_t   *q;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->db == NULL) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "this server keeps no database, "
                                         "so it has no monitor");
    }

    u = NULL;

    if (user->len) {
        u = ngx_pnalloc(r->pool, user->len + 1);
        if (u == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(u, user->data, user->len);
        u[user->len] = '\0';
    }

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->batch = ttai_monitor_debug(u);
    q->handler = ngx_http_ttai_monitor_debug_done;
    q->data = u;

    if (q->batch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ttai_d1_post(r, q);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return (rc == NGX_BUSY) ? ngx_http_ttai_d1_send_busy(r)
                            : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static ngx_int_t
ngx_http_ttai_monitor_debug_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    char                       *text, *user;
    u_char                     *copy;
    size_t                      len;
    json_t                     *out, *res;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    user = q->data;

    if (q->rc != NGX_OK) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "db_error", q->error.msg);
    }

    res = q->result;

    out = json_pack("{s:s, s:s?, s:{s:b, s:I, s:I, s:o}}",
                    "class", "PORTFOLIO_MONITOR", "id", user,
                    "monitor", "enabled", tmcf->monitor == 1,
                    "interval_ms", (json_int_t) tmcf->monitor_interval,
                    "history_s", (json_int_t) tmcf->monitor_history,
                    "last_pass", ngx_http_ttai_monitor_debug_pass());

    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (user == NULL) {
        if (json_object_set(out, "counts",
                            json_array_get(json_object_get(
                                json_array_get(res, 0), "results"), 0)) != 0
            || json_object_set(out, "kinds",
                               json_object_get(json_array_get(res, 1),
                                               "results")) != 0)
        {
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (json_object_set(out, "user",
                               json_array_get(json_object_get(
                                   json_array_get(res, 0), "results"), 0)
                               ? json_array_get(json_object_get(
                                     json_array_get(res, 0), "results"), 0)
                               : json_null()) != 0
               || json_object_set(out, "rules",
                                  json_object_get(json_array_get(res, 1),
                                                  "results")) != 0
               || json_object_set(out, "alerts",
                                  json_object_get(json_array_get(res, 2),
                                                  "results")) != 0
               || json_object_set(out, "positions",
                                  json_array_get(json_object_get(
                                      json_array_get(res, 3), "results"), 0))
                  != 0)
    {
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(out);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);
    copy = ngx_pnalloc(r->pool, len);

    if (copy == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(copy, text, len);
    free(text);

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, copy, len);
}


static json_t *
ngx_http_ttai_monitor_debug_pass(void)
{
    json_t                       *pass;
    ngx_slab_pool_t              *shpool;
    ngx_http_ttai_monitor_shm_t   s, *sh;

    if (ngx_http_ttai_monitor_zone == NULL) {
        return json_null();
    }

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_monitor_zone->shm.addr;
    sh = ngx_http_ttai_monitor_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    s = *sh;
    ngx_shmtx_unlock(&shpool->mutex);

    pass = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:I, s:I, s:I, s:I, s:I, s:I}",
                     "worker_pid", (json_int_t) s.pid,
                     "passes", (json_int_t) s.passes,
                     "started_ms", (json_int_t) s.started_ms,
                     "duration_us", (json_int_t) s.duration_us,
                     "users", (json_int_t) s.users,
                     "rules", (json_int_t) s.rules,
                     "tool_calls", (json_int_t) s.calls,
                     "fired", (json_int_t) s.fired_last,
                     "fired_total", (json_int_t) s.fired,
                     "loop_lag_samples", (json_int_t) s.lag_samples,
                     "loop_lag_p50_us", (json_int_t) s.lag_p50_us,
                     "loop_lag_p99_us", (json_int_t) s.lag_p99_us,
                     "loop_lag_max_us", (json_int_t) s.lag_max_us,
                     "longest_turn_cpu_us", (json_int_t) s.turn_max_us,
                     "webhooks_sent", (json_int_t) s.webhooks_sent,
                     "webhooks_failed", (json_int_t) s.webhooks_failed);

    return pass ? pass : json_null();
}
