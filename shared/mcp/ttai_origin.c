
/*
 * Copyright (C) ttai contributors
 */


#include <string.h>

#include <arpa/inet.h>

#include "ttai_origin.h"


#define TTAI_ORIGIN_MAX_NAME   253
#define TTAI_ORIGIN_MAX_LABEL  63

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
#define TTAI_ORIGIN_MAX_IPV6   45


static int ttai_origin_prefix(const unsigned char *p, size_t len,
    const char *prefix);
static int ttai_origin_name(const unsigned char *p, size_t len);
static int ttai_origin_number(const unsigned char *p, size_t len);
static int ttai_origin_ipv4(const unsigned char *p, size_t len);
static int ttai_origin_ipv6(const unsigned char *p, size_t len);
static int ttai_origin_port(const unsigned char *p, size_t len,
    unsigned *port);
static int ttai_origin_equal(const unsigned char *p, size_t len,
    const char *s);
static unsigned char ttai_origin_lower(unsigned char c);


int
ttai_origin_parse(const unsigned char *p, size_t len, ttai_origin_t *o)
{
    int     https;
    size_t  n;

    if (ttai_origin_prefix(p, len, "http://")) {
        https = 0;
        n = sizeof("http://") - 1;

    } else if (ttai_origin_prefix(p, len, "https://")) {
        https = 1;
        n = sizeof("https://") - 1;

    } else {
        memset(o, 0, sizeof(ttai_origin_t));
        return -1;
    }

    if (ttai_origin_parse_authority(p + n, len - n, o) != 0) {
        return -1;
    }

    o->https = https;

    return 0;
}


int
ttai_origin_parse_authority(const unsigned char *p, size_t len,
    ttai_origin_t *o)
{
    int                   kind;
    size_t                n;
    const unsigned char  *end;

    memset(o, 0, sizeof(ttai_origin_t));

    if (len == 0) {
        return -1;
    }

    if (p[0] == '[') {
        end = memchr(p, ']', len);

        if (end == NULL || !ttai_origin_ipv6(p + 1, end - p - 1)) {
            return -1;
        }

        n = end - p + 1;
        kind = TTAI_ORIGIN_IPV6;

    } else {
        /* the name ends at the port; anything else in it is refused */
        for (n = 0; n < len && p[n] != ':'; n++) { /* void */ }

        kind = ttai_origin_name(p, n);

        if (kind < 0) {
            return -1;
        }
    }

    if (n < len
        && (p[n] != ':' || ttai_origin_port(p + n + 1, len - n - 1,
                                            &o->port) != 0))
    {
        o->port = 0;
        return -1;
    }

    o->host = p;
    o->host_len = n;
    o->kind = kind;

    return 0;
}


int
ttai_origin_local(const ttai_origin_t *o)
{
    switch (o->kind) {

    case TTAI_ORIGIN_NAME:
        return ttai_origin_equal(o->host, o->host_len, "localhost");

    case TTAI_ORIGIN_IPV4:
        return ttai_origin_equal(o->host, o->host_len, "127.0.0.1");

    default: /* TTAI_ORIGIN_IPV6 */
        return ttai_origin_equal(o->host, o->host_len, "[::1]");
    }
}


int
ttai_origin_same_host(const ttai_origin_t *a, const ttai_origin_t *b)
{
    size_t  i;

    if (a->host == NULL || b->host == NULL || a->host_len != b->host_len
        || a->port != b->port)
    {
        return 0;
    }

    for (i = 0; i < a->host_len; i++) {
        if (ttai_origin_lower(a->host[i]) != ttai_origin_lower(b->host[i])) {
            return 0;
        }
    }

    return 1;
}


/* prefix, in lower case, begins p in any case */

static int
ttai_origin_prefix(const unsigned char *p, size_t len, const char *prefix)
{
    size_t  i, n;

    n = strlen(prefix);

    if (len < n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (ttai_origin_lower(p[i]) != (unsigned char) prefix[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * Labels of letters, digits and '-', none empty.  A name whose last
 * label is a number is an IPv4 address to a browser (WHATWG "ends in a
 * number"), which serializes it in four decimal parts: anything else,
 * as 127.1 or 0x7f.0.0.1, is not what a browser sends.
 */

static int
ttai_origin_name(const unsigned char *p, size_t len)
{
    size_t  i, label, last;

    if (len == 0 || len > TTAI_ORIGIN_MAX_NAME) {
        return -1;
    }

    label = 0;
    last = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (label == 0) {
                return -1;
            }

            label = 0;
            last = i + 1;
            continue;
        }

        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
        {
            return -1;
        }

        if (++label > TTAI_ORIGIN_MAX_LABEL) {
            return -1;
        }
    }

    /* a trailing dot: "localhost." is another name */
    if (label == 0) {
        return -1;
    }

    if (ttai_origin_number(p + last, len - last)) {
        return ttai_origin_ipv4(p, len) ? TTAI_ORIGIN_IPV4 : -1;
    }

    return TTAI_ORIGIN_NAME;
}


/* decimal digits, or "0x" and hex digits: a number to the URL parser */

static int
ttai_origin_number(const unsigned char *p, size_t len)
{
    size_t  i;
    int     hex;

    hex = (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'));

    for (i = hex ? 2 : 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9')
              || (hex && ((p[i] >= 'a' && p[i] <= 'f')
                          || (p[i] >= 'A' && p[i] <= 'F')))))
        {
            return 0;
        }
    }

    return 1;
}


/* four decimal parts of 0 to 255, without leading zeros */

static int
ttai_origin_ipv4(const unsigned char *p, size_t len)
{
    size_t    i, parts, digits;
    unsigned  v;

    parts = 0;
    digits = 0;
    v = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == '.') {
            if (digits == 0 || v > 255) {
                return 0;
            }

            parts++;
            digits = 0;
            v = 0;
            continue;
        }

        if (p[i] < '0' || p[i] > '9' || (digits == 1 && v == 0)
            || ++digits > 3)
        {
            return 0;
        }

        v = v * 10 + (p[i] - '0');
    }

    return parts == 4;
}


/* the inside of the brackets; no zone, which an origin never has */

static int
ttai_origin_ipv6(const unsigned char *p, size_t len)
{
    char             text[TTAI_ORIGIN_MAX_IPV6 + 1];
    size_t           i;
    unsigned char    addr[16];

    if (len < 2 || len > TTAI_ORIGIN_MAX_IPV6) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
              || (p[i] >= 'A' && p[i] <= 'F') || p[i] == ':'
              || p[i] == '.'))
        {
            return 0;
        }

        text[i] = (char) p[i];
    }

    text[len] = '\0';

    return inet_pton(AF_INET6, text, addr) == 1;
}


/* 1 to 65535, digits only, as a browser writes it: no leading zero */

static int
ttai_origin_port(const unsigned char *p, size_t len, unsigned *port)
{
    size_t    i;
    unsigned  v;

    if (len == 0 || len > 5 || p[0] == '0') {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (p[i] - '0');
    }

    if (v > 65535) {
        return -1;
    }

    *port = v;

    return 0;
}


/* p is s, a lower-case string, in any case */

static int
ttai_origin_equal(const unsigned char *p, size_t len, const char *s)
{
    return len == strlen(s) && ttai_origin_prefix(p, len, s);
}


static unsigned char
ttai_origin_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}
