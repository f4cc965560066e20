
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_worker.h"


static const ttai_cache_ttl_t  ttl = { 5, 60, 600, 5 };


/* the seed's test: TastyTrade's answer for AAPL */
static const char  aapl_seed[] =
    "{\"data\":{\"items\":[{\"symbol\":\"AAPL\",\"instrument-type\":"
    "\"Equity\",\"last\":\"150.00\",\"bid\":\"149.95\",\"ask\":"
    "\"150.05\",\"prev-close\":\"148.00\",\"updated-at\":"
    "\"2026-08-24T17:58:51.035Z\"}]},\"pagination\":null}";

/* real sandbox items (/market-data/by-type): an equity and an index */
static const char  by_type[] =
    "{\"data\":{\"items\":["
    "{\"ask\":\"312.02\",\"ask-size\":\"80.0\",\"beta\":\"1.077345336\","
    "\"bid\":\"312.01\",\"bid-size\":\"240.0\",\"close-price-type\":"
    "\"Regular\",\"day-high-price\":\"313.36\",\"day-low-price\":"
    "\"309.97\",\"dividend-amount\":\"0.27\",\"dividend-frequency\":\"4.0\","
    "\"halt-end-time\":-1,\"halt-start-time\":-1,\"high-limit-price\":"
    "\"326.78\",\"instrument-type\":\"Equity\",\"is-trading-halted\":false,"
    "\"last\":\"312.0151\",\"last-mkt\":\"312.0151\",\"low-limit-price\":"
    "\"295.66\",\"mark\":\"312.0151\",\"mid\":\"312.015\",\"open\":"
    "\"311.47\",\"prev-close\":\"309.35\",\"prev-close-date\":\"2026-08-21\","
    "\"prev-close-price-type\":\"Final\",\"summary-date\":\"2026-08-24\","
    "\"symbol\":\"AAPL\",\"updated-at\":\"2026-08-24T17:58:51.035Z\","
    "\"volume\":\"16006738.789447\",\"volume-ext\":\"320856.448488\","
    "\"year-high-price\":\"344.5699\",\"year-low-price\":\"224.69\"},"
    "{\"ask-size\":\"0.0\",\"beta\":\"-7.136188659\",\"bid-size\":\"0.0\","
    "\"close-price-type\":\"Regular\",\"day-high-price\":\"16.06\","
    "\"day-low-price\":\"15.61\",\"halt-end-time\":-1,\"halt-start-time\":-1,"
    "\"instrument-type\":\"Index\",\"is-trading-halted\":false,\"last\":"
    "\"15.8\",\"last-mkt\":\"15.8\",\"mark\":\"15.8\",\"open\":\"15.9\","
    "\"prev-close\":\"15.13\",\"prev-close-date\":\"2026-08-21\","
    "\"prev-close-price-type\":\"Regular\",\"summary-date\":\"2026-08-24\","
    "\"symbol\":\"VIX\",\"updated-at\":\"2026-08-24T17:58:47.092Z\","
    "\"year-high-price\":\"35.3\",\"year-low-price\":\"13.38\"}]},"
    "\"pagination\":null}";


/* helpers */

static int
resume_kv(ttai_worker_reply_t *reply, const char **values)
{
    size_t                i;
    size_t                lens[TTAI_WORKER_MAX_SYMBOLS];
    ttai_mcp_response_t   resp;

    assert_non_null(reply->pending);
    assert_int_equal(reply->pending->kind, TTAI_PENDING_CACHE);
    assert_null(reply->pending->state);

    for (i = 0; i < reply->pending->nkeys; i++) {
        lens[i] = values[i] ? strlen(values[i]) : 0;
    }

    memset(&resp, 0, sizeof(resp));
    resp.values = values;
    resp.lens = lens;

    return ttai_worker_resume(reply, &resp);
}


static int
resume_http(ttai_worker_reply_t *reply, int status, const char *body)
{
    ttai_mcp_response_t  resp;

    assert_non_null(reply->pending);
    assert_int_equal(reply->pending->kind, TTAI_PENDING_HTTP);
    assert_null(reply->pending->state);

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = body ? strlen(body) : 0;
    resp.error = status == 0 ? "timed out after 10 s" : NULL;

    return ttai_worker_resume(reply, &resp);
}


/* the answer, parsed, with its status checked */

static json_t *
answer(ttai_worker_reply_t *reply, int status)
{
    json_t  *j;

    assert_null(reply->pending);
    assert_non_null(reply->body);
    assert_int_equal(reply->status, status);
    assert_int_equal(reply->len, strlen(reply->body));

    j = json_loads(reply->body, 0, NULL);
    assert_non_null(j);

    return j;
}


static void
assert_error(ttai_worker_reply_t *reply, int status, const char *part)
{
    json_t      *j;
    const char  *e;

    j = answer(reply, status);
    e = json_string_value(json_object_get(j, "error"));
    assert_non_null(e);

    if (strstr(e, part) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", e, part);
    }

    json_decref(j);
}


static double
num(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);
    assert_true(json_is_number(v));

    return json_number_value(v);
}


/* a quote shaped from an item given as JSON text */

static json_t *
shape(const char *text)
{
    json_t  *item, *q;

    item = json_loads(text, 0, NULL);
    assert_non_null(item);

    q = ttai_worker_quote(item);
    json_decref(item);

    return q;
}


/* tests */

static void
test_miss_request_store_answer(void **state)
{
    json_t               *j, *stored;
    const char           *values[1] = { NULL };
    ttai_worker_reply_t   reply;

    /* 1. KV */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/AAPL", NULL, &reply),
                     0);
    assert_null(reply.body);
    assert_non_null(reply.job);
    assert_int_equal(reply.pending->nkeys, 1);
    assert_string_equal(reply.pending->keys[0], "quote:AAPL");

    /* 2. a miss: one TastyTrade request */
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->service, TTAI_SERVICE_TASTYTRADE);
    assert_string_equal(reply.pending->method, "GET");
    assert_string_equal(reply.pending->path,
                        "/market-data/by-type?equity=AAPL");
    assert_null(reply.pending->cache_key);
    assert_null(reply.pending->body);
    assert_int_equal(reply.nstores, 0);

    /* 3. the answer, stored first */
    assert_int_equal(resume_http(&reply, 200, aapl_seed), 0);
    assert_int_equal(reply.nstores, 1);
    assert_string_equal(reply.stores[0].key, "quote:AAPL");
    assert_int_equal(reply.stores[0].ttl, 5);
    assert_int_equal(reply.stores[0].len, strlen(reply.stores[0].value));
    assert_null(reply.job);

    /* the seed's test: price from last */
    assert_non_null(strstr(reply.body, "\"symbol\":\"AAPL\""));
    assert_non_null(strstr(reply.body, "\"price\":150.0"));
    assert_non_null(strstr(reply.body, "\"bid\":149.95,"));

    j = answer(&reply, 200);
    assert_string_equal(json_string_value(json_object_get(j, "symbol")),
                        "AAPL");
    assert_true(num(j, "price") == 150.0);
    assert_true(num(j, "bid") == 149.95);
    assert_true(num(j, "ask") == 150.05);
    assert_true(num(j, "last") == 150.0);
    assert_true(num(j, "prev_close") == 148.0);
    assert_true(num(j, "change") == 2.0);
    assert_true(num(j, "change_percent") == 1.35);
    assert_true(json_is_null(json_object_get(j, "mark")));
    assert_true(json_is_null(json_object_get(j, "volume")));
    assert_string_equal(json_string_value(json_object_get(j,
                                                          "instrument_type")),
                        "Equity");

    /* the stored value is the answer */
    stored = json_loadb(reply.stores[0].value, reply.stores[0].len, 0, NULL);
    assert_true(json_equal(stored, j));

    json_decref(stored);
    json_decref(j);
    ttai_worker_reply_free(&reply);
}


static void
test_hit_makes_no_request(void **state)
{
    json_t               *j;
    const char           *values[1];
    ttai_worker_reply_t   reply;

    values[0] = "{\"symbol\":\"AAPL\",\"price\":150.0,\"bid\":149.95}";

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/aapl", NULL, &reply),
                     0);
    assert_string_equal(reply.pending->keys[0], "quote:AAPL");
    assert_int_equal(resume_kv(&reply, values), 0);

    /* answered from KV: no HTTP, nothing stored */
    assert_null(reply.pending);
    assert_int_equal(reply.nstores, 0);

    j = answer(&reply, 200);
    assert_true(num(j, "price") == 150.0);
    json_decref(j);
    ttai_worker_reply_free(&reply);

    /* a value that is not a quote is a miss */
    {
        size_t  i;

        static const char  *notquotes[] = {
            "not json", "[1]", "{\"symbol\":\"AAPL\"}",
            "{\"symbol\":\"AAPL\",\"price\":\"150\"}", "{\"price\":1}",
            /* a member of another type, or one no quote has */
            "{\"symbol\":\"AAPL\",\"price\":1,\"low\":\"data\"}",
            "{\"symbol\":\"AAPL\",\"price\":1,\"updated_at\":5}",
            "{\"symbol\":\"AAPL\",\"price\":1,\"note\":\"x\"}",
        };

        for (i = 0; i < sizeof(notquotes) / sizeof(notquotes[0]); i++) {
            values[0] = notquotes[i];

            assert_int_equal(ttai_worker_handle(&ttl, "/quotes/AAPL", NULL,
                                                &reply), 0);
            assert_int_equal(resume_kv(&reply, values), 0);
            assert_non_null(reply.pending);
            assert_int_equal(reply.pending->kind, TTAI_PENDING_HTTP);
            ttai_worker_reply_free(&reply);
        }
    }

    /* a price of null is a quote: TastyTrade had none */
    values[0] = "{\"symbol\":\"AAPL\",\"price\":null}";

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/AAPL", NULL, &reply),
                     0);
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_null(reply.pending);
    assert_int_equal(reply.status, 200);
    ttai_worker_reply_free(&reply);
}


static void
test_kinds(void **state)
{
    size_t  i;

    static const struct {
        const char  *symbol;
        int          kind;
    } cases[] = {
        { "AAPL", TTAI_WORKER_EQUITY },
        { "SPY", TTAI_WORKER_EQUITY },
        { "BRK/B", TTAI_WORKER_EQUITY },
        { "SPX", TTAI_WORKER_INDEX },
        { "VIX", TTAI_WORKER_INDEX },
        { "NDX", TTAI_WORKER_INDEX },
        { "RUT", TTAI_WORKER_INDEX },
        { "DJX", TTAI_WORKER_INDEX },
        { "XSP", TTAI_WORKER_INDEX },
        { "VIX9D", TTAI_WORKER_INDEX },
        { "SPXW", TTAI_WORKER_EQUITY },
        { "/ESZ5", TTAI_WORKER_FUTURE },
        { "/CLF26", TTAI_WORKER_FUTURE },
        { "./ESZ5 EW1Z5 251121C6000", TTAI_WORKER_FUTURE_OPTION },
        { "AAPL  261218C00150000", TTAI_WORKER_EQUITY_OPTION },
        { "SPY   230731P00393000", TTAI_WORKER_EQUITY_OPTION },
        { "SPXW  261218C05000000", TTAI_WORKER_EQUITY_OPTION },
        { "AAPL 261218C00150000", TTAI_WORKER_EQUITY },
        { "AAPL  261218X00150000", TTAI_WORKER_EQUITY },
        { "BTC/USD", TTAI_WORKER_CRYPTOCURRENCY },
        { "ETH/USD", TTAI_WORKER_CRYPTOCURRENCY },
        { "/USD", TTAI_WORKER_FUTURE },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ttai_worker_kind(cases[i].symbol) != cases[i].kind) {
            fail_msg("%s: kind %d, not %d", cases[i].symbol,
                     ttai_worker_kind(cases[i].symbol), cases[i].kind);
        }
    }

    assert_string_equal(ttai_worker_kind_param(TTAI_WORKER_EQUITY), "equity");
    assert_string_equal(ttai_worker_kind_param(TTAI_WORKER_FUTURE_OPTION),
                        "future-option");
    assert_string_equal(ttai_worker_kind_param(TTAI_WORKER_EQUITY_OPTION),
                        "equity-option");
    assert_string_equal(ttai_worker_kind_param(TTAI_WORKER_CRYPTOCURRENCY),
                        "cryptocurrency");
    assert_null(ttai_worker_kind_param(TTAI_WORKER_NKINDS));
    assert_null(ttai_worker_kind_param(-1));
}


static void
test_symbols(void **state)
{
    char    out[TTAI_WORKER_SYMBOL_LEN + 1];
    char    toolong[TTAI_WORKER_SYMBOL_LEN + 2];
    size_t  i;

    static const char  *good[][2] = {
        { "aapl", "AAPL" },
        { "  spy\t", "SPY" },
        { "/esz5", "/ESZ5" },
        { "btc/usd", "BTC/USD" },
        { "AAPL  261218C00150000", "AAPL  261218C00150000" },
        /* OCC roots padded again */
        { "AAPL261218C00150000", "AAPL  261218C00150000" },
        { "aapl 261218c00150000", "AAPL  261218C00150000" },
        { "SPY230731P00393000", "SPY   230731P00393000" },
        { "SPXW 261218C05000000", "SPXW  261218C05000000" },
        { "X 261218C00015000", "X     261218C00015000" },
        /* futures options keep their spacing */
        { "./esz5 ew1z5 251121c6000", "./ESZ5 EW1Z5 251121C6000" },
        { "BRK/B", "BRK/B" },
        { "BRK.B", "BRK.B" },
    };

    static const char  *bad[] = {
        "", "   ", "AA,PL", "AAPL\"", "A\nB", "A%B", "<x>", "a&b", "a+b",
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ttai_worker_symbol(good[i][0], strlen(good[i][0]),
                                            out), 0);
        assert_string_equal(out, good[i][1]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ttai_worker_symbol(bad[i], strlen(bad[i]), out) != -1) {
            fail_msg("\"%s\" was taken as a symbol", bad[i]);
        }
    }

    memset(toolong, 'A', sizeof(toolong) - 1);
    toolong[sizeof(toolong) - 1] = '\0';
    assert_int_equal(ttai_worker_symbol(toolong, strlen(toolong), out), -1);
    assert_int_equal(ttai_worker_symbol(toolong, TTAI_WORKER_SYMBOL_LEN, out),
                     0);

    /* len counts, not the NUL */
    assert_int_equal(ttai_worker_symbol("AAPLXYZ", 4, out), 0);
    assert_string_equal(out, "AAPL");
}


static void
test_by_type_path(void **state)
{
    char  *path;

    static const char  *one[] = { "/ESZ5" };
    static const char  *option[] = { "AAPL  261218C00150000" };
    static const char  *all[] = {
        "AAPL", "/ESZ5", "SPX", "AAPL  261218C00150000", "BTC/USD", "SPY",
        "./ESZ5 EW1Z5 251121C6000", "VIX"
    };

    path = ttai_worker_by_type_path(one, 1);
    assert_string_equal(path, "/market-data/by-type?future=%2FESZ5");
    free(path);

    path = ttai_worker_by_type_path(option, 1);
    assert_string_equal(path, "/market-data/by-type?equity-option="
                              "AAPL%20%20261218C00150000");
    free(path);

    /* grouped by kind, comma lists, the order asked kept in each */
    path = ttai_worker_by_type_path(all, sizeof(all) / sizeof(all[0]));
    assert_string_equal(path, "/market-data/by-type?equity=AAPL,SPY"
                              "&index=SPX,VIX&future=%2FESZ5"
                              "&future-option=.%2FESZ5%20EW1Z5%20251121C6000"
                              "&equity-option=AAPL%20%20261218C00150000"
                              "&cryptocurrency=BTC%2FUSD");
    free(path);
}


static void
test_encoded_requests(void **state)
{
    const char           *values[3] = { NULL, NULL, NULL };
    ttai_worker_reply_t   reply;

    /* a percent-encoded future */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/%2fesz5", NULL,
                                        &reply), 0);
    assert_string_equal(reply.pending->keys[0], "quote:/ESZ5");
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_string_equal(reply.pending->path,
                        "/market-data/by-type?future=%2FESZ5");
    ttai_worker_reply_free(&reply);

    /* left unencoded, it is still the symbol */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes//ESZ5", NULL, &reply),
                     0);
    assert_string_equal(reply.pending->keys[0], "quote:/ESZ5");
    ttai_worker_reply_free(&reply);

    /* an option with its spaces */
    assert_int_equal(ttai_worker_handle(&ttl,
                                        "/quotes/AAPL%20%20261218C00150000",
                                        NULL, &reply), 0);
    assert_string_equal(reply.pending->keys[0],
                        "quote:AAPL  261218C00150000");
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_string_equal(reply.pending->path,
                        "/market-data/by-type?equity-option="
                        "AAPL%20%20261218C00150000");
    ttai_worker_reply_free(&reply);

    /* the batch form, with "+" for a space and other arguments around */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes",
                                        "x=1&symbols=spy,%2FESZ5,"
                                        "AAPL++261218C00150000&y=2",
                                        &reply), 0);
    assert_int_equal(reply.pending->nkeys, 3);
    assert_string_equal(reply.pending->keys[0], "quote:SPY");
    assert_string_equal(reply.pending->keys[1], "quote:/ESZ5");
    assert_string_equal(reply.pending->keys[2],
                        "quote:AAPL  261218C00150000");
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_string_equal(reply.pending->path,
                        "/market-data/by-type?equity=SPY&future=%2FESZ5"
                        "&equity-option=AAPL%20%20261218C00150000");
    ttai_worker_reply_free(&reply);
}


static void
test_batch(void **state)
{
    json_t               *j, *quotes, *missing;
    const char           *values[4];
    ttai_worker_reply_t   reply;

    /* VIX from KV; AAPL, NOPE and SPY asked of TastyTrade; AAPL twice */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes",
                                        "symbols=NOPE,aapl,VIX,AAPL,SPY",
                                        &reply), 0);
    assert_int_equal(reply.pending->nkeys, 4);
    assert_string_equal(reply.pending->keys[0], "quote:NOPE");
    assert_string_equal(reply.pending->keys[1], "quote:AAPL");
    assert_string_equal(reply.pending->keys[2], "quote:VIX");
    assert_string_equal(reply.pending->keys[3], "quote:SPY");

    values[0] = NULL;
    values[1] = NULL;
    values[2] = "{\"symbol\":\"VIX\",\"price\":15.0}";
    values[3] = NULL;

    assert_int_equal(resume_kv(&reply, values), 0);
    assert_string_equal(reply.pending->path,
                        "/market-data/by-type?equity=NOPE,AAPL,SPY");

    /* TastyTrade answers AAPL, and VIX that was not asked for */
    assert_int_equal(resume_http(&reply, 200, by_type), 0);

    assert_int_equal(reply.nstores, 1);
    assert_string_equal(reply.stores[0].key, "quote:AAPL");

    j = answer(&reply, 200);
    quotes = json_object_get(j, "quotes");
    missing = json_object_get(j, "missing");

    /* the order asked for */
    assert_int_equal(json_array_size(quotes), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(quotes, 0), "symbol")), "AAPL");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(quotes, 1), "symbol")), "VIX");
    assert_true(num(json_array_get(quotes, 1), "price") == 15.0);

    assert_int_equal(json_array_size(missing), 2);
    assert_string_equal(json_string_value(json_array_get(missing, 0)),
                        "NOPE");
    assert_string_equal(json_string_value(json_array_get(missing, 1)),
                        "SPY");

    json_decref(j);
    ttai_worker_reply_free(&reply);

    /* every one missing still answers 200 */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", "symbols=NOPE",
                                        &reply), 0);
    values[0] = NULL;
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_int_equal(resume_http(&reply, 200,
                                 "{\"data\":{\"items\":[]}}"), 0);
    assert_string_equal(reply.body, "{\"quotes\":[],\"missing\":[\"NOPE\"]}");
    ttai_worker_reply_free(&reply);
}


static void
test_shaping(void **state)
{
    json_t  *root, *items, *q;

    root = json_loads(by_type, 0, NULL);
    items = json_object_get(json_object_get(root, "data"), "items");
    assert_non_null(items);

    /* an equity: strings become numbers */
    q = ttai_worker_quote(json_array_get(items, 0));
    assert_non_null(q);
    assert_int_equal(json_object_size(q), 17);
    assert_true(num(q, "price") == 312.0151);
    assert_true(num(q, "bid") == 312.01);
    assert_true(num(q, "ask") == 312.02);
    assert_true(num(q, "mark") == 312.0151);
    assert_true(num(q, "mid") == 312.015);
    assert_true(num(q, "open") == 311.47);
    assert_true(num(q, "high") == 313.36);
    assert_true(num(q, "low") == 309.97);
    assert_true(num(q, "prev_close") == 309.35);
    assert_true(num(q, "change") == 2.6651);
    assert_true(num(q, "change_percent") == 0.86);
    assert_true(num(q, "volume") == 16006738.789447);
    assert_true(json_is_null(json_object_get(q, "close")));
    assert_string_equal(json_string_value(json_object_get(q, "updated_at")),
                        "2026-08-24T17:58:51.035Z");
    json_decref(q);

    /* an index has no bid, ask or mid */
    q = ttai_worker_quote(json_array_get(items, 1));
    assert_true(num(q, "price") == 15.8);
    assert_true(json_is_null(json_object_get(q, "bid")));
    assert_true(json_is_null(json_object_get(q, "ask")));
    assert_true(json_is_null(json_object_get(q, "mid")));
    assert_true(num(q, "change_percent") == 4.43);
    assert_string_equal(json_string_value(json_object_get(q,
                                                          "instrument_type")),
                        "Index");
    json_decref(q);

    json_decref(root);

    /* no last: the mark; no mark: the mid; none: null, and no change */
    q = shape("{\"symbol\":\"x\",\"mark\":\"2.5\",\"mid\":\"2.4\"}");
    assert_true(num(q, "price") == 2.5);
    assert_string_equal(json_string_value(json_object_get(q, "symbol")), "X");
    json_decref(q);

    q = shape("{\"symbol\":\"X\",\"mid\":\"2.4\",\"prev-close\":\"0\"}");
    assert_true(num(q, "price") == 2.4);
    assert_true(json_is_null(json_object_get(q, "change_percent")));
    json_decref(q);

    q = shape("{\"symbol\":\"X\",\"prev-close\":\"2\"}");
    assert_true(json_is_null(json_object_get(q, "price")));
    assert_true(json_is_null(json_object_get(q, "change")));
    json_decref(q);

    /* numbers sent as numbers are taken too */
    q = shape("{\"symbol\":\"X\",\"last\":150.0,\"bid\":149}");
    assert_true(num(q, "price") == 150.0);
    assert_true(num(q, "bid") == 149.0);
    json_decref(q);

    assert_null(shape("{\"symbol\":1}"));
    assert_null(shape("{\"last\":\"1\"}"));
}


static void
test_request_errors(void **state)
{
    size_t                i;
    char                  args[2048];
    ttai_worker_reply_t   reply;

    /* other paths */
    assert_int_equal(ttai_worker_handle(&ttl, "/prices/AAPL", NULL, &reply),
                     0);
    assert_error(&reply, 404, "/quotes/<symbol>");
    assert_int_equal(reply.nstores, 0);
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotesX", NULL, &reply), 0);
    assert_error(&reply, 404, "Not found");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, NULL, NULL, &reply), 0);
    assert_error(&reply, 404, "Not found");
    ttai_worker_reply_free(&reply);

    /* no symbols */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", NULL, &reply), 0);
    assert_error(&reply, 400, "symbols is required");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/", "other=1",
                                        &reply), 0);
    assert_error(&reply, 400, "symbols is required");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", "symbols=,,",
                                        &reply), 0);
    assert_error(&reply, 400, "symbols is empty");
    ttai_worker_reply_free(&reply);

    /* not symbols */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/AA%22PL", NULL,
                                        &reply), 0);
    assert_error(&reply, 400, "\"AA%22PL\" is not a symbol");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/AAPL%2", NULL,
                                        &reply), 0);
    assert_error(&reply, 400, "is not a symbol");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/A%00B", NULL,
                                        &reply), 0);
    assert_error(&reply, 400, "is not a symbol");
    ttai_worker_reply_free(&reply);

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", "symbols=SPY,a%2Cb",
                                        &reply), 0);
    assert_error(&reply, 400, "\"a%2Cb\" is not a symbol");
    ttai_worker_reply_free(&reply);

    /* 100 symbols, then 101 */
    strcpy(args, "symbols=");

    for (i = 0; i < 100; i++) {
        snprintf(args + strlen(args), sizeof(args) - strlen(args), "%sS%zu",
                 i ? "," : "", i);
    }

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", args, &reply), 0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->nkeys, 100);
    ttai_worker_reply_free(&reply);

    strcat(args, ",S100");

    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", args, &reply), 0);
    assert_error(&reply, 400, "at most 100");
    ttai_worker_reply_free(&reply);
}


static void
test_upstream_errors(void **state)
{
    size_t                i;
    const char           *values[1] = { NULL };
    ttai_worker_reply_t   reply;

    static const struct {
        int          status;
        const char  *body;
        int          answer;
        const char  *error;
    } cases[] = {
        { 200, "{\"data\":{\"items\":[]}}", 404,
          "TastyTrade has no quote for ZZZZ: check the symbol" },
        { 422, "{\"error\":{\"code\":\"invalid_symbol\",\"message\":"
               "\"Symbol ZZZZ is invalid\"}}", 422,
          "TastyTrade answered 422: invalid_symbol: Symbol ZZZZ is invalid." },
        { 404, "{\"error\":{\"code\":\"record_not_found\",\"message\":"
               "\"Couldn't find .\"}}", 404,
          "TastyTrade answered 404: record_not_found: Couldn't find ." },
        { 500, "{\"error\":{\"code\":\"internal\",\"message\":\"oops\","
               "\"errors\":[{\"code\":\"a\",\"message\":\"first\"},"
               "{\"code\":\"b\",\"message\":\"second\"}]}}", 502,
          "TastyTrade answered 500: internal: oops (first; second).  "
          "TastyTrade had a problem" },
        { 401, "{\"error\":{\"code\":\"unauthorized\",\"message\":"
               "\"Token is invalid or expired\"}}", 502,
          "`ttai tastytrade connect`" },
        { 403, "{\"error\":{\"code\":\"not_permitted\",\"message\":"
               "\"User not permitted access\"}}", 502,
          "403: not_permitted: User not permitted access.  TastyTrade "
          "serves market data to funded accounts only." },
        { 429, "", 502, "429: no error details.  TastyTrade is limiting" },
        { 406, "{\"error\":{\"code\":406,\"message\":\"The requested version "
               "is not supported.\"}}", 502,
          "406: 406: The requested version" },
        { 200, "<html>", 502, "TastyTrade sent a response ttai could not "
                              "read" },
        { 200, "{\"data\":{}}", 502, "could not read" },
        { 0, NULL, 502, "TastyTrade could not be reached: timed out" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ttai_worker_handle(&ttl, "/quotes/ZZZZ", NULL,
                                            &reply), 0);
        assert_int_equal(resume_kv(&reply, values), 0);
        assert_int_equal(resume_http(&reply, cases[i].status, cases[i].body),
                         0);
        assert_int_equal(reply.nstores, 0);
        assert_error(&reply, cases[i].answer, cases[i].error);
        ttai_worker_reply_free(&reply);
    }

    /* the batch form says so the same way */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes", "symbols=ZZZZ",
                                        &reply), 0);
    assert_int_equal(resume_kv(&reply, values), 0);
    assert_int_equal(resume_http(&reply, 503, "{}"), 0);
    assert_error(&reply, 502, "TastyTrade answered 503: no error details.");
    ttai_worker_reply_free(&reply);
}


static void
test_resume_misuse(void **state)
{
    ttai_worker_reply_t   reply;
    ttai_mcp_response_t   resp;

    memset(&resp, 0, sizeof(resp));

    /* nothing pending */
    memset(&reply, 0, sizeof(reply));
    assert_int_equal(ttai_worker_resume(&reply, &resp), -1);

    assert_int_equal(ttai_worker_handle(&ttl, "/x", NULL, &reply), 0);
    assert_int_equal(ttai_worker_resume(&reply, &resp), -1);
    ttai_worker_reply_free(&reply);

    /* a reply freed midway frees its job */
    assert_int_equal(ttai_worker_handle(&ttl, "/quotes/SPY", NULL, &reply),
                     0);
    ttai_worker_reply_free(&reply);
    assert_null(reply.job);
    assert_null(reply.pending);

    /* a lifetime of 0 stores nothing */
    {
        const char              *values[1] = { NULL };
        static ttai_cache_ttl_t  none = { 0, 0, 0, 0 };

        assert_int_equal(ttai_worker_handle(&none, "/quotes/AAPL", NULL,
                                            &reply), 0);
        assert_int_equal(resume_kv(&reply, values), 0);
        assert_int_equal(resume_http(&reply, 200, aapl_seed), 0);
        assert_int_equal(reply.status, 200);
        assert_int_equal(reply.nstores, 0);
        ttai_worker_reply_free(&reply);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_miss_request_store_answer),
        cmocka_unit_test(test_hit_makes_no_request),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_by_type_path),
        cmocka_unit_test(test_encoded_requests),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_shaping),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_upstream_errors),
        cmocka_unit_test(test_resume_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
