
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_DB_H_INCLUDED_
#define _NGX_HTTP_TTAI_DB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/*
 * SQLite (the seed's D1).  The database is migrated when nginx loads its
 * configuration; each worker then opens its own connection, and every
 * statement runs on a thread of the ttai_thread_pool, never on the event
 * loop.
 */

char *ngx_http_ttai_db_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_db_migrations(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_db_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* at the end of the http block: defaults, then the pending migrations */
char *ngx_http_ttai_db_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);

ngx_int_t ngx_http_ttai_db_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);
void ngx_http_ttai_db_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/* for /health: NGX_DECLINED without a database */
ngx_int_t ngx_http_ttai_db_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_str_t *error, ngx_str_t *detail);


#endif /* _NGX_HTTP_TTAI_DB_H_INCLUDED_ */
