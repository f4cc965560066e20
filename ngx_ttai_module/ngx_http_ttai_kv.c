
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_kv.h"


/* placeholder: the shared-memory KV zone is being written */


char *
ngx_http_ttai_kv_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}


ngx_int_t
ngx_http_ttai_kv_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    return NGX_OK;
}


void
ngx_http_ttai_kv_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
}


ngx_int_t
ngx_http_ttai_kv_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail)
{
    return NGX_DECLINED;
}
