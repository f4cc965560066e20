
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_dxlink_feed.h"
#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_kv.h"


/*
 * The DXLink feed.  The worker that holds the background lease asks
 * TastyTrade for a quote token (GET /api-quote-tokens, as the user that
 * ttai_dxlink_user names, through the fetch engine) and opens the
 * websocket at the URL that comes with it (ngx_http_ttai_dxlink_ws.c).
 * The protocol is the core's (ttai_dxlink.c); this file moves its
 * messages, keeps the subscriptions in line with what the tools asked
 * for, and writes what comes to KV.
 *
 * Every event is merged into the symbol's last values and written to KV
 * as dx:<symbol>, with the time the feed became ready ("since"): a value
 * from an earlier connection is not presented as fresh.  dx:@feed says
 * the feed's state, for the tools and /health, and lapses within seconds
 * when no worker keeps it.
 */

#define NGX_HTTP_TTAI_DXF_TICK        250        /* ms */
#define NGX_HTTP_TTAI_DXF_BACKOFF     1000       /* ms, doubled per failure */
#define NGX_HTTP_TTAI_DXF_BACKOFF_MAX 60000
#define NGX_HTTP_TTAI_DXF_TOKEN_MAX   15000      /* ms between token tries */
#define NGX_HTTP_TTAI_DXF_REFUSED     300000     /* ms, after two refusals */
#define NGX_HTTP_TTAI_DXF_RENEW       3600       /* s: renew this early */
#define NGX_HTTP_TTAI_DXF_TOKEN_LIFE  86400      /* s, when not said */
#define NGX_HTTP_TTAI_DXF_VALUE_TTL   3600       /* s, a symbol's values */
#define NGX_HTTP_TTAI_DXF_STATE_TTL   15         /* s, dx:@feed */

/*
 * A turn of the event loop writes at most this many symbols' values to
 * KV: a burst of market data is spread over turns
 */
#define NGX_HTTP_TTAI_DXF_TURN_PUTS   200


static void ngx_http_ttai_dxf_tick(ngx_event_t *ev);
static void ngx_http_ttai_dxf_token(ngx_http_ttai_dxf_t *f);
static ngx_int_t ngx_http_ttai_dxf_token_done(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *ff);
static ngx_int_t ngx_http_ttai_dxf_token_keep(ngx_http_ttai_dxf_t *f,
    json_t *data);
static void ngx_http_ttai_dxf_events(ngx_http_ttai_dxf_t *f, json_t *events);
static void ngx_http_ttai_dxf_flush(ngx_event_t *ev);
static int ngx_http_ttai_dxf_candle(json_t *v, json_t *ev);
static void ngx_http_ttai_dxf_demand(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_put(ngx_http_ttai_dxf_t *f, const char *symbol,
    json_t *value, time_t ttl);
static void ngx_http_ttai_dxf_drop(ngx_http_ttai_dxf_t *f,
    const char *symbol);
static void ngx_http_ttai_dxf_write_state(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_stop(ngx_http_ttai_dxf_t *f);
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

    ngx_http_ttai_dxf_stop(f);
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
        ngx_http_ttai_dxf_stop(f);
        return;
    }

    if (!ngx_http_ttai_background_lead()) {
        if (f->state != NGX_HTTP_TTAI_DXF_DOWN) {
            ngx_http_ttai_dxf_stop(f);
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


/*
 * A message, through the core: what it answers is queued, the events are
 * kept; a failed feed (an ERROR, a message that does not read, a refused
 * token) closes the connection once wslay has returned
 */

void
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

void
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

            ngx_http_ttai_dxf_stop(f);
            f->retry_at = f->token_retry_at;
            ngx_http_ttai_dxf_write_state(f);
            return;
        }

        /* renewed now, and the connection made again with it */
        f->token_retry_at = ngx_current_msec;
        f->backoff = NGX_HTTP_TTAI_DXF_BACKOFF;
    }

    ngx_http_ttai_dxf_stop(f);

    f->retry_at = ngx_current_msec + f->backoff;
    f->backoff = ngx_min(f->backoff * 2, NGX_HTTP_TTAI_DXF_BACKOFF_MAX);
    f->reconnects++;

    ngx_http_ttai_dxf_write_state(f);
}


/* the websocket is open: SETUP, the first of the protocol's messages */

ngx_int_t
ngx_http_ttai_dxf_opened(ngx_http_ttai_dxf_t *f)
{
    f->dxl = ttai_dxl_create(f->token);
    if (f->dxl == NULL) {
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return NGX_ERROR;
    }

    ttai_dxl_set_keepalive(f->dxl, (int) f->tmcf->dxlink_keepalive);

    json_object_clear(f->subscribed);

    ngx_http_ttai_dxf_send(f, ttai_dxl_start(f->dxl));

    return NGX_OK;
}


/* the connection closed, and the feed with it: nothing of it is live */

static void
ngx_http_ttai_dxf_stop(ngx_http_ttai_dxf_t *f)
{
    ngx_http_ttai_dxf_close(f);

    ttai_dxl_free(f->dxl);
    f->dxl = NULL;

    f->since = 0;
    f->refused_now = 0;

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
