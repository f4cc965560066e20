
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"


/* what %.15g keeps: no form here has more significant digits */
#define TTAI_JSON_DIGITS  15


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
    int      failed;
} ttai_json_buf_t;


static void ttai_json_value(ttai_json_buf_t *b, const json_t *json);
static void ttai_json_string(ttai_json_buf_t *b, const char *s, size_t len);
static char *ttai_json_room(ttai_json_buf_t *b, size_t n);
static void ttai_json_add(ttai_json_buf_t *b, const char *s, size_t n);
static size_t ttai_json_uint(unsigned long long n, char *out);


static const double  ttai_json_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15
};


char *
ttai_json_dumps(const json_t *json, size_t *len)
{
    ttai_json_buf_t  b;

    b.size = 256;
    b.len = 0;
    b.failed = 0;
    b.data = malloc(b.size);

    if (b.data == NULL) {
        return NULL;
    }

    ttai_json_value(&b, json);
    ttai_json_add(&b, "", 1);

    if (b.failed) {
        free(b.data);
        return NULL;
    }

    *len = b.len - 1;

    return b.data;
}


size_t
ttai_json_real(double v, char *buf)
{
    int                  k, neg, n, ndigits;
    char                 digits[24], *e, *p, *q;
    double               a, s;
    unsigned long long   m;

    /* -0.0 too, which jansson writes with its sign */
    neg = signbit(v) != 0;
    a = neg ? -v : v;

    /*
     * The shortest m / 10^k that is exactly v again, for a few decimals:
     * dividing an integer below 2^53 by an exact power of ten rounds
     * correctly, so the test is exact
     */

    /* where %g writes no exponent */
    if (a < 1e15 && (a >= 1e-4 || a == 0)) {
        for (k = 0; k <= 9; k++) {
            s = a * ttai_json_pow10[k];

            if (s >= 9007199254740992.0) {
                break;
            }

            m = (unsigned long long) (s + 0.5);

            if ((double) m / ttai_json_pow10[k] != a) {
                continue;
            }

            ndigits = (int) ttai_json_uint(m, digits);

            if ((ndigits > k ? ndigits : k + 1) > TTAI_JSON_DIGITS) {
                break;
            }

            n = 0;

            if (neg) {
                buf[n++] = '-';
            }

            if (k == 0) {
                memcpy(buf + n, digits, ndigits);
                n += ndigits;
                memcpy(buf + n, ".0", 2);
                return n + 2;
            }

            if (ndigits <= k) {
                /* 0.0ddd */
                buf[n++] = '0';
                buf[n++] = '.';
                memset(buf + n, '0', k - ndigits);
                n += k - ndigits;
                memcpy(buf + n, digits, ndigits);
                n += ndigits;

            } else {
                memcpy(buf + n, digits, ndigits - k);
                n += ndigits - k;
                buf[n++] = '.';
                memcpy(buf + n, digits + ndigits - k, k);
                n += k;
            }

            /* no trailing zero: with one, a smaller k would have done */
            return n;
        }
    }

    /* anything else as jansson writes it: "1e-07" is "1e-7" */
    n = snprintf(buf, 32, "%.*g", TTAI_JSON_DIGITS, v);

    e = strchr(buf, 'e');

    if (e == NULL) {
        if (strchr(buf, '.') == NULL) {
            memcpy(buf + n, ".0", 3);
            n += 2;
        }

        return n;
    }

    p = e + 1;

    if (*p == '-') {
        p++;
    }

    q = p;

    while (*q == '+' || (*q == '0' && q[1] != '\0')) {
        q++;
    }

    memmove(p, q, strlen(q) + 1);

    return strlen(buf);
}


static void
ttai_json_value(ttai_json_buf_t *b, const json_t *json)
{
    int          first;
    char        *p;
    size_t       i, n;
    json_t      *v;
    const char  *key;
    void        *it;
    json_int_t   iv;

    switch (json_typeof(json)) {

    case JSON_OBJECT:
        ttai_json_add(b, "{", 1);
        first = 1;

        for (it = json_object_iter((json_t *) json); it != NULL;
             it = json_object_iter_next((json_t *) json, it))
        {
            if (!first) {
                ttai_json_add(b, ",", 1);
            }

            first = 0;
            key = json_object_iter_key(it);
            ttai_json_string(b, key, strlen(key));
            ttai_json_add(b, ":", 1);
            ttai_json_value(b, json_object_iter_value(it));
        }

        ttai_json_add(b, "}", 1);
        return;

    case JSON_ARRAY:
        ttai_json_add(b, "[", 1);
        n = json_array_size(json);

        for (i = 0; i < n; i++) {
            if (i) {
                ttai_json_add(b, ",", 1);
            }

            v = json_array_get(json, i);
            ttai_json_value(b, v);
        }

        ttai_json_add(b, "]", 1);
        return;

    case JSON_STRING:
        ttai_json_string(b, json_string_value(json),
                         json_string_length(json));
        return;

    case JSON_INTEGER:
        p = ttai_json_room(b, 24);
        if (p == NULL) {
            return;
        }

        iv = json_integer_value(json);

        if (iv < 0) {
            *p = '-';
            b->len += 1 + ttai_json_uint(0ULL - (unsigned long long) iv,
                                         p + 1);
        } else {
            b->len += ttai_json_uint((unsigned long long) iv, p);
        }

        return;

    case JSON_REAL:
        p = ttai_json_room(b, 40);
        if (p == NULL) {
            return;
        }

        b->len += ttai_json_real(json_real_value(json), p);
        return;

    case JSON_TRUE:
        ttai_json_add(b, "true", 4);
        return;

    case JSON_FALSE:
        ttai_json_add(b, "false", 5);
        return;

    default:
        ttai_json_add(b, "null", 4);
        return;
    }
}


/* jansson's strings are valid UTF-8: only quotes, \ and controls escape */

static void
ttai_json_string(ttai_json_buf_t *b, const char *s, size_t len)
{
    char                 *p;
    size_t                i, start;
    unsigned char         c;

    static const char     hex[] = "0123456789ABCDEF";

    ttai_json_add(b, "\"", 1);

    for (i = 0, start = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        ttai_json_add(b, s + start, i - start);
        start = i + 1;

        switch (c) {
        case '"':  ttai_json_add(b, "\\\"", 2); break;
        case '\\': ttai_json_add(b, "\\\\", 2); break;
        case '\b': ttai_json_add(b, "\\b", 2); break;
        case '\f': ttai_json_add(b, "\\f", 2); break;
        case '\n': ttai_json_add(b, "\\n", 2); break;
        case '\r': ttai_json_add(b, "\\r", 2); break;
        case '\t': ttai_json_add(b, "\\t", 2); break;
        default:
            p = ttai_json_room(b, 6);
            if (p == NULL) {
                return;
            }

            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 0xf];
            b->len += 6;
        }
    }

    ttai_json_add(b, s + start, len - start);
    ttai_json_add(b, "\"", 1);
}


/* room for n more bytes at b->data + b->len, or NULL (and failed) */

static char *
ttai_json_room(ttai_json_buf_t *b, size_t n)
{
    char    *p;
    size_t   size;

    if (b->failed) {
        return NULL;
    }

    if (b->len + n > b->size) {
        size = b->size * 2;

        while (size < b->len + n) {
            size *= 2;
        }

        p = realloc(b->data, size);
        if (p == NULL) {
            b->failed = 1;
            return NULL;
        }

        b->data = p;
        b->size = size;
    }

    return b->data + b->len;
}


static void
ttai_json_add(ttai_json_buf_t *b, const char *s, size_t n)
{
    char  *p;

    p = ttai_json_room(b, n);

    if (p != NULL) {
        memcpy(p, s, n);
        b->len += n;
    }
}


static size_t
ttai_json_uint(unsigned long long n, char *out)
{
    char    tmp[24];
    size_t  i, len;

    i = sizeof(tmp);

    do {
        tmp[--i] = (char) ('0' + n % 10);
        n /= 10;
    } while (n);

    len = sizeof(tmp) - i;
    memcpy(out, tmp + i, len);

    return len;
}
