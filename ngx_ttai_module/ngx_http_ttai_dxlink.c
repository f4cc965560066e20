
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <sodium.h>
#include <wslay/wslay.h>

#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_dxlink.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_kv.h"
#include "ttai_dxlink.h"
#include "ttai_version.h"


/*
 * The DXLink feed.  The worker that holds the background lease asks
 * TastyTrade for a quote token (GET /api-quote-tokens, as the user that
 * ttai_dxlink_user names, through the fetch engine), connects to the URL
 * that comes with it (TLS through nginx's own, verified, with SNI),
 * upgrades to a websocket by hand (one request, one answer) and hands
 * the framing to libwslay, which never touches a socket itself: its
 * callbacks read and write the nginx connection.  The protocol is the
 * core's (ttai_dxlink.c); this file only moves its messages.
 *
 * Every event is merged into the symbol's last values and written to KV
 * as dx:<symbol>, with the time the feed became ready ("since"): a value
 * from an earlier connection is not presented as fresh.  dx:@feed says
 * the feed's state, for the tools and /health, and lapses within seconds
 * when no worker keeps it.
 */

#define NGX_HTTP_TTAI_DXF_TICK        250        /* ms */
#define NGX_HTTP_TTAI_DXF_CONNECT     10000      /* ms to connect, upgrade */
#define NGX_HTTP_TTAI_DXF_BACKOFF     1000       /* ms, doubled per failure */
#define NGX_HTTP_TTAI_DXF_BACKOFF_MAX 60000
#define NGX_HTTP_TTAI_DXF_TOKEN_MAX   15000      /* ms between token tries */
#define NGX_HTTP_TTAI_DXF_REFUSED     300000     /* ms, after two refusals */
#define NGX_HTTP_TTAI_DXF_RENEW       3600       /* s: renew this early */
#define NGX_HTTP_TTAI_DXF_TOKEN_LIFE  86400      /* s, when not said */
#define NGX_HTTP_TTAI_DXF_VALUE_TTL   3600       /* s, a symbol's values */
#define NGX_HTTP_TTAI_DXF_STATE_TTL   15         /* s, dx:@feed */
#define NGX_HTTP_TTAI_DXF_MAX_MSG     (4 * 1024 * 1024)
#define NGX_HTTP_TTAI_DXF_HEADER      4096

/*
 * A turn of the event loop reads at most this much of the websocket, and
 * writes at most this many symbols' values to KV: a burst of market data
 * is spread over turns instead of holding the loop
 */
#define NGX_HTTP_TTAI_DXF_TURN_BYTES  8192
#define NGX_HTTP_TTAI_DXF_TURN_PUTS   200

#define NGX_HTTP_TTAI_DXF_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


typedef enum {
    NGX_HTTP_TTAI_DXF_DOWN = 0,
    NGX_HTTP_TTAI_DXF_RESOLVING,
    NGX_HTTP_TTAI_DXF_CONNECTING,
    NGX_HTTP_TTAI_DXF_TLS,
    NGX_HTTP_TTAI_DXF_UPGRADE,
    NGX_HTTP_TTAI_DXF_OPEN
} ngx_http_ttai_dxf_state_e;


static const char *ngx_http_ttai_dxf_states[] = {
    "down", "resolving", "connecting", "tls", "upgrading", "handshake"
};


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


static void ngx_http_ttai_dxf_tick(ngx_event_t *ev);
static void ngx_http_ttai_dxf_token(ngx_http_ttai_dxf_t *f);
static ngx_int_t ngx_http_ttai_dxf_token_done(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *ff);
static ngx_int_t ngx_http_ttai_dxf_token_keep(ngx_http_ttai_dxf_t *f,
    json_t *data);
static ngx_int_t ngx_http_ttai_dxf_parse_url(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_connect(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_ttai_dxf_connect_peer(ngx_http_ttai_dxf_t *f,
    struct sockaddr *sa, socklen_t len);
static void ngx_http_ttai_dxf_handler(ngx_event_t *ev);
static void ngx_http_ttai_dxf_connected(ngx_http_ttai_dxf_t *f);
#if (NGX_SSL)
static void ngx_http_ttai_dxf_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_ttai_dxf_upgrade(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_upgrade_send(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_upgrade_read(ngx_http_ttai_dxf_t *f);
static ngx_int_t ngx_http_ttai_dxf_upgraded(ngx_http_ttai_dxf_t *f,
    u_char *end);
static void ngx_http_ttai_dxf_open(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_io(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_send(ngx_http_ttai_dxf_t *f, char *text);
static ssize_t ngx_http_ttai_dxf_ws_recv(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, int flags, void *user_data);
static ssize_t ngx_http_ttai_dxf_ws_send(wslay_event_context_ptr ctx,
    const uint8_t *data, size_t len, int flags, void *user_data);
static int ngx_http_ttai_dxf_ws_mask(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, void *user_data);
static void ngx_http_ttai_dxf_ws_message(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data);
static void ngx_http_ttai_dxf_message(ngx_http_ttai_dxf_t *f,
    const char *msg, size_t len);
static void ngx_http_ttai_dxf_events(ngx_http_ttai_dxf_t *f, json_t *events);
static void ngx_http_ttai_dxf_flush(ngx_event_t *ev);
static int ngx_http_ttai_dxf_candle(json_t *v, json_t *ev);
static void ngx_http_ttai_dxf_demand(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_put(ngx_http_ttai_dxf_t *f, const char *symbol,
    json_t *value, time_t ttl);
static void ngx_http_ttai_dxf_drop(ngx_http_ttai_dxf_t *f,
    const char *symbol);
static void ngx_http_ttai_dxf_write_state(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_fail(ngx_http_ttai_dxf_t *f, const char *fmt,
    ...);
static void ngx_http_ttai_dxf_close(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_forget_token(ngx_http_ttai_dxf_t *f);
static uint64_t ngx_http_ttai_dxf_now(void);


static ngx_http_ttai_dxf_t  *ngx_http_ttai_dxf;


char *
ngx_http_ttai_dxlink_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
#if (NGX_SSL)
    ngx_pool_cleanup_t  *cln;
#endif

    if (!tmcf->dxlink) {
        return ngx_http_ttai_dxlink_demand_init_conf(cf, tmcf);
    }

    if (tmcf->dxlink_user.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "ttai_dxlink needs "
                           "ttai_dxlink_user: the user whose quote token "
                           "opens the market-data stream");
        return NGX_CONF_ERROR;
    }

    if (tmcf->kv == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "ttai_dxlink needs the KV "
                           "cache: set ttai_kv_zone");
        return NGX_CONF_ERROR;
    }

#if (NGX_SSL)
    tmcf->dxlink_ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (tmcf->dxlink_ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    tmcf->dxlink_ssl->log = cf->log;

    if (ngx_ssl_create(tmcf->dxlink_ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3,
                       NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(tmcf->dxlink_ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = tmcf->dxlink_ssl;

    /* the server's certificate is checked after the handshake */
    if (ngx_ssl_trusted_certificate(cf, tmcf->dxlink_ssl,
                                    &tmcf->dxlink_trusted, 10)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }
#endif

    return ngx_http_ttai_dxlink_demand_init_conf(cf, tmcf);
}


ngx_int_t
ngx_http_ttai_dxlink_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_dxf_t  *f;

    if (!tmcf->dxlink || ngx_process != NGX_PROCESS_WORKER) {
        return NGX_OK;
    }

    f = ngx_calloc(sizeof(ngx_http_ttai_dxf_t), cycle->log);
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->tmcf = tmcf;
    f->log = *cycle->log;
    f->log.action = "keeping the market-data stream";
    f->dummy.fd = (ngx_socket_t) -1;
    f->dummy.log = &f->log;
    f->tick.handler = ngx_http_ttai_dxf_tick;
    f->tick.data = &f->dummy;
    f->tick.log = &f->log;
    f->tick.cancelable = 1;
    f->flush.handler = ngx_http_ttai_dxf_flush;
    f->flush.data = &f->dummy;
    f->flush.log = &f->log;
    f->backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
    f->token_backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
    f->values = json_object();
    f->subscribed = json_object();
    f->touched = json_object();

    if (f->values == NULL || f->subscribed == NULL || f->touched == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ttai_dxf = f;

    ngx_add_timer(&f->tick, NGX_HTTP_TTAI_DXF_TICK);

    return NGX_OK;
}


void
ngx_http_ttai_dxlink_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ttai_dxf_t  *f;

    f = ngx_http_ttai_dxf;

    if (f == NULL) {
        return;
    }

    if (f->tick.timer_set) {
        ngx_del_timer(&f->tick);
    }

    if (f->flush.posted) {
        ngx_delete_posted_event(&f->flush);
    }

    ngx_http_ttai_dxf_close(f);
    ngx_http_ttai_dxf_forget_token(f);
    json_decref(f->values);
    json_decref(f->subscribed);
    json_decref(f->touched);
    ngx_free(f);

    ngx_http_ttai_dxf = NULL;
}


/*
 * Every quarter second on each worker: only the lease holder keeps the
 * feed; it renews the token before it expires, connects when it is time
 * to, sends the keep-alive, notices a silent server, and brings the
 * subscriptions in line with what the tools asked for.
 */

static void
ngx_http_ttai_dxf_tick(ngx_event_t *ev)
{
    time_t                now;
    ngx_msec_t            ms, keepalive;
    ngx_http_ttai_dxf_t  *f;

    f = ngx_http_ttai_dxf;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_ttai_dxf_close(f);
        return;
    }

    if (!ngx_http_ttai_background_lead()) {
        if (f->state != NGX_HTTP_TTAI_DXF_DOWN) {
            ngx_http_ttai_dxf_close(f);
        }

        ngx_add_timer(&f->tick, NGX_HTTP_TTAI_DXF_TICK);
        return;
    }

    now = ngx_time();
    ms = ngx_current_msec;
    keepalive = (ngx_msec_t) f->tmcf->dxlink_keepalive * 1000;

    if (!f->fetching
        && (f->token == NULL || now >= f->renew_at)
        && (ngx_msec_int_t) (ms - f->token_retry_at) >= 0)
    {
        ngx_http_ttai_dxf_token(f);
    }

    if (f->state == NGX_HTTP_TTAI_DXF_DOWN && f->token != NULL
        && now < f->expires && (ngx_msec_int_t) (ms - f->retry_at) >= 0)
    {
        ngx_http_ttai_dxf_connect(f);

    } else if (f->state == NGX_HTTP_TTAI_DXF_OPEN) {

        if (ms - f->last_in > keepalive) {
            ngx_http_ttai_dxf_fail(f, "nothing came for %M ms: the server "
                                   "went silent", ms - f->last_in);

        } else {
            if (ms - f->last_out >= keepalive / 2) {
                ngx_http_ttai_dxf_send(f, ttai_dxl_keepalive(f->dxl));
            }

            ngx_http_ttai_dxf_demand(f);
            ngx_http_ttai_dxf_io(f);
        }
    }

    if (ms - f->state_written >= 1000) {
        ngx_http_ttai_dxf_write_state(f);
    }

    ngx_add_timer(&f->tick, NGX_HTTP_TTAI_DXF_TICK);
}


/* the quote token, as the operator's user, through the fetch engine */

static void
ngx_http_ttai_dxf_token(ngx_http_ttai_dxf_t *f)
{
    u_char                      *sub;
    ngx_int_t                    rc;
    ngx_http_ttai_fetch_t       *ff;
    ngx_http_ttai_background_t  *bg;

    f->token_retry_at = ngx_current_msec + f->token_backoff;

    bg = ngx_http_ttai_background_create((ngx_cycle_t *) ngx_cycle, f->tmcf);
    if (bg == NULL) {
        ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                     "no request could be made for the quote token%Z");
        return;
    }

    bg->data = f;

    sub = ngx_pnalloc(bg->request->pool, f->tmcf->dxlink_user.len + 1);
    ff = ngx_pcalloc(bg->request->pool, sizeof(ngx_http_ttai_fetch_t));

    if (sub == NULL || ff == NULL) {
        ngx_http_ttai_background_done(bg);
        return;
    }

    (void) ngx_cpystrn(sub, f->tmcf->dxlink_user.data,
                       f->tmcf->dxlink_user.len + 1);

    if (ngx_http_ttai_background_user(bg, f->tmcf, (char *) sub) != NGX_OK) {
        ngx_http_ttai_background_done(bg);
        return;
    }

    ff->service = TTAI_SERVICE_TASTYTRADE;
    ngx_str_set(&ff->path, "/api-quote-tokens");
    ff->user = f->tmcf->dxlink_user;
    ff->done = ngx_http_ttai_dxf_token_done;
    ff->data = bg;

    f->fetching = 1;

    rc = ngx_http_ttai_fetch(bg->request, ff);

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(bg->request->connection);
        return;
    }

    if (rc == NGX_OK) {
        (void) ngx_http_ttai_dxf_token_done(bg->request, ff);
        return;
    }

    f->fetching = 0;
    ngx_http_ttai_background_done(bg);
}


static ngx_int_t
ngx_http_ttai_dxf_token_done(ngx_http_request_t *r, ngx_http_ttai_fetch_t *ff)
{
    json_t                      *doc, *data;
    const char                  *code;
    json_error_t                 err;
    ngx_http_ttai_dxf_t         *f;
    ngx_http_ttai_background_t  *bg;

    bg = ff->data;
    f = bg->data;
    f->fetching = 0;

    if (ngx_http_ttai_dxf != f) {
        /* the worker is exiting */
        ngx_http_ttai_background_done(bg);
        return NGX_DONE;
    }

    doc = (ff->status != 0)
          ? json_loadb((char *) ff->response.data, ff->response.len, 0, &err)
          : NULL;
    data = json_object_get(doc, "data");

    if (ff->status == 200 && ngx_http_ttai_dxf_token_keep(f, data) == NGX_OK)
    {
        f->token_backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
        f->token_retry_at = ngx_current_msec;

    } else {
        code = json_string_value(json_object_get(
                   json_object_get(doc, "error"), "code"));

        if (ff->status == 0) {
            ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                         "no quote token: %s%Z",
                         ff->error ? ff->error : "no response");

        } else if (ff->status == 200) {
            ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                         "no quote token: the answer had no token or "
                         "URL%Z");

        } else {
            ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                         "no quote token: TastyTrade answered %ui (%s)%Z",
                         ff->status, code ? code : "no code");
        }

        ngx_log_error(NGX_LOG_WARN, &f->log, 0, "ttai: %s (status %ui)",
                      f->error, ff->status);

        /* a user connected meanwhile is found within seconds */
        f->token_backoff = ngx_min(f->token_backoff * 2,
                                   NGX_HTTP_TTAI_DXF_TOKEN_MAX);
    }

    json_decref(doc);

    ngx_http_ttai_background_done(bg);

    return NGX_DONE;
}


/*
 * Keeps a token and its URL; it is renewed an hour before it expires, or
 * at three quarters of its life when that is shorter
 */

static ngx_int_t
ngx_http_ttai_dxf_token_keep(ngx_http_ttai_dxf_t *f, json_t *data)
{
    char        *token, *url;
    time_t       now, expires, life;
    ngx_tm_t     tm;
    const char  *t, *u, *e;

    t = json_string_value(json_object_get(data, "token"));
    u = json_string_value(json_object_get(data, "dxlink-url"));
    e = json_string_value(json_object_get(data, "expires-at"));

    if (u == NULL) {
        u = json_string_value(json_object_get(data, "websocket-url"));
    }

    if (t == NULL || *t == '\0' || u == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();
    expires = now + NGX_HTTP_TTAI_DXF_TOKEN_LIFE;

    ngx_memzero(&tm, sizeof(ngx_tm_t));

    if (e != NULL
        && sscanf(e, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.ngx_tm_year,
                  &tm.ngx_tm_mon, &tm.ngx_tm_mday, &tm.ngx_tm_hour,
                  &tm.ngx_tm_min, &tm.ngx_tm_sec) == 6)
    {
        tm.ngx_tm_mon--;
        tm.ngx_tm_year -= 1900;
        expires = timegm(&tm);
    }

    token = strdup(t);
    url = strdup(u);

    if (token == NULL || url == NULL) {
        free(token);
        free(url);
        return NGX_ERROR;
    }

    ngx_http_ttai_dxf_forget_token(f);

    f->token = token;
    f->url = url;
    f->expires = expires;

    life = expires > now ? expires - now : 0;
    f->renew_at = expires - ngx_min(NGX_HTTP_TTAI_DXF_RENEW, life / 4);

    if (ngx_http_ttai_dxf_parse_url(f) != NGX_OK) {
        ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                     "the quote token came with a URL that is not ws:// or "
                     "wss://%Z");
        ngx_http_ttai_dxf_forget_token(f);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_dxf_parse_url(ngx_http_ttai_dxf_t *f)
{
    u_char     *p, *host, *end, *colon;
    ngx_int_t   port;

    p = (u_char *) f->url;

    if (ngx_strncmp(p, "wss://", 6) == 0) {
        f->tls = 1;
        f->port = 443;
        p += 6;

    } else if (ngx_strncmp(p, "ws://", 5) == 0) {
        f->tls = 0;
        f->port = 80;
        p += 5;

    } else {
        return NGX_ERROR;
    }

#if !(NGX_SSL)
    if (f->tls) {
        return NGX_ERROR;
    }
#endif

    host = p;
    end = (u_char *) ngx_strchr(p, '/');
    if (end == NULL) {
        end = p + ngx_strlen(p);
    }

    colon = ngx_strlchr(host, end, ':');

    if (colon != NULL) {
        port = ngx_atoi(colon + 1, end - colon - 1);
        if (port < 1 || port > 65535) {
            return NGX_ERROR;
        }

        f->port = (in_port_t) port;

    } else {
        colon = end;
    }

    f->host.data = host;
    f->host.len = colon - host;

    if (f->host.len == 0) {
        return NGX_ERROR;
    }

    if (*end == '\0') {
        ngx_str_set(&f->path, "/");

    } else {
        f->path.data = end;
        f->path.len = ngx_strlen(end);
    }

    return NGX_OK;
}


/* the address: written as one, or asked of the http block's resolver */

static void
ngx_http_ttai_dxf_connect(ngx_http_ttai_dxf_t *f)
{
    ngx_addr_t                 addr;
    ngx_resolver_ctx_t        *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    f->pool = ngx_create_pool(4096, &f->log);
    if (f->pool == NULL) {
        return;
    }

    f->state = NGX_HTTP_TTAI_DXF_RESOLVING;
    f->error[0] = '\0';

    if (ngx_parse_addr(f->pool, &addr, f->host.data, f->host.len) == NGX_OK)
    {
        ngx_http_ttai_dxf_connect_peer(f, addr.sockaddr, addr.socklen);
        return;
    }

    clcf = f->tmcf->background_ctx
           ? f->tmcf->background_ctx->loc_conf[ngx_http_core_module.ctx_index]
           : NULL;

    if (clcf == NULL || clcf->resolver == NULL
        || clcf->resolver->connections.nelts == 0)
    {
        ngx_http_ttai_dxf_fail(f, "%V is a name and no resolver is set: "
                               "add \"resolver\" to the http block",
                               &f->host);
        return;
    }

    ctx = ngx_resolve_start(clcf->resolver, NULL);
    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_ttai_dxf_fail(f, "could not resolve %V", &f->host);
        return;
    }

    ctx->name = f->host;
    ctx->handler = ngx_http_ttai_dxf_resolved;
    ctx->data = f;
    ctx->timeout = clcf->resolver_timeout;

    f->rctx = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        f->rctx = NULL;
        ngx_http_ttai_dxf_fail(f, "could not resolve %V", &f->host);
    }
}


static void
ngx_http_ttai_dxf_resolved(ngx_resolver_ctx_t *ctx)
{
    socklen_t             len;
    struct sockaddr      *sa;
    ngx_http_ttai_dxf_t  *f;

    f = ctx->data;
    f->rctx = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_http_ttai_dxf_fail(f, "%V could not be resolved (%s)", &ctx->name,
                               ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        return;
    }

    len = ctx->addrs[0].socklen;
    sa = ngx_palloc(f->pool, len);

    if (sa == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    ngx_memcpy(sa, ctx->addrs[0].sockaddr, len);
    ngx_resolve_name_done(ctx);

    ngx_http_ttai_dxf_connect_peer(f, sa, len);
}


static void
ngx_http_ttai_dxf_connect_peer(ngx_http_ttai_dxf_t *f, struct sockaddr *sa,
    socklen_t len)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    ngx_inet_set_port(sa, f->port);

    ngx_memzero(&f->peer, sizeof(ngx_peer_connection_t));

    f->peer.sockaddr = sa;
    f->peer.socklen = len;
    f->peer.name = &f->host;
    f->peer.get = ngx_event_get_peer;
    f->peer.log = &f->log;
    f->peer.log_error = NGX_ERROR_ERR;

    f->state = NGX_HTTP_TTAI_DXF_CONNECTING;

    rc = ngx_event_connect_peer(&f->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        f->peer.connection = NULL;
        ngx_http_ttai_dxf_fail(f, "could not connect to %V:%d", &f->host,
                               (int) f->port);
        return;
    }

    c = f->peer.connection;
    c->data = f;
    c->pool = f->pool;
    c->log = &f->log;
    c->read->log = &f->log;
    c->write->log = &f->log;
    c->read->handler = ngx_http_ttai_dxf_handler;
    c->write->handler = ngx_http_ttai_dxf_handler;

    ngx_add_timer(c->write, NGX_HTTP_TTAI_DXF_CONNECT);

    if (rc == NGX_OK) {
        ngx_http_ttai_dxf_connected(f);
    }
}


static void
ngx_http_ttai_dxf_handler(ngx_event_t *ev)
{
    int                   err;
    socklen_t             len;
    ngx_connection_t     *c;
    ngx_http_ttai_dxf_t  *f;

    c = ev->data;
    f = c->data;

    if (ev->timedout) {
        ngx_http_ttai_dxf_fail(f, "%s timed out",
                               ngx_http_ttai_dxf_states[f->state]);
        return;
    }

    switch (f->state) {

    case NGX_HTTP_TTAI_DXF_CONNECTING:
        if (!ev->write) {
            return;
        }

        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_http_ttai_dxf_fail(f, "could not connect to %V:%d (%d)",
                                   &f->host, (int) f->port, err);
            return;
        }

        ngx_http_ttai_dxf_connected(f);
        return;

    case NGX_HTTP_TTAI_DXF_UPGRADE:
        if (ev->write) {
            ngx_http_ttai_dxf_upgrade_send(f);

        } else {
            ngx_http_ttai_dxf_upgrade_read(f);
        }

        return;

    case NGX_HTTP_TTAI_DXF_OPEN:
        ngx_http_ttai_dxf_io(f);
        return;

    default:
        return;
    }
}


static void
ngx_http_ttai_dxf_connected(ngx_http_ttai_dxf_t *f)
{
#if (NGX_SSL)
    u_char            *name;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    if (f->tls) {
        c = f->peer.connection;
        f->state = NGX_HTTP_TTAI_DXF_TLS;

        if (ngx_ssl_create_connection(f->tmcf->dxlink_ssl, c, NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_ttai_dxf_fail(f, "TLS could not begin");
            return;
        }

        name = ngx_pnalloc(f->pool, f->host.len + 1);
        if (name == NULL) {
            ngx_http_ttai_dxf_fail(f, "out of memory");
            return;
        }

        (void) ngx_cpystrn(name, f->host.data, f->host.len + 1);

        /* SNI: the server has many names behind one address */
        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name) == 0)
        {
            ngx_http_ttai_dxf_fail(f, "SNI could not be set for %V",
                                   &f->host);
            return;
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_ttai_dxf_tls_done;
            return;
        }

        ngx_http_ttai_dxf_tls_done(c);
        return;
    }
#endif

    ngx_http_ttai_dxf_upgrade(f);
}


#if (NGX_SSL)

static void
ngx_http_ttai_dxf_tls_done(ngx_connection_t *c)
{
    long                  rc;
    ngx_http_ttai_dxf_t  *f;

    f = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_ttai_dxf_fail(f, "the TLS handshake with %V failed",
                               &f->host);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_ttai_dxf_fail(f, "the certificate of %V is not trusted: "
                               "%s", &f->host,
                               X509_verify_cert_error_string(rc));
        return;
    }

    if (ngx_ssl_check_host(c, &f->host) != NGX_OK) {
        ngx_http_ttai_dxf_fail(f, "the certificate is not for %V", &f->host);
        return;
    }

    c->read->handler = ngx_http_ttai_dxf_handler;
    c->write->handler = ngx_http_ttai_dxf_handler;

    ngx_http_ttai_dxf_upgrade(f);
}

#endif


/*
 * The websocket's opening handshake (RFC 6455, 4.1): a random key, and
 * the answer must carry base64(SHA-1(key + GUID)).  One request and one
 * answer: hand-written, since libwslay frames and leaves this to its
 * user.
 */

static void
ngx_http_ttai_dxf_upgrade(ngx_http_ttai_dxf_t *f)
{
    u_char     raw[16], key[32], digest[20];
    ngx_str_t  k, r, a;
    ngx_sha1_t  sha1;

    randombytes_buf(raw, sizeof(raw));

    r.data = raw;
    r.len = sizeof(raw);
    k.data = key;
    ngx_encode_base64(&k, &r);

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, k.data, k.len);
    ngx_sha1_update(&sha1, NGX_HTTP_TTAI_DXF_GUID,
                    sizeof(NGX_HTTP_TTAI_DXF_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    r.data = digest;
    r.len = sizeof(digest);
    a.data = f->accept;
    ngx_encode_base64(&a, &r);
    f->accept_len = a.len;

    f->out = ngx_create_temp_buf(f->pool, 512 + f->host.len + f->path.len);
    f->in = ngx_create_temp_buf(f->pool, NGX_HTTP_TTAI_DXF_HEADER);

    if (f->out == NULL || f->in == NULL) {
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    f->out->last = ngx_sprintf(f->out->last,
                               "GET %V HTTP/1.1\r\n"
                               "Host: %V",
                               &f->path, &f->host);

    if (f->port != (f->tls ? 443 : 80)) {
        f->out->last = ngx_sprintf(f->out->last, ":%d", (int) f->port);
    }

    f->out->last = ngx_sprintf(f->out->last, "\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: %V\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "User-Agent: ttai/" TTAI_VERSION "\r\n"
                               "\r\n", &k);

    f->state = NGX_HTTP_TTAI_DXF_UPGRADE;

    ngx_http_ttai_dxf_upgrade_send(f);
}


static void
ngx_http_ttai_dxf_upgrade_send(ngx_http_ttai_dxf_t *f)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = f->peer.connection;

    while (f->out->pos < f->out->last) {
        n = c->send(c, f->out->pos, f->out->last - f->out->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_ttai_dxf_fail(f, "could not wait to write");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_ttai_dxf_fail(f, "the upgrade request could not be "
                                   "sent");
            return;
        }

        f->out->pos += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_add_timer(c->read, NGX_HTTP_TTAI_DXF_CONNECT);

    ngx_http_ttai_dxf_upgrade_read(f);
}


static void
ngx_http_ttai_dxf_upgrade_read(ngx_http_ttai_dxf_t *f)
{
    u_char            *end;
    ssize_t            n;
    ngx_connection_t  *c;

    c = f->peer.connection;

    for ( ;; ) {
        if (f->in->last == f->in->end) {
            ngx_http_ttai_dxf_fail(f, "the upgrade's answer is too long");
            return;
        }

        n = c->recv(c, f->in->last, f->in->end - f->in->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_ttai_dxf_fail(f, "could not wait to read");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_ttai_dxf_fail(f, "the server closed the connection "
                                   "before it upgraded it");
            return;
        }

        f->in->last += n;

        end = ngx_strlcasestrn(f->in->pos, f->in->last,
                               (u_char *) "\r\n\r\n", 4 - 1);
        if (end != NULL) {
            break;
        }
    }

    if (ngx_http_ttai_dxf_upgraded(f, end + 4) != NGX_OK) {
        return;
    }

    /* what came after the answer is the first of the websocket's bytes */
    f->in->pos = end + 4;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_http_ttai_dxf_open(f);
}


static ngx_int_t
ngx_http_ttai_dxf_upgraded(ngx_http_ttai_dxf_t *f, u_char *end)
{
    u_char     *p, *line, *colon, *v, *ve;
    ngx_uint_t  accepted, upgrade;

    p = f->in->pos;

    if (end - p < 12 || ngx_strncmp(p, "HTTP/1.1 101", 12) != 0) {
        line = ngx_strlchr(p, end, '\r');
        ngx_http_ttai_dxf_fail(f, "the server did not upgrade: \"%*s\"",
                               ngx_min((size_t) ((line ? line : end) - p),
                                       (size_t) 80), p);
        return NGX_ERROR;
    }

    accepted = 0;
    upgrade = 0;

    for (line = ngx_strlchr(p, end, '\n'); line && line + 1 < end;
         line = ngx_strlchr(line + 1, end, '\n'))
    {
        line++;
        ve = ngx_strlchr(line, end, '\r');
        colon = ngx_strlchr(line, ve ? ve : end, ':');

        if (ve == NULL || colon == NULL) {
            continue;
        }

        for (v = colon + 1; v < ve && *v == ' '; v++) { /* void */ }

        if (colon - line == 20
            && ngx_strncasecmp(line, (u_char *) "Sec-WebSocket-Accept", 20)
               == 0)
        {
            accepted = ((size_t) (ve - v) == f->accept_len
                        && ngx_strncmp(v, f->accept, f->accept_len) == 0);

        } else if (colon - line == 7
                   && ngx_strncasecmp(line, (u_char *) "Upgrade", 7) == 0)
        {
            upgrade = (ve - v == 9
                       && ngx_strncasecmp(v, (u_char *) "websocket", 9) == 0);
        }
    }

    if (!accepted || !upgrade) {
        ngx_http_ttai_dxf_fail(f, "the server's upgrade answer is not a "
                               "websocket's (%s)",
                               accepted ? "Upgrade" : "Sec-WebSocket-Accept");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_ttai_dxf_open(ngx_http_ttai_dxf_t *f)
{
    static struct wslay_event_callbacks  callbacks = {
        ngx_http_ttai_dxf_ws_recv,
        ngx_http_ttai_dxf_ws_send,
        ngx_http_ttai_dxf_ws_mask,
        NULL,
        NULL,
        NULL,
        ngx_http_ttai_dxf_ws_message
    };

    if (wslay_event_context_client_init(&f->ws, &callbacks, f) != 0) {
        f->ws = NULL;
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    wslay_event_config_set_max_recv_msg_length(f->ws,
                                               NGX_HTTP_TTAI_DXF_MAX_MSG);

    f->dxl = ttai_dxl_create(f->token);
    if (f->dxl == NULL) {
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    ttai_dxl_set_keepalive(f->dxl, (int) f->tmcf->dxlink_keepalive);

    json_object_clear(f->subscribed);

    f->state = NGX_HTTP_TTAI_DXF_OPEN;
    f->last_in = ngx_current_msec;
    f->last_out = ngx_current_msec;
    f->failed = 0;

    ngx_log_error(NGX_LOG_INFO, &f->log, 0,
                  "ttai: the market-data stream is open at %V", &f->host);

    ngx_http_ttai_dxf_send(f, ttai_dxl_start(f->dxl));

    if (f->state == NGX_HTTP_TTAI_DXF_OPEN) {
        ngx_http_ttai_dxf_io(f);
    }
}


/* reads and writes what wslay can; a failure closes and reconnects */

static void
ngx_http_ttai_dxf_io(ngx_http_ttai_dxf_t *f)
{
    int                rc;
    uint64_t           us;
    struct timespec    t0, t1;
    ngx_connection_t  *c;

    c = f->peer.connection;

    /* CPU time: on a busy machine the wall clock counts others' turns */
    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    f->turn_bytes = 0;
    f->more = 0;

    rc = wslay_event_want_read(f->ws) ? wslay_event_recv(f->ws) : 0;

    if (f->more && !f->failed) {
        /* the rest in a later turn: no new edge will say it is there */
        ngx_post_event(c->read, &ngx_posted_next_events);
    }

    /* the longest the loop was held here, for /health and the bench */
    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    us = (uint64_t) (t1.tv_sec - t0.tv_sec) * 1000000
         + (t1.tv_nsec - t0.tv_nsec) / 1000;
    f->turn_max_us = ngx_max(f->turn_max_us, us);

    if (rc != 0 && !f->failed) {
        ngx_http_ttai_dxf_fail(f, c->read->eof ? "the server closed the "
                               "connection" : "the websocket failed");
        return;
    }

    if (f->failed) {
        ngx_http_ttai_dxf_fail(f, NULL);
        return;
    }

    if (wslay_event_want_write(f->ws) && wslay_event_send(f->ws) != 0) {
        ngx_http_ttai_dxf_fail(f, "the websocket could not be written");
        return;
    }

    if (!wslay_event_want_read(f->ws) && !wslay_event_want_write(f->ws)) {
        ngx_http_ttai_dxf_fail(f, "the server closed the websocket");
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_http_ttai_dxf_fail(f, "could not wait for the connection");
    }
}


/* queues a text message (taken, and freed); NULL: out of memory */

static void
ngx_http_ttai_dxf_send(ngx_http_ttai_dxf_t *f, char *text)
{
    struct wslay_event_msg  msg;

    if (text == NULL) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "out of memory",
                    sizeof(f->error));
        return;
    }

    msg.opcode = WSLAY_TEXT_FRAME;
    msg.msg = (const uint8_t *) text;
    msg.msg_length = ngx_strlen(text);

    if (wslay_event_queue_msg(f->ws, &msg) != 0) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "a message could not be "
                    "queued", sizeof(f->error));
    }

    /* it may hold the token (AUTH) */
    sodium_memzero(text, msg.msg_length);
    free(text);

    f->last_out = ngx_current_msec;
}


static ssize_t
ngx_http_ttai_dxf_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, int flags, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    size_t             n;
    ssize_t            rc;
    ngx_connection_t  *c;

    if (f->in->pos < f->in->last) {
        n = ngx_min(len, (size_t) (f->in->last - f->in->pos));
        ngx_memcpy(buf, f->in->pos, n);
        f->in->pos += n;
        return n;
    }

    if (f->turn_bytes >= NGX_HTTP_TTAI_DXF_TURN_BYTES) {
        f->more = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    c = f->peer.connection;
    rc = c->recv(c, buf, ngx_min(len, NGX_HTTP_TTAI_DXF_TURN_BYTES));

    if (rc == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (rc == 0 || rc == NGX_ERROR) {
        c->read->eof = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    f->last_in = ngx_current_msec;
    f->turn_bytes += rc;

    return rc;
}


static ssize_t
ngx_http_ttai_dxf_ws_send(wslay_event_context_ptr ctx, const uint8_t *data,
    size_t len, int flags, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    ssize_t            rc;
    ngx_connection_t  *c;

    c = f->peer.connection;
    rc = c->send(c, (u_char *) data, len);

    if (rc == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (rc == NGX_ERROR) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return rc;
}


static int
ngx_http_ttai_dxf_ws_mask(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, void *user_data)
{
    randombytes_buf(buf, len);
    return 0;
}


static void
ngx_http_ttai_dxf_ws_message(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    if (f->failed || wslay_is_ctrl_frame(arg->opcode)) {
        return;
    }

    if (arg->opcode != WSLAY_TEXT_FRAME) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "the server sent a "
                    "binary message", sizeof(f->error));
        return;
    }

    ngx_http_ttai_dxf_message(f, (const char *) arg->msg, arg->msg_length);
}


/*
 * A message, through the core: what it answers is queued, the events are
 * kept; a failed feed (an ERROR, a message that does not read, a refused
 * token) closes the connection once wslay has returned
 */

static void
ngx_http_ttai_dxf_message(ngx_http_ttai_dxf_t *f, const char *msg,
    size_t len)
{
    size_t          i;
    ttai_dxl_out_t  out;

    ngx_memzero(&out, sizeof(ttai_dxl_out_t));

    if (ttai_dxl_receive(f->dxl, msg, len, &out) != 0) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "out of memory",
                    sizeof(f->error));
        return;
    }

    for (i = 0; i < out.nsend; i++) {
        ngx_http_ttai_dxf_send(f, out.send[i]);
        out.send[i] = NULL;
    }

    if (out.events != NULL && json_array_size(out.events) > 0) {
        ngx_http_ttai_dxf_events(f, out.events);
    }

    if (out.refused) {
        f->refused_now = 1;
    }

    if (ttai_dxl_state(f->dxl) == TTAI_DXL_FAILED) {
        f->failed = 1;
        ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1, "%s%Z",
                     out.error[0] ? out.error : "the feed failed");

    } else if (ttai_dxl_state(f->dxl) == TTAI_DXL_READY && f->since == 0) {
        f->since = ngx_http_ttai_dxf_now();
        f->backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
        f->refused = 0;
        f->error[0] = '\0';

        ngx_log_error(NGX_LOG_NOTICE, &f->log, 0,
                      "ttai: the market-data stream is ready");

        ngx_http_ttai_dxf_demand(f);
        ngx_http_ttai_dxf_write_state(f);
    }

    ttai_dxl_out_free(&out);
}


/*
 * Each symbol's events merged and stamped; its value goes to KV in a
 * later turn (ngx_http_ttai_dxf_flush), once however many messages came
 * meanwhile
 */

static void
ngx_http_ttai_dxf_events(ngx_http_ttai_dxf_t *f, json_t *events)
{
    size_t       i;
    json_t      *ev, *v, *at;
    uint64_t     now;
    const char  *type, *symbol;

    now = ngx_http_ttai_dxf_now();
    at = json_integer((json_int_t) now);

    if (at == NULL) {
        return;
    }

    json_array_foreach(events, i, ev) {
        type = json_string_value(json_object_get(ev, "type"));
        symbol = json_string_value(json_object_get(ev, "symbol"));

        /* a symbol no longer asked for, sent before it was removed */
        if (type == NULL || symbol == NULL
            || json_object_get(f->subscribed, symbol) == NULL)
        {
            continue;
        }

        v = json_object_get(f->values, symbol);
        if (v == NULL) {
            v = json_object();
            if (v == NULL || json_object_set_new(f->values, symbol, v) != 0) {
                continue;
            }
        }

        if (strcmp(type, "Candle") == 0) {
            if (ngx_http_ttai_dxf_candle(v, ev) == 0
                && json_object_set(v, "at", at) == 0
                && json_object_set(f->touched, symbol, json_true()) == 0)
            {
                f->events++;
            }

            continue;
        }

        /* the event is the message's, and kept as it is: no copy */
        if (json_object_set(v, type, ev) != 0
            || json_object_set(v, "at", at) != 0
            || json_object_set(f->touched, symbol, json_true()) != 0)
        {
            continue;
        }

        json_object_set(ev, "at", at);
        json_object_del(ev, "type");
        json_object_del(ev, "symbol");

        f->events++;
    }

    json_decref(at);

    if (json_object_size(f->touched) > 0 && !f->flush.posted) {
        ngx_post_event(&f->flush, &ngx_posted_next_events);
    }
}


/*
 * A bar into the symbol's series, "Candles": [[time, open, high, low,
 * close, volume], ...] by time: the same time replaces a bar (the
 * current one, updated), another is put in its place; the oldest go
 * past TTAI_DXL_CANDLES
 */

static int
ngx_http_ttai_dxf_candle(json_t *v, json_t *ev)
{
    size_t   n, i;
    json_t  *bars, *bar, *x;
    double   t, bt;

    static const char  *fields[] = {
        "time", "open", "high", "low", "close", "volume"
    };

    t = json_number_value(json_object_get(ev, "time"));

    if (!json_is_number(json_object_get(ev, "time"))) {
        return -1;
    }

    bars = json_object_get(v, "Candles");

    if (bars == NULL) {
        bars = json_array();
        if (bars == NULL || json_object_set_new(v, "Candles", bars) != 0) {
            return -1;
        }
    }

    bar = json_array();
    if (bar == NULL) {
        return -1;
    }

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        x = json_object_get(ev, fields[i]);

        if (json_array_append(bar, x ? x : json_null()) != 0) {
            json_decref(bar);
            return -1;
        }
    }

    n = json_array_size(bars);

    /* bars come in order mostly: look from the newest */
    for (i = n; i > 0; i--) {
        bt = json_number_value(json_array_get(json_array_get(bars, i - 1),
                                              0));
        if (bt <= t) {
            break;
        }
    }

    if (i > 0 && json_number_value(json_array_get(json_array_get(bars,
                                                                 i - 1), 0))
                 == t)
    {
        json_array_set_new(bars, i - 1, bar);

    } else if (json_array_insert_new(bars, i, bar) != 0) {
        return -1;
    }

    while (json_array_size(bars) > TTAI_DXL_CANDLES) {
        json_array_remove(bars, 0);
    }

    return 0;
}


static void
ngx_http_ttai_dxf_flush(ngx_event_t *ev)
{
    void                 *tmp;
    json_t               *v, *x;
    ngx_uint_t            n;
    const char           *symbol;
    ngx_http_ttai_dxf_t  *f;

    f = ngx_http_ttai_dxf;
    n = 0;

    json_object_foreach_safe(f->touched, tmp, symbol, x) {
        if (n++ == NGX_HTTP_TTAI_DXF_TURN_PUTS) {
            break;
        }

        v = json_object_get(f->values, symbol);

        if (v != NULL) {
            json_object_set_new(v, "since",
                                json_integer((json_int_t) f->since));
            ngx_http_ttai_dxf_put(f, symbol, v, NGX_HTTP_TTAI_DXF_VALUE_TTL);
        }

        json_object_del(f->touched, symbol);
    }

    if (json_object_size(f->touched) > 0) {
        ngx_post_event(&f->flush, &ngx_posted_next_events);
    }
}


/*
 * Subscribes what the tools asked for lately, up to the cap, and drops
 * what nobody asked for in ttai_dxlink_idle (its value goes from KV too:
 * nothing old is shown as live)
 */

static void
ngx_http_ttai_dxf_demand(ngx_http_ttai_dxf_t *f)
{
    int          oom;
    char        *msg;
    size_t       i;
    json_t      *wanted, *want, *add, *remove, *v;
    long long    period;
    const char  *symbol;
    ngx_uint_t   max;

    if (f->dxl == NULL || ttai_dxl_state(f->dxl) != TTAI_DXL_READY) {
        return;
    }

    max = ngx_min(f->tmcf->dxlink_max_symbols, TTAI_DXL_MAX_SYMBOLS);

    wanted = ngx_http_ttai_dxlink_wanted(f->tmcf->dxlink_idle, max, &f->over);
    want = json_object();
    add = json_array();
    remove = json_array();

    if (wanted == NULL || want == NULL || add == NULL || remove == NULL) {
        goto done;
    }

    json_array_foreach(wanted, i, v) {
        symbol = json_string_value(v);
        period = ttai_dxl_candle_period(symbol);

        json_object_set(want, symbol, json_true());

        if (json_object_get(f->subscribed, symbol) != NULL) {
            continue;
        }

        /* a candle symbol: its last TTAI_DXL_CANDLES bars, then updates */
        if (period > 0) {
            json_array_append_new(add, json_pack("{s:s, s:I}", "symbol",
                                  symbol, "fromTime", (json_int_t)
                                  (ngx_http_ttai_dxf_now()
                                   - period * TTAI_DXL_CANDLES)));
        } else {
            json_array_append(add, v);
        }
    }

    json_object_foreach(f->subscribed, symbol, v) {
        if (json_object_get(want, symbol) == NULL) {
            json_array_append_new(remove, json_string(symbol));
        }
    }

    if (json_array_size(add) == 0 && json_array_size(remove) == 0) {
        goto done;
    }

    oom = 0;
    msg = ttai_dxl_subscribe(f->dxl, add, remove, &oom);

    if (oom) {
        goto done;
    }

    json_array_foreach(add, i, v) {
        json_object_set(f->subscribed,
                        json_is_object(v)
                        ? json_string_value(json_object_get(v, "symbol"))
                        : json_string_value(v), json_true());
    }

    json_array_foreach(remove, i, v) {
        symbol = json_string_value(v);
        json_object_del(f->subscribed, symbol);
        json_object_del(f->values, symbol);
        ngx_http_ttai_dxf_drop(f, symbol);
    }

    if (msg != NULL) {
        ngx_http_ttai_dxf_send(f, msg);
    }

done:

    json_decref(wanted);
    json_decref(want);
    json_decref(add);
    json_decref(remove);
}


static void
ngx_http_ttai_dxf_put(ngx_http_ttai_dxf_t *f, const char *symbol,
    json_t *value, time_t ttl)
{
    u_char                    key[NGX_HTTP_TTAI_DXLINK_SYMBOL + 8];
    char                     *text;
    ngx_http_ttai_kv_entry_t  entry;

    text = json_dumps(value, JSON_COMPACT);
    if (text == NULL) {
        return;
    }

    ngx_memzero(&entry, sizeof(ngx_http_ttai_kv_entry_t));

    entry.key.data = key;
    entry.key.len = ngx_snprintf(key, sizeof(key), "%s%s",
                                 NGX_HTTP_TTAI_DXLINK_PREFIX, symbol)
                    - key;
    entry.value.data = (u_char *) text;
    entry.value.len = ngx_strlen(text);
    entry.expires = (uint64_t) (ngx_time() + ttl) * 1000;

    (void) ngx_http_ttai_kv_put(f->tmcf->kv, &entry, &f->log);

    free(text);
}


static void
ngx_http_ttai_dxf_drop(ngx_http_ttai_dxf_t *f, const char *symbol)
{
    u_char     key[NGX_HTTP_TTAI_DXLINK_SYMBOL + 8];
    ngx_str_t  k;

    k.data = key;
    k.len = ngx_snprintf(key, sizeof(key), "%s%s",
                         NGX_HTTP_TTAI_DXLINK_PREFIX, symbol)
            - key;

    (void) ngx_http_ttai_kv_delete(f->tmcf->kv, &k, NULL, &f->log);
}


/* dx:@feed: the state, for the tools and /health; lapses with its writer */

static void
ngx_http_ttai_dxf_write_state(ngx_http_ttai_dxf_t *f)
{
    json_t      *st;
    const char  *state;

    f->state_written = ngx_current_msec;

    if (f->refused >= 2) {
        state = "refused";

    } else if (f->state == NGX_HTTP_TTAI_DXF_OPEN && f->since != 0) {
        state = "ready";

    } else if (f->state == NGX_HTTP_TTAI_DXF_DOWN && f->token == NULL) {
        state = "token";

    } else {
        state = ngx_http_ttai_dxf_states[f->state];
    }

    st = json_pack("{s:s, s:I, s:I, s:i, s:I, s:I, s:i, s:I, s:s?}",
                   "state", state,
                   "since", (json_int_t) f->since,
                   "at", (json_int_t) ngx_http_ttai_dxf_now(),
                   "subscribed", (int) json_object_size(f->subscribed),
                   "events", (json_int_t) f->events,
                   "reconnects", (json_int_t) f->reconnects,
                   "over", (int) f->over,
                   "turn_max_us", (json_int_t) f->turn_max_us,
                   "error", f->error[0] ? f->error : NULL);

    f->turn_max_us = 0;

    if (st != NULL) {
        ngx_http_ttai_dxf_put(f, "@feed", st, NGX_HTTP_TTAI_DXF_STATE_TTL);
        json_decref(st);
    }
}


/*
 * The connection failed (fmt NULL: f->error says why): closed, and tried
 * again after the backoff; a refused token is renewed at once, once
 */

static void
ngx_http_ttai_dxf_fail(ngx_http_ttai_dxf_t *f, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    if (fmt != NULL) {
        va_start(args, fmt);
        p = ngx_vslprintf((u_char *) f->error,
                          (u_char *) f->error + sizeof(f->error) - 1,
                          fmt, args);
        va_end(args);
        *p = '\0';
    }

    ngx_log_error(NGX_LOG_WARN, &f->log, 0,
                  "ttai: the market-data stream: %s", f->error);

    if (f->refused_now) {
        f->refused_now = 0;
        f->refused++;
        ngx_http_ttai_dxf_forget_token(f);

        if (f->refused >= 2) {
            ngx_snprintf((u_char *) f->error, sizeof(f->error) - 1,
                         "the quote token was refused, and so was a new "
                         "one%Z");
            ngx_log_error(NGX_LOG_ERR, &f->log, 0, "ttai: %s: trying "
                          "again in %M s", f->error,
                          (ngx_msec_t) NGX_HTTP_TTAI_DXF_REFUSED / 1000);

            f->token_retry_at = ngx_current_msec + NGX_HTTP_TTAI_DXF_REFUSED;

            ngx_http_ttai_dxf_close(f);
            f->retry_at = f->token_retry_at;
            ngx_http_ttai_dxf_write_state(f);
            return;
        }

        /* renewed now, and the connection made again with it */
        f->token_retry_at = ngx_current_msec;
        f->backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
    }

    ngx_http_ttai_dxf_close(f);

    f->retry_at = ngx_current_msec + f->backoff;
    f->backoff = ngx_min(f->backoff * 2, NGX_HTTP_TTAI_DXF_BACKOFF_MAX);
    f->reconnects++;

    ngx_http_ttai_dxf_write_state(f);
}


static void
ngx_http_ttai_dxf_close(ngx_http_ttai_dxf_t *f)
{
    ngx_connection_t  *c;

    if (f->rctx != NULL) {
        ngx_resolve_name_done(f->rctx);
        f->rctx = NULL;
    }

    c = f->peer.connection;

    if (c != NULL) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        ngx_close_connection(c);
        f->peer.connection = NULL;
    }

    if (f->ws != NULL) {
        wslay_event_context_free(f->ws);
        f->ws = NULL;
    }

    ttai_dxl_free(f->dxl);
    f->dxl = NULL;

    if (f->pool != NULL) {
        ngx_destroy_pool(f->pool);
        f->pool = NULL;
    }

    f->state = NGX_HTTP_TTAI_DXF_DOWN;
    f->since = 0;
    f->failed = 0;
    f->refused_now = 0;
    f->out = NULL;
    f->in = NULL;

    if (f->flush.posted) {
        ngx_delete_posted_event(&f->flush);
    }

    json_object_clear(f->subscribed);
    json_object_clear(f->values);
    json_object_clear(f->touched);
}


static void
ngx_http_ttai_dxf_forget_token(ngx_http_ttai_dxf_t *f)
{
    if (f->token != NULL) {
        sodium_memzero(f->token, ngx_strlen(f->token));
        free(f->token);
        f->token = NULL;
    }

    free(f->url);
    f->url = NULL;
    f->host.len = 0;
    f->path.len = 0;
}


/*
 * /health: the feed's state as its worker last wrote it.  Two refused
 * tokens are an error; any other state is reported as it is.
 */

ngx_int_t
ngx_http_ttai_dxlink_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    u_char                    *p;
    json_t                    *st;
    ngx_str_t                  key;
    const char                *state, *error;
    json_error_t               err;
    ngx_http_ttai_kv_entry_t   entry;

    static ngx_str_t  names[] = {
        ngx_string("subscribed"),
        ngx_string("events"),
        ngx_string("reconnects"),
        ngx_string("over_cap"),
        ngx_string("longest_read_us")
    };

    if (!tmcf->dxlink) {
        return NGX_DECLINED;
    }

    ngx_str_set(&h->string_name, "state");
    ngx_str_set(&h->string, "starting");
    h->names = names;
    h->ncounters = 5;

    ngx_str_set(&key, NGX_HTTP_TTAI_DXLINK_PREFIX "@feed");

    if (ngx_http_ttai_kv_get(tmcf->kv, &key, r->pool, &entry) != NGX_OK) {
        return NGX_OK;
    }

    st = json_loadb((char *) entry.value.data, entry.value.len, 0, &err);
    state = json_string_value(json_object_get(st, "state"));

    if (state == NULL) {
        json_decref(st);
        return NGX_OK;
    }

    h->string.len = ngx_strlen(state);
    h->string.data = ngx_pnalloc(r->pool, h->string.len);

    if (h->string.data == NULL) {
        json_decref(st);
        return NGX_ERROR;
    }

    ngx_memcpy(h->string.data, state, h->string.len);

    h->counters[0] = json_integer_value(json_object_get(st, "subscribed"));
    h->counters[1] = json_integer_value(json_object_get(st, "events"));
    h->counters[2] = json_integer_value(json_object_get(st, "reconnects"));
    h->counters[3] = json_integer_value(json_object_get(st, "over"));
    h->counters[4] = json_integer_value(json_object_get(st, "turn_max_us"));

    if (ngx_strcmp(state, "refused") != 0) {
        json_decref(st);
        return NGX_OK;
    }

    error = json_string_value(json_object_get(st, "error"));
    if (error == NULL) {
        error = "the quote token was refused";
    }

    /* JSON-safe: what the server said may hold anything */
    h->error.len = ngx_strlen(error);
    h->error.data = ngx_pnalloc(r->pool, h->error.len);

    if (h->error.data == NULL) {
        json_decref(st);
        return NGX_ERROR;
    }

    for (p = h->error.data; *error; error++) {
        *p++ = (*error == '"' || *error == '\\' || (u_char) *error < 0x20)
               ? ' ' : (u_char) *error;
    }

    json_decref(st);

    return NGX_ERROR;
}


static uint64_t
ngx_http_ttai_dxf_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
