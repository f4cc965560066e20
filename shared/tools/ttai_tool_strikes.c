
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_stream.h"
#include "ttai_tools.h"
#include "ttai_tt.h"
#include "ttai_worker.h"


/*
 * find_strikes_by_delta: "which strike is the 30-delta put".  The option
 * chain (the request and KV entry get_option_chain uses), the expiration
 * asked for (or the one nearest dte days, 30 by default), the
 * underlying's price from the stream, then the greeks of the
 * TTAI_STRIKES_READ strikes nearest that price; the answer is the strike
 * whose delta is nearest the one asked for, with its neighbours.
 */

#define TTAI_STRIKES_READ   40
#define TTAI_STRIKES_DTE    30


static int ttai_tool_strikes_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_strikes_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_strikes_chain(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_strikes_price(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_strikes_answer(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result);
static json_t *ttai_tool_strikes_expiration(json_t *items, const char *date,
    long dte);
static json_t *ttai_tool_strikes_no_stream(json_t *feed);
static double ttai_tool_strikes_num(json_t *v);


const ttai_tool_impl_t  ttai_tool_find_strikes_by_delta = {
    "find_strikes_by_delta",
    ttai_tool_strikes_run,
    ttai_tool_strikes_resume,
    0,
    NULL
};


static int
ttai_tool_strikes_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    char         key[TTAI_WORKER_SYMBOL_LEN + 8];
    char        *e, *path;
    double       delta;
    const char  *type, *date;

    delta = json_number_value(json_object_get(args, "delta"));
    type = json_string_value(json_object_get(args, "type"));
    date = json_string_value(json_object_get(args, "expiration"));

    if (ttai_market_underlying("find_strikes_by_delta",
                               json_object_get(args, "symbol"), symbol,
                               result)
        != 0)
    {
        return *result ? 0 : -1;
    }

    if (date != NULL && json_object_get(args, "dte") != NULL) {
        *result = ttai_tool_error_result("Tool find_strikes_by_delta: give "
                                         "expiration or dte, not both.");
        return *result ? 0 : -1;
    }

    /* a negative delta is a put's; type says it otherwise */
    if (type == NULL) {
        type = delta < 0 ? "put" : "call";
    }

    delta = fabs(delta) * (strcmp(type, "put") == 0 ? -1 : 1);

    if (json_object_set_new(ctx->state, "symbol", json_string(symbol)) != 0
        || json_object_set_new(ctx->state, "type", json_string(type)) != 0
        || json_object_set_new(ctx->state, "delta", json_real(delta)) != 0
        || json_object_set_new(ctx->state, "step", json_string("chain"))
           != 0)
    {
        return -1;
    }

    e = ttai_tt_escape(symbol);
    path = e ? ttai_tt_sprintf("/option-chains/%s/nested", e) : NULL;
    free(e);

    if (path == NULL) {
        return -1;
    }

    snprintf(key, sizeof(key), "chain:%s", symbol);

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, key, ctx->ttl->chain);
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_strikes_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int          rc;
    const char  *step;

    if (ttai_stream_pending(ctx)) {
        rc = ttai_stream_step(ctx, resp, pending);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }
    }

    step = json_string_value(json_object_get(ctx->state, "step"));

    if (strcmp(step, "chain") == 0) {
        return ttai_tool_strikes_chain(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "price") == 0) {
        return ttai_tool_strikes_price(ctx, resp, result, pending);
    }

    return ttai_tool_strikes_answer(ctx, args, resp, result);
}


/* the expiration's strikes kept; the underlying read from the stream */

static int
ttai_tool_strikes_chain(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    long          dte;
    json_t       *data, *exp, *under;
    const char   *symbol, *date;

    symbol = json_string_value(json_object_get(ctx->state, "symbol"));

    data = ttai_tt_data("find_strikes_by_delta", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    date = json_string_value(json_object_get(args, "expiration"));
    dte = json_is_integer(json_object_get(args, "dte"))
          ? (long) json_integer_value(json_object_get(args, "dte"))
          : TTAI_STRIKES_DTE;

    exp = ttai_tool_strikes_expiration(json_object_get(data, "items"), date,
                                       dte);
    json_decref(data);

    if (exp == NULL) {
        *result = ttai_tool_error_result("Tool find_strikes_by_delta: %s "
                      "has no %s%s.  get_option_chain lists its "
                      "expirations.", symbol,
                      date ? "expiration on " : "option expirations",
                      date ? date : "");
        return *result ? 0 : -1;
    }

    under = json_pack("[s]", symbol);

    if (under == NULL
        || json_object_set_new(ctx->state, "expiration", exp) != 0
        || json_object_set_new(ctx->state, "step", json_string("price"))
           != 0
        || json_object_set_new(ctx->state, "under", under) != 0)
    {
        return -1;
    }

    *pending = ttai_stream_begin(ctx, under, NULL, TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


/* the strikes nearest the price, read from the stream with their greeks */

static int
ttai_tool_strikes_price(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result, ttai_mcp_pending_t **pending)
{
    int          live;
    long         n, at, lo, hi, i;
    double       price, bid, ask;
    json_t      *feed, *v, *strikes, *read, *chosen, *s;
    const char  *side;

    feed = ttai_stream_feed(resp);
    v = ttai_stream_value(feed, resp, 0, &live);

    price = live ? ttai_stream_num(json_object_get(v, "Trade"), "price")
                 : NAN;

    if (live && isnan(price)) {
        bid = ttai_stream_num(json_object_get(v, "Quote"), "bidPrice");
        ask = ttai_stream_num(json_object_get(v, "Quote"), "askPrice");
        price = (bid + ask) / 2;
    }

    json_decref(v);

    if (isnan(price)) {
        *result = ttai_tool_strikes_no_stream(feed);
        json_decref(feed);
        return *result ? 0 : -1;
    }

    json_decref(feed);

    side = strcmp(json_string_value(json_object_get(ctx->state, "type")),
                  "put") == 0 ? "put-streamer-symbol" : "call-streamer-symbol";

    strikes = json_object_get(json_object_get(ctx->state, "expiration"),
                              "strikes");
    n = (long) json_array_size(strikes);

    for (at = 0; at < n; at++) {
        s = json_array_get(strikes, at);

        if (ttai_tool_strikes_num(json_object_get(s, "strike-price"))
            >= price)
        {
            break;
        }
    }

    lo = at - TTAI_STRIKES_READ / 2 < 0 ? 0 : at - TTAI_STRIKES_READ / 2;
    hi = lo + TTAI_STRIKES_READ > n ? n : lo + TTAI_STRIKES_READ;

    read = json_array();
    chosen = json_array();

    if (read == NULL || chosen == NULL
        || json_object_set_new(ctx->state, "streamer", read) != 0
        || json_object_set_new(ctx->state, "chosen", chosen) != 0
        || json_object_set_new(ctx->state, "price", json_real(price)) != 0
        || json_object_set_new(ctx->state, "step", json_string("greeks"))
           != 0)
    {
        return -1;
    }

    for (i = lo; i < hi; i++) {
        s = json_array_get(strikes, i);
        v = json_object_get(s, side);

        if (json_is_string(v)
            && (json_array_append(read, v) != 0
                || json_array_append(chosen, s) != 0))
        {
            return -1;
        }
    }

    *pending = ttai_stream_begin(ctx, read, "Greeks", TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


static int
ttai_tool_strikes_answer(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result)
{
    int                  live;
    size_t               i, best, lo, hi, n;
    double               target, d, dist, bdist;
    json_t              *feed, *chosen, *v, *g, *q, *s, *out, *list, *item;
    json_t              *exp, *deltas;
    const char          *symbol, *type, *occ;
    ttai_market_text_t   t;

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        *result = ttai_tool_strikes_no_stream(feed);
        json_decref(feed);
        return *result ? 0 : -1;
    }

    symbol = json_string_value(json_object_get(ctx->state, "symbol"));
    type = json_string_value(json_object_get(ctx->state, "type"));
    target = json_number_value(json_object_get(ctx->state, "delta"));
    chosen = json_object_get(ctx->state, "chosen");
    exp = json_object_get(ctx->state, "expiration");
    n = json_array_size(chosen);

    /* each strike's live greeks, in strike order */
    deltas = json_array();
    if (deltas == NULL) {
        json_decref(feed);
        return -1;
    }

    best = n;
    bdist = INFINITY;

    for (i = 0; i < n; i++) {
        v = ttai_stream_value(feed, resp, i, &live);
        g = live ? json_object_get(v, "Greeks") : NULL;
        d = ttai_stream_num(g, "delta");

        if (json_array_append(deltas, v ? v : json_null()) != 0) {
            json_decref(v);
            json_decref(deltas);
            json_decref(feed);
            return -1;
        }

        json_decref(v);

        dist = fabs(d - target);

        if (!isnan(d) && dist < bdist) {
            bdist = dist;
            best = i;
        }
    }

    json_decref(feed);

    if (best == n) {
        json_decref(deltas);
        *result = ttai_tool_error_result("Tool find_strikes_by_delta: no "
                      "greeks came yet for %s's options of %s: ask again in "
                      "a few seconds.", symbol,
                      json_string_value(json_object_get(exp,
                                                        "expiration-date")));
        return *result ? 0 : -1;
    }

    lo = best > 0 ? best - 1 : best;
    hi = best + 1 < n ? best + 1 : best;

    list = json_array();
    out = json_pack("{s:s, s:s, s:f, s:O, s:O, s:f, s:o}",
                    "symbol", symbol, "type", type, "target_delta", target,
                    "expiration", json_object_get(exp, "expiration-date"),
                    "days_to_expiration",
                    json_object_get(exp, "days-to-expiration")
                    ? json_object_get(exp, "days-to-expiration")
                    : json_null(),
                    "underlying_price",
                    json_number_value(json_object_get(ctx->state, "price")),
                    "strikes", list);

    if (out == NULL) {
        json_decref(deltas);
        return -1;
    }

    memset(&t, 0, sizeof(t));

    ttai_market_printf(&t, "%s %ss of %s (%lld days), nearest delta %.2f; "
                       "underlying %.2f:\n", symbol, type,
                       json_string_value(json_object_get(exp,
                                                         "expiration-date")),
                       (long long) json_integer_value(json_object_get(exp,
                           "days-to-expiration")),
                       target,
                       json_number_value(json_object_get(ctx->state,
                                                         "price")));

    for (i = lo; i <= hi; i++) {
        s = json_array_get(chosen, i);
        v = json_array_get(deltas, i);
        g = json_object_get(v, "Greeks");
        q = json_object_get(v, "Quote");
        occ = json_string_value(json_object_get(s, type[0] == 'p' ? "put"
                                                                  : "call"));
        d = ttai_stream_num(g, "delta");

        if (isnan(d)) {
            continue;
        }

        item = json_pack("{s:s?, s:f, s:f, s:o, s:o, s:o, s:o, s:b}",
                         "symbol", occ,
                         "strike", ttai_tool_strikes_num(
                             json_object_get(s, "strike-price")),
                         "delta", ttai_market_round(d, 4),
                         "iv", isnan(ttai_stream_num(g, "volatility"))
                               ? json_null()
                               : json_real(ttai_market_round(
                                     ttai_stream_num(g, "volatility") * 100,
                                     2)),
                         "theo_price", isnan(ttai_stream_num(g, "price"))
                               ? json_null()
                               : json_real(ttai_market_round(
                                     ttai_stream_num(g, "price"), 4)),
                         "bid", isnan(ttai_stream_num(q, "bidPrice"))
                               ? json_null()
                               : json_real(ttai_stream_num(q, "bidPrice")),
                         "ask", isnan(ttai_stream_num(q, "askPrice"))
                               ? json_null()
                               : json_real(ttai_stream_num(q, "askPrice")),
                         "nearest", i == best);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(deltas);
            json_decref(out);
            free(t.data);
            return -1;
        }

        ttai_market_printf(&t, "%s%s  strike %g  delta %.4f  IV %.2f%%  "
                           "theo %.2f  bid %.2f / ask %.2f\n",
                           i == best ? "> " : "  ", occ ? occ : "?",
                           json_number_value(json_object_get(item, "strike")),
                           d, ttai_stream_num(g, "volatility") * 100,
                           ttai_stream_num(g, "price"),
                           ttai_stream_num(q, "bidPrice"),
                           ttai_stream_num(q, "askPrice"));
    }

    json_decref(deltas);

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}


/*
 * The expiration on date, or the one whose days to expiration are
 * nearest dte, of the standard chain (the first when none says so)
 */

static json_t *
ttai_tool_strikes_expiration(json_t *items, const char *date, long dte)
{
    long         d, bd;
    size_t       i, j;
    json_t      *item, *chain, *e, *best;
    const char  *type;

    chain = json_array_get(items, 0);

    json_array_foreach(items, i, item) {
        type = json_string_value(json_object_get(item, "option-chain-type"));

        if (type != NULL && strcmp(type, "Standard") == 0) {
            chain = item;
            break;
        }
    }

    best = NULL;
    bd = 0;

    json_array_foreach(json_object_get(chain, "expirations"), j, e) {
        if (date != NULL) {
            type = json_string_value(json_object_get(e, "expiration-date"));

            if (type != NULL && strcmp(type, date) == 0) {
                return json_incref(e);
            }

            continue;
        }

        d = labs((long) json_integer_value(json_object_get(e,
                     "days-to-expiration")) - dte);

        if (best == NULL || d < bd) {
            best = e;
            bd = d;
        }
    }

    return best ? json_incref(best) : NULL;
}


static json_t *
ttai_tool_strikes_no_stream(json_t *feed)
{
    char  why[320];

    return ttai_tool_error_result("Tool find_strikes_by_delta: no live "
                                  "greeks: %s.  Deltas come only from the "
                                  "market-data stream; try again in a "
                                  "minute.",
                                  ttai_stream_why(feed, why, sizeof(why)));
}


/* a decimal TastyTrade sends as a string, or NAN */

static double
ttai_tool_strikes_num(json_t *v)
{
    double   x;
    json_t  *n;

    n = ttai_tt_number(v);
    x = json_is_number(n) ? json_number_value(n) : NAN;
    json_decref(n);

    return x;
}
