
/*
 * Copyright (C) ttai contributors
 */


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
 * get_candles: a symbol's bars from the stream's Candle events.  The
 * candle symbol ("AAPL{=5m}") is read like any other: the read asks the
 * feed to subscribe it, from TTAI_DXL_CANDLES bars back, and the feed
 * keeps the series in dx:AAPL{=5m} as [[time, open, high, low, close,
 * volume], ...].
 */

#define TTAI_CANDLES_COUNT  30


static int ttai_tool_candles_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_candles_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);


const ttai_tool_impl_t  ttai_tool_get_candles = {
    "get_candles",
    ttai_tool_candles_run,
    ttai_tool_candles_resume,
    0,
    NULL
};


static int
ttai_tool_candles_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    char         cs[TTAI_WORKER_SYMBOL_LEN + 8];
    json_t      *streamer;
    const char  *period;

    period = json_string_value(json_object_get(args, "period"));

    if (period == NULL) {
        period = "1d";
    }

    if (ttai_market_underlying("get_candles",
                               json_object_get(args, "symbol"), symbol,
                               result)
        != 0)
    {
        return *result ? 0 : -1;
    }

    snprintf(cs, sizeof(cs), "%s{=%s}", symbol, period);

    streamer = json_pack("[s]", cs);

    if (streamer == NULL
        || json_object_set_new(ctx->state, "streamer", streamer) != 0
        || json_object_set_new(ctx->state, "symbol", json_string(symbol))
           != 0
        || json_object_set_new(ctx->state, "period", json_string(period))
           != 0)
    {
        return -1;
    }

    *pending = ttai_stream_begin(ctx, streamer, NULL, TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


static int
ttai_tool_candles_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int                  rc, live;
    char                 why[320], at[32];
    size_t               i, n, from;
    json_t              *feed, *v, *bars, *b, *list, *out, *item;
    time_t               t;
    struct tm            tm;
    const char          *symbol, *period;
    ttai_market_text_t   text;

    rc = ttai_stream_step(ctx, resp, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    symbol = json_string_value(json_object_get(ctx->state, "symbol"));
    period = json_string_value(json_object_get(ctx->state, "period"));

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        *result = ttai_tool_error_result("Tool get_candles: no bars: %s.  "
                      "Bars come from the market-data stream; try again in "
                      "a minute.", ttai_stream_why(feed, why, sizeof(why)));
        json_decref(feed);
        return *result ? 0 : -1;
    }

    v = ttai_stream_value(feed, resp, 0, &live);
    json_decref(feed);

    bars = live ? json_object_get(v, "Candles") : NULL;
    n = json_array_size(bars);

    if (n == 0) {
        json_decref(v);
        *result = ttai_tool_error_result("Tool get_candles: no %s bars of "
                                         "%s came yet: ask again in a few "
                                         "seconds.", period, symbol);
        return *result ? 0 : -1;
    }

    from = json_is_integer(json_object_get(args, "count"))
           ? (size_t) json_integer_value(json_object_get(args, "count"))
           : TTAI_CANDLES_COUNT;
    from = from < n ? n - from : 0;

    list = json_array();
    out = json_pack("{s:s, s:s, s:o, s:f}", "symbol", symbol, "period",
                    period, "bars", list, "age_seconds",
                    ttai_stream_age(v, (long long) ctx->call->now));

    if (out == NULL) {
        json_decref(v);
        return -1;
    }

    memset(&text, 0, sizeof(text));
    ttai_market_printf(&text, "%s, %s bars (time UTC, open high low close "
                       "volume), newest last:\n", symbol, period);

    for (i = from; i < n; i++) {
        b = json_array_get(bars, i);
        t = (time_t) (json_number_value(json_array_get(b, 0)) / 1000);
        at[0] = '\0';

        if (gmtime_r(&t, &tm) != NULL) {
            strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }

        item = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "time", at,
                         "open", json_array_get(b, 1),
                         "high", json_array_get(b, 2),
                         "low", json_array_get(b, 3),
                         "close", json_array_get(b, 4),
                         "volume", json_array_get(b, 5));

        if (item == NULL || json_array_append_new(list, item) != 0) {
            free(text.data);
            json_decref(out);
            json_decref(v);
            return -1;
        }

        ttai_market_printf(&text, "%s %.2f %.2f %.2f %.2f %.0f\n", at,
                           json_number_value(json_array_get(b, 1)),
                           json_number_value(json_array_get(b, 2)),
                           json_number_value(json_array_get(b, 3)),
                           json_number_value(json_array_get(b, 4)),
                           json_number_value(json_array_get(b, 5)));
    }

    json_decref(v);

    *result = ttai_market_result(&text, out);

    return *result ? 0 : -1;
}
