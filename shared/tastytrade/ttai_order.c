
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_order.h"
#include "ttai_worker.h"


#define TTAI_ORDER_TOKEN_PREFIX  "oc1."


static json_t *ttai_order_decimal(json_t *v);
static int ttai_order_leg_cmp(const void *a, const void *b);
static void ttai_order_mac(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *user, const char *canonical, const char *exp,
    const char *nonce, unsigned char mac[crypto_auth_hmacsha256_BYTES]);


json_t *
ttai_order_canonical(json_t *args, const char *account, char *err,
    size_t errlen)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t       i, n;
    json_t      *out, *legs, *leg, *l, **sorted, *v;
    const char  *s, *type, *action, *tif;

    static const char  *optional[][2] = {
        { "price", "price" },
        { "stop_price", "stop" }
    };

    snprintf(err, errlen, "out of memory");

    tif = json_string_value(json_object_get(args, "time_in_force"));
    type = json_string_value(json_object_get(args, "order_type"));

    if (account == NULL || type == NULL) {
        snprintf(err, errlen, "an order needs an account and an order_type");
        return NULL;
    }

    out = json_pack("{s:s, s:s, s:s, s:O?, s:O?}", "account", account,
                    "type", type, "tif", tif ? tif : "Day",
                    "effect", json_object_get(args, "price_effect"),
                    "gtd", json_object_get(args, "gtc_date"));
    if (out == NULL) {
        return NULL;
    }

    for (i = 0; i < 2; i++) {
        v = json_object_get(args, optional[i][0]);

        if (v == NULL) {
            continue;
        }

        /* one text per value: a price is a number of a sane size */
        if (!json_is_number(v) || !(json_number_value(v) >= 0)
            || json_number_value(v) > TTAI_ORDER_AMOUNT_MAX)
        {
            json_decref(out);
            snprintf(err, errlen, "%s must be a number from 0 to %g",
                     optional[i][0], TTAI_ORDER_AMOUNT_MAX);
            return NULL;
        }

        if (json_object_set_new(out, optional[i][1], ttai_order_decimal(v))
            != 0)
        {
            json_decref(out);
            return NULL;
        }
    }

    legs = json_object_get(args, "legs");
    n = json_array_size(legs);

    if (n == 0) {
        json_decref(out);
        snprintf(err, errlen, "an order needs at least one leg");
        return NULL;
    }

    sorted = calloc(n, sizeof(json_t *));
    if (sorted == NULL) {
        json_decref(out);
        return NULL;
    }

    json_array_foreach(legs, i, leg) {
        s = json_string_value(json_object_get(leg, "symbol"));
        type = json_string_value(json_object_get(leg, "instrument_type"));
        action = json_string_value(json_object_get(leg, "action"));

        if (s == NULL || type == NULL || action == NULL
            || json_object_get(leg, "quantity") == NULL)
        {
            snprintf(err, errlen, "legs[%zu] needs symbol, instrument_type, "
                     "action and quantity", i);
            break;
        }

        v = json_object_get(leg, "quantity");

        if (!json_is_number(v) || !(json_number_value(v) > 0)
            || json_number_value(v) > TTAI_ORDER_AMOUNT_MAX)
        {
            snprintf(err, errlen, "legs[%zu].quantity must be more than 0 "
                     "and at most %g", i, TTAI_ORDER_AMOUNT_MAX);
            break;
        }

        if (ttai_worker_symbol(s, strlen(s), symbol) != 0) {
            snprintf(err, errlen, "legs[%zu].symbol \"%.48s\" is not a "
                     "symbol", i, s);
            break;
        }

        sorted[i] = json_pack("{s:s, s:s, s:s, s:o}", "symbol", symbol,
                              "type", type, "action", action, "qty",
                              ttai_order_decimal(json_object_get(leg,
                                                                 "quantity")));
        if (sorted[i] == NULL) {
            break;
        }
    }

    l = (i == n) ? json_array() : NULL;

    if (l != NULL) {
        /* the same legs in another order are the same order */
        qsort(sorted, n, sizeof(json_t *), ttai_order_leg_cmp);

        for (i = 0; i < n; i++) {
            if (json_array_append(l, sorted[i]) != 0) {
                json_decref(l);
                l = NULL;
                break;
            }
        }
    }

    for (i = 0; i < n; i++) {
        json_decref(sorted[i]);
    }

    free(sorted);

    if (l == NULL || json_object_set_new(out, "legs", l) != 0) {
        json_decref(out);
        return NULL;
    }

    return out;
}


char *
ttai_order_canonical_text(json_t *canonical)
{
    return json_dumps(canonical, JSON_COMPACT | JSON_SORT_KEYS);
}


/* a price or quantity as a decimal of four places: 1.2 and 1.20 agree */

static json_t *
ttai_order_decimal(json_t *v)
{
    char  buf[64];

    snprintf(buf, sizeof(buf), "%.4f", json_number_value(v));

    return json_string(buf);
}


static int
ttai_order_leg_cmp(const void *a, const void *b)
{
    int    rc;
    char  *x, *y;

    x = json_dumps(*(json_t *const *) a, JSON_COMPACT | JSON_SORT_KEYS);
    y = json_dumps(*(json_t *const *) b, JSON_COMPACT | JSON_SORT_KEYS);

    rc = strcmp(x ? x : "", y ? y : "");

    free(x);
    free(y);

    return rc;
}


int
ttai_order_token(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *user, const char *canonical, time_t now, time_t ttl,
    char *out, size_t size)
{
    int             n;
    char            exp[24], nonce[TTAI_ORDER_NONCE_HEX + 1];
    char            hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
    unsigned char   raw[TTAI_ORDER_NONCE_HEX / 2];
    unsigned char   mac[crypto_auth_hmacsha256_BYTES];

    snprintf(exp, sizeof(exp), "%lld", (long long) (now + ttl));

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(nonce, sizeof(nonce), raw, sizeof(raw));

    ttai_order_mac(key, user, canonical, exp, nonce, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));

    n = snprintf(out, size, TTAI_ORDER_TOKEN_PREFIX "%s.%s.%s", exp, nonce,
                 hex);

    return (n < 0 || (size_t) n >= size) ? -1 : 0;
}


ttai_order_token_e
ttai_order_token_check(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *user, const char *canonical, const char *token, time_t now,
    char *nonce)
{
    char            exp[24], n[TTAI_ORDER_NONCE_HEX + 1];
    size_t          len, elen;
    const char     *p, *dot;
    unsigned char   got[crypto_auth_hmacsha256_BYTES];
    unsigned char   want[crypto_auth_hmacsha256_BYTES];

    len = sizeof(TTAI_ORDER_TOKEN_PREFIX) - 1;

    if (token == NULL || strncmp(token, TTAI_ORDER_TOKEN_PREFIX, len) != 0) {
        return TTAI_ORDER_TOKEN_MALFORMED;
    }

    p = token + len;
    dot = strchr(p, '.');
    elen = dot ? (size_t) (dot - p) : 0;

    if (elen == 0 || elen >= sizeof(exp) || strspn(p, "0123456789") != elen)
    {
        return TTAI_ORDER_TOKEN_MALFORMED;
    }

    memcpy(exp, p, elen);
    exp[elen] = '\0';
    p = dot + 1;

    if (strlen(p) != TTAI_ORDER_NONCE_HEX + 1 + sizeof(got) * 2
        || p[TTAI_ORDER_NONCE_HEX] != '.'
        || strspn(p, "0123456789abcdef") != TTAI_ORDER_NONCE_HEX)
    {
        return TTAI_ORDER_TOKEN_MALFORMED;
    }

    memcpy(n, p, TTAI_ORDER_NONCE_HEX);
    n[TTAI_ORDER_NONCE_HEX] = '\0';
    p += TTAI_ORDER_NONCE_HEX + 1;

    if (sodium_hex2bin(got, sizeof(got), p, sizeof(got) * 2, NULL, &len,
                       NULL)
        != 0 || len != sizeof(got))
    {
        return TTAI_ORDER_TOKEN_MALFORMED;
    }

    ttai_order_mac(key, user, canonical, exp, n, want);

    /* in constant time: a token reveals nothing of the right one */
    if (sodium_memcmp(got, want, sizeof(got)) != 0) {
        return TTAI_ORDER_TOKEN_MISMATCH;
    }

    if (strtoll(exp, NULL, 10) <= (long long) now) {
        return TTAI_ORDER_TOKEN_EXPIRED;
    }

    memcpy(nonce, n, sizeof(n));

    return TTAI_ORDER_TOKEN_OK;
}


void
ttai_order_client_id(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *nonce, char *out)
{
    unsigned char                    mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state     st;

    crypto_auth_hmacsha256_init(&st, key, TTAI_ORDER_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)
                                  "ttai client order id", 21);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) nonce,
                                  strlen(nonce));
    crypto_auth_hmacsha256_final(&st, mac);

    memcpy(out, "ttai-", 5);
    sodium_bin2hex(out + 5, TTAI_ORDER_CLIENT_ID_LEN - 5, mac,
                   (TTAI_ORDER_CLIENT_ID_LEN - 6) / 2);
}


/*
 * A leg's multiplier and kind: stock 1, an equity option 100 (the
 * deliverable TastyTrade lists for standard contracts), a future 1
 * here: its contract size is its product's, which the limits count as
 * contracts instead
 */

static unsigned
ttai_order_kind(const char *type, double *mult)
{
    if (strcmp(type, "Equity Option") == 0) {
        *mult = 100;
        return TTAI_ORDER_OPTION;
    }

    if (strcmp(type, "Future") == 0 || strcmp(type, "Future Option") == 0) {
        *mult = 1;
        return TTAI_ORDER_FUTURE;
    }

    *mult = 1;
    return TTAI_ORDER_EQUITY;
}


/* an option's tick: a penny under $3, a nickel above; a stock's a penny */

static int
ttai_order_on_tick(double price, unsigned kind)
{
    double  tick, n;

    tick = (kind == TTAI_ORDER_OPTION && price >= 3) ? 0.05 : 0.01;
    n = price / tick;

    return fabs(n - floor(n + 0.5)) < 1e-6;
}


int
ttai_order_check_limits(const ttai_order_limits_t *lim, json_t *canonical,
    json_t *mids, double day, double *notional, char *err, size_t errlen)
{
    size_t       i, n;
    double       price, qty, mult, mid, net, total, contracts, unit;
    json_t      *leg, *m;
    unsigned     kind, kinds;
    const char  *type, *symbol, *action, *p;

    type = json_string_value(json_object_get(canonical, "type"));
    p = json_string_value(json_object_get(canonical, "price"));
    price = p ? strtod(p, NULL) : 0;
    n = json_array_size(json_object_get(canonical, "legs"));

    total = 0;
    net = 0;
    unit = 0;
    contracts = 0;
    kinds = 0;

    json_array_foreach(json_object_get(canonical, "legs"), i, leg) {
        symbol = json_string_value(json_object_get(leg, "symbol"));
        action = json_string_value(json_object_get(leg, "action"));
        qty = strtod(json_string_value(json_object_get(leg, "qty")), NULL);
        kind = ttai_order_kind(json_string_value(json_object_get(leg,
                                                                 "type")),
                               &mult);
        kinds |= kind;

        if (lim->types && !(lim->types & kind)) {
            snprintf(err, errlen, "%s is a %s, and this server trades "
                     "only %s%s%s", symbol,
                     json_string_value(json_object_get(leg, "type")),
                     (lim->types & TTAI_ORDER_EQUITY) ? "stock " : "",
                     (lim->types & TTAI_ORDER_OPTION) ? "options " : "",
                     (lim->types & TTAI_ORDER_FUTURE) ? "futures" : "");
            return -1;
        }

        if (kind != TTAI_ORDER_EQUITY) {
            contracts += qty;
        }

        if (unit == 0 || qty < unit) {
            unit = qty;
        }

        m = json_object_get(mids, symbol);
        mid = json_is_number(m) ? json_number_value(m)
                                : (n ? price / n : 0);

        total += qty * mult * mid;
        net += (strncmp(action, "Buy", 3) == 0 ? 1 : -1) * qty * mid;
    }

    *notional = total;

    if ((kinds & TTAI_ORDER_OPTION) && strcmp(type, "Market") == 0
        && !lim->option_market)
    {
        snprintf(err, errlen, "market orders on options are refused here: "
                 "give a limit price");
        return -1;
    }

    if (lim->max_contracts > 0 && contracts > lim->max_contracts) {
        snprintf(err, errlen, "the order is for %g contracts, more than "
                 "the limit of %g", contracts, lim->max_contracts);
        return -1;
    }

    if (lim->max_notional > 0 && total > lim->max_notional) {
        snprintf(err, errlen, "the order is worth %.2f USD, more than the "
                 "limit of %.2f per order", total, lim->max_notional);
        return -1;
    }

    if (lim->max_day_notional > 0 && day + total > lim->max_day_notional) {
        snprintf(err, errlen, "with it, today's orders come to %.2f USD, "
                 "more than the day's limit of %.2f", day + total,
                 lim->max_day_notional);
        return -1;
    }

    if (p != NULL && !ttai_order_on_tick(price, kinds & TTAI_ORDER_OPTION)) {
        snprintf(err, errlen, "the price %g is not on a tick (%s)", price,
                 (kinds & TTAI_ORDER_OPTION) && price >= 3
                 ? "0.05 for options of 3.00 and more" : "0.01");
        return -1;
    }

    /*
     * A limit far from the market is more likely a slip than a wish.
     * The price is for one unit of the order (a share; one spread: its
     * legs in their ratio), so the market is too.
     */
    if (p != NULL && lim->price_band > 0 && n > 0 && unit > 0) {
        net = fabs(net) / unit;

        if (net > 0 && fabs(price - net) > lim->price_band * net) {
            snprintf(err, errlen, "the price %g is more than %g%% from the "
                     "market's %.2f", price, lim->price_band * 100, net);
            return -1;
        }
    }

    return 0;
}


/*
 * HMAC-SHA-256 of the purpose, the user, the canonical order, the expiry
 * and the nonce, each ended by a NUL so that no two splits of one text
 * agree
 */

static void
ttai_order_mac(const unsigned char key[TTAI_ORDER_KEY_LEN], const char *user,
    const char *canonical, const char *exp, const char *nonce,
    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    size_t                        i;
    const char                   *part[5];
    crypto_auth_hmacsha256_state  st;

    part[0] = "ttai order confirmation";
    part[1] = user;
    part[2] = canonical;
    part[3] = exp;
    part[4] = nonce;

    crypto_auth_hmacsha256_init(&st, key, TTAI_ORDER_KEY_LEN);

    for (i = 0; i < 5; i++) {
        crypto_auth_hmacsha256_update(&st, (const unsigned char *) part[i],
                                      strlen(part[i]) + 1);
    }

    crypto_auth_hmacsha256_final(&st, mac);
}
