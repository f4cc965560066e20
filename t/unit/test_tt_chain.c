
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

#include "tool_steps.h"


/*
 * GET /option-chains/AAPL/nested: the real sandbox payload (PAY), whose
 * strike lists were cut to four, in its envelope
 */
static const char  aapl_nested[] =
    "{\"data\":{\"items\":[{\"underlying-symbol\":\"AAPL\",\"root-symbol\":"
    "\"AAPL\",\"option-chain-type\":\"Standard\",\"shares-per-contract\":100,"
    "\"tick-sizes\":[{\"threshold\":\"3.0\",\"value\":\"0.01\"},{\"value\":"
    "\"0.05\"}],\"deliverables\":[{\"id\":259225,\"amount\":\"100.0\","
    "\"deliverable-type\":\"Shares\",\"description\":\"100 shares of AAPL\","
    "\"instrument-type\":\"Equity\",\"percent\":\"100\",\"root-symbol\":"
    "\"AAPL\",\"symbol\":\"AAPL\"}],\"expirations\":["
    "{\"expiration-type\":\"Weekly\",\"expiration-date\":\"2026-06-12\","
    "\"days-to-expiration\":0,\"settlement-type\":\"PM\",\"strikes\":["
    "{\"strike-price\":\"110.0\",\"call\":\"AAPL  260612C00110000\","
    "\"call-streamer-symbol\":\".AAPL260612C110\",\"put\":"
    "\"AAPL  260612P00110000\",\"put-streamer-symbol\":\".AAPL260612P110\"},"
    "{\"strike-price\":\"120.0\",\"call\":\"AAPL  260612C00120000\","
    "\"call-streamer-symbol\":\".AAPL260612C120\",\"put\":"
    "\"AAPL  260612P00120000\",\"put-streamer-symbol\":\".AAPL260612P120\"},"
    "{\"strike-price\":\"125.0\",\"call\":\"AAPL  260612C00125000\","
    "\"call-streamer-symbol\":\".AAPL260612C125\",\"put\":"
    "\"AAPL  260612P00125000\",\"put-streamer-symbol\":\".AAPL260612P125\"},"
    "{\"strike-price\":\"130.0\",\"call\":\"AAPL  260612C00130000\","
    "\"call-streamer-symbol\":\".AAPL260612C130\",\"put\":"
    "\"AAPL  260612P00130000\",\"put-streamer-symbol\":\".AAPL260612P130\"}"
    "]},"
    "{\"expiration-type\":\"Weekly\",\"expiration-date\":\"2026-06-15\","
    "\"days-to-expiration\":3,\"settlement-type\":\"PM\",\"strikes\":["
    "{\"strike-price\":\"250.0\",\"call\":\"AAPL  260615C00250000\","
    "\"call-streamer-symbol\":\".AAPL260615C250\",\"put\":"
    "\"AAPL  260615P00250000\",\"put-streamer-symbol\":\".AAPL260615P250\"},"
    "{\"strike-price\":\"255.0\",\"call\":\"AAPL  260615C00255000\","
    "\"call-streamer-symbol\":\".AAPL260615C255\",\"put\":"
    "\"AAPL  260615P00255000\",\"put-streamer-symbol\":\".AAPL260615P255\"},"
    "{\"strike-price\":\"260.0\",\"call\":\"AAPL  260615C00260000\","
    "\"call-streamer-symbol\":\".AAPL260615C260\",\"put\":"
    "\"AAPL  260615P00260000\",\"put-streamer-symbol\":\".AAPL260615P260\"},"
    "{\"strike-price\":\"265.0\",\"call\":\"AAPL  260615C00265000\","
    "\"call-streamer-symbol\":\".AAPL260615C265\",\"put\":"
    "\"AAPL  260615P00265000\",\"put-streamer-symbol\":\".AAPL260615P265\"}"
    "]},"
    "{\"expiration-type\":\"Weekly\",\"expiration-date\":\"2026-06-17\","
    "\"days-to-expiration\":5,\"settlement-type\":\"PM\",\"strikes\":["
    "{\"strike-price\":\"230.0\",\"call\":\"AAPL  260617C00230000\","
    "\"call-streamer-symbol\":\".AAPL260617C230\",\"put\":"
    "\"AAPL  260617P00230000\",\"put-streamer-symbol\":\".AAPL260617P230\"},"
    "{\"strike-price\":\"235.0\",\"call\":\"AAPL  260617C00235000\","
    "\"call-streamer-symbol\":\".AAPL260617C235\",\"put\":"
    "\"AAPL  260617P00235000\",\"put-streamer-symbol\":\".AAPL260617P235\"},"
    "{\"strike-price\":\"240.0\",\"call\":\"AAPL  260617C00240000\","
    "\"call-streamer-symbol\":\".AAPL260617C240\",\"put\":"
    "\"AAPL  260617P00240000\",\"put-streamer-symbol\":\".AAPL260617P240\"},"
    "{\"strike-price\":\"245.0\",\"call\":\"AAPL  260617C00245000\","
    "\"call-streamer-symbol\":\".AAPL260617C245\",\"put\":"
    "\"AAPL  260617P00245000\",\"put-streamer-symbol\":\".AAPL260617P245\"}"
    "]},"
    "{\"expiration-type\":\"Regular\",\"expiration-date\":\"2026-06-18\","
    "\"days-to-expiration\":6,\"settlement-type\":\"PM\",\"strikes\":["
    "{\"strike-price\":\"5.0\",\"call\":\"AAPL  260618C00005000\","
    "\"call-streamer-symbol\":\".AAPL260618C5\",\"put\":"
    "\"AAPL  260618P00005000\",\"put-streamer-symbol\":\".AAPL260618P5\"},"
    "{\"strike-price\":\"10.0\",\"call\":\"AAPL  260618C00010000\","
    "\"call-streamer-symbol\":\".AAPL260618C10\",\"put\":"
    "\"AAPL  260618P00010000\",\"put-streamer-symbol\":\".AAPL260618P10\"},"
    "{\"strike-price\":\"15.0\",\"call\":\"AAPL  260618C00015000\","
    "\"call-streamer-symbol\":\".AAPL260618C15\",\"put\":"
    "\"AAPL  260618P00015000\",\"put-streamer-symbol\":\".AAPL260618P15\"},"
    "{\"strike-price\":\"20.0\",\"call\":\"AAPL  260618C00020000\","
    "\"call-streamer-symbol\":\".AAPL260618C20\",\"put\":"
    "\"AAPL  260618P00020000\",\"put-streamer-symbol\":\".AAPL260618P20\"}"
    "]}]}]},\"context\":\"/option-chains/AAPL/nested\"}";

/* GET /market-data/by-type?equity=AAPL: the real sandbox item */
static const char  aapl_by_type[] =
    "{\"data\":{\"items\":[{\"ask\":\"312.02\",\"bid\":\"312.01\","
    "\"day-high-price\":\"313.36\",\"day-low-price\":\"309.97\","
    "\"instrument-type\":\"Equity\",\"last\":\"312.0151\",\"mark\":"
    "\"312.0151\",\"mid\":\"312.015\",\"open\":\"311.47\",\"prev-close\":"
    "\"309.35\",\"symbol\":\"AAPL\",\"updated-at\":"
    "\"2026-08-24T17:58:51.035Z\",\"volume\":\"16006738.789447\"}]},"
    "\"pagination\":null}";


/*
 * A chain in TastyTrade's nested form: for each date of dates (yymmdd),
 * strikes from lo to hi by step, under root; malloc'd JSON text
 */

static json_t *
chain_item(const char *root, const char *type, const char *settlement,
    const char *const *dates, size_t nd, double lo, double hi, double step)
{
    char     date[16], call[32], put[32], cs[32], ps[32], price[32];
    size_t   i;
    double   k;
    json_t  *item, *exps, *strikes;

    item = json_pack("{s:s, s:s, s:s, s:i, s:[]}", "underlying-symbol", root,
                     "root-symbol", root, "option-chain-type", type,
                     "shares-per-contract", 100, "expirations");
    exps = json_object_get(item, "expirations");

    for (i = 0; i < nd; i++) {
        snprintf(date, sizeof(date), "20%.2s-%.2s-%.2s", dates[i],
                 dates[i] + 2, dates[i] + 4);

        strikes = json_array();

        for (k = lo; k <= hi + 1e-9; k += step) {
            snprintf(price, sizeof(price), "%.1f", k);
            snprintf(call, sizeof(call), "%-6s%sC%08ld", root, dates[i],
                     (long) (k * 1000 + 0.5));
            snprintf(put, sizeof(put), "%s", call);
            put[12] = 'P';
            snprintf(cs, sizeof(cs), ".%s%sC%g", root, dates[i], k);
            snprintf(ps, sizeof(ps), ".%s%sP%g", root, dates[i], k);

            json_array_append_new(strikes,
                json_pack("{s:s, s:s, s:s, s:s, s:s}",
                          "strike-price", price,
                          "call", call, "call-streamer-symbol", cs,
                          "put", put, "put-streamer-symbol", ps));
        }

        json_array_append_new(exps,
            json_pack("{s:s, s:s, s:i, s:s, s:o}",
                      "expiration-type", i == 0 ? "Weekly" : "Regular",
                      "expiration-date", date,
                      "days-to-expiration", (int) (3 * i),
                      "settlement-type", settlement,
                      "strikes", strikes));
    }

    return item;
}


/* the body TastyTrade sends for items (whose references it takes) */

static char *
chain_body(json_t *items)
{
    char    *s;
    json_t  *body;

    body = json_pack("{s:{s:o}}", "data", "items", items);
    s = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    return s;
}


/* a quote in KV with this price, or none */

static void
resume_quote(ttai_mcp_reply_t *reply, const char *price)
{
    char         value[128];
    const char  *values[1];

    expect_kv(reply, 1, (const char *[]) { reply->pending->keys[0] });

    if (price == NULL) {
        values[0] = NULL;

    } else {
        snprintf(value, sizeof(value), "{\"symbol\":\"X\",\"price\":%s}",
                 price);
        values[0] = value;
    }

    resume_kv(reply, values);
}


/* tools/call get_option_chain args on a chain, price in KV: the result */

static json_t *
chain_call(const char *args, const char *body, const char *price,
    json_t **root)
{
    ttai_mcp_reply_t  reply;
    json_t           *r;

    call_tool(&reply, "get_option_chain", args);
    resume_http(&reply, 200, body);

    if (reply.pending != NULL) {
        resume_quote(&reply, price);
    }

    r = result_of(&reply, root);
    ttai_mcp_reply_free(&reply);

    return r;
}


/* the strikes of the nth expiration, as numbers joined by "," */

static void
strikes_of(json_t *sc, size_t n, char *buf, size_t size)
{
    size_t   i, len;
    json_t  *s;

    len = 0;
    buf[0] = '\0';

    json_array_foreach(json_object_get(json_array_get(
                           json_object_get(sc, "expirations"), n),
                           "strikes"), i, s)
    {
        len += snprintf(buf + len, size - len, "%s%g", i ? "," : "",
                        json_number_value(json_object_get(s, "strike")));
    }
}


static void
test_chain_steps(void **state)
{
    json_t            *root, *r, *sc, *e, *s, *stored;
    const char        *t;
    ttai_mcp_reply_t   reply;

    static const char  *quote_key[] = { "quote:AAPL" };

    call_tool(&reply, "get_option_chain", "{\"symbol\":\"aapl\"}");

    /* 1. the nested chain, cached whole */
    expect_http(&reply, TTAI_SERVICE_TASTYTRADE,
                "/option-chains/AAPL/nested", "chain:AAPL", 600);
    resume_http(&reply, 200, aapl_nested);

    /* 2. the underlying's quote from KV */
    expect_kv(&reply, 1, quote_key);
    resume_kv_empty(&reply);

    /* 3. not there: from TastyTrade, stored as the worker does */
    expect_http(&reply, TTAI_SERVICE_TASTYTRADE,
                "/market-data/by-type?equity=AAPL", NULL, 0);
    resume_http(&reply, 200, aapl_by_type);

    assert_int_equal(reply.nstores, 1);
    assert_string_equal(reply.stores[0].key, "quote:AAPL");
    assert_int_equal(reply.stores[0].ttl, 5);
    stored = json_loadb(reply.stores[0].value, reply.stores[0].len, 0, NULL);
    assert_true(number_at(stored, "price") == 312.0151);
    assert_true(number_at(stored, "bid") == 312.01);
    json_decref(stored);

    r = result_of(&reply, &root);
    sc = structured_of(r);

    assert_string_equal(string_at(sc, "symbol"), "AAPL");
    assert_true(number_at(sc, "underlying_price") == 312.0151);
    assert_int_equal(json_integer_value(json_object_get(sc,
                         "shares_per_contract")), 100);
    assert_int_equal(json_integer_value(json_object_get(sc,
                         "expirations_total")), 4);
    assert_int_equal(json_integer_value(json_object_get(sc, "page")), 1);
    assert_int_equal(json_integer_value(json_object_get(sc, "pages")), 4);
    assert_int_equal(json_integer_value(json_object_get(sc,
                         "strikes_around")), 10);
    assert_int_equal(json_array_size(json_object_get(sc,
                         "available_expirations")), 4);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sc, "available_expirations"),
                            3)), "2026-06-18");

    /* the nearest expiration only */
    assert_int_equal(json_array_size(json_object_get(sc, "expirations")), 1);
    e = json_array_get(json_object_get(sc, "expirations"), 0);
    assert_string_equal(string_at(e, "date"), "2026-06-12");
    assert_int_equal(json_integer_value(json_object_get(e,
                         "days_to_expiration")), 0);
    assert_string_equal(string_at(e, "type"), "Weekly");
    assert_string_equal(string_at(e, "settlement"), "PM");
    assert_string_equal(string_at(e, "root"), "AAPL");
    assert_int_equal(json_integer_value(json_object_get(e,
                         "strikes_total")), 4);

    /* all four lie below the price: the ten below it take them */
    assert_int_equal(json_array_size(json_object_get(e, "strikes")), 4);
    s = json_array_get(json_object_get(e, "strikes"), 0);
    assert_true(number_at(s, "strike") == 110.0);
    assert_string_equal(string_at(s, "call"), "AAPL  260612C00110000");
    assert_string_equal(string_at(s, "put"), "AAPL  260612P00110000");
    assert_string_equal(string_at(s, "call_streamer"), ".AAPL260612C110");
    assert_string_equal(string_at(s, "put_streamer"), ".AAPL260612P110");
    assert_null(json_object_get(s, "strike-price"));

    t = text_of(r);
    assert_has(t, "AAPL options, underlying price 312.0151, 100 shares per "
                  "contract.\n");
    assert_has(t, "2026-06-12, 0 days (Weekly, PM settled, root AAPL): 4 of "
                  "4 strikes\n");
    assert_has(t, "  110  C AAPL  260612C00110000  P AAPL  "
                  "260612P00110000\n");
    assert_has(t, "  130  C AAPL  260612C00130000  P AAPL  260612P00130000\n"
                  "  -- underlying 312.0151 --\n");
    assert_has(t, "Shown: expiration 1 of 4 (page 1 of 4).  More: page=2 "
                  "for the next");
    assert_has(t, "Expirations: 2026-06-12 2026-06-15 2026-06-17 "
                  "2026-06-18\n");
    assert_lacks(t, "2026-06-15, 3 days");
    assert_lacks(t, "adjusted");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_chain_quote_from_kv(void **state)
{
    json_t            *root, *r, *sc;
    ttai_mcp_reply_t   reply;

    call_tool(&reply, "get_option_chain",
              "{\"symbol\":\"AAPL\",\"expiration\":\"2026-06-15\","
              "\"strikes_around\":1}");
    resume_http(&reply, 200, aapl_nested);

    /* a hit: no request for the price, nothing stored */
    resume_quote(&reply, "257.5");
    assert_int_equal(reply.nstores, 0);

    r = result_of(&reply, &root);
    sc = structured_of(r);
    assert_true(number_at(sc, "underlying_price") == 257.5);

    /* one strike below 257.5 and one above */
    {
        char  buf[256];

        strikes_of(sc, 0, buf, sizeof(buf));
        assert_string_equal(buf, "255,260");
    }

    assert_has(text_of(r), "  255  C AAPL  260615C00255000  P AAPL  "
                           "260615P00255000\n  -- underlying 257.50 --\n"
                           "  260  C");

    json_decref(root);
    ttai_mcp_reply_free(&reply);
}


static void
test_chain_window(void **state)
{
    char               *body, buf[1024], args[256];
    size_t              i;
    json_t             *root, *r, *sc;
    ttai_mcp_reply_t    reply;
    const char         *dates[] = { "260619" };

    static const struct {
        const char  *args;
        const char  *price;
        const char  *strikes;
    } cases[] = {
        { "\"strikes_around\":3", "152.5", "140,145,150,155,160,165" },
        { "\"strikes_around\":3", "150", "135,140,145,150,155,160" },
        { "\"strikes_around\":2", "99", "100,105" },
        { "\"strikes_around\":2", "250", "195,200" },
        { "\"strikes_around\":2", "200", "190,195,200" },
        { "\"strikes_around\":1", "100", "100" },
        { "\"strikes_around\":50", "150",
          "100,105,110,115,120,125,130,135,140,145,150,155,160,165,170,175,"
          "180,185,190,195,200" },
        /* no price: the middle ones */
        { "\"strikes_around\":2", NULL, "140,145,150,155" },
    };

    body = chain_body(json_pack("[o]", chain_item("XYZ", "Standard", "PM",
                                                  dates, 1, 100, 200, 5)));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(args, sizeof(args), "{\"symbol\":\"XYZ\",%s}",
                 cases[i].args);

        if (cases[i].price == NULL) {
            call_tool(&reply, "get_option_chain", args);
            resume_http(&reply, 200, body);
            resume_quote(&reply, NULL);
            resume_http(&reply, 200, "{\"data\":{\"items\":[]}}");
            assert_int_equal(reply.nstores, 0);
            r = result_of(&reply, &root);
            ttai_mcp_reply_free(&reply);

            assert_has(text_of(r), "The underlying price is unknown "
                                   "(TastyTrade sent no quote for it): the "
                                   "strikes shown are the middle ones");
            assert_has(text_of(r), "underlying price unknown, 100 shares");

        } else {
            r = chain_call(args, body, cases[i].price, &root);
        }

        sc = structured_of(r);
        strikes_of(sc, 0, buf, sizeof(buf));

        if (strcmp(buf, cases[i].strikes) != 0) {
            fail_msg("%s at %s: %s, not %s", cases[i].args,
                     cases[i].price ? cases[i].price : "no price", buf,
                     cases[i].strikes);
        }

        assert_int_equal(json_integer_value(json_object_get(json_array_get(
                             json_object_get(sc, "expirations"), 0),
                             "strikes_total")), 21);

        json_decref(root);
    }

    free(body);
}


static void
test_chain_pages(void **state)
{
    char         *body, buf[64];
    json_t       *root, *r, *sc, *e;
    const char   *dates[] = { "260612", "260615", "260617", "260619",
                              "260626" };

    body = chain_body(json_pack("[o]", chain_item("XYZ", "Standard", "PM",
                                                  dates, 5, 10, 20, 5)));

    /* two at a time */
    r = chain_call("{\"symbol\":\"XYZ\",\"expirations\":2}", body, "15",
                   &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");
    assert_int_equal(json_array_size(e), 2);
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-12");
    assert_string_equal(string_at(json_array_get(e, 1), "date"),
                        "2026-06-15");
    assert_int_equal(json_integer_value(json_object_get(sc, "pages")), 3);
    assert_has(text_of(r), "Shown: expirations 1 to 2 of 5 (page 1 of 3).  "
                           "More: page=2");
    json_decref(root);

    r = chain_call("{\"symbol\":\"XYZ\",\"expirations\":2,\"page\":2}", body,
                   "15", &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-17");
    assert_string_equal(string_at(json_array_get(e, 1), "date"),
                        "2026-06-19");
    assert_has(text_of(r), "Shown: expirations 3 to 4 of 5 (page 2 of 3).");
    json_decref(root);

    /* the last page has what is left, and says no more */
    r = chain_call("{\"symbol\":\"XYZ\",\"expirations\":2,\"page\":3}", body,
                   "15", &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");
    assert_int_equal(json_array_size(e), 1);
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-26");
    assert_has(text_of(r), "Shown: expiration 5 of 5 (page 3 of 3).  "
                           "strikes_around");
    assert_lacks(text_of(r), "More:");
    json_decref(root);

    /* past it: no quote asked for */
    {
        ttai_mcp_reply_t  reply;

        call_tool(&reply, "get_option_chain",
                  "{\"symbol\":\"XYZ\",\"expirations\":2,\"page\":4}");
        resume_http(&reply, 200, body);
        r = result_of(&reply, &root);
        assert_tool_error(r, "page 4 is past the last one: XYZ has 3 pages "
                             "of 2 expirations.  Ask for page 1 to 3.");
        json_decref(root);
        ttai_mcp_reply_free(&reply);
    }

    /* from a date, and pages from there */
    r = chain_call("{\"symbol\":\"XYZ\",\"expiration\":\"2026-06-17\"}", body,
                   "15", &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");
    assert_int_equal(json_array_size(e), 1);
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-17");
    assert_int_equal(json_integer_value(json_object_get(sc, "pages")), 3);
    assert_has(text_of(r), "2026-06-17, 6 days (Regular, PM settled, root "
                           "XYZ): 3 of 3 strikes");
    assert_has(text_of(r), "Shown: expiration 3 of 5 (page 1 of 3).");
    json_decref(root);

    r = chain_call("{\"symbol\":\"XYZ\",\"expiration\":\"2026-06-17\","
                   "\"expirations\":2,\"page\":2}", body, "15", &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");
    assert_int_equal(json_array_size(e), 1);
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-26");
    json_decref(root);

    /* a date without options: the nearest ones */
    {
        ttai_mcp_reply_t  reply;

        call_tool(&reply, "get_option_chain",
                  "{\"symbol\":\"XYZ\",\"expiration\":\"2026-06-16\"}");
        resume_http(&reply, 200, body);
        r = result_of(&reply, &root);
        assert_tool_error(r, "XYZ has no expiration on 2026-06-16.  The "
                             "nearest are 2026-06-15 and 2026-06-17.");
        json_decref(root);
        ttai_mcp_reply_free(&reply);

        call_tool(&reply, "get_option_chain",
                  "{\"symbol\":\"XYZ\",\"expiration\":\"2027-01-15\"}");
        resume_http(&reply, 200, body);
        r = result_of(&reply, &root);
        assert_tool_error(r, "The nearest are 2026-06-26.");
        json_decref(root);
        ttai_mcp_reply_free(&reply);
    }

    /* twelve at most */
    {
        ttai_mcp_reply_t  reply;

        call_tool(&reply, "get_option_chain",
                  "{\"symbol\":\"XYZ\",\"expirations\":13}");
        r = result_of(&reply, &root);
        assert_tool_error(r, "at most 12");
        json_decref(root);
        ttai_mcp_reply_free(&reply);

        call_tool(&reply, "get_option_chain",
                  "{\"symbol\":\"XYZ\",\"strikes_around\":51}");
        r = result_of(&reply, &root);
        assert_tool_error(r, "at most 50");
        json_decref(root);
        ttai_mcp_reply_free(&reply);
    }

    (void) buf;
    free(body);
}


/* an index: two standard chains (SPX, SPXW), and an adjusted one */

static void
test_chain_roots(void **state)
{
    char         *body;
    json_t       *root, *r, *sc, *e, *item;
    const char   *spx[] = { "260618" };
    const char   *spxw[] = { "260612", "260618" };

    body = chain_body(json_pack("[o, o, o]",
                                chain_item("SPX", "Standard", "AM", spx, 1,
                                           5000, 5100, 50),
                                chain_item("SPXW", "Standard", "PM", spxw, 2,
                                           5000, 5100, 50),
                                chain_item("SPX1", "Non-standard", "AM", spx,
                                           1, 5000, 5100, 50)));

    r = chain_call("{\"symbol\":\"spx\",\"expirations\":3}", body, "5040",
                   &root);
    sc = structured_of(r);
    e = json_object_get(sc, "expirations");

    /* by date, then root; each date listed once */
    assert_int_equal(json_array_size(e), 3);
    assert_string_equal(string_at(json_array_get(e, 0), "root"), "SPXW");
    assert_string_equal(string_at(json_array_get(e, 0), "date"),
                        "2026-06-12");
    assert_string_equal(string_at(json_array_get(e, 1), "root"), "SPX");
    assert_string_equal(string_at(json_array_get(e, 1), "settlement"), "AM");
    assert_string_equal(string_at(json_array_get(e, 2), "root"), "SPXW");
    assert_string_equal(string_at(json_array_get(e, 2), "date"),
                        "2026-06-18");
    assert_int_equal(json_integer_value(json_object_get(sc,
                         "expirations_total")), 3);
    assert_int_equal(json_array_size(json_object_get(sc,
                         "available_expirations")), 2);

    assert_int_equal(json_array_size(json_object_get(sc, "other_chains")), 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sc, "other_chains"), 0)),
                        "SPX1");

    assert_has(text_of(r), "(Weekly, AM settled, root SPX)");
    assert_has(text_of(r), "  5000  C SPXW  260612C05000000  P SPXW  "
                           "260612P05000000\n");
    assert_has(text_of(r), "Not shown: adjusted chains SPX1 (after "
                           "corporate actions");

    json_decref(root);
    free(body);

    /* only adjusted chains: they are what there is */
    body = chain_body(json_pack("[o]", chain_item("XYZ1", "Non-standard",
                                                  "PM", spx, 1, 10, 20, 5)));
    r = chain_call("{\"symbol\":\"XYZ\"}", body, "15", &root);
    sc = structured_of(r);
    assert_string_equal(string_at(json_array_get(json_object_get(sc,
                                      "expirations"), 0), "root"), "XYZ1");
    assert_int_equal(json_array_size(json_object_get(sc, "other_chains")), 0);
    json_decref(root);
    free(body);

    /* a chain sent without its root is still shown, with none */
    item = chain_item("XYZ", "Standard", "PM", spx, 1, 10, 20, 5);
    json_object_del(item, "root-symbol");
    body = chain_body(json_pack("[o]", item));
    r = chain_call("{\"symbol\":\"XYZ\"}", body, "15", &root);
    sc = structured_of(r);
    e = json_array_get(json_object_get(sc, "expirations"), 0);
    assert_string_equal(string_at(e, "date"), "2026-06-18");
    assert_true(json_is_null(json_object_get(e, "root")));
    assert_has(text_of(r), "  15  C XYZ   260618C00015000");
    json_decref(root);
    free(body);
}


/* a real chain is large: the answer stays small */

static void
test_chain_size(void **state)
{
    int                i;
    char              *body, d[40][8];
    const char        *dates[40];
    ttai_mcp_reply_t   reply;

    for (i = 0; i < 40; i++) {
        snprintf(d[i], sizeof(d[i]), "26%02d%02d", 1 + i / 4, 1 + 7 * (i % 4));
        dates[i] = d[i];
    }

    body = chain_body(json_pack("[o]", chain_item("SPX", "Standard", "PM",
                                                  dates, 40, 1000, 9000,
                                                  10)));
    assert_true(strlen(body) > 5 * 1024 * 1024);

    call_tool(&reply, "get_option_chain", "{\"symbol\":\"SPX\"}");
    resume_http(&reply, 200, body);
    resume_quote(&reply, "6000");

    /* 20 strikes of one expiration, and forty dates */
    assert_int_equal(reply.status, 200);
    assert_true(reply.len < 12 * 1024);
    assert_non_null(strstr(reply.body, "1 of 40 (page 1 of 40)"));
    assert_non_null(strstr(reply.body, "20 of 801 strikes"));
    assert_non_null(strstr(reply.body, " and 10 more"));
    ttai_mcp_reply_free(&reply);

    /* the most there is: twelve expirations of a hundred strikes */
    call_tool(&reply, "get_option_chain",
              "{\"symbol\":\"SPX\",\"expirations\":12,"
              "\"strikes_around\":50}");
    resume_http(&reply, 200, body);
    resume_quote(&reply, "6000");
    assert_int_equal(reply.status, 200);
    assert_true(reply.len < 600 * 1024);
    assert_non_null(strstr(reply.body, "100 of 801 strikes"));
    ttai_mcp_reply_free(&reply);

    free(body);
}


static void
test_chain_errors(void **state)
{
    size_t             i;
    json_t            *root, *r;
    ttai_mcp_reply_t   reply;

    static const struct {
        const char  *args;
        const char  *error;
    } bad[] = {
        { "{\"symbol\":\"AAPL  261218C00150000\"}",
          "AAPL  261218C00150000 is an option.  Give its underlying" },
        { "{\"symbol\":\"/ESZ5\"}", "/ESZ5 is a future" },
        { "{\"symbol\":\"BTC/USD\"}", "BTC/USD is a cryptocurrency" },
        { "{\"symbol\":\"A,B\"}", "\"A,B\" is not a symbol" },
        { "{\"symbol\":\"AAPL\",\"expiration\":\"06/19/2026\"}",
          "expiration \"06/19/2026\" is not a date.  Write it YYYY-MM-DD" },
        { "{\"symbol\":\"AAPL\",\"expiration\":\"2026-6-19\"}",
          "at least 10 characters" },
        { "{\"symbol\":\"AAPL\",\"page\":0}", "at least 1" },
        { "{\"symbol\":\"AAPL\",\"strikes\":5}", "unknown argument" },
        { "{}", "symbol" },
    };

    static const struct {
        int          status;
        const char  *body;
        const char  *error;
    } upstream[] = {
        { 404, "{\"error\":{\"code\":\"record_not_found\",\"message\":"
               "\"Couldn't find Chain\"}}", "HTTP 404" },
        { 401, "{\"error\":{\"code\":\"token_invalid\",\"message\":"
               "\"x\"}}", "ttai tastytrade connect" },
        { 500, NULL, "HTTP 500" },
        { 200, "{\"data\":{\"items\":[]}}", "TastyTrade lists no options on "
                                            "AAPL" },
        { 200, "nope", "could not read" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        call_tool(&reply, "get_option_chain", bad[i].args);
        r = result_of(&reply, &root);
        assert_tool_error(r, bad[i].error);
        json_decref(root);
        ttai_mcp_reply_free(&reply);
    }

    for (i = 0; i < sizeof(upstream) / sizeof(upstream[0]); i++) {
        call_tool(&reply, "get_option_chain", "{\"symbol\":\"AAPL\"}");
        resume_http(&reply, upstream[i].status, upstream[i].body);
        r = result_of(&reply, &root);
        assert_tool_error(r, upstream[i].error);
        json_decref(root);
        ttai_mcp_reply_free(&reply);
    }

    /* the quote failing leaves the chain, centred, and says why */
    call_tool(&reply, "get_option_chain", "{\"symbol\":\"AAPL\"}");
    resume_http(&reply, 200, aapl_nested);
    resume_kv_empty(&reply);
    resume_http(&reply, 403, "{\"error\":{\"code\":\"not_permitted\"}}");
    assert_int_equal(reply.nstores, 0);
    r = result_of(&reply, &root);
    assert_has(text_of(r), "The underlying price is unknown (TastyTrade "
                           "answered HTTP 403 for its quote)");
    assert_true(json_is_null(json_object_get(structured_of(r),
                                             "underlying_price")));
    json_decref(root);
    ttai_mcp_reply_free(&reply);

    /* an encoded symbol, the key as normalized */
    call_tool(&reply, "get_option_chain", "{\"symbol\":\"brk/b\"}");
    expect_http(&reply, TTAI_SERVICE_TASTYTRADE,
                "/option-chains/BRK%2FB/nested", "chain:BRK/B", 600);
    ttai_mcp_reply_free(&reply);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_steps,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_quote_from_kv,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_window,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_pages,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_roots,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_size,
                                        steps_setup, steps_teardown),
        cmocka_unit_test_setup_teardown(test_chain_errors,
                                        steps_setup, steps_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
