
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tools.h"
#include "ttai_tt.h"
#include "ttai_worker.h"


#define TTAI_MARKET_TEXT_MIN  1024


json_t *
ttai_market_symbols(const char *tool, json_t *list, json_t **result)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t       i, j;
    json_t      *out, *v;
    const char  *s;

    *result = NULL;

    out = json_array();
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(list, i, v) {
        s = json_string_value(v);

        if (s == NULL
            || ttai_worker_symbol(s, json_string_length(v), symbol) != 0)
        {
            json_decref(out);

            *result = ttai_tool_error_result("Tool %s: \"%.64s\" is not a "
                                             "symbol.  Symbols are tickers "
                                             "such as AAPL, SPY, SPX, "
                                             "/ESZ5, BTC/USD or OCC option "
                                             "symbols such as \"AAPL  "
                                             "261218C00150000\"; "
                                             "search_symbols finds them.",
                                             tool, s ? s : "");
            return NULL;
        }

        for (j = 0; j < json_array_size(out); j++) {
            if (strcmp(json_string_value(json_array_get(out, j)), symbol)
                == 0)
            {
                break;
            }
        }

        if (j == json_array_size(out)
            && json_array_append_new(out, json_string(symbol)) != 0)
        {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}


char *
ttai_market_join(json_t *symbols)
{
    char    *out, *e;
    size_t   i, size, len;
    json_t  *v;

    size = 1;

    json_array_foreach(symbols, i, v) {
        size += 3 * json_string_length(v) + 1;
    }

    out = malloc(size);
    if (out == NULL) {
        return NULL;
    }

    len = 0;
    out[0] = '\0';

    json_array_foreach(symbols, i, v) {
        e = ttai_tt_escape(json_string_value(v));
        if (e == NULL) {
            free(out);
            return NULL;
        }

        len += (size_t) snprintf(out + len, size - len, "%s%s",
                                 i ? "," : "", e);
        free(e);
    }

    return out;
}


json_t *
ttai_market_object(const char *text, size_t len)
{
    json_t  *j;

    if (text == NULL) {
        return NULL;
    }

    j = json_loadb(text, len, 0, NULL);

    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* without libm, which the module does not link */

double
ttai_market_round(double v, int places)
{
    double  scale;

    for (scale = 1.0; places > 0; places--) {
        scale *= 10.0;
    }

    v *= scale;

    if (v > 9e15 || v < -9e15) {
        return v / scale;
    }

    return (double) (long long) (v + (v < 0 ? -0.5 : 0.5)) / scale;
}


json_t *
ttai_market_percent(json_t *v)
{
    json_t  *n;
    double   d;

    n = ttai_tt_number(v);

    if (!json_is_number(n)) {
        return n;
    }

    d = json_number_value(n);
    json_decref(n);

    return json_real(ttai_market_round(d * 100.0, 2));
}


const char *
ttai_market_num(char *buf, size_t size, json_t *v, int min, int max)
{
    int     n;
    char   *dot;

    if (!json_is_number(v)) {
        snprintf(buf, size, "-");
        return buf;
    }

    n = snprintf(buf, size, "%.*f", max, json_number_value(v));

    if (n < 0 || (size_t) n >= size) {
        return buf;
    }

    dot = strchr(buf, '.');

    if (dot == NULL) {
        return buf;
    }

    /* cut trailing zeros down to min decimals, and a bare point */
    while (n > 0 && buf[n - 1] == '0' && (dot + min) < buf + n - 1) {
        buf[--n] = '\0';
    }

    if (buf[n - 1] == '.') {
        buf[--n] = '\0';
    }

    return buf;
}


void
ttai_market_printf(ttai_market_text_t *t, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    size;
    va_list   args;

    if (t->failed) {
        return;
    }

    for ( ;; ) {
        if (t->data != NULL) {
            va_start(args, fmt);
            n = vsnprintf(t->data + t->len, t->size - t->len, fmt, args);
            va_end(args);

            if (n < 0) {
                t->failed = 1;
                return;
            }

            if ((size_t) n < t->size - t->len) {
                t->len += (size_t) n;
                return;
            }

        } else {
            n = 0;
        }

        size = t->size ? 2 * t->size : TTAI_MARKET_TEXT_MIN;

        while (size < t->len + (size_t) n + 1) {
            size *= 2;
        }

        p = realloc(t->data, size);
        if (p == NULL) {
            t->failed = 1;
            return;
        }

        if (t->data == NULL) {
            p[0] = '\0';
        }

        t->data = p;
        t->size = size;
    }
}


void
ttai_market_data(ttai_market_text_t *t, const char *s)
{
    char  *q;

    q = ttai_tool_quote(s);
    if (q == NULL) {
        t->failed = 1;
        return;
    }

    ttai_market_printf(t, "%s", q);
    free(q);

    t->untrusted = 1;
}


json_t *
ttai_market_result(ttai_market_text_t *t, json_t *structured)
{
    json_t  *r;

    if (t->failed || t->data == NULL) {
        free(t->data);
        json_decref(structured);
        return NULL;
    }

    r = ttai_tool_text_result(t->data, structured);

    if (t->untrusted) {
        r = ttai_tool_mark_untrusted(r);
    }

    free(t->data);
    memset(t, 0, sizeof(ttai_market_text_t));

    return r;
}


int
ttai_market_underlying(const char *tool, json_t *arg, char *out,
    json_t **result)
{
    int          kind;
    const char  *s;

    s = json_string_value(arg);

    if (s == NULL || ttai_worker_symbol(s, json_string_length(arg), out) != 0)
    {
        *result = ttai_tool_error_result("Tool %s: \"%.64s\" is not a "
                                         "symbol.  Give the underlying's "
                                         "ticker, such as AAPL, SPY or SPX; "
                                         "search_symbols finds it.", tool,
                                         s ? s : "");
        return -1;
    }

    kind = ttai_worker_kind(out);

    if (kind == TTAI_WORKER_EQUITY_OPTION
        || kind == TTAI_WORKER_FUTURE_OPTION)
    {
        *result = ttai_tool_error_result("Tool %s: %s is an option.  Give "
                                         "its underlying (the root, such as "
                                         "AAPL) instead.", tool, out);
        return -1;
    }

    if (kind != TTAI_WORKER_EQUITY && kind != TTAI_WORKER_INDEX) {
        *result = ttai_tool_error_result("Tool %s covers stocks, ETFs and "
                                         "indices; %s is a %s, which it "
                                         "does not.", tool, out,
                                         kind == TTAI_WORKER_FUTURE
                                         ? "future" : "cryptocurrency");
        return -1;
    }

    return 0;
}
