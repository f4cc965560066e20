
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
#include "ttai_tt_map.h"
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
static void ttai_tool_metrics_line(ttai_market_text_t *t, json_t *m);


static const ttai_tt_field_t  ttai_tool_metrics_earnings_fields[] = {
    ttai_tt_field("expected-report-date", "expected_report_date",
                  TTAI_TT_STRING),
    ttai_tt_field("estimated", "estimated", TTAI_TT_BOOLEAN),
    ttai_tt_field("time-of-day", "time_of_day",
                  TTAI_TT_STRING | TTAI_TT_OPTIONAL),
    ttai_tt_null_field
};

/* after the symbol asked for; fractions become percents (see above) */
static const ttai_tt_field_t  ttai_tool_metrics_fields[] = {
    ttai_tt_field("implied-volatility-index", "iv_index", TTAI_TT_PERCENT),
    ttai_tt_field("implied-volatility-index-rank", "iv_rank",
                  TTAI_TT_PERCENT),
    ttai_tt_field("implied-volatility-percentile", "iv_percentile",
                  TTAI_TT_PERCENT),
    ttai_tt_field("implied-volatility-30-day", "iv_30_day", TTAI_TT_NUMBER),
    ttai_tt_field("historical-volatility-30-day", "hv_30_day",
                  TTAI_TT_NUMBER),
    ttai_tt_field("historical-volatility-60-day", "hv_60_day",
                  TTAI_TT_NUMBER),
    ttai_tt_field("historical-volatility-90-day", "hv_90_day",
                  TTAI_TT_NUMBER),
    ttai_tt_field("iv-hv-30-day-difference", "iv_hv_30_day_difference",
                  TTAI_TT_NUMBER),
    ttai_tt_field("beta", "beta", TTAI_TT_NUMBER),
    ttai_tt_field("corr-spy-3month", "corr_spy_3month", TTAI_TT_NUMBER),
    ttai_tt_field("liquidity-rating", "liquidity_rating", TTAI_TT_WHOLE),
    ttai_tt_field("liquidity-rank", "liquidity_rank", TTAI_TT_PERCENT),
    ttai_tt_field("market-cap", "market_cap", TTAI_TT_NUMBER),
    ttai_tt_field("dividend-yield", "dividend_yield", TTAI_TT_PERCENT),
    ttai_tt_field("dividend-next-date", "dividend_next_date",
                  TTAI_TT_STRING),
    ttai_tt_field("dividend-ex-date", "dividend_ex_date", TTAI_TT_STRING),
    ttai_tt_nested("earnings", "earnings", TTAI_TT_OBJECT,
                   ttai_tool_metrics_earnings_fields, 0),
    ttai_tt_field("sector", "sector", TTAI_TT_STRING),
    ttai_tt_field("industry", "industry", TTAI_TT_STRING),
    ttai_tt_field("updated-at", "updated_at", TTAI_TT_STRING),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_market_metrics = {
    "get_market_metrics",
    ttai_tool_metrics_run,
    ttai_tool_metrics_resume,
    TTAI_TOOL_MEMO,
    NULL
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


/* the symbol as asked, then TastyTrade's metrics */

static json_t *
ttai_tool_metrics_shape(const char *symbol, json_t *item)
{
    json_t  *m;

    m = json_pack("{s:s}", "symbol", symbol);

    if (m != NULL && ttai_tt_map(m, item, ttai_tool_metrics_fields) != 0) {
        json_decref(m);
        return NULL;
    }

    return m;
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
