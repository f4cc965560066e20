
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_DXLINK_H_INCLUDED_
#define _NGX_HTTP_TTAI_DXLINK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_ttai_module.h"


/*
 * The market-data stream (DXLink): one worker, the holder of the
 * background lease, keeps the websocket (ngx_http_ttai_dxlink.c); the
 * tools ask for symbols by reading dx:<symbol> from KV, which registers
 * them in a table every worker shares (ngx_http_ttai_dxlink_demand.c);
 * the feed worker subscribes what was asked for lately and writes each
 * symbol's last events to KV, with the feed's state in dx:@feed.
 */

#define NGX_HTTP_TTAI_DXLINK_PREFIX   "dx:"
#define NGX_HTTP_TTAI_DXLINK_SYMBOL   48       /* the longest symbol, + 1 */


/* ngx_http_ttai_dxlink.c */
char *ngx_http_ttai_dxlink_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_dxlink_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);
void ngx_http_ttai_dxlink_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_ttai_dxlink_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);

/* ngx_http_ttai_dxlink_demand.c */
char *ngx_http_ttai_dxlink_demand_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);

/* a tool read key: when it is dx:<symbol>, the symbol is wanted now */
void ngx_http_ttai_dxlink_want(ngx_str_t *key);

/*
 * The symbols asked for in the last idle seconds, the most recent first,
 * at most max of them (an array of strings; *over counts those left
 * out), or NULL when out of memory
 */
json_t *ngx_http_ttai_dxlink_wanted(time_t idle, ngx_uint_t max,
    ngx_uint_t *over);


#endif /* _NGX_HTTP_TTAI_DXLINK_H_INCLUDED_ */
