
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
#include "ttai_tools.h"
#include "ttai_worker.h"

#include "tool_steps.h"


/* get_quotes */

static const char  quote_aapl[] =
    "{\"symbol\":\"AAPL\",\"price\":150.0,\"bid\":149.95,\"ask\":150.05,"
    "\"last\":150.0,\"mark\":null,\"mid\":null,\"open\":null,\"high\":null,"
    "\"low\":null,\"close\":null,\"prev_close\":148.0,\"change\":2.0,"
    "\"change_percent\":1.35,\"volume\":null,\"instrument_type\":\"Equity\","
    "\"updated_at\":\"2026-08-24T17:58:51.035Z\"}";

static const char  quote_spy[] =
    "{\"symbol\":\"SPY\",\"price\":556.16,\"bid\":556.09,\"ask\":556.23,"
    "\"prev_close\":560.0,\"change\":-3.84,\"change_percent\":-0.69}";

/* TastyTrade's /market-data/by-type answer, real sandbox items */
static const char  by_type_meta_vix[] =
    "{\"data\":{\"items\":["
    "{\"ask\":\"556.23\",\"ask-size\":\"40.0\",\"beta\":\"1.238367852\","
    "\"bid\":\"556.09\",\"bid-size\":\"320.0\",\"close-price-type\":"
    "\"Regular\",\"day-high-price\":\"559.0\",\"day-low-price\":\"546.3\","
    "\"dividend-amount\":\"0.525\",\"dividend-frequency\":\"4.0\","
    "\"halt-end-time\":-1,\"halt-start-time\":-1,\"high-limit-price\":"
    "\"583.17\",\"instrument-type\":\"Equity\",\"is-trading-halted\":false,"
    "\"last\":\"556.16\",\"last-mkt\":\"556.16\",\"low-limit-price\":"
    "\"527.63\",\"mark\":\"556.16\",\"mid\":\"556.16\",\"open\":\"550.2\","
    "\"prev-close\":\"549.9\",\"prev-close-date\":\"2026-08-21\","
    "\"prev-close-price-type\":\"Final\",\"summary-date\":\"2026-08-24\","
    "\"symbol\":\"META\",\"updated-at\":\"2026-08-24T17:58:51.032Z\","
    "\"volume\":\"7213514.126797\",\"volume-ext\":\"187327.218357\","
    "\"year-high-price\":\"790.8\",\"year-low-price\":\"520.26\"},"
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


static void
test_quotes_miss_then_worker(void **state)
{
    json_t            *root, *r, *sc, *q;
    ttai_mcp_reply_t   reply;

    static const char  *keys[] = { "quote:AAPL", "quote:/ESZ5" };

    call_tool(&reply, "get_quotes", "{\"symbols\":[\"aapl\",\" /esz5 \"]}");

    /* 1. KV, with normalized symbols */
    expect_kv(&reply, 2, keys);
    resume_kv_empty(&reply);

    /* 2. the worker service, for the misses, encoded */
    expect_http(&reply, TTAI_SERVICE_WORKER, "/quotes?symbols=AAPL,%2FESZ5",
                NULL, 0);

    /* 3. its answer */
    {
        char  body[2048];

        snprintf(body, sizeof(body), "{\"quotes\":[%s],\"missing\":"
                 "[\"/ESZ5\"]}", quote_aapl);
        resume_http(&reply, 200, body);
    }

    /* the worker stores quotes itself */
    assert_int_equal(reply.nstores, 0);

    r = result_of(&reply, &root);
    sc = structured_of(r);

    assert_int_equal(json_array_size(json_object_get(sc, "quotes")), 1);
    q = json_array_get(json_object_get(sc, "quotes"), 0);
    assert_string_equal(string_at(q, "symbol"), "AAPL");
    assert_true(number_at(q, "price") == 150.0);
    assert_true(number_at(q, "bid") == 149.95);

    assert_int_equal(json_array_size(json_object_get(sc, "missing")), 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sc, "missing"), 0)), "/ESZ5");

    assert_has(text_of(r), "AAPL 150.00  bid 149.95 / ask 150.05  "
                           "+1.35% (+2.00)\n");
    assert_has(text_of(r), "No quote from TastyTrade for: /ESZ5.");
    assert_has(text_of(r), "search_symbols");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_quotes_hits(void **state)
{
    json_t            *root, *r, *sc, *quotes;
    const char        *values[3];
    ttai_mcp_reply_t   reply;

    static const char  *keys[] = { "quote:AAPL", "quote:SPY", "quote:META" };

    /* SPY from KV, AAPL and META from the worker; the order asked kept */
    call_tool(&reply, "get_quotes",
              "{\"symbols\":[\"AAPL\",\"spy\",\"META\",\"aapl\"]}");
    expect_kv(&reply, 3, keys);

    values[0] = NULL;
    values[1] = quote_spy;
    values[2] = "{\"symbol\":\"META\",\"bad\":1}";
    resume_kv(&reply, values);

    expect_http(&reply, TTAI_SERVICE_WORKER, "/quotes?symbols=AAPL,META",
                NULL, 0);

    {
        char  body[2048];

        snprintf(body, sizeof(body), "{\"quotes\":[{\"symbol\":\"META\","
                 "\"price\":556.16},%s],\"missing\":[]}", quote_aapl);
        resume_http(&reply, 200, body);
    }

    r = result_of(&reply, &root);
    sc = structured_of(r);
    quotes = json_object_get(sc, "quotes");

    assert_int_equal(json_array_size(quotes), 3);
    assert_string_equal(string_at(json_array_get(quotes, 0), "symbol"),
                        "AAPL");
    assert_string_equal(string_at(json_array_get(quotes, 1), "symbol"),
                        "SPY");
    assert_string_equal(string_at(json_array_get(quotes, 2), "symbol"),
                        "META");
    assert_int_equal(json_array_size(json_object_get(sc, "missing")), 0);

    /* a fall: the sign is the number's */
    assert_has(text_of(r), "SPY 556.16  bid 556.09 / ask 556.23  -0.69% "
                           "(-3.84)\n");
    assert_has(text_of(r), "META 556.16  bid - / ask -\n");
    assert_lacks(text_of(r), "No quote");

    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* every one in KV: no request at all */
    call_tool(&reply, "get_quotes", "{\"symbols\":[\"SPY\"]}");
    values[0] = quote_spy;
    resume_kv(&reply, values);

    r = result_of(&reply, &root);
    sc = structured_of(r);
    assert_true(number_at(json_array_get(json_object_get(sc, "quotes"), 0),
                          "price") == 556.16);
    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_quotes_encoding(void **state)
{
    ttai_mcp_reply_t   reply;

    static const char  *keys[] = {
        "quote:AAPL  261218C00150000", "quote:BTC/USD",
        "quote:./ESZ5 EW1Z5 251121C6000"
    };

    call_tool(&reply, "get_quotes",
              "{\"symbols\":[\"AAPL261218C00150000\",\"btc/usd\","
              "\"./ESZ5 EW1Z5 251121C6000\"]}");
    expect_kv(&reply, 3, keys);
    resume_kv_empty(&reply);

    expect_http(&reply, TTAI_SERVICE_WORKER,
                "/quotes?symbols=AAPL%20%20261218C00150000,BTC%2FUSD,"
                ".%2FESZ5%20EW1Z5%20251121C6000", NULL, 0);

    ttai_mcp_reply_free(&reply);
}


/* the tool and the worker together, as the shell joins them */

static void
test_quotes_with_worker(void **state)
{
    char                 path[512], *args;
    json_t              *root, *r, *sc, *quotes;
    const char          *none[2] = { NULL, NULL };
    ttai_mcp_reply_t     reply;
    ttai_worker_reply_t  w;
    ttai_mcp_response_t  resp;
    ttai_cache_ttl_t     ttl = { 5, 60, 600, 5 };

    call_tool(&reply, "get_quotes", "{\"symbols\":[\"meta\",\"vix\"]}");
    resume_kv_empty(&reply);

    /* the worker service gets the tool's request */
    snprintf(path, sizeof(path), "%s", reply.pending->path);
    args = strchr(path, '?');
    assert_non_null(args);
    *args++ = '\0';

    assert_int_equal(ttai_worker_handle(&ttl, path, args, &w), 0);

    memset(&resp, 0, sizeof(resp));
    resp.values = none;
    resp.lens = (const size_t[]) { 0, 0 };
    assert_int_equal(ttai_worker_resume(&w, &resp), 0);

    assert_string_equal(w.pending->path,
                        "/market-data/by-type?equity=META&index=VIX");

    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.body = by_type_meta_vix;
    resp.len = strlen(by_type_meta_vix);
    assert_int_equal(ttai_worker_resume(&w, &resp), 0);

    assert_int_equal(w.status, 200);
    assert_int_equal(w.nstores, 2);
    assert_string_equal(w.stores[0].key, "quote:META");
    assert_string_equal(w.stores[1].key, "quote:VIX");

    /* and its answer goes back to the tool */
    resume_http(&reply, w.status, w.body);
    ttai_worker_reply_free(&w);

    r = result_of(&reply, &root);
    sc = structured_of(r);
    quotes = json_object_get(sc, "quotes");

    assert_int_equal(json_array_size(quotes), 2);
    assert_true(number_at(json_array_get(quotes, 0), "price") == 556.16);
    assert_true(number_at(json_array_get(quotes, 0), "volume")
                == 7213514.126797);
    assert_true(json_is_null(json_object_get(json_array_get(quotes, 1),
                                             "bid")));
    assert_has(text_of(r), "META 556.16  bid 556.09 / ask 556.23  +1.14% "
                           "(+6.26)\n");
    assert_has(text_of(r), "VIX 15.80  bid - / ask -  +4.43% (+0.67)\n");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_quotes_errors(void **state)
{
    int                i;
    char               args[4096];
    json_t            *root, *r;
    ttai_mcp_reply_t   reply;

    /* the worker service refused */
    call_tool(&reply, "get_quotes", "{\"symbols\":[\"ZZZZ\"]}");
    resume_kv_empty(&reply);
    resume_http(&reply, 502, "{\"error\":\"TastyTrade answered 500: "
                             "internal: oops.  TastyTrade had a problem: "
                             "try again shortly.\"}");
    r = result_of(&reply, &root);
    assert_tool_error(r, "the quote service answered HTTP 502: TastyTrade "
                         "answered 500: internal: oops.");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* an answer that is not the worker's */
    call_tool(&reply, "get_quotes", "{\"symbols\":[\"ZZZZ\"]}");
    resume_kv_empty(&reply);
    resume_http(&reply, 200, "<html>");
    r = result_of(&reply, &root);
    assert_tool_error(r, "HTTP 200: a response ttai could not read");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* not a symbol: no request */
    call_tool(&reply, "get_quotes", "{\"symbols\":[\"SPY\",\"AA,PL\"]}");
    r = result_of(&reply, &root);
    assert_tool_error(r, "\"AA,PL\" is not a symbol");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* the bounds */
    call_tool(&reply, "get_quotes", "{\"symbols\":[]}");
    r = result_of(&reply, &root);
    assert_tool_error(r, "at least 1 item");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    strcpy(args, "{\"symbols\":[");

    for (i = 0; i < 101; i++) {
        snprintf(args + strlen(args), sizeof(args) - strlen(args),
                 "%s\"S%d\"", i ? "," : "", i);
    }

    strcat(args, "]}");

    call_tool(&reply, "get_quotes", args);
    r = result_of(&reply, &root);
    assert_tool_error(r, "at most 100 items");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* 100 is the most, in one KV read */
    args[strlen(args) - 9] = '\0';
    strcat(args, "]}");

    call_tool(&reply, "get_quotes", args);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->nkeys, 100);
    ttai_mcp_reply_free(&reply);

    call_tool(&reply, "get_quotes", "{}");
    r = result_of(&reply, &root);
    assert_tool_error(r, "symbols");
    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_quotes_miss_then_worker,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_quotes_hits,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_quotes_encoding,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_quotes_with_worker,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_quotes_errors,
                                        steps_setup, steps_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
