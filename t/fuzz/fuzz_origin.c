
/*
 * Copyright (C) ttai contributors
 */


/*
 * The Origin header's parser, which decides whether a page may call /mcp:
 * the input is a header's value, ttai_origin_parse() reads it.
 *
 * Checked: an origin taken is nothing but scheme "://" host [":" port],
 * written again from its parts it is the input (the scheme and host in
 * any case), and it reads back the same; its host is one of the three
 * kinds and has nothing a URL would read as a user, a path, a query or
 * a fragment; it is local only when it is written as localhost,
 * 127.0.0.1 or [::1]; and its authority alone reads the same way.
 */

#include <ctype.h>
#include <strings.h>

#include "ttai_origin.h"
#include "fuzz.h"


static void fuzz_host(const ttai_origin_t *o);
static void fuzz_again(const uint8_t *data, size_t size,
    const ttai_origin_t *o);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          scheme;
    ttai_origin_t   o, a;

    if (ttai_origin_parse(data, size, &o) != 0) {
        fuzz_check(o.host == NULL && o.host_len == 0 && o.port == 0,
                   "a refused origin left parts behind");
        return 0;
    }

    fuzz_check(o.host != NULL && o.host_len > 0
               && o.host >= data && o.host + o.host_len <= data + size,
               "the host is not inside the input");

    scheme = o.https ? sizeof("https://") - 1 : sizeof("http://") - 1;

    fuzz_check(size > scheme
               && strncasecmp((const char *) data,
                              o.https ? "https://" : "http://", scheme)
                  == 0
               && o.host == data + scheme,
               "the host does not follow the scheme");

    fuzz_check(o.port <= 65535, "port %u", o.port);

    fuzz_host(&o);
    fuzz_again(data, size, &o);

    /* the authority alone, as a Host header has it */
    fuzz_check(ttai_origin_parse_authority(data + scheme, size - scheme, &a)
               == 0, "the authority of an origin taken is refused");
    fuzz_check(a.host_len == o.host_len && a.port == o.port
               && a.kind == o.kind && !a.https
               && ttai_origin_same_host(&a, &o)
               && ttai_origin_same_host(&o, &a),
               "the authority alone reads otherwise");

    return 0;
}


static void
fuzz_host(const ttai_origin_t *o)
{
    int                   local, dots;
    size_t                i;
    unsigned              part;
    const unsigned char  *h;

    h = o->host;

    for (i = 0; i < o->host_len; i++) {
        fuzz_check(strchr("@/?#\\%", h[i]) == NULL && h[i] > 0x20
                   && h[i] < 0x7f,
                   "byte 0x%02x in a host", (unsigned) h[i]);
    }

    switch (o->kind) {

    case TTAI_ORIGIN_IPV6:
        fuzz_check(o->host_len >= 4 && h[0] == '['
                   && h[o->host_len - 1] == ']',
                   "an IPv6 host without its brackets");
        break;

    case TTAI_ORIGIN_IPV4:
        dots = 0;
        part = 0;

        for (i = 0; i < o->host_len; i++) {
            if (h[i] == '.') {
                dots++;
                part = 0;
                continue;
            }

            fuzz_check(isdigit(h[i]), "an IPv4 host with 0x%02x",
                       (unsigned) h[i]);
            part = part * 10 + (h[i] - '0');
            fuzz_check(part <= 255, "an IPv4 part over 255");
        }

        fuzz_check(dots == 3, "an IPv4 host of %d parts", dots + 1);
        break;

    default:
        fuzz_check(o->kind == TTAI_ORIGIN_NAME, "kind %u",
                   (unsigned) o->kind);
        fuzz_check(h[0] != '.' && h[o->host_len - 1] != '.',
                   "a name that starts or ends with a dot");
        fuzz_check(h[0] != '[', "a name in brackets");
    }

    local = (o->host_len == 9
             && strncasecmp((const char *) h, "localhost", 9) == 0)
            || (o->host_len == 9 && memcmp(h, "127.0.0.1", 9) == 0)
            || (o->host_len == 5 && memcmp(h, "[::1]", 5) == 0);

    fuzz_check(ttai_origin_local(o) == local, "local is %d for \"%.*s\"",
               ttai_origin_local(o), (int) o->host_len, (const char *) h);

    fuzz_check(ttai_origin_same_host(o, o), "an origin is not its own host");
}


/* written again from its parts: the same text, and the same parts */

static void
fuzz_again(const uint8_t *data, size_t size, const ttai_origin_t *o)
{
    int             n;
    char            text[4096 + 32];
    ttai_origin_t   b;

    fuzz_check(o->host_len < 4096, "a host of %zu bytes", o->host_len);

    n = snprintf(text, sizeof(text), "%s://%.*s", o->https ? "https" : "http",
                 (int) o->host_len, (const char *) o->host);

    if (o->port) {
        n += snprintf(text + n, sizeof(text) - n, ":%u", o->port);
    }

    fuzz_check((size_t) n == size
               && strncasecmp(text, (const char *) data, size) == 0,
               "\"%.*s\" written again is \"%s\"", (int) size,
               (const char *) data, text);

    fuzz_check(ttai_origin_parse((const unsigned char *) text, n, &b) == 0
               && b.host_len == o->host_len && b.port == o->port
               && b.kind == o->kind && b.https == o->https
               && ttai_origin_same_host(&b, o),
               "\"%s\" reads back otherwise", text);
}
