
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


#define NGX_HTTP_TTAI_HEALTH_MAX  2048


/*
 * A check returns NGX_OK, NGX_ERROR with *error set to a JSON-safe
 * reason, or NGX_DECLINED when it does not apply to this configuration.
 * It may set *detail to more JSON members for its object, such as
 * counters: "\"hits\":1,\"misses\":0".
 */
typedef ngx_int_t (*ngx_http_ttai_check_pt)(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail);


typedef struct {
    char                      *name;
    ngx_http_ttai_check_pt     check;
} ngx_http_ttai_check_t;


static ngx_int_t ngx_http_ttai_health_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_health_not_allowed(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_check_state_dir(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail);


static ngx_http_ttai_check_t  ngx_http_ttai_checks[] = {
    { "state_dir", ngx_http_ttai_check_state_dir },
    { "d1", ngx_http_ttai_d1_health },
    { "kv", ngx_http_ttai_kv_health },
    { "sessions", ngx_http_ttai_kv_sessions_health },
    { "tastytrade", ngx_http_ttai_tt_health },
    { NULL, NULL }
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
    u_char                     *checks, *body, *p, *last;
    ngx_int_t                   rc;
    ngx_str_t                   error, detail;
    ngx_uint_t                  healthy;
    ngx_http_ttai_check_t      *c;
    ngx_http_ttai_loc_conf_t   *tlcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ttai_health_not_allowed(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    checks = ngx_pnalloc(r->pool, 2 * NGX_HTTP_TTAI_HEALTH_MAX);
    if (checks == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = checks;
    last = checks + NGX_HTTP_TTAI_HEALTH_MAX;
    healthy = 1;

    for (c = ngx_http_ttai_checks; c->name != NULL; c++) {
        ngx_str_null(&detail);

        rc = c->check(r, tmcf, &error, &detail);

        if (rc == NGX_DECLINED) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s\"%s\":", p == checks ? "" : ",",
                         c->name);

        if (rc == NGX_OK) {
            p = ngx_slprintf(p, last, "{\"status\":\"ok\"");

        } else {
            healthy = 0;
            p = ngx_slprintf(p, last,
                             "{\"status\":\"fail\",\"error\":\"%V\"",
                             &error);
        }

        p = ngx_slprintf(p, last, "%s%V}", detail.len ? "," : "", &detail);
    }

    body = last;

    p = ngx_slprintf(body, body + NGX_HTTP_TTAI_HEALTH_MAX,
                     "{\"status\":\"%s\",\"service\":\"%V\","
                     "\"version\":\"" TTAI_VERSION "\","
                     "\"nginx\":\"" NGINX_VERSION "\","
                     "\"environment\":\"%s\",\"uptime_seconds\":%T,"
                     "\"checks\":{%*s}}",
                     healthy ? "healthy" : "unhealthy",
                     &tlcf->service,
                     tmcf->environment == NGX_HTTP_TTAI_DEVELOPMENT
                     ? "development" : "production",
                     ngx_time() - ngx_http_ttai_started(),
                     (size_t) (p - checks), checks);

    if (ngx_http_ttai_header_lit(r, "Cache-Control", "no-store") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, healthy ? NGX_HTTP_OK
                                              : NGX_HTTP_SERVICE_UNAVAILABLE,
                                   body, p - body);
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
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail)
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

    ngx_log_error(NGX_LOG_ERR, r->connection->log, err,
                  "ttai: state folder \"%V\" is not writable",
                  &tmcf->state_dir);

    error->data = (u_char *) strerror(err);
    error->len = ngx_strlen(error->data);

    return NGX_ERROR;
}
