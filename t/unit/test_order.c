
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
#include <sodium.h>

#include "ttai_order.h"


/*
 * The canonical order and its confirmation token: one order written two
 * ways is one text; a token confirms exactly its user's order until it
 * expires, and any change of user, account, price, quantity or leg
 * fails it; a token that is not one is told apart.
 */

static unsigned char  key[TTAI_ORDER_KEY_LEN];

#define SPREAD_A                                                             \
    "{\"order_type\":\"Limit\",\"price\":1.2,\"price_effect\":\"Credit\","   \
    "\"legs\":[{\"symbol\":\"SPY   261218P00560000\",\"instrument_type\":"   \
    "\"Equity Option\",\"action\":\"Sell to Open\",\"quantity\":1},"         \
    "{\"symbol\":\"spy 261218P00550000\",\"instrument_type\":"               \
    "\"Equity Option\",\"action\":\"Buy to Open\",\"quantity\":1}]}"

/* two of the spread */
#define SPREAD_2                                                             \
    "{\"order_type\":\"Limit\",\"price\":1.2,\"price_effect\":\"Credit\","   \
    "\"legs\":[{\"symbol\":\"SPY   261218P00560000\",\"instrument_type\":"   \
    "\"Equity Option\",\"action\":\"Sell to Open\",\"quantity\":2},"         \
    "{\"symbol\":\"SPY   261218P00550000\",\"instrument_type\":"               \
    "\"Equity Option\",\"action\":\"Buy to Open\",\"quantity\":2}]}"

/* the same spread: legs the other way round, price 1.20, Day written */
#define SPREAD_B                                                             \
    "{\"order_type\":\"Limit\",\"time_in_force\":\"Day\",\"price\":1.20,"    \
    "\"price_effect\":\"Credit\",\"legs\":[{\"symbol\":"                     \
    "\"SPY   261218P00550000\",\"instrument_type\":\"Equity Option\","       \
    "\"action\":\"Buy to Open\",\"quantity\":1.0},{\"symbol\":"              \
    "\"SPY   261218P00560000\",\"instrument_type\":\"Equity Option\","       \
    "\"action\":\"Sell to Open\",\"quantity\":1}]}"


static char *
canon(const char *args_text, const char *account)
{
    char     err[128], *text;
    json_t  *args, *c;

    args = json_loads(args_text, 0, NULL);
    assert_non_null(args);
    c = ttai_order_canonical(args, account, err, sizeof(err));
    json_decref(args);

    if (c == NULL) {
        fail_msg("refused: %s", err);
    }

    text = ttai_order_canonical_text(c);
    json_decref(c);
    assert_non_null(text);

    return text;
}


static void
test_canonical(void **state)
{
    char    *a, *b, *c, err[128];
    json_t  *args;

    a = canon(SPREAD_A, "5WT01");
    b = canon(SPREAD_B, "5WT01");
    assert_string_equal(a, b);

    /* another account is another order */
    c = canon(SPREAD_A, "5WT02");
    assert_string_not_equal(a, c);

    free(a);
    free(b);
    free(c);

    args = json_loads("{\"order_type\":\"Market\",\"legs\":[{\"symbol\":"
                      "\"A,B\",\"instrument_type\":\"Equity\",\"action\":"
                      "\"Buy\",\"quantity\":1}]}", 0, NULL);
    assert_null(ttai_order_canonical(args, "5WT01", err, sizeof(err)));
    assert_non_null(strstr(err, "is not a symbol"));
    json_decref(args);

    args = json_loads("{\"order_type\":\"Market\",\"legs\":[]}", 0, NULL);
    assert_null(ttai_order_canonical(args, "5WT01", err, sizeof(err)));
    assert_non_null(strstr(err, "at least one leg"));
    json_decref(args);
}


/* amounts of one text each: no negative, no absurd, no other type */

static void
test_canonical_amounts(void **state)
{
    char         err[256];
    size_t       i;
    json_t      *args, *c;

    static const char  *bad[] = {
        "{\"order_type\":\"Limit\",\"price\":150,\"legs\":[{\"symbol\":"
        "\"AAPL\",\"instrument_type\":\"Equity\",\"action\":\"Buy\","
        "\"quantity\":-10}]}",
        "{\"order_type\":\"Limit\",\"price\":150,\"legs\":[{\"symbol\":"
        "\"AAPL\",\"instrument_type\":\"Equity\",\"action\":\"Buy\","
        "\"quantity\":0}]}",
        "{\"order_type\":\"Limit\",\"price\":150,\"legs\":[{\"symbol\":"
        "\"AAPL\",\"instrument_type\":\"Equity\",\"action\":\"Buy\","
        "\"quantity\":\"10\"}]}",
        "{\"order_type\":\"Limit\",\"price\":1e300,\"legs\":[{\"symbol\":"
        "\"AAPL\",\"instrument_type\":\"Equity\",\"action\":\"Buy\","
        "\"quantity\":1}]}",
        "{\"order_type\":\"Limit\",\"price\":-1,\"legs\":[{\"symbol\":"
        "\"AAPL\",\"instrument_type\":\"Equity\",\"action\":\"Buy\","
        "\"quantity\":1}]}",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        args = json_loads(bad[i], 0, NULL);
        assert_non_null(args);

        err[0] = '\0';
        c = ttai_order_canonical(args, "5WT01", err, sizeof(err));
        assert_null(c);
        assert_non_null(strstr(err, "must be"));

        json_decref(args);
    }
}


static void
test_token(void **state)
{
    char                 tok[TTAI_ORDER_TOKEN_LEN], nonce[64], id1[64];
    char                 id2[64], *order, *other;
    unsigned char        key2[TTAI_ORDER_KEY_LEN];
    time_t               now;
    ttai_order_token_e   rc;

    now = 1800000000;
    order = canon(SPREAD_A, "5WT01");

    assert_int_equal(ttai_order_token(key, "alice", order, now, 60, tok,
                                      sizeof(tok)), 0);

    rc = ttai_order_token_check(key, "alice", order, tok, now + 59, nonce);
    assert_int_equal(rc, TTAI_ORDER_TOKEN_OK);
    assert_int_equal(strlen(nonce), TTAI_ORDER_NONCE_HEX);

    /* the same order written otherwise: the same order */
    other = canon(SPREAD_B, "5WT01");
    assert_int_equal(ttai_order_token_check(key, "alice", other, tok,
                                            now, nonce),
                     TTAI_ORDER_TOKEN_OK);
    free(other);

    /* expired */
    assert_int_equal(ttai_order_token_check(key, "alice", order, tok,
                                            now + 60, nonce),
                     TTAI_ORDER_TOKEN_EXPIRED);

    /* another user, account, price, quantity, key: refused */
    assert_int_equal(ttai_order_token_check(key, "mallory", order, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);

    other = canon(SPREAD_A, "5WT02");
    assert_int_equal(ttai_order_token_check(key, "alice", other, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);
    free(other);

    other = canon("{\"order_type\":\"Limit\",\"price\":1.19,"
                  "\"price_effect\":\"Credit\",\"legs\":[{\"symbol\":"
                  "\"SPY   261218P00560000\",\"instrument_type\":"
                  "\"Equity Option\",\"action\":\"Sell to Open\","
                  "\"quantity\":1},{\"symbol\":\"SPY   261218P00550000\","
                  "\"instrument_type\":\"Equity Option\",\"action\":"
                  "\"Buy to Open\",\"quantity\":1}]}", "5WT01");
    assert_int_equal(ttai_order_token_check(key, "alice", other, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);
    free(other);

    other = canon("{\"order_type\":\"Limit\",\"price\":1.2,"
                  "\"price_effect\":\"Credit\",\"legs\":[{\"symbol\":"
                  "\"SPY   261218P00560000\",\"instrument_type\":"
                  "\"Equity Option\",\"action\":\"Sell to Open\","
                  "\"quantity\":2},{\"symbol\":\"SPY   261218P00550000\","
                  "\"instrument_type\":\"Equity Option\",\"action\":"
                  "\"Buy to Open\",\"quantity\":2}]}", "5WT01");
    assert_int_equal(ttai_order_token_check(key, "alice", other, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);
    free(other);

    randombytes_buf(key2, sizeof(key2));
    assert_int_equal(ttai_order_token_check(key2, "alice", order, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);

    /* a changed expiry fails the MAC, not the clock */
    tok[4] = tok[4] == '9' ? '8' : '9';
    assert_int_equal(ttai_order_token_check(key, "alice", order, tok, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MISMATCH);

    /* not tokens at all */
    assert_int_equal(ttai_order_token_check(key, "alice", order, "oc1.x.y.z",
                                            now, nonce),
                     TTAI_ORDER_TOKEN_MALFORMED);
    assert_int_equal(ttai_order_token_check(key, "alice", order, NULL, now,
                                            nonce),
                     TTAI_ORDER_TOKEN_MALFORMED);
    assert_int_equal(ttai_order_token_check(key, "alice", order,
                                            "confirmed!", now, nonce),
                     TTAI_ORDER_TOKEN_MALFORMED);

    /* a confirmation's client order id is its own, and stable */
    ttai_order_client_id(key, "00112233445566778899aabbccddeeff", id1);
    ttai_order_client_id(key, "00112233445566778899aabbccddeeff", id2);
    assert_string_equal(id1, id2);
    assert_int_equal(strncmp(id1, "ttai-", 5), 0);
    assert_int_equal(strlen(id1), TTAI_ORDER_CLIENT_ID_LEN - 1);
    ttai_order_client_id(key, "ffeeddccbbaa99887766554433221100", id2);
    assert_string_not_equal(id1, id2);

    free(order);
}


/* each limit, on the spread of 1.20 credit and on single legs */

static int
limited(const ttai_order_limits_t *lim, const char *args_text,
    const char *mids_text, double day, char *err, size_t errlen)
{
    int      rc;
    char     e2[128];
    double   notional;
    json_t  *args, *c, *mids;

    args = json_loads(args_text, 0, NULL);
    mids = json_loads(mids_text, 0, NULL);
    assert_non_null(args);
    assert_non_null(mids);
    c = ttai_order_canonical(args, "5WT01", e2, sizeof(e2));
    assert_non_null(c);

    err[0] = '\0';
    rc = ttai_order_check_limits(lim, c, mids, day, &notional, err, errlen);

    json_decref(args);
    json_decref(mids);
    json_decref(c);

    return rc;
}


#define MIDS  "{\"SPY   261218P00560000\":4.1,\"SPY   261218P00550000\":2.9," \
              "\"AAPL\":150}"

#define STOCK(type, qty, price)                                              \
    "{\"order_type\":\"" type "\"" price ",\"legs\":[{\"symbol\":\"AAPL\","  \
    "\"instrument_type\":\"Equity\",\"action\":\"Buy\",\"quantity\":" qty    \
    "}]}"

static void
test_limits(void **state)
{
    char                 err[256];
    ttai_order_limits_t  lim;

    memset(&lim, 0, sizeof(lim));

    /* no limits: anything passes, even a market order on stock */
    assert_int_equal(limited(&lim, SPREAD_A, MIDS, 0, err, sizeof(err)), 0);
    assert_int_equal(limited(&lim, STOCK("Market", "10", ""), MIDS, 0, err,
                             sizeof(err)), 0);

    /* market orders on options: refused unless allowed */
    assert_int_equal(limited(&lim, "{\"order_type\":\"Market\",\"legs\":"
                             "[{\"symbol\":\"SPY   261218P00560000\","
                             "\"instrument_type\":\"Equity Option\","
                             "\"action\":\"Buy to Open\",\"quantity\":1}]}",
                             MIDS, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "market orders on options"));

    /* notional per order: 10 AAPL at 150 is 1,500 */
    lim.max_notional = 1000;
    assert_int_equal(limited(&lim, STOCK("Limit", "10", ",\"price\":150"),
                             MIDS, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "worth 1500.00 USD, more than the limit of "
                            "1000.00"));
    lim.max_notional = 0;

    /* per day */
    lim.max_day_notional = 2000;
    assert_int_equal(limited(&lim, STOCK("Limit", "10", ",\"price\":150"),
                             MIDS, 600, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "today's orders come to 2100.00"));
    assert_int_equal(limited(&lim, STOCK("Limit", "10", ",\"price\":150"),
                             MIDS, 400, err, sizeof(err)), 0);
    lim.max_day_notional = 0;

    /* contracts */
    lim.max_contracts = 1;
    assert_int_equal(limited(&lim, SPREAD_A, MIDS, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "2 contracts, more than the limit of 1"));
    lim.max_contracts = 0;

    /* instrument types */
    lim.types = TTAI_ORDER_EQUITY;
    assert_int_equal(limited(&lim, SPREAD_A, MIDS, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "trades only stock"));
    lim.types = 0;

    /* ticks: a nickel for options of 3.00 and more */
    assert_int_equal(limited(&lim, "{\"order_type\":\"Limit\",\"price\":4.12,"
                             "\"legs\":[{\"symbol\":"
                             "\"SPY   261218P00560000\",\"instrument_type\":"
                             "\"Equity Option\",\"action\":\"Buy to Open\","
                             "\"quantity\":1}]}", MIDS, 0, err,
                             sizeof(err)), -1);
    assert_non_null(strstr(err, "not on a tick"));
    assert_int_equal(limited(&lim, STOCK("Limit", "1", ",\"price\":150.005"),
                             MIDS, 0, err, sizeof(err)), -1);

    /* the band: the spread's market is 4.10 - 2.90 = 1.20 */
    lim.price_band = 0.1;
    assert_int_equal(limited(&lim, SPREAD_A, MIDS, 0, err, sizeof(err)), 0);
    assert_int_equal(limited(&lim, STOCK("Limit", "1", ",\"price\":170"),
                             MIDS, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the price 170 is more than 10% from the "
                            "market's 150.00"));

    /* the price is per share, whatever the quantity */
    assert_int_equal(limited(&lim, STOCK("Limit", "30", ",\"price\":150.5"),
                             MIDS, 0, err, sizeof(err)), 0);
    assert_int_equal(limited(&lim, STOCK("Limit", "30", ",\"price\":120"),
                             MIDS, 0, err, sizeof(err)), -1);

    /* and per spread: two of the spread are still at 1.20 */
    assert_int_equal(limited(&lim, SPREAD_2, MIDS, 0, err, sizeof(err)), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_canonical_amounts),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_limits),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    randombytes_buf(key, sizeof(key));

    return cmocka_run_group_tests(tests, NULL, NULL);
}
