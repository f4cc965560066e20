
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_stream.h"
#include "ttai_tools.h"

#include "tool_steps.h"


/*
 * The stream tools without a stream: get_greeks and get_position_greeks
 * driven through the core with dx:@feed and dx:<symbol> values made
 * here, as the feed worker writes them.
 */

#define FEED_READY  "{\"state\":\"ready\",\"since\":1000,\"at\":2000}"
#define CALL_DX     ".AAPL261218C150"
#define CALL_OCC    "AAPL  261218C00150000"
#define GREEKS(since, delta)                                                 \
    "{\"since\":" #since ",\"at\":1800000000000,\"Greeks\":{\"price\":4.5,"  \
    "\"volatility\":0.25,\"delta\":" #delta ",\"gamma\":0.02,\"theta\":"     \
    "-0.05,\"rho\":0.1,\"vega\":0.3,\"at\":1800000000000}}"


static void
test_symbols(void **state)
{
    char  out[48];

    assert_int_equal(ttai_stream_symbol(CALL_OCC, out, sizeof(out)), 0);
    assert_string_equal(out, CALL_DX);
    assert_int_equal(ttai_stream_symbol("SPY   270219P00562500", out,
                                        sizeof(out)), 0);
    assert_string_equal(out, ".SPY270219P562.5");
    assert_int_equal(ttai_stream_symbol("SPXW  261218C06000000", out,
                                        sizeof(out)), 0);
    assert_string_equal(out, ".SPXW261218C6000");
    assert_int_equal(ttai_stream_symbol("AAPL", out, sizeof(out)), 0);
    assert_string_equal(out, "AAPL");
    assert_int_equal(ttai_stream_symbol(CALL_OCC, out, 8), -1);
}


static void
test_not_an_option(void **state)
{
    json_t            *root, *r;
    ttai_mcp_reply_t   reply;

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_greeks", "{\"symbols\":[\"AAPL\"]}");
    r = result_of(&reply, &root);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_has(text_of(r), "is not an option");
    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


/* a new symbol: read again after a wait, until its events came */

static void
test_waits_for_first_events(void **state)
{
    json_t            *root, *r, *g;
    ttai_mcp_reply_t   reply;

    static const char *const  keys[] = { "dx:@feed", "dx:" CALL_DX };
    const char                *none[] = { FEED_READY, NULL };
    const char                *got[] = { FEED_READY, GREEKS(1000, 0.6) };

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_greeks", "{\"symbols\":[\"" CALL_OCC "\"]}");
    expect_kv(&reply, 2, keys);

    resume_kv(&reply, none);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->kind, TTAI_PENDING_WAIT);
    assert_int_equal(reply.pending->ms, TTAI_STREAM_WAIT_MS);

    resume_kv_empty(&reply);
    expect_kv(&reply, 2, keys);

    resume_kv(&reply, got);
    r = result_of(&reply, &root);
    assert_false(json_is_true(json_object_get(r, "isError")));

    g = json_array_get(json_object_get(json_object_get(r,
                           "structuredContent"), "greeks"), 0);
    assert_string_equal(json_string_value(json_object_get(g, "symbol")),
                        CALL_OCC);
    assert_true(fabs(json_number_value(json_object_get(g, "delta")) - 0.6)
                < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(g, "iv")) - 25)
                < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(g, "theo_price"))
                     - 4.5) < 1e-9);
    assert_has(text_of(r), "delta 0.6000");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


/* a value of an earlier connection is never shown as live */

static void
test_stale_value(void **state)
{
    int                waits;
    json_t            *root, *r, *sc;
    ttai_mcp_reply_t   reply;

    const char  *stale[] = { FEED_READY, GREEKS(500, 0.6) };

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_greeks", "{\"symbols\":[\"" CALL_OCC "\"]}");

    for (waits = 0; ; waits++) {
        resume_kv(&reply, stale);

        if (reply.pending == NULL) {
            break;
        }

        assert_int_equal(reply.pending->kind, TTAI_PENDING_WAIT);
        resume_kv_empty(&reply);
    }

    /* it waited as long as it may, then answered */
    assert_int_equal(waits, TTAI_STREAM_WAIT_MAX / TTAI_STREAM_WAIT_MS);

    r = result_of(&reply, &root);
    sc = json_object_get(r, "structuredContent");
    assert_int_equal(json_array_size(json_object_get(sc, "greeks")), 0);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sc, "missing"), 0)), CALL_OCC);
    assert_has(text_of(r), "No greeks yet");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_no_feed(void **state)
{
    json_t            *root, *r;
    ttai_mcp_reply_t   reply;

    const char  *down[] = { "{\"state\":\"connecting\",\"since\":0,"
                            "\"error\":\"could not connect\"}",
                            GREEKS(1000, 0.6) };

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_greeks", "{\"symbols\":[\"" CALL_OCC "\"]}");
    resume_kv(&reply, down);

    /* no wait: a feed that is not ready sends nothing */
    r = result_of(&reply, &root);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_has(text_of(r), "stream is connecting: could not connect");
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_greeks", "{\"symbols\":[\"" CALL_OCC "\"]}");
    resume_kv_empty(&reply);
    r = result_of(&reply, &root);
    assert_has(text_of(r), "no server worker keeps the market-data stream");
    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


/*
 * 100 shares of AAPL and one short call of delta 0.4: 60 shares of
 * delta; beta-weighted to SPY, 60 x 200 x 1.2 / 500 = 28.8
 */

static void
test_position_greeks(void **state)
{
    json_t            *root, *r, *total;
    ttai_mcp_reply_t   reply;

    static const char *const  keys[] = { "dx:@feed", "dx:" CALL_DX,
                                         "dx:AAPL", "dx:SPY" };
    const char  *values[] = {
        FEED_READY, GREEKS(1000, 0.4),
        "{\"since\":1000,\"at\":1,\"Trade\":{\"price\":200,\"at\":1}}",
        "{\"since\":1000,\"at\":1,\"Quote\":{\"bidPrice\":499.9,"
        "\"askPrice\":500.1,\"at\":1}}"
    };

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_position_greeks",
              "{\"account_number\":\"5WT00001\"}");
    expect_http(&reply, TTAI_SERVICE_TASTYTRADE,
                "/accounts/5WT00001/positions",
                "positions:tt-account-123:5WT00001", 5);

    resume_http(&reply, 200, "{\"data\":{\"items\":["
        "{\"symbol\":\"AAPL\",\"instrument-type\":\"Equity\","
        "\"quantity\":\"100\",\"quantity-direction\":\"Long\","
        "\"multiplier\":1,\"underlying-symbol\":\"AAPL\"},"
        "{\"symbol\":\"" CALL_OCC "\",\"instrument-type\":\"Equity Option\","
        "\"quantity\":1,\"quantity-direction\":\"Short\",\"multiplier\":100,"
        "\"underlying-symbol\":\"AAPL\"}]}}");

    expect_http(&reply, TTAI_SERVICE_TASTYTRADE,
                "/market-metrics?symbols=AAPL,SPY", "betas:AAPL,SPY", 60);
    resume_http(&reply, 200, "{\"data\":{\"items\":[{\"symbol\":\"AAPL\","
                "\"beta\":\"1.2\"},{\"symbol\":\"SPY\",\"beta\":\"1.0\"}]}}");

    expect_kv(&reply, 4, keys);
    resume_kv(&reply, values);

    r = result_of(&reply, &root);
    assert_false(json_is_true(json_object_get(r, "isError")));
    total = json_object_get(json_object_get(r, "structuredContent"),
                            "total");
    assert_true(fabs(json_number_value(json_object_get(total, "delta"))
                     - 60) < 1e-6);
    assert_true(fabs(json_number_value(json_object_get(total,
                         "beta_weighted_delta")) - 28.8) < 0.01);
    /* short one call: -100 x gamma, -100 x theta */
    assert_true(fabs(json_number_value(json_object_get(total, "gamma"))
                     + 2) < 1e-6);
    assert_true(fabs(json_number_value(json_object_get(total, "theta"))
                     - 5) < 1e-6);
    assert_has(text_of(r), "net delta 60.00 shares (28.80 SPY shares");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


/*
 * get_quotes with the stream ready: SPY from the stream (the trade's
 * price, the change from the summary's previous close), ZZZZ waited for
 * a moment, then asked of the worker service as before
 */

static void
test_quotes_from_stream(void **state)
{
    int                waits;
    json_t            *root, *r, *sc, *q;
    ttai_mcp_reply_t   reply;

    static const char *const  kv[] = { "quote:SPY", "quote:ZZZZ",
                                       "dx:@feed" };
    static const char *const  dx[] = { "dx:@feed", "dx:SPY", "dx:ZZZZ" };
    const char  *first[] = { NULL, NULL, FEED_READY };
    const char  *stream[] = {
        FEED_READY,
        "{\"since\":1000,\"at\":1800000000000,"
        "\"Quote\":{\"bidPrice\":500.4,\"askPrice\":500.6,\"at\":1},"
        "\"Trade\":{\"price\":500.5,\"at\":1},"
        "\"Summary\":{\"prevDayClosePrice\":495,\"at\":1}}",
        NULL
    };

    memset(&reply, 0, sizeof(reply));
    call_tool(&reply, "get_quotes", "{\"symbols\":[\"SPY\",\"ZZZZ\"]}");
    expect_kv(&reply, 3, kv);
    resume_kv(&reply, first);
    expect_kv(&reply, 3, dx);

    for (waits = 0; ; waits++) {
        resume_kv(&reply, stream);

        if (reply.pending->kind != TTAI_PENDING_WAIT) {
            break;
        }

        resume_kv_empty(&reply);
    }

    /* a second at most, as KV had neither */
    assert_int_equal(waits, 1000 / TTAI_STREAM_WAIT_MS);

    expect_http(&reply, TTAI_SERVICE_WORKER, "/quotes?symbols=ZZZZ", NULL, 0);
    resume_http(&reply, 200, "{\"quotes\":[],\"missing\":[\"ZZZZ\"]}");

    r = result_of(&reply, &root);
    sc = json_object_get(r, "structuredContent");
    q = json_array_get(json_object_get(sc, "quotes"), 0);
    assert_string_equal(json_string_value(json_object_get(q, "symbol")),
                        "SPY");
    assert_string_equal(json_string_value(json_object_get(q, "source")),
                        "stream");
    assert_true(fabs(json_number_value(json_object_get(q, "price")) - 500.5)
                < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(q, "mid")) - 500.5)
                < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(q, "change")) - 5.5)
                < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(q, "change_percent"))
                     - 1.11) < 1e-9);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sc, "missing"), 0)), "ZZZZ");
    assert_has(text_of(r), "SPY 500.50  bid 500.40 / ask 500.60");
    assert_has(text_of(r), "live, ");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_symbols),
        cmocka_unit_test_setup_teardown(test_not_an_option, steps_setup,
                                        steps_teardown),
        cmocka_unit_test_setup_teardown(test_waits_for_first_events,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_stale_value, steps_setup,
                                        steps_teardown),
        cmocka_unit_test_setup_teardown(test_no_feed, steps_setup,
                                        steps_teardown),
        cmocka_unit_test_setup_teardown(test_position_greeks, steps_setup,
                                        steps_teardown),
        cmocka_unit_test_setup_teardown(test_quotes_from_stream, steps_setup,
                                        steps_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
