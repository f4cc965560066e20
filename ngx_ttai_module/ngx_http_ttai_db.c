
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_db.h"


/* placeholder: SQLite with migrations and a thread pool is being written */


char *
ngx_http_ttai_db_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}


char *
ngx_http_ttai_db_migrations(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}


char *
ngx_http_ttai_db_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}


char *
ngx_http_ttai_db_init_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_ttai_db_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    return NGX_OK;
}


void
ngx_http_ttai_db_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
}


ngx_int_t
ngx_http_ttai_db_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail)
{
    return NGX_DECLINED;
}
