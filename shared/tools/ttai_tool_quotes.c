
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_stream.h"
#include "ttai_tools.h"
#include "ttai_worker.h"


/*
 * get_quotes: the latest quote of up to 100 symbols.  Quotes live in KV
 * as quote:<SYMBOL> for the quote lifetime; the worker service fetches
 * and stores the ones KV lacks, in one request.  When the market-data
 * stream is ready (dx:@feed, read with them), a symbol it carries is
 * answered from it instead, live; one it does not carry yet is waited
 * for a moment (TTAI_QUOTES_STREAM_WAIT) when KV had no quote of it
 * either, then fetched as before.  The answer says which is which.
 */

#define TTAI_QUOTES_STREAM_WAIT  1000    /* ms */

#define TTAI_QUOTES_MAX  TTAI_WORKER_MAX_SYMBOLS


static int ttai_tool_quotes_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_quotes_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_quotes_worker(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result);
static int ttai_tool_quotes_keep(json_t *known, json_t *quote,
    const char *expect);
static int ttai_tool_quotes_done(ttai_tool_ctx_t *ctx, json_t **result);
static int ttai_tool_quotes_ask(ttai_tool_ctx_t *ctx, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_quotes_stream(ttai_tool_ctx_t *ctx, int hits,
    ttai_mcp_pending_t **pending);
static int ttai_tool_quotes_streamed(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp);
static json_t *ttai_tool_quotes_live(const char *symbol, json_t *v,
    long long now);


const ttai_tool_impl_t  ttai_tool_get_quotes = {
    "get_quotes",
    ttai_tool_quotes_run,
    ttai_tool_quotes_resume,
    TTAI_TOOL_MEMO,
    NULL
};


static int
ttai_tool_quotes_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         keys[TTAI_QUOTES_MAX][TTAI_WORKER_SYMBOL_LEN + 8];
    size_t       i;
    json_t      *symbols, *v;
    const char  *k[TTAI_QUOTES_MAX + 1];

    symbols = ttai_market_symbols("get_quotes",
                                  json_object_get(args, "symbols"), result);
    if (symbols == NULL) {
        return *result ? 0 : -1;
    }

    if (json_object_set_new(ctx->state, "symbols", symbols) != 0
        || json_object_set_new(ctx->state, "quotes", json_object()) != 0)
    {
        return -1;
    }

    json_array_foreach(symbols, i, v) {
        snprintf(keys[i], sizeof(keys[i]), "quote:%s", json_string_value(v));
        k[i] = keys[i];
    }

    /* and whether the stream is there, last */
    k[i] = TTAI_STREAM_FEED_KEY;

    *pending = ttai_mcp_pending_cache(k, json_array_size(symbols) + 1);

    return *pending ? 0 : -1;
}


static int
ttai_tool_quotes_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int      rc, hits;
    size_t   i, n;
    json_t  *symbols, *known, *q, *v, *feed;

    symbols = json_object_get(ctx->state, "symbols");
    known = json_object_get(ctx->state, "quotes");

    if (ttai_stream_pending(ctx)) {
        rc = ttai_stream_step(ctx, resp, pending);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }

        if (ttai_tool_quotes_streamed(ctx, resp) != 0) {
            return -1;
        }

        return ttai_tool_quotes_ask(ctx, result, pending);
    }

    if (json_is_true(json_object_get(ctx->state, "asked_worker"))) {
        return ttai_tool_quotes_worker(ctx, resp, result);
    }

    /* KV: the hits are kept */
    n = json_array_size(symbols);
    hits = 0;

    json_array_foreach(symbols, i, v) {
        q = resp->values ? ttai_market_object(resp->values[i], resp->lens[i])
                         : NULL;

        rc = q ? ttai_tool_quotes_keep(known, q, json_string_value(v)) : 0;
        json_decref(q);

        if (rc < 0) {
            return -1;
        }

        hits += rc;
    }

    feed = (resp->values && resp->values[n])
           ? ttai_market_object(resp->values[n], resp->lens[n]) : NULL;
    rc = ttai_stream_ready(feed);
    json_decref(feed);

    if (rc) {
        return ttai_tool_quotes_stream(ctx, hits == (int) n, pending);
    }

    return ttai_tool_quotes_ask(ctx, result, pending);
}


/* the symbols neither KV nor the stream had, asked of the worker service */

static int
ttai_tool_quotes_ask(ttai_tool_ctx_t *ctx, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char    *list, *path;
    size_t   i;
    json_t  *symbols, *known, *misses, *v;

    symbols = json_object_get(ctx->state, "symbols");
    known = json_object_get(ctx->state, "quotes");

    misses = json_array();
    if (misses == NULL) {
        return -1;
    }

    json_array_foreach(symbols, i, v) {
        if (json_object_get(known, json_string_value(v)) == NULL
            && json_array_append(misses, v) != 0)
        {
            json_decref(misses);
            return -1;
        }
    }

    if (json_array_size(misses) == 0) {
        json_decref(misses);
        return ttai_tool_quotes_done(ctx, result);
    }

    list = ttai_market_join(misses);
    json_decref(misses);

    if (list == NULL) {
        return -1;
    }

    path = malloc(sizeof("/quotes?symbols=") + strlen(list));
    if (path == NULL) {
        free(list);
        return -1;
    }

    sprintf(path, "/quotes?symbols=%s", list);
    free(list);

    if (json_object_set_new(ctx->state, "asked_worker", json_true()) != 0) {
        free(path);
        return -1;
    }

    /* the worker stores what it fetches: no cache key here */
    *pending = ttai_mcp_pending_http(TTAI_SERVICE_WORKER, "GET", path, NULL,
                                     NULL, 0);
    free(path);

    return *pending ? 0 : -1;
}


/*
 * The symbols read from the stream too; a wait for a new one only when
 * some symbol had no quote in KV (a hit needs no waiting for)
 */

static int
ttai_tool_quotes_stream(ttai_tool_ctx_t *ctx, int hits,
    ttai_mcp_pending_t **pending)
{
    char     s[TTAI_WORKER_SYMBOL_LEN + 8];
    size_t   i;
    json_t  *streamer, *v;

    streamer = json_array();
    if (streamer == NULL) {
        return -1;
    }

    json_array_foreach(json_object_get(ctx->state, "symbols"), i, v) {
        if (ttai_stream_symbol(json_string_value(v), s, sizeof(s)) != 0
            || json_array_append_new(streamer, json_string(s)) != 0)
        {
            json_decref(streamer);
            return -1;
        }
    }

    if (json_object_set_new(ctx->state, "streamer", streamer) != 0) {
        return -1;
    }

    *pending = ttai_stream_begin(ctx, streamer, NULL,
                                 hits ? 0 : TTAI_QUOTES_STREAM_WAIT);

    return *pending ? 0 : -1;
}


/* a live value replaces what KV had */

static int
ttai_tool_quotes_streamed(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp)
{
    int          live;
    size_t       i;
    json_t      *feed, *known, *v, *q, *sym;
    long long    now;

    feed = ttai_stream_feed(resp);
    known = json_object_get(ctx->state, "quotes");
    now = (long long) ctx->call->now;

    json_array_foreach(json_object_get(ctx->state, "symbols"), i, sym) {
        v = ttai_stream_value(feed, resp, i, &live);
        q = live ? ttai_tool_quotes_live(json_string_value(sym), v, now)
                 : NULL;
        json_decref(v);

        if (q != NULL
            && json_object_set_new(known, json_string_value(sym), q) != 0)
        {
            json_decref(feed);
            return -1;
        }
    }

    json_decref(feed);

    return 0;
}


/*
 * A quote made of the stream's events, in get_quotes' fields: price the
 * last trade, else the middle of the quote; NULL when it has neither
 */

static json_t *
ttai_tool_quotes_live(const char *symbol, json_t *v, long long now)
{
    char        at[32];
    double      bid, ask, last, mid, price, prev;
    json_t     *q, *quote, *trade, *summary;
    time_t      t;
    struct tm   tm;

    quote = json_object_get(v, "Quote");
    trade = json_object_get(v, "Trade");
    summary = json_object_get(v, "Summary");

    bid = ttai_stream_num(quote, "bidPrice");
    ask = ttai_stream_num(quote, "askPrice");
    last = ttai_stream_num(trade, "price");
    mid = (isnan(bid) || isnan(ask)) ? NAN : (bid + ask) / 2;
    price = !isnan(last) ? last : mid;
    prev = ttai_stream_num(summary, "prevDayClosePrice");

    if (isnan(price)) {
        return NULL;
    }

    t = (time_t) (json_integer_value(json_object_get(v, "at")) / 1000);
    at[0] = '\0';

    if (t > 0 && gmtime_r(&t, &tm) != NULL) {
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }

#define ttai_tool_quotes_n(x, places)                                        \
    (isnan(x) ? json_null() : json_real(ttai_market_round(x, places)))

    q = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
                  " s:o, s:s?, s:s, s:f}",
                  "symbol", symbol,
                  "price", ttai_tool_quotes_n(price, 4),
                  "bid", ttai_tool_quotes_n(bid, 4),
                  "ask", ttai_tool_quotes_n(ask, 4),
                  "last", ttai_tool_quotes_n(last, 4),
                  "mid", ttai_tool_quotes_n(mid, 4),
                  "open", ttai_tool_quotes_n(ttai_stream_num(summary,
                                                 "dayOpenPrice"), 4),
                  "high", ttai_tool_quotes_n(ttai_stream_num(summary,
                                                 "dayHighPrice"), 4),
                  "low", ttai_tool_quotes_n(ttai_stream_num(summary,
                                                "dayLowPrice"), 4),
                  "prev_close", ttai_tool_quotes_n(prev, 4),
                  "change", ttai_tool_quotes_n(price - prev, 4),
                  "change_percent", ttai_tool_quotes_n(
                      (price - prev) / prev * 100, 2),
                  "updated_at", at[0] ? at : NULL,
                  "source", "stream",
                  "age_seconds", ttai_stream_age(v, now));

#undef ttai_tool_quotes_n

    return q;
}


/* the worker service's answer: {"quotes":[...],"missing":[...]} */

static int
ttai_tool_quotes_worker(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result)
{
    size_t       i;
    json_t      *body, *quotes, *q;
    const char  *error;

    body = ttai_market_object(resp->body, resp->len);
    quotes = json_object_get(body, "quotes");

    if (resp->status != 200 || !json_is_array(quotes)) {
        error = json_string_value(json_object_get(body, "error"));

        *result = ttai_tool_error_result("Tool get_quotes failed: the quote "
                                         "service answered HTTP %d: %.900s",
                                         resp->status,
                                         error ? error
                                               : "a response ttai could "
                                                 "not read.  Try again "
                                                 "shortly");
        json_decref(body);

        return *result ? 0 : -1;
    }

    json_array_foreach(quotes, i, q) {
        if (ttai_tool_quotes_keep(json_object_get(ctx->state, "quotes"), q,
                                  NULL)
            < 0)
        {
            json_decref(body);
            return -1;
        }
    }

    json_decref(body);

    return ttai_tool_quotes_done(ctx, result);
}


/*
 * Keeps a quote under its normalized symbol, when it is one of those
 * asked (expect: that one, NULL: any): 1 kept, 0 not (a KV value that
 * is not the quote asked for is fetched again), -1 out of memory
 */

static int
ttai_tool_quotes_keep(json_t *known, json_t *quote, const char *expect)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    const char  *s;

    s = json_string_value(json_object_get(quote, "symbol"));

    if (!ttai_worker_is_quote(quote)
        || ttai_worker_symbol(s, strlen(s), symbol) != 0
        || (expect != NULL && strcmp(symbol, expect) != 0))
    {
        return 0;
    }

    return json_object_set(known, symbol, quote) == 0 ? 1 : -1;
}


/* the quotes in the order asked, one line each */

static int
ttai_tool_quotes_done(ttai_tool_ctx_t *ctx, json_t **result)
{
    char                 price[32], bid[32], ask[32], pct[32], chg[32];
    size_t               i;
    json_t              *symbols, *known, *quotes, *missing, *q, *v, *out;
    json_t              *pc;
    const char          *s;
    ttai_market_text_t   t;

    symbols = json_object_get(ctx->state, "symbols");
    known = json_object_get(ctx->state, "quotes");

    out = json_pack("{s:[], s:[]}", "quotes", "missing");
    if (out == NULL) {
        return -1;
    }

    quotes = json_object_get(out, "quotes");
    missing = json_object_get(out, "missing");

    memset(&t, 0, sizeof(t));

    json_array_foreach(symbols, i, v) {
        s = json_string_value(v);
        q = json_object_get(known, s);

        if (q == NULL) {
            if (json_array_append(missing, v) != 0) {
                goto failed;
            }

            continue;
        }

        /* which it is: the stream's says so already */
        if ((json_object_get(q, "source") == NULL
             && json_object_set_new(q, "source", json_string("snapshot"))
                != 0)
            || json_array_append(quotes, q) != 0)
        {
            goto failed;
        }

        ttai_market_num(price, sizeof(price), json_object_get(q, "price"),
                        2, 4);
        ttai_market_num(bid, sizeof(bid), json_object_get(q, "bid"), 2, 4);
        ttai_market_num(ask, sizeof(ask), json_object_get(q, "ask"), 2, 4);
        ttai_market_printf(&t, "%s %s  bid %s / ask %s", s, price, bid, ask);

        pc = json_object_get(q, "change_percent");

        if (json_is_number(pc)) {
            ttai_market_num(pct, sizeof(pct), pc, 2, 2);
            ttai_market_num(chg, sizeof(chg), json_object_get(q, "change"),
                            2, 4);

            ttai_market_printf(&t, "  %s%s%% (%s%s)",
                               json_number_value(pc) > 0 ? "+" : "", pct,
                               json_number_value(pc) > 0 ? "+" : "", chg);
        }

        if (json_is_number(json_object_get(q, "age_seconds"))) {
            ttai_market_printf(&t, "  live, %.0f s old",
                               json_number_value(json_object_get(
                                   q, "age_seconds")));
        }

        ttai_market_printf(&t, "\n");
    }

    if (json_array_size(quotes) == 0) {
        ttai_market_printf(&t, "No quotes.\n");
    }

    if (json_array_size(missing) > 0) {
        ttai_market_printf(&t, "No quote from TastyTrade for:");

        json_array_foreach(missing, i, v) {
            ttai_market_printf(&t, "%s %s", i ? "," : "",
                               json_string_value(v));
        }

        ttai_market_printf(&t, ".  Check the symbols with search_symbols "
                           "(options: OCC symbols from get_option_chain).\n");
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;

failed:

    free(t.data);
    json_decref(out);

    return -1;
}
