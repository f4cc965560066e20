
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
#include "ttai_tt.h"
#include "ttai_worker.h"


/*
 * get_position_greeks: an account's positions (as get_positions fetches
 * them), the betas of their underlyings (GET /market-metrics), then the
 * live greeks and prices of the stream.  Stock counts a delta of 1 a
 * share; an option's greeks are multiplied by its quantity and
 * multiplier.  Delta beta-weighted to SPY is each position's delta
 * times its underlying's price and beta, over SPY's price.
 */

#define TTAI_PG_BENCHMARK  "SPY"


static int ttai_tool_pg_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_pg_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_pg_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_pg_positions(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_pg_betas(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, ttai_mcp_pending_t **pending);
static int ttai_tool_pg_answer(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result);
static size_t ttai_tool_pg_index(json_t *streamer, const char *symbol);
static double ttai_tool_pg_price(json_t *v);
static double ttai_tool_pg_qty(json_t *pos);


const ttai_tool_impl_t  ttai_tool_get_position_greeks = {
    "get_position_greeks",
    ttai_tool_pg_run,
    ttai_tool_pg_resume,
    0,
    NULL
};


static int
ttai_tool_pg_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tt_account_run(ctx, args, ttai_tool_pg_fetch, result,
                               pending);
}


static int
ttai_tool_pg_fetch(ttai_tool_ctx_t *ctx, json_t *args, const char *account,
    json_t **result, ttai_mcp_pending_t **pending)
{
    *pending = ttai_tt_account_request(ctx, "GET", account, "/positions",
                                       NULL, "positions", NULL,
                                       ctx->ttl->account);

    return *pending ? 0 : -1;
}


static int
ttai_tool_pg_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int  rc;

    if (ttai_stream_pending(ctx)) {
        rc = ttai_stream_step(ctx, resp, pending);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }

        return ttai_tool_pg_answer(ctx, resp, result);
    }

    if (json_object_get(ctx->state, "positions") != NULL) {
        return ttai_tool_pg_betas(ctx, resp, pending);
    }

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_pg_fetch, result,
                              pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    return ttai_tool_pg_positions(ctx, resp, result, pending);
}


/*
 * The positions, kept as {symbol, type, quantity (signed), multiplier,
 * underlying, streamer}; the symbols to read from the stream (options,
 * then underlyings, then SPY); and the request for the betas
 */

static int
ttai_tool_pg_positions(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result, ttai_mcp_pending_t **pending)
{
    int          rc;
    char         s[TTAI_WORKER_SYMBOL_LEN + 8], *list, *path, *key;
    size_t       i;
    json_t      *data, *pos, *kept, *streamer, *under, *item, *v, *mult;
    const char  *symbol, *type, *u, *ss;

    data = ttai_tt_data("get_position_greeks", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    kept = json_array();
    streamer = json_array();
    under = json_array();
    rc = (kept && streamer && under) ? 0 : -1;

    json_array_foreach(json_object_get(data, "items"), i, pos) {
        symbol = json_string_value(json_object_get(pos, "symbol"));
        type = json_string_value(json_object_get(pos, "instrument-type"));
        u = json_string_value(json_object_get(pos, "underlying-symbol"));
        ss = json_string_value(json_object_get(pos, "streamer-symbol"));

        if (symbol == NULL || type == NULL || rc != 0) {
            continue;
        }

        if (u == NULL) {
            u = symbol;
        }

        if (ss == NULL && ttai_stream_symbol(symbol, s, sizeof(s)) == 0) {
            ss = s;
        }

        mult = ttai_tt_number(json_object_get(pos, "multiplier"));

        item = json_pack("{s:s, s:s, s:f, s:f, s:s, s:s?}",
                         "symbol", symbol, "type", type,
                         "quantity", ttai_tool_pg_qty(pos),
                         "multiplier", json_is_number(mult)
                                       ? json_number_value(mult) : 1.0,
                         "underlying", u, "streamer", ss);

        json_decref(mult);

        if (item == NULL || json_array_append_new(kept, item) != 0) {
            rc = -1;
            continue;
        }

        if (strcmp(type, "Equity Option") == 0 && ss != NULL
            && ttai_tool_pg_index(streamer, ss) == (size_t) -1)
        {
            rc = json_array_append_new(streamer, json_string(ss));
        }

        if ((strcmp(type, "Equity") == 0
             || strcmp(type, "Equity Option") == 0)
            && ttai_tool_pg_index(under, u) == (size_t) -1)
        {
            rc = json_array_append_new(under, json_string(u));
        }
    }

    json_decref(data);

    if (rc == 0 && ttai_tool_pg_index(under, TTAI_PG_BENCHMARK) == (size_t) -1)
    {
        rc = json_array_append_new(under, json_string(TTAI_PG_BENCHMARK));
    }

    json_array_foreach(under, i, v) {
        if (rc == 0) {
            rc = json_array_append(streamer, v);
        }
    }

    if (rc != 0
        || json_object_set_new(ctx->state, "positions", kept) != 0
        || json_object_set_new(ctx->state, "streamer", streamer) != 0)
    {
        json_decref(under);
        return -1;
    }

    list = ttai_market_join(under);
    json_decref(under);

    if (list == NULL) {
        return -1;
    }

    path = ttai_tt_sprintf("/market-metrics?symbols=%s", list);
    key = ttai_tt_sprintf("betas:%s", list);
    free(list);

    *pending = (path && key)
               ? ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                       NULL, key, ctx->ttl->metrics)
               : NULL;

    free(path);
    free(key);

    return *pending ? 0 : -1;
}


/* the betas, then the stream; betas that cannot be read are left out */

static int
ttai_tool_pg_betas(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    ttai_mcp_pending_t **pending)
{
    size_t       i;
    json_t      *doc, *betas, *item, *beta;
    const char  *symbol;

    betas = json_object();
    if (betas == NULL) {
        return -1;
    }

    doc = (resp->status == 200 && resp->body != NULL)
          ? ttai_market_object(resp->body, resp->len) : NULL;

    json_array_foreach(json_object_get(json_object_get(doc, "data"),
                                       "items"), i, item)
    {
        symbol = json_string_value(json_object_get(item, "symbol"));
        beta = ttai_tt_number(json_object_get(item, "beta"));

        if (beta == NULL) {
            json_decref(doc);
            json_decref(betas);
            return -1;
        }

        if (symbol == NULL || !json_is_number(beta)
            || json_object_set_new(betas, symbol, beta) != 0)
        {
            json_decref(beta);
        }
    }

    json_decref(doc);

    if (json_object_set_new(ctx->state, "betas", betas) != 0) {
        return -1;
    }

    *pending = ttai_stream_begin(ctx, json_object_get(ctx->state, "streamer"),
                                 "Greeks", TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


static int
ttai_tool_pg_answer(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result)
{
    int                  rc, live, ok;
    char                 why[320];
    size_t               i, n, si, ui;
    double               qty, mult, d, spy, price, beta, bwd, age;
    double               total[4], x[5];
    json_t              *feed, *positions, *streamer, *betas, *pos, *v, *g;
    json_t              *list, *missing, *out, *item, *tot;
    long long            now;
    const char          *symbol, *type, *u, *ss;
    ttai_market_text_t   t;

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        *result = ttai_tool_error_result("Tool get_position_greeks: no live "
                      "greeks: %s.  Greeks come only from the market-data "
                      "stream; get_positions lists the positions meanwhile.",
                      ttai_stream_why(feed, why, sizeof(why)));
        json_decref(feed);
        return *result ? 0 : -1;
    }

    positions = json_object_get(ctx->state, "positions");
    streamer = json_object_get(ctx->state, "streamer");
    betas = json_object_get(ctx->state, "betas");
    now = (long long) ctx->call->now;

    /* SPY's price, for the beta weighting */
    v = ttai_stream_value(feed, resp,
                          ttai_tool_pg_index(streamer, TTAI_PG_BENCHMARK),
                          &live);
    spy = live ? ttai_tool_pg_price(v) : NAN;
    json_decref(v);

    list = json_array();
    missing = json_array();
    out = json_object();
    rc = (list && missing && out) ? 0 : -1;

    memset(&t, 0, sizeof(t));
    memset(total, 0, sizeof(total));
    bwd = 0;
    age = 0;
    n = 0;

    ttai_market_printf(&t, "Greeks of account %s, live (delta in shares, "
                       "theta in $/day, vega in $ per 1%% of volatility):\n",
                       ttai_tt_account(ctx));

    json_array_foreach(positions, i, pos) {
        symbol = json_string_value(json_object_get(pos, "symbol"));
        type = json_string_value(json_object_get(pos, "type"));
        u = json_string_value(json_object_get(pos, "underlying"));
        ss = json_string_value(json_object_get(pos, "streamer"));
        qty = json_number_value(json_object_get(pos, "quantity"));
        mult = json_number_value(json_object_get(pos, "multiplier"));

        x[0] = qty * mult;                      /* delta, as for stock */
        x[1] = 0;
        x[2] = 0;
        x[3] = 0;
        x[4] = NAN;                             /* IV */
        ok = 1;

        if (strcmp(type, "Equity Option") == 0) {
            si = ss ? ttai_tool_pg_index(streamer, ss) : (size_t) -1;
            v = (si != (size_t) -1)
                ? ttai_stream_value(feed, resp, si, &live) : NULL;
            g = (v != NULL && live) ? json_object_get(v, "Greeks") : NULL;

            d = ttai_stream_num(g, "delta");
            ok = (g != NULL && !isnan(d));

            if (ok) {
                x[0] = qty * mult * d;
                x[1] = qty * mult * ttai_stream_num(g, "gamma");
                x[2] = qty * mult * ttai_stream_num(g, "theta");
                x[3] = qty * mult * ttai_stream_num(g, "vega");
                x[4] = ttai_stream_num(g, "volatility") * 100;
                d = ttai_stream_age(g, now);
                age = d > age ? d : age;
            }

            json_decref(v);

        } else if (strcmp(type, "Equity") != 0) {
            /* futures, crypto: delta only, and no beta */
            u = NULL;
        }

        if (!ok) {
            if (rc == 0) {
                rc = json_array_append_new(missing, json_string(symbol));
            }

            continue;
        }

        if (isnan(x[1]) || isnan(x[2]) || isnan(x[3])) {
            x[1] = isnan(x[1]) ? 0 : x[1];
            x[2] = isnan(x[2]) ? 0 : x[2];
            x[3] = isnan(x[3]) ? 0 : x[3];
        }

        total[0] += x[0];
        total[1] += x[1];
        total[2] += x[2];
        total[3] += x[3];
        n++;

        /* beta weighting needs the underlying's price and beta */
        ui = u ? ttai_tool_pg_index(streamer, u) : (size_t) -1;
        v = (ui != (size_t) -1) ? ttai_stream_value(feed, resp, ui, &live)
                                : NULL;
        price = (v != NULL && live) ? ttai_tool_pg_price(v) : NAN;
        json_decref(v);

        beta = (u && json_is_number(json_object_get(betas, u)))
               ? json_number_value(json_object_get(betas, u))
               : (u && strcmp(u, TTAI_PG_BENCHMARK) == 0) ? 1 : NAN;

        bwd += x[0] * price * beta / spy;

        item = json_pack("{s:s, s:s?, s:f, s:f, s:f, s:f, s:f}",
                         "symbol", symbol,
                         "underlying", json_string_value(json_object_get(
                                           pos, "underlying")),
                         "quantity", qty,
                         "delta", ttai_market_round(x[0], 2),
                         "gamma", ttai_market_round(x[1], 4),
                         "theta", ttai_market_round(x[2], 2),
                         "vega", ttai_market_round(x[3], 2));

        /* an option's own delta, as a chain shows it */
        if (item != NULL
            && (json_object_set_new(item, "iv", isnan(x[4]) ? json_null()
                                    : json_real(ttai_market_round(x[4], 2)))
                != 0
                || json_object_set_new(item, "contract_delta", isnan(x[4])
                                       ? json_null()
                                       : json_real(ttai_market_round(
                                             x[0] / (qty * mult), 4)))
                   != 0))
        {
            json_decref(item);
            item = NULL;
        }

        if (rc == 0 && (item == NULL || json_array_append_new(list, item)
                                        != 0))
        {
            rc = -1;
        }

        ttai_market_printf(&t, "%s x%g: delta %.2f, gamma %.4f, theta "
                           "%.2f, vega %.2f", symbol, qty, x[0], x[1],
                           x[2], x[3]);

        if (!isnan(x[4])) {
            ttai_market_printf(&t, ", IV %.2f%%", x[4]);
        }

        ttai_market_printf(&t, "\n");
    }

    json_decref(feed);

    tot = json_pack("{s:f, s:f, s:f, s:f}",
                    "delta", ttai_market_round(total[0], 2),
                    "gamma", ttai_market_round(total[1], 4),
                    "theta", ttai_market_round(total[2], 2),
                    "vega", ttai_market_round(total[3], 2));

    if (tot == NULL
        || json_object_set_new(tot, "beta_weighted_delta",
                               isnan(bwd) ? json_null()
                               : json_real(ttai_market_round(bwd, 2))) != 0)
    {
        rc = -1;
    }

    ttai_market_printf(&t, "Total over %zu position%s: net delta %.2f "
                       "shares", n, n == 1 ? "" : "s", total[0]);

    if (!isnan(bwd)) {
        ttai_market_printf(&t, " (%.2f SPY shares beta-weighted)", bwd);

    } else {
        ttai_market_printf(&t, " (no beta-weighted delta: a price or beta "
                           "is missing)");
    }

    ttai_market_printf(&t, ", gamma %.4f, theta %.2f $/day, vega %.2f; "
                       "greeks %.0f s old at most\n", total[1], total[2],
                       total[3], age);

    if (json_array_size(missing) > 0) {
        ttai_market_printf(&t, "Left out, no live greeks yet:");

        json_array_foreach(missing, i, v) {
            ttai_market_printf(&t, " %s", json_string_value(v));
        }

        ttai_market_printf(&t, " (ask again in a few seconds)\n");
    }

    if (rc != 0
        || json_object_set_new(out, "account_number",
                               json_string(ttai_tt_account(ctx))) != 0
        || json_object_set_new(out, "positions", list) != 0
        || json_object_set_new(out, "total", tot) != 0
        || json_object_set_new(out, "missing", missing) != 0
        || json_object_set_new(out, "age_seconds", json_real(age)) != 0)
    {
        json_decref(out);
        free(t.data);
        return -1;
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}


static size_t
ttai_tool_pg_index(json_t *streamer, const char *symbol)
{
    size_t   i;
    json_t  *v;

    json_array_foreach(streamer, i, v) {
        if (strcmp(json_string_value(v), symbol) == 0) {
            return i;
        }
    }

    return (size_t) -1;
}


/* the last trade, else the quote's middle */

static double
ttai_tool_pg_price(json_t *v)
{
    double  p, bid, ask;

    p = ttai_stream_num(json_object_get(v, "Trade"), "price");

    if (!isnan(p) && p > 0) {
        return p;
    }

    bid = ttai_stream_num(json_object_get(v, "Quote"), "bidPrice");
    ask = ttai_stream_num(json_object_get(v, "Quote"), "askPrice");

    return (bid + ask) / 2;
}


/* quantities come unsigned, with a direction */

static double
ttai_tool_pg_qty(json_t *pos)
{
    double       q;
    json_t      *n;
    const char  *dir;

    n = ttai_tt_number(json_object_get(pos, "quantity"));
    q = json_is_number(n) ? json_number_value(n) : 0;
    json_decref(n);

    dir = json_string_value(json_object_get(pos, "quantity-direction"));

    return (dir != NULL && strcmp(dir, "Short") == 0) ? -fabs(q) : q;
}
