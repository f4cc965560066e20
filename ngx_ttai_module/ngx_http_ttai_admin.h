
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_ADMIN_H_INCLUDED_
#define _NGX_HTTP_TTAI_ADMIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/*
 * The development admin API lives under this reserved path.  Each store
 * serves the part after "/_ttai/<store>/" and is handed it as "path"
 * (still percent-encoded).
 */
#define NGX_HTTP_TTAI_ADMIN_PREFIX  "/_ttai/"


ngx_int_t ngx_http_ttai_admin_kv(ngx_http_request_t *r, ngx_str_t *path);
ngx_int_t ngx_http_ttai_admin_r2(ngx_http_request_t *r, ngx_str_t *path);
ngx_int_t ngx_http_ttai_admin_d1(ngx_http_request_t *r, ngx_str_t *path);

ngx_uint_t ngx_http_ttai_admin_allowed(ngx_http_request_t *r,
    ngx_int_t *rc);
ngx_int_t ngx_http_ttai_admin_error(ngx_http_request_t *r,
    ngx_uint_t status, char *code, char *message);
/* 405 with an Allow header; allow must be a static string */
ngx_int_t ngx_http_ttai_admin_not_allowed(ngx_http_request_t *r,
    char *allow);
ngx_int_t ngx_http_ttai_admin_body(ngx_http_request_t *r, ngx_str_t *body);


#endif /* _NGX_HTTP_TTAI_ADMIN_H_INCLUDED_ */
