
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_DXLINK_FEED_H_INCLUDED_
#define _NGX_HTTP_TTAI_DXLINK_FEED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <wslay/wslay.h>

#include "ngx_http_ttai_dxlink.h"
#include "ttai_dxlink.h"


/*
 * The market-data feed's state, shared by its two halves: the feed
 * (ngx_http_ttai_dxlink.c: the token, the protocol's messages, the
 * subscriptions, KV) and its websocket (ngx_http_ttai_dxlink_ws.c: the
 * address, the connection, TLS, the upgrade, libwslay).
 */

typedef enum {
    NGX_HTTP_TTAI_DXF_DOWN = 0,
    NGX_HTTP_TTAI_DXF_RESOLVING,
    NGX_HTTP_TTAI_DXF_CONNECTING,
    NGX_HTTP_TTAI_DXF_TLS,
    NGX_HTTP_TTAI_DXF_UPGRADE,
    NGX_HTTP_TTAI_DXF_OPEN
} ngx_http_ttai_dxf_state_e;


typedef struct {
    ngx_http_ttai_main_conf_t  *tmcf;
    ngx_event_t                 tick;
    ngx_connection_t            dummy;
    ngx_log_t                   log;

    ngx_http_ttai_dxf_state_e   state;
    ngx_msec_t                  retry_at;
    ngx_msec_t                  backoff;

    /* the quote token and its URL, malloc()ed; the token is zeroed */
    char                       *token;
    char                       *url;
    time_t                      renew_at;
    time_t                      expires;
    ngx_uint_t                  fetching;
    ngx_msec_t                  token_retry_at;
    ngx_msec_t                  token_backoff;
    ngx_uint_t                  refused;        /* 1: renewed once, 2: */

    /* the URL's parts, pointing into url */
    ngx_str_t                   host;
    ngx_str_t                   path;
    in_port_t                   port;
    ngx_uint_t                  tls;

    /* the connection, and what lives as long as it (in pool) */
    ngx_pool_t                 *pool;
    ngx_peer_connection_t       peer;
    ngx_resolver_ctx_t         *rctx;
    ngx_buf_t                  *out;
    ngx_buf_t                  *in;
    u_char                      accept[32];
    size_t                      accept_len;
    wslay_event_context_ptr     ws;
    ttai_dxl_t                 *dxl;
    ngx_msec_t                  last_in;
    ngx_msec_t                  last_out;
    ngx_uint_t                  failed;         /* set in a callback */
    size_t                      turn_bytes;
    ngx_uint_t                  more;           /* left to read */
    ngx_uint_t                  refused_now;

    /* the feed */
    json_t                     *values;         /* symbol: {type: event} */
    json_t                     *subscribed;     /* symbol: true */
    json_t                     *touched;        /* not yet in KV */
    ngx_event_t                 flush;
    uint64_t                    since;          /* epoch ms, ready */
    uint64_t                    events;
    uint64_t                    reconnects;
    ngx_uint_t                  over;
    uint64_t                    turn_max_us;    /* since the last state */
    ngx_msec_t                  state_written;
    char                        error[256];
} ngx_http_ttai_dxf_t;


/* the states' names, for /health and messages */
extern const char *ngx_http_ttai_dxf_states[];


/* ngx_http_ttai_dxlink_ws.c: the websocket */

/* the host, port and path of f->url (ws:// or wss://); NGX_ERROR: not one */
ngx_int_t ngx_http_ttai_dxf_parse_url(ngx_http_ttai_dxf_t *f);

/* resolves, connects, TLS, upgrades; then ngx_http_ttai_dxf_opened() */
void ngx_http_ttai_dxf_connect(ngx_http_ttai_dxf_t *f);

/* reads and writes what it can; a failure goes to ngx_http_ttai_dxf_fail */
void ngx_http_ttai_dxf_io(ngx_http_ttai_dxf_t *f);

/* queues a text message (taken, zeroed and freed); NULL: out of memory */
void ngx_http_ttai_dxf_send(ngx_http_ttai_dxf_t *f, char *text);

/* the connection closed and its pool freed; the state is down */
void ngx_http_ttai_dxf_close(ngx_http_ttai_dxf_t *f);


/* ngx_http_ttai_dxlink.c: the feed, told by the websocket */

/* the websocket is open: the protocol begins; NGX_ERROR: it failed */
ngx_int_t ngx_http_ttai_dxf_opened(ngx_http_ttai_dxf_t *f);

/* a text message received */
void ngx_http_ttai_dxf_message(ngx_http_ttai_dxf_t *f, const char *msg,
    size_t len);

/* the connection failed (fmt NULL: f->error says why): tried again later */
void ngx_http_ttai_dxf_fail(ngx_http_ttai_dxf_t *f, const char *fmt, ...);


#endif /* _NGX_HTTP_TTAI_DXLINK_FEED_H_INCLUDED_ */
