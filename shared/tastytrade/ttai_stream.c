
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_stream.h"


static ttai_mcp_pending_t *ttai_stream_read(json_t *st);
static int ttai_stream_missing(json_t *st, const ttai_mcp_response_t *resp);


int
ttai_stream_symbol(const char *symbol, char *out, size_t size)
{
    int     n;
    long    milli;
    char    root[8], strike[48];
    size_t  len, r;

    len = strlen(symbol);

    /* the OCC form: a root padded to six, yymmdd, C or P, 8 digits */
    if (len != 21 || (symbol[12] != 'C' && symbol[12] != 'P')
        || strspn(symbol + 6, "0123456789") != 6
        || strspn(symbol + 13, "0123456789") != 8)
    {
        n = snprintf(out, size, "%s", symbol);
        return (n < 0 || (size_t) n >= size) ? -1 : 0;
    }

    for (r = 0; r < 6 && symbol[r] != ' '; r++) {
        root[r] = symbol[r];
    }

    root[r] = '\0';

    milli = strtol(symbol + 13, NULL, 10);

    if (milli % 1000 == 0) {
        snprintf(strike, sizeof(strike), "%ld", milli / 1000);

    } else {
        snprintf(strike, sizeof(strike), "%ld.%03ld", milli / 1000,
                 milli % 1000);

        /* 152.500 -> 152.5 */
        for (len = strlen(strike); strike[len - 1] == '0'; len--) {
            strike[len - 1] = '\0';
        }
    }

    n = snprintf(out, size, ".%s%.6s%c%s", root, symbol + 6, symbol[12],
                 strike);

    return (n < 0 || (size_t) n >= size) ? -1 : 0;
}


ttai_mcp_pending_t *
ttai_stream_begin(ttai_tool_ctx_t *ctx, json_t *streamer, const char *need,
    long max_wait)
{
    json_t  *st;

    st = json_pack("{s:O, s:s?, s:i, s:I, s:s}", "symbols", streamer,
                   "need", need, "waited", 0, "max",
                   (json_int_t) (max_wait < TTAI_STREAM_WAIT_MAX
                                 ? max_wait : TTAI_STREAM_WAIT_MAX),
                   "step", "read");

    if (st == NULL || json_object_set_new(ctx->state, "stream", st) != 0) {
        return NULL;
    }

    return ttai_stream_read(st);
}


int
ttai_stream_pending(ttai_tool_ctx_t *ctx)
{
    return json_object_get(ctx->state, "stream") != NULL;
}


int
ttai_stream_step(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    ttai_mcp_pending_t **pending)
{
    json_t      *st;
    json_int_t   waited;
    const char  *step;

    st = json_object_get(ctx->state, "stream");
    step = json_string_value(json_object_get(st, "step"));

    if (step != NULL && strcmp(step, "wait") == 0) {
        if (json_object_set_new(st, "step", json_string("read")) != 0) {
            return -1;
        }

        *pending = ttai_stream_read(st);
        return *pending ? 1 : -1;
    }

    waited = json_integer_value(json_object_get(st, "waited"));

    if (waited < json_integer_value(json_object_get(st, "max"))
        && ttai_stream_missing(st, resp))
    {
        if (json_object_set_new(st, "step", json_string("wait")) != 0
            || json_object_set_new(st, "waited",
                                   json_integer(waited + TTAI_STREAM_WAIT_MS))
               != 0)
        {
            return -1;
        }

        *pending = ttai_mcp_pending_wait(TTAI_STREAM_WAIT_MS);
        return *pending ? 1 : -1;
    }

    json_object_del(ctx->state, "stream");

    return 0;
}


static ttai_mcp_pending_t *
ttai_stream_read(json_t *st)
{
    char                 **keys;
    size_t                 i, n;
    json_t                *symbols, *v;
    ttai_mcp_pending_t    *p;

    symbols = json_object_get(st, "symbols");
    n = json_array_size(symbols);

    keys = calloc(n + 1, sizeof(char *));
    if (keys == NULL) {
        return NULL;
    }

    p = NULL;
    keys[0] = strdup(TTAI_STREAM_FEED_KEY);

    json_array_foreach(symbols, i, v) {
        if (asprintf(&keys[i + 1], "dx:%s", json_string_value(v)) < 0) {
            keys[i + 1] = NULL;
            goto done;
        }
    }

    if (keys[0] != NULL) {
        p = ttai_mcp_pending_cache((const char *const *) keys, n + 1);
    }

done:

    for (i = 0; i <= n; i++) {
        free(keys[i]);
    }

    free(keys);

    return p;
}


/* the feed is ready, and some symbol has not had the event waited for */

static int
ttai_stream_missing(json_t *st, const ttai_mcp_response_t *resp)
{
    int          live, missing;
    size_t       i;
    json_t      *feed, *v;
    const char  *need;

    feed = ttai_stream_feed(resp);

    if (!ttai_stream_ready(feed)) {
        json_decref(feed);
        return 0;
    }

    need = json_string_value(json_object_get(st, "need"));
    missing = 0;

    for (i = 0; !missing && i < json_array_size(json_object_get(st,
                                                               "symbols"));
         i++)
    {
        v = ttai_stream_value(feed, resp, i, &live);

        /* only options have greeks: the others wait for any event */
        missing = (v == NULL || !live
                   || (need != NULL
                       && json_string_value(json_array_get(
                              json_object_get(st, "symbols"), i))[0] == '.'
                       && json_object_get(v, need) == NULL));

        json_decref(v);
    }

    json_decref(feed);

    return missing;
}


json_t *
ttai_stream_feed(const ttai_mcp_response_t *resp)
{
    if (resp->values == NULL || resp->values[0] == NULL) {
        return NULL;
    }

    return ttai_market_object(resp->values[0], resp->lens[0]);
}


int
ttai_stream_ready(json_t *feed)
{
    const char  *state;

    state = json_string_value(json_object_get(feed, "state"));

    return state != NULL && strcmp(state, "ready") == 0;
}


json_t *
ttai_stream_value(json_t *feed, const ttai_mcp_response_t *resp, size_t i,
    int *live)
{
    json_t  *v;

    *live = 0;

    if (resp->values == NULL || resp->values[i + 1] == NULL) {
        return NULL;
    }

    v = ttai_market_object(resp->values[i + 1], resp->lens[i + 1]);

    if (v != NULL && ttai_stream_ready(feed)) {
        *live = json_integer_value(json_object_get(v, "since"))
                == json_integer_value(json_object_get(feed, "since"));
    }

    return v;
}


double
ttai_stream_age(json_t *v, long long now)
{
    double  at;

    at = (double) json_integer_value(json_object_get(v, "at")) / 1000;

    return at > 0 && now >= at ? (double) now - at : 0;
}


const char *
ttai_stream_why(json_t *feed, char *buf, size_t size)
{
    const char  *state, *error;

    if (feed == NULL) {
        return "no server worker keeps the market-data stream (it is off, "
               "or starting)";
    }

    state = json_string_value(json_object_get(feed, "state"));
    error = json_string_value(json_object_get(feed, "error"));

    snprintf(buf, size, "the market-data stream is %s%s%s",
             state ? state : "in an unknown state",
             error ? ": " : "", error ? error : "");

    return buf;
}


double
ttai_stream_num(json_t *e, const char *name)
{
    json_t  *v;

    v = json_object_get(e, name);

    return json_is_number(v) ? json_number_value(v) : NAN;
}
