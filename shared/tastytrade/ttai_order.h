
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_ORDER_H_INCLUDED_
#define _TTAI_ORDER_H_INCLUDED_


#include <stddef.h>
#include <time.h>

#include <jansson.h>


/*
 * What makes an order the same order, and what proves that a human
 * confirmed exactly that one.
 *
 * The canonical order: the account and the order's arguments as
 * preview_order and place_order take them, normalized (symbols as keys
 * use them, prices and quantities as decimals of fixed places, the
 * default time in force written out, legs in one order whatever order
 * they came in), so that two ways of writing one order are one text.
 *
 * A confirmation token binds a user to a canonical order until it
 * expires, with a MAC under the server's key: "oc1.<exp>.<nonce>.<mac>".
 * Any other user, account, price, quantity or leg fails the MAC; the
 * check is constant-time.  That it is used once is the shell's to keep
 * (by its nonce, in the database); the client order id of what it
 * confirms is derived from the nonce, so a retry of one confirmation
 * names the order it may already have placed.
 */

#define TTAI_ORDER_KEY_LEN       32
#define TTAI_ORDER_TOKEN_LEN     128     /* with its NUL, at most */
#define TTAI_ORDER_NONCE_HEX     32
#define TTAI_ORDER_CLIENT_ID_LEN 32      /* "ttai-" and hex, with NUL */

/* the largest price or quantity an order may name */
#define TTAI_ORDER_AMOUNT_MAX    1e9

typedef enum {
    TTAI_ORDER_TOKEN_OK = 0,
    TTAI_ORDER_TOKEN_MALFORMED,          /* not a confirmation token */
    TTAI_ORDER_TOKEN_MISMATCH,           /* for another order or user */
    TTAI_ORDER_TOKEN_EXPIRED
} ttai_order_token_e;


/*
 * The canonical order of args for account: a new object, or NULL with
 * err saying what is wrong with the order (a leg without a symbol, an
 * unknown action, ...), or "out of memory"
 */
json_t *ttai_order_canonical(json_t *args, const char *account, char *err,
    size_t errlen);

/* its text, compact with sorted keys: malloc'd, or NULL */
char *ttai_order_canonical_text(json_t *canonical);

/*
 * A token for user's canonical order (its text), valid ttl seconds from
 * now, into out (TTAI_ORDER_TOKEN_LEN); -1 when it does not fit
 */
int ttai_order_token(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *user, const char *canonical, time_t now, time_t ttl,
    char *out, size_t size);

/*
 * Whether token confirms user's canonical order at now; on OK, nonce
 * (TTAI_ORDER_NONCE_HEX + 1 bytes) is the token's, for the single use
 */
ttai_order_token_e ttai_order_token_check(
    const unsigned char key[TTAI_ORDER_KEY_LEN], const char *user,
    const char *canonical, const char *token, time_t now, char *nonce);

/*
 * The operator's limits, checked before anything is sent; 0 is no limit.
 * mids gives each leg's current middle price by symbol (a leg without
 * one is priced at the order's price); day is what the user's orders
 * of the day came to before this one.
 */

#define TTAI_ORDER_EQUITY        0x01
#define TTAI_ORDER_OPTION        0x02
#define TTAI_ORDER_FUTURE        0x04

typedef struct {
    double                max_notional;      /* USD, per order */
    double                max_day_notional;  /* USD, per user and day */
    double                max_contracts;     /* options, futures, per order */
    unsigned              types;             /* TTAI_ORDER_*; 0: all */
    int                   option_market;     /* market orders on options */
    double                price_band;        /* of the mid, e.g. 0.1 */
} ttai_order_limits_t;

/* what the operator set for a location that trades (ttai_trading on) */

#define TTAI_ORDER_HOURS_WARN    0
#define TTAI_ORDER_HOURS_REFUSE  1

struct ttai_order_conf_s {
    ttai_order_limits_t   limits;
    long                  confirm_ttl;       /* seconds */
    int                   outside_hours;     /* TTAI_ORDER_HOURS_* */
};

typedef struct ttai_order_conf_s  ttai_order_conf_t;


/*
 * 0, with *notional the order's (USD, what the day adds up); or -1 with
 * err naming the limit and its value
 */
int ttai_order_check_limits(const ttai_order_limits_t *lim, json_t *canonical,
    json_t *mids, double day, double *notional, char *err, size_t errlen);

/* the client order id of a confirmation's order (TTAI_ORDER_CLIENT_ID_LEN) */
void ttai_order_client_id(const unsigned char key[TTAI_ORDER_KEY_LEN],
    const char *nonce, char *out);


#endif /* _TTAI_ORDER_H_INCLUDED_ */
