
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_dxlink.h"


/*
 * The fields ttai asks for, per event type (FEED_SETUP); the server's
 * FEED_CONFIG may answer with its own order, which is the one decoded.
 * Each list begins with eventType and eventSymbol, as COMPACT needs.
 */

typedef struct {
    const char   *type;
    const char   *fields[10];
    int           candle;        /* for candle symbols ("AAPL{=5m}") only */
} ttai_dxl_fields_t;

static const ttai_dxl_fields_t  ttai_dxl_fields[] = {
    { "Quote", { "eventType", "eventSymbol", "bidPrice", "askPrice",
                 "bidSize", "askSize", NULL }, 0 },
    { "Trade", { "eventType", "eventSymbol", "price", "size", "dayVolume",
                 NULL }, 0 },
    { "Summary", { "eventType", "eventSymbol", "dayOpenPrice",
                   "dayHighPrice", "dayLowPrice", "prevDayClosePrice",
                   "openInterest", NULL }, 0 },
    { "Greeks", { "eventType", "eventSymbol", "price", "volatility",
                  "delta", "gamma", "theta", "rho", "vega", NULL }, 0 },
    { "Profile", { "eventType", "eventSymbol", "description",
                   "tradingStatus", NULL }, 0 },
    { "Candle", { "eventType", "eventSymbol", "time", "open", "high", "low",
                  "close", "volume", NULL }, 1 },
    { NULL, { NULL }, 0 }
};


struct ttai_dxl_s {
    ttai_dxl_state_e      state;
    int                   keepalive;   /* seconds */
    char                 *token;
    json_t               *config;      /* type: [fields] to decode by */
    json_t               *subscribed;  /* symbol: true */
    json_t               *add;         /* asked before the feed was ready */
    json_t               *remove;
};


static int ttai_dxl_send(ttai_dxl_out_t *out, json_t *msg);
static int ttai_dxl_data(ttai_dxl_t *d, json_t *data, ttai_dxl_out_t *out);
static json_t *ttai_dxl_setup(void);
static char *ttai_dxl_subscription(json_t *add, json_t *remove);
static int ttai_dxl_fail(ttai_dxl_t *d, ttai_dxl_out_t *out,
    const char *fmt, const char *arg);


ttai_dxl_t *
ttai_dxl_create(const char *token)
{
    size_t             i, j;
    json_t            *f;
    ttai_dxl_t        *d;

    d = calloc(1, sizeof(ttai_dxl_t));
    if (d == NULL) {
        return NULL;
    }

    d->keepalive = TTAI_DXL_KEEPALIVE;
    d->token = strdup(token ? token : "");
    d->config = json_object();
    d->subscribed = json_object();
    d->add = json_object();
    d->remove = json_object();

    if (d->token == NULL || d->config == NULL || d->subscribed == NULL
        || d->add == NULL || d->remove == NULL)
    {
        ttai_dxl_free(d);
        return NULL;
    }

    for (i = 0; ttai_dxl_fields[i].type != NULL; i++) {
        f = json_array();

        for (j = 0; f != NULL && ttai_dxl_fields[i].fields[j] != NULL; j++) {
            if (json_array_append_new(f, json_string(
                    ttai_dxl_fields[i].fields[j])) != 0)
            {
                json_decref(f);
                f = NULL;
            }
        }

        if (f == NULL
            || json_object_set_new(d->config, ttai_dxl_fields[i].type, f)
               != 0)
        {
            ttai_dxl_free(d);
            return NULL;
        }
    }

    return d;
}


void
ttai_dxl_free(ttai_dxl_t *d)
{
    if (d == NULL) {
        return;
    }

    free(d->token);
    json_decref(d->config);
    json_decref(d->subscribed);
    json_decref(d->add);
    json_decref(d->remove);
    free(d);
}


void
ttai_dxl_set_keepalive(ttai_dxl_t *d, int seconds)
{
    d->keepalive = seconds > 0 ? seconds : TTAI_DXL_KEEPALIVE;
}


ttai_dxl_state_e
ttai_dxl_state(const ttai_dxl_t *d)
{
    return d->state;
}


char *
ttai_dxl_start(ttai_dxl_t *d)
{
    char    *text;
    json_t  *msg;

    msg = json_pack("{s:s, s:i, s:s, s:i, s:i}", "type", "SETUP",
                    "channel", 0, "version", "0.1-ttai", "keepaliveTimeout",
                    d->keepalive, "acceptKeepaliveTimeout", d->keepalive);

    text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);

    if (text != NULL) {
        d->state = TTAI_DXL_SETUP;
    }

    return text;
}


char *
ttai_dxl_keepalive(ttai_dxl_t *d)
{
    return strdup("{\"type\":\"KEEPALIVE\",\"channel\":0}");
}


int
ttai_dxl_receive(ttai_dxl_t *d, const char *msg, size_t len,
    ttai_dxl_out_t *out)
{
    int          rc;
    char        *text;
    json_t      *m, *fields;
    const char  *type, *state, *key;

    memset(out, 0, sizeof(ttai_dxl_out_t));

    out->events = json_array();
    if (out->events == NULL) {
        return -1;
    }

    m = json_loadb(msg, len, 0, NULL);
    type = json_string_value(json_object_get(m, "type"));

    if (type == NULL) {
        json_decref(m);
        rc = ttai_dxl_fail(d, out, "a message that is not DXLink's", NULL);
        goto done;
    }

    rc = 0;

    if (strcmp(type, "AUTH_STATE") == 0) {
        state = json_string_value(json_object_get(m, "state"));

        if (state != NULL && strcmp(state, "UNAUTHORIZED") == 0) {
            if (d->state == TTAI_DXL_AUTH) {
                /* the token was sent and refused */
                out->refused = 1;
                rc = ttai_dxl_fail(d, out, "the quote token was refused",
                                   NULL);

            } else {
                d->state = TTAI_DXL_AUTH;
                rc = ttai_dxl_send(out, json_pack("{s:s, s:i, s:s}", "type",
                                                  "AUTH", "channel", 0,
                                                  "token", d->token));
            }

        } else if (state != NULL && strcmp(state, "AUTHORIZED") == 0
                   && d->state < TTAI_DXL_AUTHORIZED)
        {
            d->state = TTAI_DXL_AUTHORIZED;
            rc = ttai_dxl_send(out, json_pack("{s:s, s:i, s:s, s:{s:s}}",
                                              "type", "CHANNEL_REQUEST",
                                              "channel", TTAI_DXL_CHANNEL,
                                              "service", "FEED",
                                              "parameters", "contract",
                                              "AUTO"));
        }

    } else if (strcmp(type, "CHANNEL_OPENED") == 0) {
        if (json_integer_value(json_object_get(m, "channel"))
            == TTAI_DXL_CHANNEL && d->state == TTAI_DXL_AUTHORIZED)
        {
            d->state = TTAI_DXL_OPEN;
            rc = ttai_dxl_send(out, ttai_dxl_setup());
        }

    } else if (strcmp(type, "FEED_CONFIG") == 0) {
        /* the server's own field order is the one its data comes in */
        json_object_foreach(json_object_get(m, "eventFields"), key, fields) {
            if (json_is_array(fields)
                && json_object_set(d->config, key, fields) != 0)
            {
                rc = -1;
            }
        }

        if (rc == 0 && d->state == TTAI_DXL_OPEN) {
            d->state = TTAI_DXL_READY;

            /* what was asked meanwhile goes now */
            if (json_object_size(d->add) || json_object_size(d->remove)) {
                text = ttai_dxl_subscription(d->add, d->remove);

                if (text == NULL) {
                    rc = -1;

                } else {
                    json_object_clear(d->add);
                    json_object_clear(d->remove);
                    rc = ttai_dxl_send(out, json_loads(text, 0, NULL));
                    free(text);
                }
            }
        }

    } else if (strcmp(type, "FEED_DATA") == 0) {
        rc = ttai_dxl_data(d, json_object_get(m, "data"), out);

    } else if (strcmp(type, "ERROR") == 0) {
        state = json_string_value(json_object_get(m, "error"));

        /* the server may say so before its AUTH_STATE UNAUTHORIZED */
        if (d->state == TTAI_DXL_AUTH && state != NULL
            && strcmp(state, "UNAUTHORIZED") == 0)
        {
            out->refused = 1;
        }

        rc = ttai_dxl_fail(d, out, "DXLink said: %s",
                           json_string_value(json_object_get(m, "message")));

    } else if (strcmp(type, "CHANNEL_CLOSED") == 0) {
        rc = ttai_dxl_fail(d, out, "the feed's channel was closed", NULL);
    }

    /* SETUP's answer, KEEPALIVE and others: nothing to do */

    json_decref(m);

done:

    if (rc != 0) {
        ttai_dxl_out_free(out);
    }

    return rc;
}


char *
ttai_dxl_subscribe(ttai_dxl_t *d, json_t *add, json_t *remove, int *oom)
{
    size_t       i;
    json_t      *v, *a, *r, *from;
    char        *text;
    const char  *s;

    *oom = 0;
    a = json_object();
    r = json_object();

    if (a == NULL || r == NULL) {
        json_decref(a);
        json_decref(r);
        *oom = 1;
        return NULL;
    }

    json_array_foreach(add, i, v) {
        /* a candle symbol comes with the time its bars begin */
        s = json_is_object(v)
            ? json_string_value(json_object_get(v, "symbol"))
            : json_string_value(v);
        from = json_object_get(v, "fromTime");

        if (s == NULL || json_object_get(d->subscribed, s) != NULL
            || json_object_size(d->subscribed) >= TTAI_DXL_MAX_SYMBOLS)
        {
            continue;
        }

        if (json_object_set_new(d->subscribed, s, json_true()) != 0
            || json_object_set_new(a, s, json_is_integer(from)
                                         ? json_incref(from) : json_true())
               != 0)
        {
            *oom = 1;
        }
    }

    json_array_foreach(remove, i, v) {
        s = json_string_value(v);

        if (s == NULL || json_object_get(d->subscribed, s) == NULL) {
            continue;
        }

        if (json_object_del(d->subscribed, s) != 0
            || json_object_set_new(r, s, json_true()) != 0)
        {
            *oom = 1;
        }
    }

    text = NULL;

    if (!*oom && d->state != TTAI_DXL_READY) {
        /* kept for the moment the feed is ready */
        if (json_object_update(d->add, a) != 0
            || json_object_update(d->remove, r) != 0)
        {
            *oom = 1;
        }

    } else if (!*oom && (json_object_size(a) || json_object_size(r))) {
        text = ttai_dxl_subscription(a, r);
        *oom = (text == NULL);
    }

    json_decref(a);
    json_decref(r);

    return text;
}


long long
ttai_dxl_candle_period(const char *symbol)
{
    char        *end;
    long         n;
    const char  *p;

    p = strstr(symbol, "{=");
    if (p == NULL) {
        return 0;
    }

    n = strtol(p + 2, &end, 10);

    if (end == p + 2) {
        n = 1;                  /* "{=d}": one day */
    }

    if (n <= 0 || end[0] == '\0' || end[1] != '}') {
        return 0;
    }

    switch (end[0]) {
    case 's': return n * 1000LL;
    case 'm': return n * 60000LL;
    case 'h': return n * 3600000LL;
    case 'd': return n * 86400000LL;
    case 'w': return n * 7 * 86400000LL;
    default: return 0;
    }
}


void
ttai_dxl_out_free(ttai_dxl_out_t *out)
{
    size_t  i;

    for (i = 0; i < out->nsend; i++) {
        free(out->send[i]);
    }

    free(out->send);
    json_decref(out->events);

    out->send = NULL;
    out->nsend = 0;
    out->events = NULL;
}


/* takes the reference to msg */

static int
ttai_dxl_send(ttai_dxl_out_t *out, json_t *msg)
{
    char   *text, **more;

    text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);

    if (text == NULL) {
        return -1;
    }

    more = realloc(out->send, (out->nsend + 1) * sizeof(char *));
    if (more == NULL) {
        free(text);
        return -1;
    }

    out->send = more;
    out->send[out->nsend++] = text;

    return 0;
}


static json_t *
ttai_dxl_setup(void)
{
    size_t   i, j;
    json_t  *msg, *fields, *f;

    fields = json_object();
    if (fields == NULL) {
        return NULL;
    }

    for (i = 0; ttai_dxl_fields[i].type != NULL; i++) {
        f = json_array();

        for (j = 0; f != NULL && ttai_dxl_fields[i].fields[j] != NULL; j++) {
            json_array_append_new(f, json_string(ttai_dxl_fields[i].fields[j]));
        }

        if (f == NULL
            || json_object_set_new(fields, ttai_dxl_fields[i].type, f) != 0)
        {
            json_decref(fields);
            return NULL;
        }
    }

    /* events of a symbol at most ten times a second */
    msg = json_pack("{s:s, s:i, s:f, s:s, s:o}", "type", "FEED_SETUP",
                    "channel", TTAI_DXL_CHANNEL, "acceptAggregationPeriod",
                    0.1, "acceptDataFormat", "COMPACT",
                    "acceptEventFields", fields);

    return msg;
}


/*
 * FEED_SUBSCRIPTION for every type ttai reads, of each symbol; a candle
 * symbol ("AAPL{=5m}") for Candle alone, from its fromTime
 */

static char *
ttai_dxl_subscription(json_t *add, json_t *remove)
{
    int          candle;
    size_t       i, k;
    char        *text;
    json_t      *msg, *list[2], *src[2], *v, *e;
    const char  *s;

    msg = json_pack("{s:s, s:i}", "type", "FEED_SUBSCRIPTION", "channel",
                    TTAI_DXL_CHANNEL);
    if (msg == NULL) {
        return NULL;
    }

    src[0] = add;
    src[1] = remove;

    for (k = 0; k < 2; k++) {
        list[k] = json_array();

        if (list[k] == NULL) {
            json_decref(msg);
            return NULL;
        }

        json_object_foreach(src[k], s, v) {
            candle = (strstr(s, "{=") != NULL);

            for (i = 0; ttai_dxl_fields[i].type != NULL; i++) {
                if (ttai_dxl_fields[i].candle != candle) {
                    continue;
                }

                e = json_pack("{s:s, s:s}", "type", ttai_dxl_fields[i].type,
                              "symbol", s);

                if (e != NULL && k == 0 && json_is_integer(v)
                    && json_object_set(e, "fromTime", v) != 0)
                {
                    json_decref(e);
                    e = NULL;
                }

                if (json_array_append_new(list[k], e) != 0) {
                    json_decref(list[k]);
                    json_decref(msg);
                    return NULL;
                }
            }
        }

        if (json_array_size(list[k]) == 0) {
            json_decref(list[k]);
            continue;
        }

        if (json_object_set_new(msg, k == 0 ? "add" : "remove", list[k])
            != 0)
        {
            json_decref(msg);
            return NULL;
        }
    }

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);

    return text;
}


/*
 * COMPACT data: ["Quote", [values...], "Greeks", [values...], ...], each
 * values array holding one or more events of that type, field after
 * field in the configured order.  A value that is not a finite number
 * ("NaN", "Infinity") is null.
 */

static int
ttai_dxl_data(ttai_dxl_t *d, json_t *data, ttai_dxl_out_t *out)
{
    size_t       i, j, k, n;
    json_t      *fields, *values, *ev, *v;
    const char  *type, *name;

    if (!json_is_array(data) || json_array_size(data) % 2 != 0) {
        return ttai_dxl_fail(d, out, "FEED_DATA that is not COMPACT", NULL);
    }

    for (i = 0; i < json_array_size(data); i += 2) {
        type = json_string_value(json_array_get(data, i));
        values = json_array_get(data, i + 1);
        fields = type ? json_object_get(d->config, type) : NULL;
        n = json_array_size(fields);

        if (type == NULL || !json_is_array(values) || n < 2
            || json_array_size(values) % n != 0)
        {
            /* a message is taken whole or not at all */
            json_array_clear(out->events);
            return ttai_dxl_fail(d, out, "FEED_DATA of %s does not match "
                                 "its fields", type ? type : "no type");
        }

        for (j = 0; j < json_array_size(values); j += n) {
            ev = json_object();
            if (ev == NULL) {
                return -1;
            }

            for (k = 0; k < n; k++) {
                name = json_string_value(json_array_get(fields, k));
                v = json_array_get(values, j + k);

                if (name == NULL) {
                    continue;
                }

                if (strcmp(name, "eventType") == 0) {
                    name = "type";

                } else if (strcmp(name, "eventSymbol") == 0) {
                    name = "symbol";

                } else if (json_is_string(v)) {
                    /* "NaN" and the like */
                    v = (strcmp(name, "description") == 0
                         || strcmp(name, "tradingStatus") == 0)
                        ? v : json_null();

                } else if (json_is_number(v)
                           && !isfinite(json_number_value(v)))
                {
                    v = json_null();
                }

                if (json_object_set(ev, name, v ? v : json_null()) != 0) {
                    json_decref(ev);
                    return -1;
                }
            }

            /* an event says what it is, as its group does, and of what */
            if (!json_is_string(json_object_get(ev, "symbol"))
                || !json_is_string(json_object_get(ev, "type"))
                || strcmp(json_string_value(json_object_get(ev, "type")),
                          type) != 0)
            {
                json_decref(ev);
                json_array_clear(out->events);
                return ttai_dxl_fail(d, out, "an event of %s without its "
                                     "type or symbol", type);
            }

            if (json_array_append_new(out->events, ev) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


/* a failed feed: the shell closes the connection and connects again */

static int
ttai_dxl_fail(ttai_dxl_t *d, ttai_dxl_out_t *out, const char *fmt,
    const char *arg)
{
    d->state = TTAI_DXL_FAILED;

    snprintf(out->error, sizeof(out->error), fmt,
             arg ? arg : "(no message)");

    return 0;
}
