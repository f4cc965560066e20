
/*
 * Copyright (C) ttai contributors
 */


#define _DEFAULT_SOURCE

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ttai_monitor.h"


/*
 * The rule kinds.  Each says which arguments it needs and what it reads,
 * and evaluates a rule into observations, one per subject, in one of
 * three zones: the condition holds (fire), it is clearly false (armed
 * again), or it is near the level (as it was).  The band between the
 * last two is the hysteresis: a price that wobbles around a level fires
 * once, not at each wobble.
 */

/* how far past a level a value must go back before a rule is armed */
#define TTAI_MON_PRICE_BAND     0.001   /* of the level */
#define TTAI_MON_PERCENT_BAND   0.1     /* of the threshold */
#define TTAI_MON_AMOUNT_BAND    0.01    /* of the amount */
#define TTAI_MON_DELTA_BAND     0.05    /* of a net delta's level */
#define TTAI_MON_OPTION_BAND    0.02    /* of an option's delta */

#define TTAI_MON_SYMBOL_MAX     48


static int ttai_mon_price_cross(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_day_move(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_position_pnl(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_buying_power(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_expiration(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_order_filled(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_net_delta(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);
static int ttai_mon_short_delta(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);


const ttai_mon_kind_t  ttai_mon_kinds[] = {

    { "price_cross",
      "symbol's price crosses level (direction above or below)",
      { "symbol", "direction", "level", NULL },
      TTAI_MON_QUOTES, ttai_mon_price_cross },

    { "day_move",
      "symbol moves percent or more since the previous close (direction "
      "up, down or either)",
      { "symbol", "percent", NULL },
      TTAI_MON_QUOTES, ttai_mon_day_move },

    { "position_pnl",
      "a position's P/L since open passes percent (negative: a loss); "
      "symbol narrows it to one symbol or underlying",
      { "percent", NULL },
      TTAI_MON_POSITIONS | TTAI_MON_QUOTES, ttai_mon_position_pnl },

    { "buying_power_below",
      "buying power (buying_power option or stock) falls below amount",
      { "amount", NULL },
      TTAI_MON_BALANCES, ttai_mon_buying_power },

    { "expiration_near",
      "an option or future position is within days of its expiration",
      { "days", NULL },
      TTAI_MON_POSITIONS, ttai_mon_expiration },

    { "order_filled",
      "an order fills (symbol narrows it)",
      { NULL },
      TTAI_MON_ORDERS, ttai_mon_order_filled },

    { "net_delta",
      "the account's net delta (shares, live) goes beyond level either "
      "way",
      { "level", NULL },
      TTAI_MON_GREEKS, ttai_mon_net_delta },

    { "short_option_delta",
      "a short option's delta goes past level (0 to 1, either sign); "
      "symbol narrows it",
      { "level", NULL },
      TTAI_MON_GREEKS, ttai_mon_short_delta },

    { NULL, NULL, { NULL }, 0, NULL }
};


/* the arguments a kind may take beyond its required ones */
static const char *const  ttai_mon_optional[] = {
    "symbol", "direction", "account_number", "buying_power", NULL
};


static int ttai_mon_symbol_ok(const char *s);
static json_t *ttai_mon_quote(json_t *data, const char *symbol);
static double ttai_mon_num(json_t *obj, const char *key, int *ok);
static json_t *ttai_mon_account(json_t *data, json_t *params);
static int ttai_mon_matches(json_t *item, const char *symbol);
static long long ttai_mon_iso_ms(const char *s);


const ttai_mon_kind_t *
ttai_mon_kind(const char *name)
{
    const ttai_mon_kind_t  *k;

    for (k = ttai_mon_kinds; name != NULL && k->name != NULL; k++) {
        if (strcmp(k->name, name) == 0) {
            return k;
        }
    }

    return NULL;
}


json_t *
ttai_monitor_params(const char *kind, json_t *args, char *err, size_t errlen)
{
    size_t                  i;
    json_t                 *params, *v;
    const char             *s;
    const ttai_mon_kind_t  *k;

    k = ttai_mon_kind(kind);

    if (k == NULL) {
        snprintf(err, errlen, "kind must be one of price_cross, day_move, "
                 "position_pnl, buying_power_below, expiration_near, "
                 "order_filled");
        return NULL;
    }

    for (i = 0; k->required[i] != NULL; i++) {
        if (json_object_get(args, k->required[i]) == NULL) {
            snprintf(err, errlen, "a %s rule needs %s: %s", k->name,
                     k->required[i], k->summary);
            return NULL;
        }
    }

    s = json_string_value(json_object_get(args, "symbol"));
    if (s != NULL && !ttai_mon_symbol_ok(s)) {
        snprintf(err, errlen, "symbol \"%.48s\" is not a symbol TastyTrade "
                 "knows the form of (letters, digits, space, \".\", \"/\", "
                 "up to %d)", s, TTAI_MON_SYMBOL_MAX);
        return NULL;
    }

    s = json_string_value(json_object_get(args, "direction"));

    if (strcmp(k->name, "price_cross") == 0) {
        if (s == NULL || (strcmp(s, "above") && strcmp(s, "below"))) {
            snprintf(err, errlen, "a price_cross rule's direction is "
                     "\"above\" or \"below\"");
            return NULL;
        }

        if (json_number_value(json_object_get(args, "level")) <= 0) {
            snprintf(err, errlen, "level must be a price above 0");
            return NULL;
        }

    } else if (strcmp(k->name, "day_move") == 0) {
        if (s != NULL && strcmp(s, "up") && strcmp(s, "down")
            && strcmp(s, "either"))
        {
            snprintf(err, errlen, "a day_move rule's direction is \"up\", "
                     "\"down\" or \"either\"");
            return NULL;
        }

        if (json_number_value(json_object_get(args, "percent")) <= 0) {
            snprintf(err, errlen, "a day_move rule's percent is a move "
                     "above 0, whichever its direction");
            return NULL;
        }

    } else if (s != NULL) {
        snprintf(err, errlen, "direction is for price_cross and day_move "
                 "rules only");
        return NULL;
    }

    if (strcmp(k->name, "net_delta") == 0
        && json_number_value(json_object_get(args, "level")) <= 0)
    {
        snprintf(err, errlen, "a net_delta rule's level is shares of "
                 "delta above 0: it fires beyond it either way");
        return NULL;
    }

    if (strcmp(k->name, "short_option_delta") == 0
        && (json_number_value(json_object_get(args, "level")) <= 0
            || json_number_value(json_object_get(args, "level")) >= 1))
    {
        snprintf(err, errlen, "a short_option_delta rule's level is a "
                 "delta between 0 and 1, such as 0.5");
        return NULL;
    }

    if (strcmp(k->name, "position_pnl") == 0
        && json_number_value(json_object_get(args, "percent")) == 0)
    {
        snprintf(err, errlen, "a position_pnl rule's percent is a gain "
                 "(above 0) or a loss (below 0), not 0");
        return NULL;
    }

    if (json_object_get(args, "buying_power") != NULL
        && strcmp(k->name, "buying_power_below") != 0)
    {
        snprintf(err, errlen, "buying_power is for buying_power_below "
                 "rules only");
        return NULL;
    }

    if (json_object_get(args, "account_number") != NULL
        && !(k->needs & (TTAI_MON_POSITIONS | TTAI_MON_BALANCES
                         | TTAI_MON_ORDERS | TTAI_MON_GREEKS)))
    {
        snprintf(err, errlen, "account_number is for rules on an "
                 "account's positions, balances or orders");
        return NULL;
    }

    params = json_object();
    if (params == NULL) {
        return NULL;
    }

    /* only what the kind reads is kept */
    for (i = 0; k->required[i] != NULL; i++) {
        v = json_object_get(args, k->required[i]);

        if (json_object_set(params, k->required[i], v) != 0) {
            json_decref(params);
            return NULL;
        }
    }

    for (i = 0; ttai_mon_optional[i] != NULL; i++) {
        v = json_object_get(args, ttai_mon_optional[i]);

        if (v != NULL
            && json_object_set(params, ttai_mon_optional[i], v) != 0)
        {
            json_decref(params);
            return NULL;
        }
    }

    /* a symbol is kept as TastyTrade writes it */
    s = json_string_value(json_object_get(params, "symbol"));

    if (s != NULL) {
        char  up[TTAI_MON_SYMBOL_MAX + 1];

        for (i = 0; s[i] && i < TTAI_MON_SYMBOL_MAX; i++) {
            up[i] = (char) toupper((unsigned char) s[i]);
        }

        up[i] = '\0';

        if (json_object_set_new(params, "symbol", json_string(up)) != 0) {
            json_decref(params);
            return NULL;
        }
    }

    return params;
}


static int
ttai_mon_symbol_ok(const char *s)
{
    size_t  n;

    n = strlen(s);

    if (n == 0 || n > TTAI_MON_SYMBOL_MAX || s[0] == ' ') {
        return 0;
    }

    for ( ; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != ' ' && *s != '.'
            && *s != '/' && *s != '-')
        {
            return 0;
        }
    }

    return 1;
}


int
ttai_monitor_webhook_allowed(const char *url, const char *const *allow,
    size_t n, char *err, size_t errlen)
{
    size_t       i, len;
    const char  *a, *rest, *host;

    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    {
        snprintf(err, errlen, "webhook must be an http or https URL");
        return 0;
    }

    host = strstr(url, "://") + 3;

    /* no user:password@, no fragment: nothing to read two ways */
    for (rest = host; *rest && *rest != '/' && *rest != '?'; rest++) {
        if (*rest == '@' || *rest == '\\') {
            snprintf(err, errlen, "webhook must not carry a user name");
            return 0;
        }
    }

    if (strchr(url, '#') != NULL || strchr(url, ' ') != NULL
        || strlen(url) > 512)
    {
        snprintf(err, errlen, "webhook must be a plain URL of at most 512 "
                 "characters");
        return 0;
    }

    for (i = 0; i < n; i++) {
        a = allow[i];
        len = strlen(a);

        if (strncmp(url, a, len) != 0) {
            continue;
        }

        /* the whole authority: http://host must not allow http://host.evil */
        if (a[len - 1] == '/' || url[len] == '\0' || url[len] == '/'
            || url[len] == '?')
        {
            return 1;
        }
    }

    snprintf(err, errlen, "webhook's host is not one this server sends "
             "alerts to; the operator allows %s%s", n ? "" : "none",
             n ? "only the hosts of ttai_alert_webhooks" : "");
    return 0;
}


void
ttai_monitor_rule_id(char out[TTAI_MON_ID_LEN + 1])
{
    unsigned char  raw[8];

    randombytes_buf(raw, sizeof(raw));
    memcpy(out, "alr_", 4);
    sodium_bin2hex(out + 4, 17, raw, sizeof(raw));
}


/* -- the kinds ------------------------------------------------------- */


static int
ttai_mon_price_cross(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    int              ok, above;
    double           level, price;
    const char      *symbol;
    ttai_mon_obs_t   o;

    symbol = json_string_value(json_object_get(params, "symbol"));
    level = json_number_value(json_object_get(params, "level"));
    above = (strcmp(json_string_value(json_object_get(params, "direction")),
                    "above") == 0);

    price = ttai_mon_num(ttai_mon_quote(data, symbol), "price", &ok);
    if (!ok) {
        return 0;
    }

    memset(&o, 0, sizeof(o));
    o.subject = symbol;
    o.value = price;
    o.has_value = 1;

    if (above ? price >= level : price <= level) {
        o.zone = TTAI_MON_FIRE;

    } else if (above ? price < level * (1 - TTAI_MON_PRICE_BAND)
                     : price > level * (1 + TTAI_MON_PRICE_BAND))
    {
        o.zone = TTAI_MON_CLEAR;
    }

    snprintf(o.message, sizeof(o.message), "%s is at %.2f, %s %.2f",
             symbol, price, above ? (price >= level ? "above" : "below")
                                  : (price <= level ? "below" : "above"),
             level);

    return observe(odata, &o);
}


static int
ttai_mon_day_move(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    int              ok, ok2;
    double           pct, move, price, prev;
    json_t          *q;
    const char      *symbol, *dir;
    ttai_mon_obs_t   o;

    symbol = json_string_value(json_object_get(params, "symbol"));
    pct = json_number_value(json_object_get(params, "percent"));
    dir = json_string_value(json_object_get(params, "direction"));
    dir = dir ? dir : "either";

    q = ttai_mon_quote(data, symbol);
    price = ttai_mon_num(q, "price", &ok);
    prev = ttai_mon_num(q, "prev_close", &ok2);

    if (!ok || !ok2 || prev <= 0) {
        return 0;
    }

    move = (price - prev) / prev * 100;

    memset(&o, 0, sizeof(o));
    o.subject = symbol;
    o.value = move;
    o.has_value = 1;

    if (strcmp(dir, "up") == 0) {
        o.zone = (move >= pct) ? TTAI_MON_FIRE
                 : (move < pct * (1 - TTAI_MON_PERCENT_BAND)) ? TTAI_MON_CLEAR
                 : TTAI_MON_HOLD;

    } else if (strcmp(dir, "down") == 0) {
        o.zone = (move <= -pct) ? TTAI_MON_FIRE
                 : (move > -pct * (1 - TTAI_MON_PERCENT_BAND))
                   ? TTAI_MON_CLEAR : TTAI_MON_HOLD;

    } else {
        o.zone = (fabs(move) >= pct) ? TTAI_MON_FIRE
                 : (fabs(move) < pct * (1 - TTAI_MON_PERCENT_BAND))
                   ? TTAI_MON_CLEAR : TTAI_MON_HOLD;
    }

    snprintf(o.message, sizeof(o.message), "%s has moved %+.2f%% since the "
             "previous close (%.2f to %.2f); the rule watches %s %.2f%%",
             symbol, move, prev, price, dir, pct);

    return observe(odata, &o);
}


/*
 * A position's P/L since open, at its quote (its previous close when
 * there is none): the tool's quantity is negative for a short position,
 * so one formula serves both sides
 */

int
ttai_monitor_pnl(json_t *pos, json_t *data, double *price, double *pnl,
    double *pct)
{
    int          ok, ok2, ok3;
    double       qty, open, mult, basis;
    const char  *symbol;

    symbol = json_string_value(json_object_get(pos, "symbol"));
    qty = ttai_mon_num(pos, "quantity", &ok);
    open = ttai_mon_num(pos, "average_open_price", &ok2);
    mult = ttai_mon_num(pos, "multiplier", &ok3);
    mult = ok3 ? mult : 1;

    *price = ttai_mon_num(ttai_mon_quote(data, symbol), "price", &ok3);
    if (!ok3) {
        *price = ttai_mon_num(pos, "close_price", &ok3);
    }

    basis = fabs(open * qty * mult);

    if (!ok || !ok2 || !ok3 || basis == 0) {
        return 0;
    }

    *pnl = (*price - open) * qty * mult;
    *pct = *pnl / basis * 100;

    return 1;
}


static int
ttai_mon_position_pnl(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    char             subject[128];
    size_t           i;
    double           want, price, pnl, pct;
    json_t          *acct, *pos;
    const char      *symbol, *num;
    ttai_mon_obs_t   o;

    want = json_number_value(json_object_get(params, "percent"));
    symbol = json_string_value(json_object_get(params, "symbol"));

    acct = ttai_mon_account(data, params);
    num = json_string_value(json_object_get(acct, "account_number"));

    json_array_foreach(json_object_get(acct, "positions"), i, pos) {
        if (!ttai_mon_matches(pos, symbol)
            || !ttai_monitor_pnl(pos, data, &price, &pnl, &pct))
        {
            continue;
        }

        snprintf(subject, sizeof(subject), "%s:%s", num ? num : "",
                 json_string_value(json_object_get(pos, "symbol")));

        memset(&o, 0, sizeof(o));
        o.subject = subject;
        o.value = pct;
        o.has_value = 1;

        if (want > 0) {
            o.zone = (pct >= want) ? TTAI_MON_FIRE
                     : (pct < want * (1 - TTAI_MON_PERCENT_BAND))
                       ? TTAI_MON_CLEAR : TTAI_MON_HOLD;
        } else {
            o.zone = (pct <= want) ? TTAI_MON_FIRE
                     : (pct > want * (1 - TTAI_MON_PERCENT_BAND))
                       ? TTAI_MON_CLEAR : TTAI_MON_HOLD;
        }

        snprintf(o.message, sizeof(o.message), "%s in %s: P/L %+.2f%% "
                 "(%+.2f USD) at %.2f; the rule watches %+.2f%%",
                 json_string_value(json_object_get(pos, "symbol")),
                 num ? num : "the account", pct, pnl, price, want);

        if (observe(odata, &o) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
ttai_mon_buying_power(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    int              ok, stock;
    double           amount, bp;
    json_t          *acct;
    const char      *which, *num;
    ttai_mon_obs_t   o;

    amount = json_number_value(json_object_get(params, "amount"));
    which = json_string_value(json_object_get(params, "buying_power"));
    stock = (which != NULL && strcmp(which, "stock") == 0);

    acct = ttai_mon_account(data, params);
    num = json_string_value(json_object_get(acct, "account_number"));

    bp = ttai_mon_num(json_object_get(acct, "balances"),
                      stock ? "equity_buying_power"
                            : "derivative_buying_power", &ok);
    if (!ok) {
        return 0;
    }

    memset(&o, 0, sizeof(o));
    o.subject = num ? num : "account";
    o.value = bp;
    o.has_value = 1;
    o.zone = (bp < amount) ? TTAI_MON_FIRE
             : (bp >= amount * (1 + TTAI_MON_AMOUNT_BAND)) ? TTAI_MON_CLEAR
             : TTAI_MON_HOLD;

    snprintf(o.message, sizeof(o.message), "%s buying power of %s is "
             "%.2f USD; the rule watches below %.2f", stock ? "Stock"
             : "Option", num ? num : "the account", bp, amount);

    return observe(odata, &o);
}


static int
ttai_mon_expiration(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    char             subject[128];
    size_t           i;
    double           days, left;
    json_t          *acct, *pos;
    long long        at;
    const char      *symbol, *num, *expires;
    ttai_mon_obs_t   o;

    days = json_number_value(json_object_get(params, "days"));
    symbol = json_string_value(json_object_get(params, "symbol"));

    acct = ttai_mon_account(data, params);
    num = json_string_value(json_object_get(acct, "account_number"));

    json_array_foreach(json_object_get(acct, "positions"), i, pos) {
        expires = json_string_value(json_object_get(pos, "expires_at"));
        at = expires ? ttai_mon_iso_ms(expires) : -1;

        if (at < 0 || !ttai_mon_matches(pos, symbol)) {
            continue;
        }

        left = (double) (at - now_ms) / 86400000.0;

        snprintf(subject, sizeof(subject), "%s:%s", num ? num : "",
                 json_string_value(json_object_get(pos, "symbol")));

        memset(&o, 0, sizeof(o));
        o.subject = subject;
        o.value = left;
        o.has_value = 1;

        /* a position fires once: its expiration only comes nearer */
        o.zone = (left <= days) ? TTAI_MON_FIRE : TTAI_MON_HOLD;

        snprintf(o.message, sizeof(o.message), "%s in %s expires in %.1f "
                 "days (%.10s); the rule watches %g days",
                 json_string_value(json_object_get(pos, "symbol")),
                 num ? num : "the account", left, expires, days);

        if (observe(odata, &o) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
ttai_mon_order_filled(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    char             subject[96], idbuf[48];
    size_t           i, j;
    json_t          *acct, *order, *id, *leg;
    long long        at;
    const char      *symbol, *status, *num, *leg_sym;
    ttai_mon_obs_t   o;

    symbol = json_string_value(json_object_get(params, "symbol"));
    acct = ttai_mon_account(data, params);
    num = json_string_value(json_object_get(acct, "account_number"));

    json_array_foreach(json_object_get(acct, "orders"), i, order) {
        status = json_string_value(json_object_get(order, "status"));

        if (status == NULL || strcmp(status, "Filled") != 0) {
            continue;
        }

        /* a fill the rule was made after is not news */
        at = ttai_mon_iso_ms(json_string_value(json_object_get(order,
                                                               "updated_at")));
        if (at < created_ms) {
            continue;
        }

        leg_sym = NULL;

        json_array_foreach(json_object_get(order, "legs"), j, leg) {
            if (leg_sym == NULL || ttai_mon_matches(leg, symbol)) {
                leg_sym = json_string_value(json_object_get(leg, "symbol"));
            }
        }

        if (symbol != NULL && !ttai_mon_matches(order, symbol)
            && (leg_sym == NULL || strcmp(leg_sym, symbol) != 0))
        {
            continue;
        }

        id = json_object_get(order, "id");

        if (json_is_integer(id)) {
            snprintf(idbuf, sizeof(idbuf), "%lld",
                     (long long) json_integer_value(id));
        } else {
            snprintf(idbuf, sizeof(idbuf), "%.40s",
                     json_string_value(id) ? json_string_value(id) : "?");
        }

        snprintf(subject, sizeof(subject), "order:%s", idbuf);

        memset(&o, 0, sizeof(o));
        o.subject = subject;
        o.zone = TTAI_MON_FIRE;

        snprintf(o.message, sizeof(o.message), "Order %s (%s) in %s "
                 "filled", idbuf, leg_sym ? leg_sym : "?",
                 num ? num : "the account");

        if (observe(odata, &o) != 0) {
            return -1;
        }
    }

    return 0;
}


/* -- reading the data ------------------------------------------------- */


static json_t *
ttai_mon_quote(json_t *data, const char *symbol)
{
    return symbol ? json_object_get(json_object_get(data, "quotes"), symbol)
                  : NULL;
}


static double
ttai_mon_num(json_t *obj, const char *key, int *ok)
{
    json_t  *v;

    v = json_object_get(obj, key);
    *ok = json_is_number(v) && isfinite(json_number_value(v));

    return *ok ? json_number_value(v) : 0;
}


/* the data of the rule's account: its account_number, or the only one */

static json_t *
ttai_mon_account(json_t *data, json_t *params)
{
    const char  *num;

    num = json_string_value(json_object_get(params, "account_number"));

    return json_object_get(json_object_get(data, "accounts"),
                           num ? num : "");
}


/* an item of the symbol, or of its underlying; any, without one */

/* the live greeks of get_position_greeks: the account's net delta */

static int
ttai_mon_net_delta(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    int              ok;
    double           level, d;
    json_t          *acct;
    const char      *num;
    ttai_mon_obs_t   o;

    level = json_number_value(json_object_get(params, "level"));
    acct = ttai_mon_account(data, params);
    num = json_string_value(json_object_get(acct, "account_number"));

    d = ttai_mon_num(json_object_get(json_object_get(acct, "greeks"),
                                     "total"), "delta", &ok);
    if (!ok) {
        return 0;
    }

    memset(&o, 0, sizeof(o));
    o.subject = num ? num : "account";
    o.value = d;
    o.has_value = 1;
    o.zone = fabs(d) > level ? TTAI_MON_FIRE
             : fabs(d) < level * (1 - TTAI_MON_DELTA_BAND) ? TTAI_MON_CLEAR
             : TTAI_MON_HOLD;

    snprintf(o.message, sizeof(o.message), "Net delta of %s is %.2f "
             "shares, %s the band of %.2f either way", num ? num
             : "the account", d, fabs(d) > level ? "beyond" : "within",
             level);

    return observe(odata, &o);
}


/* each short option whose own delta is past the level, either sign */

static int
ttai_mon_short_delta(json_t *params, json_t *data, long long created_ms,
    long long now_ms, ttai_mon_observe_pt observe, void *odata)
{
    int              ok;
    size_t           i;
    double           level, d, qty;
    json_t          *acct, *pos;
    const char      *symbol, *s;
    ttai_mon_obs_t   o;

    level = json_number_value(json_object_get(params, "level"));
    symbol = json_string_value(json_object_get(params, "symbol"));
    acct = ttai_mon_account(data, params);

    json_array_foreach(json_object_get(json_object_get(acct, "greeks"),
                                       "positions"), i, pos)
    {
        qty = ttai_mon_num(pos, "quantity", &ok);
        d = ok ? ttai_mon_num(pos, "contract_delta", &ok) : 0;
        s = json_string_value(json_object_get(pos, "symbol"));

        if (!ok || qty >= 0 || s == NULL || !ttai_mon_matches(pos, symbol)) {
            continue;
        }

        memset(&o, 0, sizeof(o));
        o.subject = s;
        o.value = d;
        o.has_value = 1;
        o.zone = fabs(d) >= level ? TTAI_MON_FIRE
                 : fabs(d) < level - TTAI_MON_OPTION_BAND ? TTAI_MON_CLEAR
                 : TTAI_MON_HOLD;

        snprintf(o.message, sizeof(o.message), "Short %s has a delta of "
                 "%.2f, %s %.2f", s, d, fabs(d) >= level ? "past" : "inside",
                 level);

        if (observe(odata, &o) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
ttai_mon_matches(json_t *item, const char *symbol)
{
    const char  *s;

    if (symbol == NULL) {
        return 1;
    }

    s = json_string_value(json_object_get(item, "symbol"));
    if (s != NULL && strcmp(s, symbol) == 0) {
        return 1;
    }

    s = json_string_value(json_object_get(item, "underlying"));

    return s != NULL && strcmp(s, symbol) == 0;
}


/*
 * "2026-06-12T19:33:24.172+00:00" (or with Z, or a date alone) as epoch
 * ms; -1 when it is not one
 */

static long long
ttai_mon_iso_ms(const char *s)
{
    int        n, y, mo, d, h, mi, sec, oh, om;
    char       sign;
    time_t     t;
    struct tm  tm;

    if (s == NULL) {
        return -1;
    }

    h = mi = sec = 0;
    n = 0;

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) {
        return -1;
    }

    s += n;

    if (*s == 'T' && sscanf(s, "T%2d:%2d:%2d%n", &h, &mi, &sec, &n) == 3) {
        s += n;

        if (*s == '.') {
            for (s++; isdigit((unsigned char) *s); s++) { /* void */ }
        }
    }

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;

    t = timegm(&tm);
    if (t == (time_t) -1) {
        return -1;
    }

    if ((*s == '+' || *s == '-')
        && sscanf(s, "%c%2d:%2d", &sign, &oh, &om) == 3)
    {
        t -= (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    }

    return (long long) t * 1000;
}
