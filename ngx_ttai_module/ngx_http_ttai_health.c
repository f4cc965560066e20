
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_dxlink.h"
#include "ngx_http_ttai_throttle.h"


/*
 * A check returns NGX_OK, NGX_ERROR with h->error set, or NGX_DECLINED
 * when it does not apply to this configuration; it fills the rest of h
 * with what its object shows.
 */
typedef ngx_int_t (*ngx_http_ttai_check_pt)(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);


typedef struct {
    ngx_str_t                  name;
    ngx_http_ttai_check_pt     check;
} ngx_http_ttai_check_t;


typedef struct {
    ngx_http_ttai_check_t     *check;
    ngx_int_t                  rc;
    ngx_http_ttai_health_t     h;
} ngx_http_ttai_result_t;


static ngx_int_t ngx_http_ttai_health_handler(ngx_http_request_t *r);
static u_char *ngx_http_ttai_health_write(u_char *p,
    ngx_http_ttai_result_t *res);
static ngx_uint_t ngx_http_ttai_health_same(ngx_http_ttai_result_t *a,
    ngx_http_ttai_result_t *b);
static void ngx_http_ttai_health_keep(ngx_http_ttai_loc_conf_t *tlcf,
    time_t uptime, ngx_http_ttai_result_t *res, ngx_uint_t n, u_char *body,
    size_t len);
static ngx_int_t ngx_http_ttai_health_not_allowed(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_check_state_dir(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);
static void ngx_http_ttai_health_log_state_dir(ngx_log_t *log,
    ngx_str_t *path, ngx_uint_t n, ngx_str_t *span, void *data);


static ngx_http_ttai_check_t  ngx_http_ttai_checks[] = {
    { ngx_string("state_dir"), ngx_http_ttai_check_state_dir },
    { ngx_string("d1"), ngx_http_ttai_d1_health },
    { ngx_string("kv"), ngx_http_ttai_kv_health },
    { ngx_string("sessions"), ngx_http_ttai_kv_sessions_health },
    { ngx_string("tastytrade"), ngx_http_ttai_tt_health },
    { ngx_string("background"), ngx_http_ttai_background_health },
    { ngx_string("dxlink"), ngx_http_ttai_dxlink_health }
};

#define NGX_HTTP_TTAI_CHECKS                                                  \
    (sizeof(ngx_http_ttai_checks) / sizeof(ngx_http_ttai_check_t))

/* the longest healthy answer a worker keeps */
#define NGX_HTTP_TTAI_HEALTH_KEPT  2048


/*
 * A healthy answer, and what it showed: the next request that finds the
 * same in the same second gets the same bytes, without writing them out
 * again.  The checks still run each time; per worker, for its location.
 */
struct ngx_http_ttai_health_memo_s {
    time_t                     uptime;
    ngx_uint_t                 n;
    ngx_http_ttai_result_t     res[NGX_HTTP_TTAI_CHECKS];
    size_t                     len;
    u_char                     body[NGX_HTTP_TTAI_HEALTH_KEPT];
};


char *
ngx_http_ttai_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_loc_conf_t *tlcf = conf;

    ngx_str_t  *value;

    if (tlcf->service.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        ngx_str_set(&tlcf->service, "mcp");

    } else if ((value[1].len == 3
                && ngx_strncmp(value[1].data, "mcp", 3) == 0)
               || (value[1].len == 6
                   && ngx_strncmp(value[1].data, "worker", 6) == 0))
    {
        tlcf->service = value[1];

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid service \"%V\", it must be "
                           "\"mcp\" or \"worker\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_ttai_set_handler(cf, ngx_http_ttai_health_handler) == NULL) {
        return "is duplicate";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_health_handler(ngx_http_request_t *r)
{
    u_char                       *body, *p;
    size_t                        len;
    time_t                        uptime;
    ngx_int_t                     rc;
    ngx_uint_t                    i, k, n, healthy;
    ngx_http_ttai_result_t        res[NGX_HTTP_TTAI_CHECKS];
    ngx_http_ttai_health_t       *h;
    ngx_http_ttai_loc_conf_t     *tlcf;
    ngx_http_ttai_main_conf_t    *tmcf;
    ngx_http_ttai_health_memo_t  *m;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ttai_health_not_allowed(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    healthy = 1;
    n = 0;

    for (i = 0; i < NGX_HTTP_TTAI_CHECKS; i++) {
        h = &res[n].h;
        ngx_str_null(&h->error);
        ngx_str_null(&h->string_name);
        ngx_str_null(&h->string);
        h->names = NULL;
        h->ncounters = 0;

        rc = ngx_http_ttai_checks[i].check(r, tmcf, h);

        if (rc == NGX_DECLINED) {
            continue;
        }

        if (rc != NGX_OK) {
            healthy = 0;
        }

        res[n].check = &ngx_http_ttai_checks[i];
        res[n].rc = rc;
        n++;
    }

    uptime = ngx_time() - ngx_http_ttai_started();

    if (ngx_http_ttai_header_lit(r, "Cache-Control", "no-store") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m = tlcf->health;

    if (healthy && m != NULL && m->len && m->uptime == uptime && m->n == n) {
        for (i = 0; i < n; i++) {
            if (!ngx_http_ttai_health_same(&m->res[i], &res[i])) {
                break;
            }
        }

        if (i == n) {
            body = ngx_pnalloc(r->pool, m->len);
            if (body == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(body, m->body, m->len);

            return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, m->len);
        }
    }

    len = sizeof("{\"status\":\"unhealthy\",\"service\":\"\","
                 "\"version\":\"" TTAI_VERSION "\","
                 "\"nginx\":\"" NGINX_VERSION "\","
                 "\"environment\":\"development\",\"uptime_seconds\":,"
                 "\"checks\":{}}")
          + tlcf->service.len + NGX_TIME_T_LEN;

    for (i = 0; i < n; i++) {
        h = &res[i].h;

        len += res[i].check->name.len + h->error.len + h->string_name.len
               + h->string.len
               + sizeof(",\"\":{\"status\":\"fail\",\"error\":\"\","
                        "\"\":\"\"}");

        for (k = 0; k < h->ncounters; k++) {
            len += sizeof(",\"\":") - 1 + h->names[k].len + NGX_INT64_LEN;
        }
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = healthy ? ngx_http_ttai_cpylit(body, "{\"status\":\"healthy\"")
                : ngx_http_ttai_cpylit(body, "{\"status\":\"unhealthy\"");

    p = ngx_http_ttai_cpylit(p, ",\"service\":\"");
    p = ngx_cpymem(p, tlcf->service.data, tlcf->service.len);
    p = ngx_http_ttai_cpylit(p, "\",\"version\":\"" TTAI_VERSION "\","
                                "\"nginx\":\"" NGINX_VERSION "\","
                                "\"environment\":\"");

    p = (tmcf->environment == NGX_HTTP_TTAI_DEVELOPMENT)
        ? ngx_http_ttai_cpylit(p, "development")
        : ngx_http_ttai_cpylit(p, "production");

    p = ngx_http_ttai_cpylit(p, "\",\"uptime_seconds\":");
    p = ngx_http_ttai_uint(p, uptime);
    p = ngx_http_ttai_cpylit(p, ",\"checks\":{");

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_http_ttai_health_write(p, &res[i]);
    }

    p = ngx_http_ttai_cpylit(p, "}}");

    if (healthy) {
        ngx_http_ttai_health_keep(tlcf, uptime, res, n, body, p - body);
    }

    return ngx_http_ttai_send_json(r, healthy ? NGX_HTTP_OK
                                              : NGX_HTTP_SERVICE_UNAVAILABLE,
                                   body, p - body);
}


/* "name":{"status":...} */

static u_char *
ngx_http_ttai_health_write(u_char *p, ngx_http_ttai_result_t *res)
{
    ngx_uint_t               k;
    ngx_http_ttai_health_t  *h;

    h = &res->h;

    *p++ = '"';
    p = ngx_cpymem(p, res->check->name.data, res->check->name.len);

    if (res->rc == NGX_OK) {
        p = ngx_http_ttai_cpylit(p, "\":{\"status\":\"ok\"");

    } else {
        p = ngx_http_ttai_cpylit(p, "\":{\"status\":\"fail\",\"error\":\"");
        p = ngx_cpymem(p, h->error.data, h->error.len);
        *p++ = '"';
    }

    if (h->string_name.len) {
        p = ngx_http_ttai_cpylit(p, ",\"");
        p = ngx_cpymem(p, h->string_name.data, h->string_name.len);
        p = ngx_http_ttai_cpylit(p, "\":\"");
        p = ngx_cpymem(p, h->string.data, h->string.len);
        *p++ = '"';
    }

    for (k = 0; k < h->ncounters; k++) {
        p = ngx_http_ttai_cpylit(p, ",\"");
        p = ngx_cpymem(p, h->names[k].data, h->names[k].len);
        p = ngx_http_ttai_cpylit(p, "\":");
        p = ngx_http_ttai_uint(p, h->counters[k]);
    }

    *p++ = '}';

    return p;
}


/* whether two healthy results show the same */

static ngx_uint_t
ngx_http_ttai_health_same(ngx_http_ttai_result_t *a, ngx_http_ttai_result_t *b)
{
    ngx_uint_t  k;

    if (a->check != b->check || a->h.names != b->h.names
        || a->h.ncounters != b->h.ncounters
        || a->h.string_name.len != b->h.string_name.len
        || a->h.string.len != b->h.string.len
        || (a->h.string.len
            && ngx_strncmp(a->h.string.data, b->h.string.data,
                           a->h.string.len)
               != 0))
    {
        return 0;
    }

    for (k = 0; k < a->h.ncounters; k++) {
        if (a->h.counters[k] != b->h.counters[k]) {
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_ttai_health_keep(ngx_http_ttai_loc_conf_t *tlcf, time_t uptime,
    ngx_http_ttai_result_t *res, ngx_uint_t n, u_char *body, size_t len)
{
    ngx_http_ttai_health_memo_t  *m;

    if (len > NGX_HTTP_TTAI_HEALTH_KEPT) {
        return;
    }

    if (tlcf->health == NULL) {
        /* per worker, made on first use, in the pool of its cycle */
        tlcf->health = ngx_pcalloc(ngx_cycle->pool,
                                   sizeof(ngx_http_ttai_health_memo_t));
        if (tlcf->health == NULL) {
            return;
        }
    }

    m = tlcf->health;

    m->uptime = uptime;
    m->n = n;
    ngx_memcpy(m->res, res, n * sizeof(ngx_http_ttai_result_t));
    ngx_memcpy(m->body, body, len);
    m->len = len;
}


static ngx_int_t
ngx_http_ttai_health_not_allowed(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    static u_char  body[] = "{\"error\":\"method_not_allowed\","
                            "\"message\":\"use GET or HEAD\"}";

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_ttai_header_lit(r, "Allow", "GET, HEAD") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_NOT_ALLOWED, body,
                                   sizeof(body) - 1);
}


/*
 * access(2) is one metadata syscall and does not stall the worker the way
 * a write would; it still sees a read-only mount or a removed folder.  A
 * success holds for the rest of the second, so that a busy /health costs
 * no syscalls; a failure is looked at again on every call.
 */

static ngx_int_t
ngx_http_ttai_check_state_dir(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    ngx_err_t        err;
    ngx_file_info_t  fi;

    if (tmcf->state_dir.len == 0) {
        return NGX_DECLINED;
    }

    if (tmcf->state_dir_ok == ngx_time()) {
        return NGX_OK;
    }

    if (ngx_file_info(tmcf->state_dir.data, &fi) == NGX_FILE_ERROR) {
        err = ngx_errno;
        goto failed;
    }

    if (!ngx_is_dir(&fi)) {
        err = NGX_ENOTDIR;
        goto failed;
    }

    if (access((char *) tmcf->state_dir.data, W_OK|X_OK) != 0) {
        err = ngx_errno;
        goto failed;
    }

    tmcf->state_dir_ok = ngx_time();

    return NGX_OK;

failed:

    /* every /health finds it so, and anyone may ask in a loop */
    ngx_http_ttai_throttle(r->connection->log,
                           ngx_http_ttai_health_log_state_dir,
                           &tmcf->state_dir, 1, &err);

    h->error.data = (u_char *) strerror(err);
    h->error.len = ngx_strlen(h->error.data);

    return NGX_ERROR;
}


static void
ngx_http_ttai_health_log_state_dir(ngx_log_t *log, ngx_str_t *path,
    ngx_uint_t n, ngx_str_t *span, void *data)
{
    ngx_err_t  *err = data;

    if (span->len == 0) {
        ngx_log_error(NGX_LOG_ERR, log, *err,
                      "ttai: state folder \"%V\" is not writable", path);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ttai: state folder \"%V\" was found not writable %ui "
                  "%s%V", path, n, n == 1 ? "time" : "times", span);
}
