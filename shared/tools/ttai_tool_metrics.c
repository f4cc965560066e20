
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tools.h"
#include "ttai_tt.h"
#include "ttai_worker.h"


/*
 * get_market_metrics: volatility and reference data per symbol.  Each
 * symbol's item of GET /market-metrics is kept in KV as metrics:<SYMBOL>
 * for the metrics lifetime, as TastyTrade sent it; the tool reads KV
 * first and asks TastyTrade once for the rest.
 *
 * Units: TastyTrade sends IV index, IV rank, IV percentile, liquidity
 * rank and dividend yield as fractions (0.427 = 42.7%), but the 30-day
 * IV and the historical volatilities already as percents (26.53).  The
 * tool gives every one as a percent, so that they compare.
 */

#define TTAI_METRICS_MAX  50


static int ttai_tool_metrics_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_metrics_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_metrics_fetched(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result);
static int ttai_tool_metrics_done(ttai_tool_ctx_t *ctx, json_t **result);
static json_t *ttai_tool_metrics_shape(const char *symbol, json_t *item);
static json_t *ttai_tool_metrics_string(json_t *item, const char *key);
static void ttai_tool_metrics_line(ttai_market_text_t *t, json_t *m);


static const char  ttai_tool_metrics_input[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"symbols\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,"
        "\"description\":\"1 to 50 underlying symbols: stocks, ETFs and "
          "indices (AAPL, SPY, SPX).\","
        "\"items\":{\"type\":\"string\",\"minLength\":1,"
          "\"maxLength\":48}}},"
    "\"required\":[\"symbols\"],"
    "\"additionalProperties\":false}";

#define TTAI_METRICS_NUM  "{\"type\":[\"number\",\"null\"]}"
#define TTAI_METRICS_STR  "{\"type\":[\"string\",\"null\"]}"

static const char  ttai_tool_metrics_output[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"metrics\":{\"type\":\"array\","
        "\"description\":\"in the order asked; every *_rank, *_percentile, "
          "iv_*, hv_* and dividend_yield is a percent (0-100)\","
        "\"items\":{\"type\":\"object\","
          "\"properties\":{"
            "\"symbol\":{\"type\":\"string\"},"
            "\"iv_index\":" TTAI_METRICS_NUM ","
            "\"iv_rank\":" TTAI_METRICS_NUM ","
            "\"iv_percentile\":" TTAI_METRICS_NUM ","
            "\"iv_30_day\":" TTAI_METRICS_NUM ","
            "\"hv_30_day\":" TTAI_METRICS_NUM ","
            "\"hv_60_day\":" TTAI_METRICS_NUM ","
            "\"hv_90_day\":" TTAI_METRICS_NUM ","
            "\"iv_hv_30_day_difference\":" TTAI_METRICS_NUM ","
            "\"beta\":" TTAI_METRICS_NUM ","
            "\"corr_spy_3month\":" TTAI_METRICS_NUM ","
            "\"liquidity_rating\":{\"type\":[\"integer\",\"null\"]},"
            "\"liquidity_rank\":" TTAI_METRICS_NUM ","
            "\"market_cap\":" TTAI_METRICS_NUM ","
            "\"dividend_yield\":" TTAI_METRICS_NUM ","
            "\"dividend_next_date\":" TTAI_METRICS_STR ","
            "\"dividend_ex_date\":" TTAI_METRICS_STR ","
            "\"earnings\":{\"type\":[\"object\",\"null\"],"
              "\"properties\":{"
                "\"expected_report_date\":" TTAI_METRICS_STR ","
                "\"estimated\":{\"type\":[\"boolean\",\"null\"]},"
                "\"time_of_day\":{\"type\":\"string\"}}},"
            "\"sector\":" TTAI_METRICS_STR ","
            "\"industry\":" TTAI_METRICS_STR ","
            "\"updated_at\":" TTAI_METRICS_STR "},"
          "\"required\":[\"symbol\",\"iv_rank\",\"iv_percentile\"]}},"
      "\"missing\":{\"type\":\"array\","
        "\"description\":\"symbols TastyTrade has no metrics for\","
        "\"items\":{\"type\":\"string\"}}},"
    "\"required\":[\"metrics\",\"missing\"]}";


const ttai_tool_t  ttai_tool_get_market_metrics = {
    "get_market_metrics",
    "Market metrics",
    "Gets volatility and reference data for 1 to 50 underlyings (stocks, "
    "ETFs, indices): IV rank, IV percentile and IV index, the 30-day "
    "implied volatility, the 30, 60 and 90-day historical volatilities "
    "and the IV-HV difference, beta, 3-month correlation with SPY, "
    "liquidity rating (0 to 5 stars) and rank, market cap, dividend yield "
    "and dates, the next earnings date, sector and industry.  Every "
    "rank, percentile, volatility and yield is a percent from 0 to 100 "
    "(IV rank 42.73 means 42.73%; TastyTrade's own fractions are "
    "converted).  IV rank is TastyTrade's implied-volatility-index-rank.  "
    "Data is cached for a minute.",
    ttai_tool_metrics_input,
    ttai_tool_metrics_output,
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_IDEMPOTENT | TTAI_TOOL_OPEN_WORLD
    | TTAI_TOOL_MEMO,
    ttai_tool_metrics_run,
    ttai_tool_metrics_resume
};


static int
ttai_tool_metrics_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         keys[TTAI_METRICS_MAX][TTAI_WORKER_SYMBOL_LEN + 10];
    size_t       i;
    json_t      *symbols, *v;
    const char  *k[TTAI_METRICS_MAX];

    symbols = ttai_market_symbols("get_market_metrics",
                                  json_object_get(args, "symbols"), result);
    if (symbols == NULL) {
        return *result ? 0 : -1;
    }

    if (json_object_set_new(ctx->state, "symbols", symbols) != 0
        || json_object_set_new(ctx->state, "items", json_object()) != 0)
    {
        return -1;
    }

    json_array_foreach(symbols, i, v) {
        snprintf(keys[i], sizeof(keys[i]), "metrics:%s",
                 json_string_value(v));
        k[i] = keys[i];
    }

    *pending = ttai_mcp_pending_cache(k, json_array_size(symbols));

    return *pending ? 0 : -1;
}


static int
ttai_tool_metrics_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char    *list, *path;
    size_t   i;
    json_t  *symbols, *items, *misses, *item, *v;

    if (json_is_true(json_object_get(ctx->state, "asked"))) {
        return ttai_tool_metrics_fetched(ctx, resp, result);
    }

    symbols = json_object_get(ctx->state, "symbols");
    items = json_object_get(ctx->state, "items");

    misses = json_array();
    if (misses == NULL) {
        return -1;
    }

    json_array_foreach(symbols, i, v) {
        item = resp->values ? ttai_market_object(resp->values[i],
                                                 resp->lens[i])
                            : NULL;

        if ((item != NULL
             ? json_object_set_new(items, json_string_value(v), item)
             : json_array_append(misses, v))
            != 0)
        {
            json_decref(misses);
            return -1;
        }
    }

    if (json_array_size(misses) == 0) {
        json_decref(misses);
        return ttai_tool_metrics_done(ctx, result);
    }

    list = ttai_market_join(misses);
    json_decref(misses);

    if (list == NULL) {
        return -1;
    }

    path = malloc(sizeof("/market-metrics?symbols=") + strlen(list));
    if (path == NULL) {
        free(list);
        return -1;
    }

    sprintf(path, "/market-metrics?symbols=%s", list);
    free(list);

    if (json_object_set_new(ctx->state, "asked", json_true()) != 0) {
        free(path);
        return -1;
    }

    /* kept per symbol below, not as one body */
    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, NULL, 0);
    free(path);

    return *pending ? 0 : -1;
}


/* TastyTrade's items: each stored under its symbol, and kept */

static int
ttai_tool_metrics_fetched(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result)
{
    int          rc;
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    char         key[TTAI_WORKER_SYMBOL_LEN + 10];
    char        *value;
    size_t       i;
    json_t      *data, *list, *items, *item;
    const char  *s;

    data = ttai_tt_data("get_market_metrics", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    list = json_object_get(data, "items");
    items = json_object_get(ctx->state, "items");
    rc = 0;

    json_array_foreach(list, i, item) {
        s = json_string_value(json_object_get(item, "symbol"));

        if (s == NULL || ttai_worker_symbol(s, strlen(s), symbol) != 0
            || json_object_get(items, symbol) != NULL)
        {
            continue;
        }

        value = json_dumps(item, JSON_COMPACT);
        snprintf(key, sizeof(key), "metrics:%s", symbol);

        if (value == NULL
            || ttai_tool_store(ctx, key, value, strlen(value),
                               ctx->ttl->metrics) != 0
            || json_object_set(items, symbol, item) != 0)
        {
            rc = -1;
        }

        free(value);

        if (rc != 0) {
            break;
        }
    }

    json_decref(data);

    if (rc != 0) {
        return -1;
    }

    return ttai_tool_metrics_done(ctx, result);
}


static int
ttai_tool_metrics_done(ttai_tool_ctx_t *ctx, json_t **result)
{
    size_t               i;
    json_t              *symbols, *items, *out, *metrics, *missing, *v, *m;
    json_t              *item;
    const char          *s;
    ttai_market_text_t   t;

    symbols = json_object_get(ctx->state, "symbols");
    items = json_object_get(ctx->state, "items");

    out = json_pack("{s:[], s:[]}", "metrics", "missing");
    if (out == NULL) {
        return -1;
    }

    metrics = json_object_get(out, "metrics");
    missing = json_object_get(out, "missing");

    memset(&t, 0, sizeof(t));
    ttai_market_printf(&t, "Percents (0-100): IV rank, IV percentile, IV "
                       "index, IV30, HV30, dividend yield.\n");

    json_array_foreach(symbols, i, v) {
        s = json_string_value(v);
        item = json_object_get(items, s);

        if (item == NULL) {
            if (json_array_append(missing, v) != 0) {
                goto failed;
            }

            continue;
        }

        m = ttai_tool_metrics_shape(s, item);

        if (m == NULL || json_array_append_new(metrics, m) != 0) {
            goto failed;
        }

        ttai_tool_metrics_line(&t, m);
    }

    if (json_array_size(missing) > 0) {
        ttai_market_printf(&t, "No metrics from TastyTrade for:");

        json_array_foreach(missing, i, v) {
            ttai_market_printf(&t, "%s %s", i ? "," : "",
                               json_string_value(v));
        }

        ttai_market_printf(&t, ".  Metrics exist for stocks, ETFs and "
                           "indices: check the symbols with "
                           "search_symbols.\n");
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;

failed:

    free(t.data);
    json_decref(out);

    return -1;
}


static json_t *
ttai_tool_metrics_shape(const char *symbol, json_t *item)
{
    json_t  *m, *e, *earnings, *rating, *tod;

    /* the liquidity rating is a whole number of stars */
    rating = ttai_tt_number(json_object_get(item, "liquidity-rating"));

    if (json_is_number(rating)) {
        e = json_integer((json_int_t) json_number_value(rating));
        json_decref(rating);
        rating = e;
    }

    e = json_object_get(item, "earnings");
    earnings = NULL;

    if (json_is_object(e)) {
        earnings = json_pack("{s:o, s:o}",
                             "expected_report_date",
                             ttai_tool_metrics_string(e,
                                                      "expected-report-date"),
                             "estimated",
                             json_is_boolean(json_object_get(e, "estimated"))
                             ? json_incref(json_object_get(e, "estimated"))
                             : json_null());

        tod = json_object_get(e, "time-of-day");

        if (earnings != NULL && json_is_string(tod)) {
            json_object_set(earnings, "time_of_day", tod);
        }
    }

    m = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
                  " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "symbol", symbol,
                  "iv_index", ttai_market_percent(json_object_get(item,
                                  "implied-volatility-index")),
                  "iv_rank", ttai_market_percent(json_object_get(item,
                                  "implied-volatility-index-rank")),
                  "iv_percentile", ttai_market_percent(json_object_get(item,
                                  "implied-volatility-percentile")),
                  "iv_30_day", ttai_tt_number(json_object_get(item,
                                  "implied-volatility-30-day")),
                  "hv_30_day", ttai_tt_number(json_object_get(item,
                                  "historical-volatility-30-day")),
                  "hv_60_day", ttai_tt_number(json_object_get(item,
                                  "historical-volatility-60-day")),
                  "hv_90_day", ttai_tt_number(json_object_get(item,
                                  "historical-volatility-90-day")),
                  "iv_hv_30_day_difference", ttai_tt_number(
                      json_object_get(item, "iv-hv-30-day-difference")),
                  "beta", ttai_tt_number(json_object_get(item, "beta")),
                  "corr_spy_3month", ttai_tt_number(json_object_get(item,
                                         "corr-spy-3month")),
                  "liquidity_rating", rating,
                  "liquidity_rank", ttai_market_percent(json_object_get(item,
                                        "liquidity-rank")),
                  "market_cap", ttai_tt_number(json_object_get(item,
                                    "market-cap")),
                  "dividend_yield", ttai_market_percent(json_object_get(item,
                                        "dividend-yield")),
                  "dividend_next_date",
                  ttai_tool_metrics_string(item, "dividend-next-date"),
                  "dividend_ex_date",
                  ttai_tool_metrics_string(item, "dividend-ex-date"),
                  "earnings", earnings ? earnings : json_null(),
                  "sector", ttai_tool_metrics_string(item, "sector"),
                  "industry", ttai_tool_metrics_string(item, "industry"),
                  "updated_at", ttai_tool_metrics_string(item, "updated-at"));

    return m;
}


/* a string member, or json null */

static json_t *
ttai_tool_metrics_string(json_t *item, const char *key)
{
    json_t  *v;

    v = json_object_get(item, key);

    return json_is_string(v) ? json_incref(v) : json_null();
}


/* one line: the numbers a trader scans for */

static void
ttai_tool_metrics_line(ttai_market_text_t *t, json_t *m)
{
    char         ivr[32], ivp[32], ivx[32], iv30[32], hv30[32], beta[32];
    char         dy[32];
    json_t      *e, *rating;
    const char  *date, *tod, *sector;

    ttai_market_num(ivr, sizeof(ivr), json_object_get(m, "iv_rank"), 1, 2);
    ttai_market_num(ivp, sizeof(ivp), json_object_get(m, "iv_percentile"),
                    1, 2);
    ttai_market_num(ivx, sizeof(ivx), json_object_get(m, "iv_index"), 1, 2);
    ttai_market_num(iv30, sizeof(iv30), json_object_get(m, "iv_30_day"), 1,
                    2);
    ttai_market_num(hv30, sizeof(hv30), json_object_get(m, "hv_30_day"), 1,
                    2);
    ttai_market_num(beta, sizeof(beta), json_object_get(m, "beta"), 2, 2);
    ttai_market_num(dy, sizeof(dy), json_object_get(m, "dividend_yield"), 2,
                    2);

    ttai_market_printf(t, "%s: IV rank %s, IV percentile %s, IV index %s, "
                       "IV30 %s, HV30 %s, beta %s",
                       json_string_value(json_object_get(m, "symbol")),
                       ivr, ivp, ivx, iv30, hv30, beta);

    rating = json_object_get(m, "liquidity_rating");

    if (json_is_integer(rating)) {
        ttai_market_printf(t, ", liquidity %lld/5",
                           (long long) json_integer_value(rating));
    }

    if (json_is_number(json_object_get(m, "dividend_yield"))) {
        ttai_market_printf(t, ", dividend yield %s", dy);
    }

    e = json_object_get(m, "earnings");
    date = json_string_value(json_object_get(e, "expected_report_date"));
    tod = json_string_value(json_object_get(e, "time_of_day"));

    if (date != NULL) {
        ttai_market_printf(t, ", earnings %s%s%s%s", date,
                           tod ? " " : "", tod ? tod : "",
                           json_is_true(json_object_get(e, "estimated"))
                           ? " (estimated)" : "");
    }

    sector = json_string_value(json_object_get(m, "sector"));

    if (sector != NULL) {
        ttai_market_printf(t, ", %s", sector);
    }

    ttai_market_printf(t, ".\n");
}
