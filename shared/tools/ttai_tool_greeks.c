
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_stream.h"
#include "ttai_tools.h"
#include "ttai_worker.h"


/*
 * get_greeks: options' greeks from the market-data stream (Greeks
 * events).  TastyTrade's REST API has none, so without a live stream
 * the answer says why instead of guessing.
 */

static int ttai_tool_greeks_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_greeks_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_greeks_item(const char *symbol, json_t *g,
    long long now);


const ttai_tool_impl_t  ttai_tool_get_greeks = {
    "get_greeks",
    ttai_tool_greeks_run,
    ttai_tool_greeks_resume,
    0,
    NULL
};


static int
ttai_tool_greeks_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char     s[TTAI_WORKER_SYMBOL_LEN + 8];
    size_t   i;
    json_t  *symbols, *streamer, *v;

    symbols = ttai_market_symbols("get_greeks",
                                  json_object_get(args, "symbols"), result);
    if (symbols == NULL) {
        return *result ? 0 : -1;
    }

    streamer = json_array();

    json_array_foreach(symbols, i, v) {
        if (streamer == NULL
            || ttai_stream_symbol(json_string_value(v), s, sizeof(s)) != 0
            || s[0] != '.')
        {
            json_decref(symbols);
            json_decref(streamer);

            if (streamer == NULL) {
                return -1;
            }

            *result = ttai_tool_error_result("Tool get_greeks: \"%s\" is "
                          "not an option.  Give OCC symbols "
                          "(\"AAPL  261218C00150000\"), as get_option_chain "
                          "lists them; get_quotes has prices of stocks.",
                          json_string_value(v));
            return *result ? 0 : -1;
        }

        if (json_array_append_new(streamer, json_string(s)) != 0) {
            json_decref(symbols);
            json_decref(streamer);
            return -1;
        }
    }

    if (json_object_set_new(ctx->state, "symbols", symbols) != 0
        || json_object_set_new(ctx->state, "streamer", streamer) != 0)
    {
        return -1;
    }

    *pending = ttai_stream_begin(ctx, streamer, "Greeks",
                                 TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


static int
ttai_tool_greeks_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int                  rc, live;
    char                 why[320];
    size_t               i;
    json_t              *symbols, *feed, *v, *g, *list, *missing, *item, *out;
    long long            now;
    const char          *symbol;
    ttai_market_text_t   t;

    rc = ttai_stream_step(ctx, resp, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        *result = ttai_tool_error_result("Tool get_greeks: no live greeks: "
                      "%s.  Greeks come only from the market-data stream "
                      "(TastyTrade's REST API has none); try again in a "
                      "minute.", ttai_stream_why(feed, why, sizeof(why)));
        json_decref(feed);
        return *result ? 0 : -1;
    }

    symbols = json_object_get(ctx->state, "symbols");
    now = (long long) ctx->call->now;

    list = json_array();
    missing = json_array();
    out = json_object();
    memset(&t, 0, sizeof(t));

    rc = (list && missing && out) ? 0 : -1;

    ttai_market_printf(&t, "Greeks, live from the market-data stream "
                       "(theta per day; vega and rho per 1%%):\n");

    json_array_foreach(symbols, i, v) {
        symbol = json_string_value(v);
        g = NULL;
        item = NULL;

        v = ttai_stream_value(feed, resp, i, &live);

        if (v != NULL && live) {
            g = json_object_get(v, "Greeks");
        }

        if (g != NULL) {
            item = ttai_tool_greeks_item(symbol, g, now);
        }

        if (item == NULL) {
            if (rc == 0 && json_array_append_new(missing, json_string(symbol))
                           != 0)
            {
                rc = -1;
            }

            json_decref(v);
            continue;
        }

        ttai_market_printf(&t, "%s: delta %.4f, gamma %.4f, theta %.4f, "
                           "vega %.4f, rho %.4f, IV %.2f%%, theo %.4f (%.0f s "
                           "old)\n", symbol,
                           ttai_stream_num(item, "delta"),
                           ttai_stream_num(item, "gamma"),
                           ttai_stream_num(item, "theta"),
                           ttai_stream_num(item, "vega"),
                           ttai_stream_num(item, "rho"),
                           ttai_stream_num(item, "iv"),
                           ttai_stream_num(item, "theo_price"),
                           ttai_stream_num(item, "age_seconds"));

        if (rc == 0 && json_array_append_new(list, item) != 0) {
            rc = -1;
        }

        json_decref(v);
    }

    json_decref(feed);

    if (json_array_size(missing) > 0) {
        ttai_market_printf(&t, "No greeks yet for:");

        json_array_foreach(missing, i, v) {
            ttai_market_printf(&t, " %s", json_string_value(v));
        }

        ttai_market_printf(&t, " (no such option, or its first events "
                           "are still on the way: ask again)\n");
    }

    if (rc != 0
        || json_object_set_new(out, "greeks", list) != 0
        || json_object_set_new(out, "missing", missing) != 0)
    {
        json_decref(out);
        free(t.data);
        return -1;
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}


/* a Greeks event as the tool gives it: rounded, IV in percent */

static json_t *
ttai_tool_greeks_item(const char *symbol, json_t *g, long long now)
{
    size_t   i;
    double   x;
    json_t  *item;

    static const struct {
        const char  *from;
        const char  *to;
        double       scale;
        int          places;
    } fields[] = {
        { "delta", "delta", 1, 4 },
        { "gamma", "gamma", 1, 4 },
        { "theta", "theta", 1, 4 },
        { "vega", "vega", 1, 4 },
        { "rho", "rho", 1, 4 },
        { "volatility", "iv", 100, 2 },
        { "price", "theo_price", 1, 4 }
    };

    x = ttai_stream_num(g, "delta");

    if (isnan(x)) {
        return NULL;
    }

    item = json_pack("{s:s}", "symbol", symbol);

    for (i = 0; item != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
        x = ttai_stream_num(g, fields[i].from);

        if (json_object_set_new(item, fields[i].to, isnan(x) ? json_null()
                   : json_real(ttai_market_round(x * fields[i].scale,
                                                 fields[i].places)))
            != 0)
        {
            json_decref(item);
            return NULL;
        }
    }

    if (item != NULL
        && json_object_set_new(item, "age_seconds",
                               json_real(ttai_stream_age(g, now))) != 0)
    {
        json_decref(item);
        return NULL;
    }

    return item;
}
