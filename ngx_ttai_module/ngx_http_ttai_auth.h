
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_AUTH_H_INCLUDED_
#define _NGX_HTTP_TTAI_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ttai_jwt.h"


/*
 * 1 with the token's claims, or 0 with *rc set to the 401 already sent.
 * With "ttai_mcp_auth off" (development only) the subject is
 * "anonymous".
 */
ngx_uint_t ngx_http_ttai_auth(ngx_http_request_t *r,
    ttai_jwt_claims_t *claims, ngx_int_t *rc);

/* the /mcp URL as the client sees it, and its path */
ngx_int_t ngx_http_ttai_resource(ngx_http_request_t *r,
    ngx_str_t *resource);
ngx_int_t ngx_http_ttai_resource_path(ngx_http_request_t *r,
    ngx_str_t *path);

/* this server's origin as the client sees it: ttai's OAuth issuer */
ngx_int_t ngx_http_ttai_origin(ngx_http_request_t *r, ngx_str_t *origin);

char *ngx_http_ttai_metadata(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_TTAI_AUTH_H_INCLUDED_ */
