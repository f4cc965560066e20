
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

#include "ttai_dxlink.h"


/*
 * The DXLink protocol without a socket: the handshake in the order the
 * reference gives, subscriptions asked before the feed is ready sent
 * once it is, COMPACT data decoded by the server's own field order, and
 * every malformed message a failed feed (to reconnect), never a crash.
 */


static ttai_dxl_t  *d;


static int
setup(void **state)
{
    d = ttai_dxl_create("tok-123");
    assert_non_null(d);

    return 0;
}


static int
teardown(void **state)
{
    ttai_dxl_free(d);

    return 0;
}


/* receives text; returns the only message to send, or NULL */

static json_t *
recv_one(const char *text, ttai_dxl_out_t *out)
{
    json_t  *m;

    assert_int_equal(ttai_dxl_receive(d, text, strlen(text), out), 0);

    if (out->nsend == 0) {
        return NULL;
    }

    assert_int_equal(out->nsend, 1);
    m = json_loads(out->send[0], 0, NULL);
    assert_non_null(m);

    return m;
}


/* a message whose answers the test does not look at */

static void
take(const char *text)
{
    ttai_dxl_out_t  out;

    json_decref(recv_one(text, &out));
    ttai_dxl_out_free(&out);
}


/* SETUP sent, then the server's UNAUTHORIZED: the token is sent */

static void
token_sent(void)
{
    free(ttai_dxl_start(d));
    take("{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":"
         "\"UNAUTHORIZED\"}");
}


static void
handshake(void)
{
    char            *text;
    json_t          *m;
    ttai_dxl_out_t   out;

    text = ttai_dxl_start(d);
    m = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(m, "type")),
                        "SETUP");
    assert_int_equal(json_integer_value(json_object_get(m,
                                                        "keepaliveTimeout")),
                     60);
    json_decref(m);
    free(text);

    m = recv_one("{\"type\":\"SETUP\",\"channel\":0,\"keepaliveTimeout\":60}",
                 &out);
    assert_null(m);
    ttai_dxl_out_free(&out);

    m = recv_one("{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":"
                 "\"UNAUTHORIZED\"}", &out);
    assert_string_equal(json_string_value(json_object_get(m, "type")),
                        "AUTH");
    assert_string_equal(json_string_value(json_object_get(m, "token")),
                        "tok-123");
    json_decref(m);
    ttai_dxl_out_free(&out);

    m = recv_one("{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":"
                 "\"AUTHORIZED\",\"userId\":\"u\"}", &out);
    assert_string_equal(json_string_value(json_object_get(m, "type")),
                        "CHANNEL_REQUEST");
    assert_string_equal(json_string_value(json_object_get(m, "service")),
                        "FEED");
    assert_int_equal(json_integer_value(json_object_get(m, "channel")),
                     TTAI_DXL_CHANNEL);
    json_decref(m);
    ttai_dxl_out_free(&out);

    m = recv_one("{\"type\":\"CHANNEL_OPENED\",\"channel\":3,\"service\":"
                 "\"FEED\",\"parameters\":{\"contract\":\"AUTO\"}}", &out);
    assert_string_equal(json_string_value(json_object_get(m, "type")),
                        "FEED_SETUP");
    assert_string_equal(json_string_value(json_object_get(m,
                                                          "acceptDataFormat")),
                        "COMPACT");
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        json_object_get(m, "acceptEventFields"), "Greeks"), 4)), "delta");
    json_decref(m);
    ttai_dxl_out_free(&out);

    assert_int_equal(ttai_dxl_state(d), TTAI_DXL_OPEN);
}


static void
test_handshake_and_data(void **state)
{
    int              oom;
    char            *text;
    json_t          *m, *ev;
    ttai_dxl_out_t   out;

    handshake();

    /* asked before the feed is ready: kept */
    m = json_pack("[s, s]", "SPY", ".SPY261218C600");
    text = ttai_dxl_subscribe(d, m, NULL, &oom);
    json_decref(m);
    assert_null(text);
    assert_int_equal(oom, 0);

    /* the server's field order, not ttai's, is the one decoded */
    m = recv_one("{\"type\":\"FEED_CONFIG\",\"channel\":3,\"dataFormat\":"
                 "\"COMPACT\",\"eventFields\":{\"Quote\":[\"eventType\","
                 "\"eventSymbol\",\"askPrice\",\"bidPrice\",\"bidSize\","
                 "\"askSize\"]}}", &out);
    assert_int_equal(ttai_dxl_state(d), TTAI_DXL_READY);
    assert_string_equal(json_string_value(json_object_get(m, "type")),
                        "FEED_SUBSCRIPTION");
    /* two symbols, each for Quote, Trade, Summary, Greeks and Profile */
    assert_int_equal(json_array_size(json_object_get(m, "add")), 10);
    json_decref(m);
    ttai_dxl_out_free(&out);

    /* two quotes in one array, greeks with a NaN */
    text = "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Quote\","
           "[\"Quote\",\"SPY\",600.5,600.25,10,12,\"Quote\",\"AAPL\",231.1,"
           "231.0,1,2],\"Greeks\",[\"Greeks\",\".SPY261218C600\",12.5,0.2,"
           "0.52,0.01,-0.3,\"NaN\",0.8]]}";
    assert_int_equal(ttai_dxl_receive(d, text, strlen(text), &out), 0);
    assert_int_equal(ttai_dxl_state(d), TTAI_DXL_READY);
    assert_int_equal(json_array_size(out.events), 3);

    ev = json_array_get(out.events, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "symbol")),
                        "SPY");
    assert_true(json_number_value(json_object_get(ev, "askPrice")) == 600.5);
    assert_true(json_number_value(json_object_get(ev, "bidPrice"))
                == 600.25);

    ev = json_array_get(out.events, 2);
    assert_string_equal(json_string_value(json_object_get(ev, "type")),
                        "Greeks");
    assert_true(json_number_value(json_object_get(ev, "delta")) == 0.52);
    assert_true(json_is_null(json_object_get(ev, "rho")));
    ttai_dxl_out_free(&out);

    /* ready: a subscription goes at once; one already there, not again */
    m = json_pack("[s, s]", "SPY", "QQQ");
    text = ttai_dxl_subscribe(d, m, NULL, &oom);
    json_decref(m);
    assert_non_null(text);
    m = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(m, "add")), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(m, "add"), 0), "symbol")), "QQQ");
    json_decref(m);
    free(text);

    m = json_pack("[s]", "SPY");
    text = ttai_dxl_subscribe(d, NULL, m, &oom);
    json_decref(m);
    m = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(m, "remove")), 5);
    assert_null(json_object_get(m, "add"));
    json_decref(m);
    free(text);

    text = ttai_dxl_keepalive(d);
    assert_string_equal(text, "{\"type\":\"KEEPALIVE\",\"channel\":0}");
    free(text);
}


static void
test_refused_token(void **state)
{
    ttai_dxl_out_t   out;

    token_sent();

    /* UNAUTHORIZED again, after the token: refused */
    assert_null(recv_one("{\"type\":\"AUTH_STATE\",\"channel\":0,"
                         "\"state\":\"UNAUTHORIZED\"}", &out));
    assert_int_equal(out.refused, 1);
    assert_int_equal(ttai_dxl_state(d), TTAI_DXL_FAILED);
    assert_non_null(strstr(out.error, "refused"));
    ttai_dxl_out_free(&out);
}


/* an ERROR UNAUTHORIZED after the token, before the AUTH_STATE */
static void
test_refused_by_error(void **state)
{
    ttai_dxl_out_t   out;

    token_sent();

    assert_null(recv_one("{\"type\":\"ERROR\",\"channel\":0,\"error\":"
                         "\"UNAUTHORIZED\",\"message\":\"expired\"}", &out));
    assert_int_equal(out.refused, 1);
    assert_int_equal(ttai_dxl_state(d), TTAI_DXL_FAILED);
    assert_non_null(strstr(out.error, "expired"));
    ttai_dxl_out_free(&out);
}


/* a candle symbol: Candle alone, from its fromTime; its period read */
static int  oom_flag;

static void
test_candles(void **state)
{
    char            *text;
    json_t          *m, *e;
    ttai_dxl_out_t   out;

    token_sent();
    take("{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":"
         "\"AUTHORIZED\"}");
    take("{\"type\":\"CHANNEL_OPENED\",\"channel\":3}");
    take("{\"type\":\"FEED_CONFIG\",\"channel\":3,\"eventFields\":"
         "{\"Candle\":[\"eventType\",\"eventSymbol\",\"time\","
         "\"close\"]}}");

    m = json_loads("[{\"symbol\":\"AAPL{=5m}\",\"fromTime\":1234}]", 0,
                   NULL);
    text = ttai_dxl_subscribe(d, m, NULL, &oom_flag);
    json_decref(m);
    assert_non_null(text);
    m = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(json_array_size(json_object_get(m, "add")), 1);
    e = json_array_get(json_object_get(m, "add"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "Candle");
    assert_int_equal(json_integer_value(json_object_get(e, "fromTime")),
                     1234);
    json_decref(m);

    m = json_pack("[s]", "AAPL{=5m}");
    text = ttai_dxl_subscribe(d, NULL, m, &oom_flag);
    json_decref(m);
    m = json_loads(text, 0, NULL);
    free(text);
    e = json_array_get(json_object_get(m, "remove"), 0);
    assert_int_equal(json_array_size(json_object_get(m, "remove")), 1);
    assert_null(json_object_get(e, "fromTime"));
    json_decref(m);

    /* bars decoded by the server's fields */
    m = recv_one("{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Candle\","
                 "[\"Candle\",\"AAPL{=5m}\",1800000000000,150.5]]}", &out);
    json_decref(m);
    e = json_array_get(out.events, 0);
    assert_int_equal(json_array_size(out.events), 1);
    assert_true(json_number_value(json_object_get(e, "close")) == 150.5);
    ttai_dxl_out_free(&out);

    assert_int_equal(ttai_dxl_candle_period("AAPL{=5m}"), 300000);
    assert_int_equal(ttai_dxl_candle_period("SPY{=1d}"), 86400000);
    assert_int_equal(ttai_dxl_candle_period("SPY{=d}"), 86400000);
    assert_int_equal(ttai_dxl_candle_period("SPY{=2h}"), 7200000);
    assert_int_equal(ttai_dxl_candle_period("SPY"), 0);
    assert_int_equal(ttai_dxl_candle_period("SPY{=5x}"), 0);
    assert_int_equal(ttai_dxl_candle_period("SPY{=5m"), 0);
}


static void
test_malformed(void **state)
{
    size_t           i;
    ttai_dxl_out_t   out;

    static const char  *bad[] = {
        "not json",
        "{\"channel\":0}",
        "[1,2,3]",
        "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Quote\"]}",
        "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Quote\","
        "[\"Quote\",\"SPY\",1]]}",
        "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Nope\",[1,2]]}",
        "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Trade\","
        "[\"Trade\",7,1,2,3]]}",
        "{\"type\":\"ERROR\",\"channel\":0,\"error\":\"TIMEOUT\","
        "\"message\":\"slow\"}",
        /* an event whose type is not its group's (the fuzzer's find) */
        "{\"type\":\"FEED_DATA\",\"channel\":3,\"data\":[\"Trade\","
        "[7,\"SPY\",1,2,3]]}",
        NULL
    };

    for (i = 0; bad[i] != NULL; i++) {
        ttai_dxl_free(d);
        d = ttai_dxl_create("t");
        assert_non_null(d);

        assert_int_equal(ttai_dxl_receive(d, bad[i], strlen(bad[i]), &out),
                         0);
        if (ttai_dxl_state(d) != TTAI_DXL_FAILED) {
            fail_msg("not a failed feed: %s", bad[i]);
        }

        assert_true(out.error[0] != '\0');
        assert_int_equal(json_array_size(out.events), 0);
        ttai_dxl_out_free(&out);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_by_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_candles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
