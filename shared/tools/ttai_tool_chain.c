
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
#include "ttai_tt_map.h"
#include "ttai_worker.h"


/*
 * get_option_chain: a small window of an option chain.  A whole nested
 * chain is large (AAPL's is half a megabyte; an index's is many times
 * that), so the tool keeps a page of expirations and, in each, the
 * strikes around the underlying price:
 *
 *   1. GET /option-chains/<symbol>/nested, cached whole as chain:<SYMBOL>
 *      for the chain lifetime; the page of expirations is kept
 *   2. the underlying's quote from KV (quote:<SYMBOL>)
 *   3. or from GET /market-data/by-type, shaped and stored as the worker
 *      service does
 *
 * and then cuts each expiration's strikes to those around the price;
 * with include_greeks, the options shown are read from the market-data
 * stream (ttai_stream.h) and their delta and IV put beside them.
 * Only the standard chains are shown (an index has two: SPX and SPXW);
 * adjusted chains after corporate actions are named, not listed.
 */

#define TTAI_CHAIN_STRIKES_AROUND  10
#define TTAI_CHAIN_DATES_MAX       100   /* expiration dates listed */
#define TTAI_CHAIN_DATES_TEXT      30
#define TTAI_CHAIN_GREEKS_MAX      200   /* options read from the stream */


static int ttai_tool_chain_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_chain_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_chain_read(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_chain_entries(json_t *items, json_t *state);
static int ttai_tool_chain_by_date(const void *a, const void *b);
static json_t *ttai_tool_chain_no_date(const char *symbol,
    const char *date, json_t *entries);
static int ttai_tool_chain_price(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **price);
static int ttai_tool_chain_done(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *price, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_chain_greeks(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *price, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_chain_greeks_read(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp);
static json_t *ttai_tool_chain_window(json_t *e, json_t *price, long k);
static void ttai_tool_chain_greek_text(ttai_market_text_t *t, json_t *s,
    const char *delta, const char *iv);
static void ttai_tool_chain_text(ttai_market_text_t *t, json_t *e,
    json_t *price);
static long ttai_tool_chain_arg(json_t *args, const char *name, long dflt);
static int ttai_tool_chain_is_date(const char *s);


static const ttai_tt_field_t  ttai_tool_chain_strike_fields[] = {
    ttai_tt_field("strike-price", "strike", TTAI_TT_NUMBER),
    ttai_tt_field("call", "call", TTAI_TT_STRING),
    ttai_tt_field("put", "put", TTAI_TT_STRING),
    ttai_tt_field("call-streamer-symbol", "call_streamer", TTAI_TT_STRING),
    ttai_tt_field("put-streamer-symbol", "put_streamer", TTAI_TT_STRING),
    ttai_tt_null_field
};

/* one expiration, every strike: the window is cut later */
static const ttai_tt_field_t  ttai_tool_chain_expiration_fields[] = {
    ttai_tt_field("expiration-date", "date", TTAI_TT_STRING),
    ttai_tt_field("days-to-expiration", "days_to_expiration",
                  TTAI_TT_INTEGER),
    ttai_tt_field("expiration-type", "type", TTAI_TT_STRING),
    ttai_tt_field("settlement-type", "settlement", TTAI_TT_STRING),
    ttai_tt_field("root", "root", TTAI_TT_STRING),
    ttai_tt_nested("strikes", "strikes", TTAI_TT_LIST,
                   ttai_tool_chain_strike_fields, 0),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_option_chain = {
    "get_option_chain",
    ttai_tool_chain_run,
    ttai_tool_chain_resume,
    0,
    NULL
};


static int
ttai_tool_chain_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    char         key[TTAI_WORKER_SYMBOL_LEN + 8];
    char        *e, *path;
    const char  *date;

    if (ttai_market_underlying("get_option_chain",
                               json_object_get(args, "symbol"), symbol,
                               result)
        != 0)
    {
        return *result ? 0 : -1;
    }

    date = json_string_value(json_object_get(args, "expiration"));

    if (date != NULL && !ttai_tool_chain_is_date(date)) {
        *result = ttai_tool_error_result("Tool get_option_chain: expiration "
                                         "\"%s\" is not a date.  Write it "
                                         "YYYY-MM-DD, such as 2026-06-19, "
                                         "or leave it out for the nearest "
                                         "expiration.", date);
        return *result ? 0 : -1;
    }

    if (json_object_set_new(ctx->state, "symbol", json_string(symbol)) != 0
        || json_object_set_new(ctx->state, "step", json_string("chain"))
           != 0)
    {
        return -1;
    }

    e = ttai_tt_escape(symbol);
    if (e == NULL) {
        return -1;
    }

    path = malloc(sizeof("/option-chains//nested") + strlen(e));
    if (path == NULL) {
        free(e);
        return -1;
    }

    sprintf(path, "/option-chains/%s/nested", e);
    free(e);

    snprintf(key, sizeof(key), "chain:%s", symbol);

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, key, ctx->ttl->chain);
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_chain_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int           rc;
    char         *path;
    json_t       *q, *price;
    const char   *step, *symbol;

    step = json_string_value(json_object_get(ctx->state, "step"));
    symbol = json_string_value(json_object_get(ctx->state, "symbol"));

    if (ttai_stream_pending(ctx)) {
        rc = ttai_stream_step(ctx, resp, pending);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }

        if (ttai_tool_chain_greeks_read(ctx, resp) != 0) {
            return -1;
        }

        return ttai_tool_chain_done(ctx, args,
                                    json_incref(json_object_get(ctx->state,
                                                                "price")),
                                    result, pending);
    }

    if (strcmp(step, "chain") == 0) {
        return ttai_tool_chain_read(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "quote") == 0) {
        q = resp->values ? ttai_market_object(resp->values[0], resp->lens[0])
                         : NULL;
        price = json_object_get(q, "price");

        if (json_is_number(price)) {
            json_incref(price);
            json_decref(q);

            return ttai_tool_chain_done(ctx, args, price, result, pending);
        }

        json_decref(q);

        /* no quote in KV: TastyTrade's, for this one symbol */
        path = ttai_worker_by_type_path(&symbol, 1);
        if (path == NULL) {
            return -1;
        }

        if (json_object_set_new(ctx->state, "step", json_string("price"))
            != 0)
        {
            free(path);
            return -1;
        }

        *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                         path, NULL, NULL, 0);
        free(path);

        return *pending ? 0 : -1;
    }

    if (ttai_tool_chain_price(ctx, resp, &price) != 0) {
        return -1;
    }

    return ttai_tool_chain_done(ctx, args, price, result, pending);
}


/* the nested chain: the page of expirations is kept, then the price */

static int
ttai_tool_chain_read(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         key[TTAI_WORKER_SYMBOL_LEN + 8];
    long         n, page, pages, start, total, i, first;
    json_t      *data, *entries, *selected, *dates, *e, *x, *d;
    const char  *symbol, *date, *kp[1];

    symbol = json_string_value(json_object_get(ctx->state, "symbol"));

    data = ttai_tt_data("get_option_chain", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    entries = ttai_tool_chain_entries(json_object_get(data, "items"),
                                      ctx->state);
    json_decref(data);

    if (entries == NULL) {
        return -1;
    }

    total = (long) json_array_size(entries);

    if (total == 0) {
        json_decref(entries);
        *result = ttai_tool_error_result("Tool get_option_chain: TastyTrade "
                                         "lists no options on %s.  Check "
                                         "the symbol with search_symbols "
                                         "(its \"options\" flag).", symbol);
        return *result ? 0 : -1;
    }

    /* where the page starts: the nearest expiration, or the one asked */
    first = 0;
    date = json_string_value(json_object_get(args, "expiration"));

    if (date != NULL) {
        for (first = 0; first < total; first++) {
            d = json_object_get(json_array_get(entries, first),
                                "expiration-date");

            if (strcmp(json_string_value(d), date) == 0) {
                break;
            }
        }

        if (first == total) {
            *result = ttai_tool_chain_no_date(symbol, date, entries);
            json_decref(entries);
            return *result ? 0 : -1;
        }
    }

    n = ttai_tool_chain_arg(args, "expirations", 1);
    page = ttai_tool_chain_arg(args, "page", 1);
    pages = (total - first + n - 1) / n;
    start = first + (page - 1) * n;

    if (page > pages) {
        json_decref(entries);
        *result = ttai_tool_error_result("Tool get_option_chain: page %ld "
                                         "is past the last one: %s has %ld "
                                         "page%s of %ld expiration%s%s.  "
                                         "Ask for page 1 to %ld.",
                                         page, symbol, pages,
                                         pages == 1 ? "" : "s", n,
                                         n == 1 ? "" : "s",
                                         date ? " from that date" : "",
                                         pages);
        return *result ? 0 : -1;
    }

    selected = json_array();
    dates = json_array();

    if (selected == NULL || dates == NULL
        || json_object_set_new(ctx->state, "selected", selected) != 0
        || json_object_set_new(ctx->state, "dates", dates) != 0)
    {
        json_decref(entries);
        return -1;
    }

    for (i = 0; i < total; i++) {
        e = json_array_get(entries, i);
        d = json_object_get(e, "expiration-date");

        /* each date once: SPX and SPXW may share one */
        if (json_array_size(dates) < TTAI_CHAIN_DATES_MAX
            && !json_equal(json_array_get(dates, json_array_size(dates) - 1),
                           d)
            && json_array_append(dates, d) != 0)
        {
            json_decref(entries);
            return -1;
        }

        if (i < start || i >= start + n) {
            continue;
        }

        x = ttai_tt_mapped(e, ttai_tool_chain_expiration_fields);

        if (x == NULL || json_array_append_new(selected, x) != 0) {
            json_decref(entries);
            return -1;
        }
    }

    json_decref(entries);

    if (json_object_set_new(ctx->state, "total", json_integer(total)) != 0
        || json_object_set_new(ctx->state, "pages", json_integer(pages)) != 0
        || json_object_set_new(ctx->state, "page", json_integer(page)) != 0
        || json_object_set_new(ctx->state, "start", json_integer(start)) != 0
        || json_object_set_new(ctx->state, "step", json_string("quote"))
           != 0)
    {
        return -1;
    }

    snprintf(key, sizeof(key), "quote:%s", symbol);
    kp[0] = key;

    *pending = ttai_mcp_pending_cache(kp, 1);

    return *pending ? 0 : -1;
}


/*
 * Every expiration of the standard chains (of all chains, when none is
 * standard), sorted by date then root: an array of the raw expiration
 * objects with "root" added.  The adjusted chains' roots go to
 * state.other_chains, the shares per contract to state.
 */

static json_t *
ttai_tool_chain_entries(json_t *items, json_t *state)
{
    int          standard;
    size_t       i, j, n;
    json_t      *entries, *others, *item, *e, *c, *spc, *root, **sorted;
    const char  *type;

    standard = 0;

    json_array_foreach(items, i, item) {
        type = json_string_value(json_object_get(item, "option-chain-type"));

        if (type != NULL && strcmp(type, "Standard") == 0) {
            standard = 1;
        }
    }

    entries = json_array();
    others = json_array();

    if (entries == NULL || others == NULL
        || json_object_set_new(state, "other_chains", others) != 0)
    {
        json_decref(entries);
        return NULL;
    }

    json_array_foreach(items, i, item) {
        type = json_string_value(json_object_get(item, "option-chain-type"));

        if (standard && (type == NULL || strcmp(type, "Standard") != 0)) {
            if (json_is_string(json_object_get(item, "root-symbol"))
                && json_array_append(others,
                                     json_object_get(item, "root-symbol"))
                   != 0)
            {
                json_decref(entries);
                return NULL;
            }

            continue;
        }

        spc = json_object_get(item, "shares-per-contract");

        if (json_is_integer(spc)
            && json_object_get(state, "shares_per_contract") == NULL)
        {
            json_object_set(state, "shares_per_contract", spc);
        }

        root = json_object_get(item, "root-symbol");

        json_array_foreach(json_object_get(item, "expirations"), j, e) {
            if (!json_is_string(json_object_get(e, "expiration-date"))) {
                continue;
            }

            c = json_copy(e);

            /* a chain without its root is shown without one */
            if (c != NULL && json_is_string(root)
                && json_object_set(c, "root", root) != 0)
            {
                json_decref(c);
                c = NULL;
            }

            if (c == NULL || json_array_append_new(entries, c) != 0) {
                json_decref(entries);
                return NULL;
            }
        }
    }

    /* by date, then root: the chains' expirations interleaved */
    n = json_array_size(entries);

    if (n < 2) {
        return entries;
    }

    sorted = malloc(n * sizeof(json_t *));
    if (sorted == NULL) {
        json_decref(entries);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        sorted[i] = json_incref(json_array_get(entries, i));
    }

    qsort(sorted, n, sizeof(json_t *), ttai_tool_chain_by_date);
    json_array_clear(entries);

    for (i = 0; i < n; i++) {
        if (json_array_append_new(entries, sorted[i]) != 0) {
            for (j = i + 1; j < n; j++) {
                json_decref(sorted[j]);
            }

            free(sorted);
            json_decref(entries);
            return NULL;
        }
    }

    free(sorted);

    return entries;
}


static int
ttai_tool_chain_by_date(const void *a, const void *b)
{
    int          rc;
    json_t      *x, *y;
    const char  *rx, *ry;

    x = *(json_t *const *) a;
    y = *(json_t *const *) b;

    rc = strcmp(json_string_value(json_object_get(x, "expiration-date")),
                json_string_value(json_object_get(y, "expiration-date")));

    if (rc != 0) {
        return rc;
    }

    rx = json_string_value(json_object_get(x, "root"));
    ry = json_string_value(json_object_get(y, "root"));

    return strcmp(rx ? rx : "", ry ? ry : "");
}


/* an expiration date the chain lacks: the nearest ones it has */

static json_t *
ttai_tool_chain_no_date(const char *symbol, const char *date,
    json_t *entries)
{
    size_t       i;
    const char  *before, *after, *d;

    before = NULL;
    after = NULL;

    for (i = 0; i < json_array_size(entries); i++) {
        d = json_string_value(json_object_get(json_array_get(entries, i),
                                              "expiration-date"));

        if (strcmp(d, date) < 0) {
            before = d;

        } else if (after == NULL) {
            after = d;
        }
    }

    return ttai_tool_error_result("Tool get_option_chain: %s has no "
                                  "expiration on %s.  The nearest are "
                                  "%s%s%s.  Call again with one of them, or "
                                  "without expiration for the nearest "
                                  "to today.", symbol, date,
                                  before ? before : "",
                                  before && after ? " and " : "",
                                  after ? after : "");
}


/* TastyTrade's quote of the underlying: its price, and the quote stored */

static int
ttai_tool_chain_price(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **price)
{
    char         key[TTAI_WORKER_SYMBOL_LEN + 8];
    char         sym[TTAI_WORKER_SYMBOL_LEN + 1];
    char        *value;
    size_t       i;
    json_t      *body, *item, *q;
    const char  *symbol, *s;

    *price = json_null();
    symbol = json_string_value(json_object_get(ctx->state, "symbol"));

    if (resp->status < 200 || resp->status > 299) {
        /* the chain is still worth showing: the text says why */
        return json_object_set_new(ctx->state, "price_status",
                                   json_integer(resp->status));
    }

    body = ttai_market_object(resp->body, resp->len);
    q = NULL;

    json_array_foreach(json_object_get(json_object_get(body, "data"),
                                       "items"), i, item)
    {
        s = json_string_value(json_object_get(item, "symbol"));

        if (s != NULL && ttai_worker_symbol(s, strlen(s), sym) == 0
            && strcmp(sym, symbol) == 0)
        {
            q = ttai_worker_quote(item);
            break;
        }
    }

    json_decref(body);

    if (q == NULL) {
        return 0;
    }

    value = ttai_worker_dump(q);
    snprintf(key, sizeof(key), "quote:%s", symbol);

    if (value == NULL
        || ttai_tool_store(ctx, key, value, strlen(value), ctx->ttl->quote)
           != 0)
    {
        free(value);
        json_decref(q);
        return -1;
    }

    free(value);

    *price = json_incref(json_object_get(q, "price"));
    json_decref(q);

    return *price ? 0 : -1;
}


/* takes the reference to price */

static int
ttai_tool_chain_done(ttai_tool_ctx_t *ctx, json_t *args, json_t *price,
    json_t **result, ttai_mcp_pending_t **pending)
{
    long                 k, page, pages, total, shown, start;
    char                 p[32];
    size_t               i;
    json_t              *state, *out, *list, *e, *w, *v, *others, *windows;
    const char          *symbol;
    ttai_market_text_t   t;

    state = ctx->state;
    windows = json_object_get(state, "windows");

    if (json_is_true(json_object_get(args, "include_greeks"))
        && windows == NULL)
    {
        return ttai_tool_chain_greeks(ctx, args, price, result, pending);
    }

    symbol = json_string_value(json_object_get(state, "symbol"));
    k = ttai_tool_chain_arg(args, "strikes_around",
                            TTAI_CHAIN_STRIKES_AROUND);
    page = (long) json_integer_value(json_object_get(state, "page"));
    pages = (long) json_integer_value(json_object_get(state, "pages"));
    total = (long) json_integer_value(json_object_get(state, "total"));
    others = json_object_get(state, "other_chains");

    v = json_object_get(state, "shares_per_contract");

    out = json_pack("{s:s, s:o, s:O, s:I, s:I, s:I, s:I, s:[], s:O, s:O}",
                    "symbol", symbol,
                    "underlying_price", price,
                    "shares_per_contract", v ? v : json_null(),
                    "strikes_around", (json_int_t) k,
                    "page", (json_int_t) page,
                    "pages", (json_int_t) pages,
                    "expirations_total", (json_int_t) total,
                    "expirations",
                    "available_expirations", json_object_get(state, "dates"),
                    "other_chains", others);
    if (out == NULL) {
        return -1;
    }

    list = json_object_get(out, "expirations");
    memset(&t, 0, sizeof(t));

    ttai_market_printf(&t, "%s options, underlying price %s", symbol,
                       json_is_number(price)
                       ? ttai_market_num(p, sizeof(p), price, 2, 4)
                       : "unknown");

    if (json_is_integer(v)) {
        ttai_market_printf(&t, ", %lld shares per contract",
                           (long long) json_integer_value(v));
    }

    ttai_market_printf(&t, ".\n");

    if (!json_is_number(price)) {
        v = json_object_get(state, "price_status");

        if (v != NULL) {
            ttai_market_printf(&t, "The underlying price is unknown "
                               "(TastyTrade answered HTTP %lld for its "
                               "quote)", (long long) json_integer_value(v));

        } else {
            ttai_market_printf(&t, "The underlying price is unknown "
                               "(TastyTrade sent no quote for it)");
        }

        ttai_market_printf(&t, ": the strikes shown are the middle ones of "
                           "each expiration, not those around the price.\n");
    }

    json_array_foreach(json_object_get(state, "selected"), i, e) {
        w = windows ? json_incref(json_array_get(windows, i))
                    : ttai_tool_chain_window(e, price, k);

        if (w == NULL || json_array_append_new(list, w) != 0) {
            free(t.data);
            json_decref(out);
            return -1;
        }

        ttai_tool_chain_text(&t, w, price);
    }

    /* what was left out, and how to ask for it */
    shown = (long) json_array_size(list);

    start = (long) json_integer_value(json_object_get(state, "start"));

    if (shown == 1) {
        ttai_market_printf(&t, "\nShown: expiration %ld of %ld", start + 1,
                           total);

    } else {
        ttai_market_printf(&t, "\nShown: expirations %ld to %ld of %ld",
                           start + 1, start + shown, total);
    }

    ttai_market_printf(&t, " (page %ld of %ld).", page, pages);

    if (page < pages) {
        ttai_market_printf(&t, "  More: page=%ld for the next, or "
                           "expirations=N (up to 12) for more at once, or "
                           "expiration=YYYY-MM-DD.", page + 1);
    }

    ttai_market_printf(&t, "  strikes_around (now %ld, up to 50) widens "
                       "each expiration.  get_quotes prices any symbol "
                       "above.\nExpirations:", k);

    json_array_foreach(json_object_get(state, "dates"), i, v) {
        if (i == TTAI_CHAIN_DATES_TEXT) {
            ttai_market_printf(&t, " and %zu more",
                               json_array_size(json_object_get(state,
                                                               "dates"))
                               - i);
            break;
        }

        ttai_market_printf(&t, " %s", json_string_value(v));
    }

    ttai_market_printf(&t, "\n");

    v = json_object_get(state, "greeks_note");

    if (json_is_string(v)
        && json_object_set(out, "greeks_note", v) == 0)
    {
        ttai_market_printf(&t, "No greeks: %s.\n", json_string_value(v));
    }

    if (json_array_size(others) > 0) {
        ttai_market_printf(&t, "Not shown: adjusted chains");

        json_array_foreach(others, i, v) {
            ttai_market_printf(&t, "%s %s", i ? "," : "",
                               json_string_value(v));
        }

        ttai_market_printf(&t, " (after corporate actions; their "
                           "deliverables differ).\n");
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}


/*
 * include_greeks: the windows are cut now and kept, with the price, and
 * their options read from the stream; done() runs again on the answer
 */

static int
ttai_tool_chain_greeks(ttai_tool_ctx_t *ctx, json_t *args, json_t *price,
    json_t **result, ttai_mcp_pending_t **pending)
{
    long         k;
    size_t       i, j;
    json_t      *windows, *streamer, *e, *w, *s, *v;
    const char  *side[] = { "call_streamer", "put_streamer" };

    k = ttai_tool_chain_arg(args, "strikes_around",
                            TTAI_CHAIN_STRIKES_AROUND);

    windows = json_array();
    streamer = json_array();

    if (json_object_set_new(ctx->state, "price", price) != 0
        || json_object_set_new(ctx->state, "windows", windows) != 0
        || json_object_set_new(ctx->state, "streamer", streamer) != 0)
    {
        return -1;
    }

    json_array_foreach(json_object_get(ctx->state, "selected"), i, e) {
        w = ttai_tool_chain_window(e, price, k);

        if (w == NULL || json_array_append_new(windows, w) != 0) {
            return -1;
        }

        json_array_foreach(json_object_get(w, "strikes"), j, s) {
            v = json_object_get(s, side[0]);

            if (json_is_string(v) && json_array_append(streamer, v) != 0) {
                return -1;
            }

            v = json_object_get(s, side[1]);

            if (json_is_string(v) && json_array_append(streamer, v) != 0) {
                return -1;
            }
        }
    }

    if (json_array_size(streamer) > TTAI_CHAIN_GREEKS_MAX) {
        *result = ttai_tool_error_result("Tool get_option_chain: "
                      "include_greeks reads at most %d options, and these "
                      "expirations and strikes show %zu: lower "
                      "strikes_around or expirations.", TTAI_CHAIN_GREEKS_MAX,
                      json_array_size(streamer));
        return *result ? 0 : -1;
    }

    *pending = ttai_stream_begin(ctx, streamer, "Greeks",
                                 TTAI_STREAM_WAIT_MAX);

    return *pending ? 0 : -1;
}


/* each option's live delta and IV beside its strike, or why none */

static int
ttai_tool_chain_greeks_read(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp)
{
    int          live;
    char         why[320];
    size_t       i, j, n;
    double       d, iv;
    json_t      *feed, *by, *v, *g, *w, *s, *x;
    const char  *name;

    static const char  *sides[][3] = {
        { "call_streamer", "call_delta", "call_iv" },
        { "put_streamer", "put_delta", "put_iv" }
    };

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        ttai_stream_why(feed, why, sizeof(why));
        json_decref(feed);

        return json_object_set_new(ctx->state, "greeks_note",
                                   json_string(why));
    }

    by = json_object();
    if (by == NULL) {
        json_decref(feed);
        return -1;
    }

    json_array_foreach(json_object_get(ctx->state, "streamer"), i, x) {
        v = ttai_stream_value(feed, resp, i, &live);
        g = live ? json_object_get(v, "Greeks") : NULL;

        if (g != NULL) {
            json_object_set(by, json_string_value(x), g);
        }

        json_decref(v);
    }

    json_decref(feed);

    json_array_foreach(json_object_get(ctx->state, "windows"), i, w) {
        json_array_foreach(json_object_get(w, "strikes"), j, s) {
            for (n = 0; n < 2; n++) {
                name = json_string_value(json_object_get(s, sides[n][0]));
                g = name ? json_object_get(by, name) : NULL;
                d = ttai_stream_num(g, "delta");
                iv = ttai_stream_num(g, "volatility");

                if (json_object_set_new(s, sides[n][1], isnan(d)
                        ? json_null() : json_real(ttai_market_round(d, 4)))
                    != 0
                    || json_object_set_new(s, sides[n][2], isnan(iv)
                        ? json_null()
                        : json_real(ttai_market_round(iv * 100, 2)))
                       != 0)
                {
                    json_decref(by);
                    return -1;
                }
            }
        }
    }

    json_decref(by);

    return 0;
}


/*
 * The expiration with the k strikes below the price and the k at or
 * above it (the middle ones when the price is unknown); strikes come
 * sorted from TastyTrade
 */

static json_t *
ttai_tool_chain_window(json_t *e, json_t *price, long k)
{
    long     n, at, lo, hi, i;
    double   p;
    json_t  *w, *all, *strikes, *s;

    all = json_object_get(e, "strikes");
    n = (long) json_array_size(all);

    if (json_is_number(price)) {
        p = json_number_value(price);

        for (at = 0; at < n; at++) {
            s = json_object_get(json_array_get(all, at), "strike");

            if (json_is_number(s) && json_number_value(s) >= p) {
                break;
            }
        }

    } else {
        at = n / 2;
    }

    lo = at - k < 0 ? 0 : at - k;
    hi = at + k > n ? n : at + k;

    strikes = json_array();
    if (strikes == NULL) {
        return NULL;
    }

    for (i = lo; i < hi; i++) {
        if (json_array_append(strikes, json_array_get(all, i)) != 0) {
            json_decref(strikes);
            return NULL;
        }
    }

    w = json_copy(e);

    if (w == NULL
        || json_object_set_new(w, "strikes_total", json_integer(n)) != 0
        || json_object_set_new(w, "strikes", strikes) != 0)
    {
        json_decref(w);
        return NULL;
    }

    return w;
}


/* an expiration's head line, then a line per strike */

static void
ttai_tool_chain_text(ttai_market_text_t *t, json_t *w, json_t *price)
{
    int          marked;
    char         buf[32];
    size_t       i;
    json_t      *s, *dte, *strike;
    const char  *type, *settlement, *root, *call, *put;

    dte = json_object_get(w, "days_to_expiration");
    type = json_string_value(json_object_get(w, "type"));
    settlement = json_string_value(json_object_get(w, "settlement"));
    root = json_string_value(json_object_get(w, "root"));

    ttai_market_printf(t, "\n%s", json_string_value(json_object_get(w,
                                                                    "date")));

    if (json_is_integer(dte)) {
        ttai_market_printf(t, ", %lld day%s", (long long)
                           json_integer_value(dte),
                           json_integer_value(dte) == 1 ? "" : "s");
    }

    ttai_market_printf(t, " (%s%s%s%s", type ? type : "?",
                       settlement ? ", " : "", settlement ? settlement : "",
                       settlement ? " settled" : "");

    /* an index's second chain (SPXW beside SPX) is told by its root */
    if (root != NULL) {
        ttai_market_printf(t, ", root %s", root);
    }

    ttai_market_printf(t, "): %zu of %lld strikes\n",
                       json_array_size(json_object_get(w, "strikes")),
                       (long long) json_integer_value(
                           json_object_get(w, "strikes_total")));

    marked = !json_is_number(price);

    json_array_foreach(json_object_get(w, "strikes"), i, s) {
        strike = json_object_get(s, "strike");

        if (!marked && json_is_number(strike)
            && json_number_value(strike) >= json_number_value(price))
        {
            ttai_market_printf(t, "  -- underlying %s --\n",
                               ttai_market_num(buf, sizeof(buf), price, 2,
                                               4));
            marked = 1;
        }

        call = json_string_value(json_object_get(s, "call"));
        put = json_string_value(json_object_get(s, "put"));

        ttai_market_printf(t, "  %s  C %s",
                           ttai_market_num(buf, sizeof(buf), strike, 0, 3),
                           call ? call : "-");
        ttai_tool_chain_greek_text(t, s, "call_delta", "call_iv");
        ttai_market_printf(t, "  P %s", put ? put : "-");
        ttai_tool_chain_greek_text(t, s, "put_delta", "put_iv");
        ttai_market_printf(t, "\n");
    }

    if (!marked) {
        ttai_market_printf(t, "  -- underlying %s --\n",
                           ttai_market_num(buf, sizeof(buf), price, 2, 4));
    }
}


/* " d 0.52 iv 25.1%" after an option read from the stream */

static void
ttai_tool_chain_greek_text(ttai_market_text_t *t, json_t *s,
    const char *delta, const char *iv)
{
    json_t  *d, *v;

    d = json_object_get(s, delta);
    v = json_object_get(s, iv);

    if (json_is_number(d)) {
        ttai_market_printf(t, " d %.2f", json_number_value(d));

        if (json_is_number(v)) {
            ttai_market_printf(t, " iv %.1f%%", json_number_value(v));
        }
    }
}


/* an integer argument, or its default */

static long
ttai_tool_chain_arg(json_t *args, const char *name, long dflt)
{
    json_t  *v;

    v = json_object_get(args, name);

    return json_is_integer(v) ? (long) json_integer_value(v) : dflt;
}


static int
ttai_tool_chain_is_date(const char *s)
{
    int  i;

    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char) s[i]))
        {
            return 0;
        }
    }

    return s[10] == '\0';
}
