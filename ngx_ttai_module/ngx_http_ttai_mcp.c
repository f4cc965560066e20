
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/*
 * The MCP endpoint.  Until JWT verification lands, every request is
 * refused as unauthenticated, which is the answer an unauthenticated
 * client must get anyway.
 */


static ngx_int_t ngx_http_ttai_mcp_handler(ngx_http_request_t *r);


char *
ngx_http_ttai_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_ttai_mcp_handler;

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ttai_module);
    tmcf->enabled = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_mcp_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    static u_char  body[] = "{\"error\":\"invalid_token\","
                            "\"error_description\":"
                            "\"a valid Bearer token is required\"}";

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_ttai_header_lit(r, "WWW-Authenticate", "Bearer") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_UNAUTHORIZED, body,
                                   sizeof(body) - 1);
}
