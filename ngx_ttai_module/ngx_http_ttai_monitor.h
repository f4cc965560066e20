
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_MONITOR_H_INCLUDED_
#define _NGX_HTTP_TTAI_MONITOR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ttai_monitor.h"


/* an operator's webhook destination (ttai_alert_webhooks) */
typedef struct {
    ngx_str_t                  url;       /* as written: the prefix */
    ngx_uint_t                 tls;
    ngx_str_t                  host;      /* for Host and SNI */
    ngx_str_t                  peer;      /* its address, found at load */
    size_t                     authority; /* bytes of scheme://host:port */
} ngx_http_ttai_webhook_t;


/*
 * What the monitor's passes did, in shared memory so that any worker's
 * /debug/do/PORTFOLIO_MONITOR tells it: the worker that runs them is
 * the one that holds the background lease
 */
typedef struct {
    ngx_pid_t                  pid;
    uint64_t                   passes;
    uint64_t                   running;       /* 1 while a pass runs */
    uint64_t                   started_ms;    /* of the last pass */
    uint64_t                   duration_us;
    uint64_t                   users;
    uint64_t                   rules;
    uint64_t                   calls;
    uint64_t                   fired_last;
    uint64_t                   fired;         /* since the zone was made */
    uint64_t                   lag_samples;
    uint64_t                   lag_p50_us;
    uint64_t                   lag_p99_us;
    uint64_t                   lag_max_us;
    uint64_t                   turn_max_us;   /* CPU, the longest turn */
    uint64_t                   webhooks_sent;
    uint64_t                   webhooks_failed;
} ngx_http_ttai_monitor_shm_t;


extern ngx_shm_zone_t  *ngx_http_ttai_monitor_zone;


/* ngx_http_ttai_monitor.c */
char *ngx_http_ttai_monitor_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_monitor_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/* ngx_http_ttai_monitor_webhook.c: the POSTs of fired alerts */
char *ngx_http_ttai_alert_webhooks(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_ttai_monitor_webhooks_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
void ngx_http_ttai_monitor_webhooks(ngx_http_ttai_main_conf_t *tmcf,
    void (*done)(void));

/* ngx_http_ttai_monitor_debug.c: GET /debug/do/PORTFOLIO_MONITOR[/<user>] */
ngx_int_t ngx_http_ttai_monitor_debug(ngx_http_request_t *r,
    ngx_str_t *user);


#endif /* _NGX_HTTP_TTAI_MONITOR_H_INCLUDED_ */
