
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_BACKGROUND_H_INCLUDED_
#define _NGX_HTTP_TTAI_BACKGROUND_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


typedef struct {
    ngx_http_request_t     *request;
    ngx_event_t             closer;
    void                   *data;
} ngx_http_ttai_background_t;


/*
 * A request for background work, in the first ttai_mcp location's
 * server; NULL when there is none, or out of memory
 */
ngx_http_ttai_background_t *ngx_http_ttai_background_create(
    ngx_cycle_t *cycle, ngx_http_ttai_main_conf_t *tmcf);

/*
 * Makes the request the user's: a bearer token minted for sub, which
 * lives five minutes and never leaves the server (the worker service
 * and the tools' subrequests read it as a client's); NGX_ERROR when out
 * of memory
 */
ngx_int_t ngx_http_ttai_background_user(ngx_http_ttai_background_t *bg,
    ngx_http_ttai_main_conf_t *tmcf, const char *sub);

/* frees it, once the handler that calls this has returned */
void ngx_http_ttai_background_done(ngx_http_ttai_background_t *bg);


#endif /* _NGX_HTTP_TTAI_BACKGROUND_H_INCLUDED_ */
