
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "ttai_oauth.h"


/*
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-
 * document, the registration MCP 2026-07-28 prefers): a client_id that
 * is an https URL names the document that describes the client, which
 * the server fetches.  The fetch is made for anyone who can reach
 * /authorize, to a host they choose, so what it may reach is narrow:
 * the URL is checked here, every address its host has must be a public
 * one, and the document must name itself.  Loopback is allowed only in
 * development, where the tests serve documents.
 */


static int ttai_cimd_dot_segment(const char *p);
static int ttai_cimd_host_numeric(const char *host, size_t len);
static int ttai_cimd_v4_public(const unsigned char *a);


/* 1 when a client_id names a metadata document rather than a stored id */

int
ttai_cimd_is_url(const char *client_id)
{
    return strncmp(client_id, "https://", 8) == 0
           || strncmp(client_id, "http://", 7) == 0;
}


/*
 * The URL a client_id document may have: https (http too with dev, for
 * a loopback test server), a host without user name, a path other than
 * "/" without "." or ".." segments, no fragment, no query (the draft
 * says SHOULD NOT; ttai refuses it, so that one document has one
 * address).  A host written as a number must be a dotted quad or a
 * bracketed IPv6 address: the other forms (2130706433, 0x7f.1, 0177.1,
 * 127.1) are how a filter is tricked into a loopback address.
 */

int
ttai_cimd_url_parse(const char *url, int dev, ttai_cimd_url_t *u, char *err,
    size_t errlen)
{
    size_t       n, hlen;
    const char  *p, *host, *end, *path, *colon;
    long         port;
    char        *stop;

    memset(u, 0, sizeof(ttai_cimd_url_t));

    n = strlen(url);

    if (n > TTAI_CIMD_MAX_URL) {
        snprintf(err, errlen, "the client_id URL is longer than %d bytes",
                 TTAI_CIMD_MAX_URL);
        return -1;
    }

    for (p = url; *p; p++) {
        if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f
            || *p == '\\')
        {
            snprintf(err, errlen, "the client_id URL has a character a URL "
                     "cannot");
            return -1;
        }
    }

    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
        u->tls = 1;
        port = 443;

    } else if (dev && strncmp(url, "http://", 7) == 0) {
        host = url + 7;
        port = 80;

    } else {
        snprintf(err, errlen, "a client_id URL must be https");
        return -1;
    }

    if (strchr(url, '#') != NULL || strchr(url, '?') != NULL) {
        snprintf(err, errlen, "a client_id URL has no fragment and no "
                 "query");
        return -1;
    }

    path = strchr(host, '/');

    if (path == NULL || path[1] == '\0') {
        snprintf(err, errlen, "a client_id URL has a path: the document's");
        return -1;
    }

    end = path;

    if (memchr(host, '@', end - host) != NULL
        || memchr(host, '%', end - host) != NULL)
    {
        snprintf(err, errlen, "a client_id URL has no user name and no "
                 "escaped host");
        return -1;
    }

    /* "." and ".." segments, escaped or not */
    for (p = path; *p; p++) {
        if (p[0] == '/' && ttai_cimd_dot_segment(p + 1)) {
            snprintf(err, errlen, "a client_id URL has no \".\" or \"..\" "
                     "segments");
            return -1;
        }
    }

    if (*host == '[') {
        colon = memchr(host, ']', end - host);

        if (colon == NULL || memchr(host, '%', colon - host) != NULL) {
            snprintf(err, errlen, "the client_id URL's IPv6 address is not "
                     "one");
            return -1;
        }

        hlen = colon - host - 1;
        memcpy(u->host, host + 1, hlen < sizeof(u->host) ? hlen : 0);
        u->ipv6 = 1;
        colon++;

        if (colon != end && *colon != ':') {
            snprintf(err, errlen, "the client_id URL's host is not one");
            return -1;
        }

    } else {
        colon = memchr(host, ':', end - host);
        hlen = (colon ? colon : end) - host;

        if (hlen < sizeof(u->host)) {
            memcpy(u->host, host, hlen);
        }
    }

    if (hlen == 0 || hlen >= sizeof(u->host)) {
        snprintf(err, errlen, "the client_id URL's host is empty or too "
                 "long");
        return -1;
    }

    if (colon != NULL && colon != end) {
        port = strtol(colon + 1, &stop, 10);

        if (stop != end || colon + 1 == end || port < 1 || port > 65535) {
            snprintf(err, errlen, "the client_id URL's port is not one");
            return -1;
        }
    }

    u->port = (int) port;

    if (!u->ipv6) {
        for (p = u->host; *p; p++) {
            if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.') {
                snprintf(err, errlen, "the client_id URL's host has a "
                         "character a host name cannot");
                return -1;
            }
        }

        switch (ttai_cimd_host_numeric(u->host, hlen)) {

        case 1:
            u->ipv4 = 1;
            break;

        case -1:
            snprintf(err, errlen, "the client_id URL's host is an address "
                     "in a form other than dotted decimal");
            return -1;

        default:
            break;
        }

    } else {
        struct in6_addr  a6;

        if (inet_pton(AF_INET6, u->host, &a6) != 1) {
            snprintf(err, errlen, "the client_id URL's IPv6 address is not "
                     "one");
            return -1;
        }
    }

    snprintf(u->path, sizeof(u->path), "%s", path);

    if (strlen(path) >= sizeof(u->path)) {
        snprintf(err, errlen, "the client_id URL's path is too long");
        return -1;
    }

    return 0;
}


/* 1 when the segment at p is "." or "..", "%2e" standing for a dot */

static int
ttai_cimd_dot_segment(const char *p)
{
    int  dots;

    for (dots = 0; dots < 3; dots++) {
        if (*p == '.') {
            p++;

        } else if (strncasecmp(p, "%2e", 3) == 0) {
            p += 3;

        } else {
            break;
        }
    }

    return dots > 0 && dots < 3 && (*p == '/' || *p == '\0');
}


/*
 * 1 for a canonical dotted quad, -1 for a host that a resolver would
 * read as an address in another form (digits, dots and hex only, its
 * last label numeric), 0 for a name
 */

static int
ttai_cimd_host_numeric(const char *host, size_t len)
{
    size_t          i;
    const char     *last;
    struct in_addr  a;
    char            canon[INET_ADDRSTRLEN];

    last = host;

    for (i = 0; i < len; i++) {
        if (host[i] == '.' && i + 1 < len) {
            last = host + i + 1;
        }
    }

    /* a name's last label (its top-level domain) is never all digits */
    if (!(isdigit((unsigned char) *last)
          || (last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))))
    {
        return 0;
    }

    for (i = 0; last[i] && last[i] != '.'; i++) {
        if (!isxdigit((unsigned char) last[i]) && last[i] != 'x'
            && last[i] != 'X')
        {
            return 0;
        }
    }

    if (inet_pton(AF_INET, host, &a) != 1
        || inet_ntop(AF_INET, &a, canon, sizeof(canon)) == NULL
        || strcmp(canon, host) != 0)
    {
        return -1;
    }

    return 1;
}


/*
 * 1 when a fetch may go to this address: a public one.  Refused: this
 * network (0/8), private (10/8, 172.16/12, 192.168/16), shared (100.64/
 * 10), loopback (127/8, ::1), link-local (169.254/16, fe80::/10),
 * documentation and benchmarking ranges, multicast and reserved (224/3),
 * the broadcast address, unique local (fc00::/7), site-local (fec0::/
 * 10), and the IPv6 forms that carry an IPv4 address (mapped, compatible,
 * NAT64 64:ff9b::/96, 6to4 2002::/16), judged by that address.
 * allow_loopback lets 127/8 and ::1 through (development).
 */

int
ttai_cimd_addr_public(const struct sockaddr *sa, int allow_loopback)
{
    const unsigned char  *a;

    if (sa->sa_family == AF_INET) {
        a = (const unsigned char *)
                &((const struct sockaddr_in *) sa)->sin_addr;

        if (a[0] == 127) {
            return allow_loopback;
        }

        return ttai_cimd_v4_public(a);
    }

    if (sa->sa_family != AF_INET6) {
        return 0;
    }

    a = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0) {
        return allow_loopback;
    }

    /* ::/96 (compatible, and ::), ::ffff:0:0/96 (mapped) */
    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0", 10) == 0
        && ((a[10] == 0 && a[11] == 0) || (a[10] == 0xff && a[11] == 0xff)))
    {
        if (a[12] == 127) {
            return allow_loopback;
        }

        return ttai_cimd_v4_public(a + 12);
    }

    /* 64:ff9b::/96, NAT64 */
    if (memcmp(a, "\0\x64\xff\x9b\0\0\0\0\0\0\0\0", 12) == 0) {
        return a[12] != 127 && ttai_cimd_v4_public(a + 12);
    }

    /* 2002::/16, 6to4: the IPv4 address follows */
    if (a[0] == 0x20 && a[1] == 0x02) {
        return a[2] != 127 && ttai_cimd_v4_public(a + 2);
    }

    if ((a[0] & 0xfe) == 0xfc                      /* fc00::/7 */
        || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)  /* fe80::/10 */
        || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)  /* fec0::/10 */
        || a[0] == 0xff                             /* ff00::/8 */
        || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d
            && a[3] == 0xb8)                        /* 2001:db8::/32 */
        || (a[0] == 0x01 && a[1] == 0x00
            && memcmp(a + 2, "\0\0\0\0\0\0", 6) == 0)) /* 100::/64 */
    {
        return 0;
    }

    /* everything else outside 2000::/3, the global unicast space */
    return (a[0] & 0xe0) == 0x20;
}


static int
ttai_cimd_v4_public(const unsigned char *a)
{
    return !(a[0] == 0                                   /* 0/8 */
             || a[0] == 10                               /* 10/8 */
             || a[0] == 127                              /* 127/8 */
             || (a[0] == 100 && (a[1] & 0xc0) == 64)     /* 100.64/10 */
             || (a[0] == 169 && a[1] == 254)             /* 169.254/16 */
             || (a[0] == 172 && (a[1] & 0xf0) == 16)     /* 172.16/12 */
             || (a[0] == 192 && a[1] == 0 && a[2] == 0)  /* 192.0.0/24 */
             || (a[0] == 192 && a[1] == 0 && a[2] == 2)  /* 192.0.2/24 */
             || (a[0] == 192 && a[1] == 168)             /* 192.168/16 */
             || (a[0] == 198 && (a[1] & 0xfe) == 18)     /* 198.18/15 */
             || (a[0] == 198 && a[1] == 51 && a[2] == 100)
             || (a[0] == 203 && a[1] == 0 && a[2] == 113)
             || a[0] >= 224);                            /* 224/3 */
}


/*
 * The document, fetched from url: a JSON object whose client_id is url
 * exactly, with the metadata of a public client (redirect_uris, as a
 * registration has them; token_endpoint_auth_method "none" or absent:
 * a document is public, so it holds no secret).  0 with *client, or -1
 * with err.
 */

int
ttai_cimd_document_check(const char *url, const char *body, size_t len,
    ttai_oauth_client_t *client, char *err, size_t errlen)
{
    int            rc;
    json_t        *doc, *v;
    const char    *which, *s;
    json_error_t   jerr;

    memset(client, 0, sizeof(ttai_oauth_client_t));

    if (len > TTAI_CIMD_MAX_DOCUMENT) {
        snprintf(err, errlen, "the client's metadata document is larger "
                 "than %d bytes", TTAI_CIMD_MAX_DOCUMENT);
        return -1;
    }

    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(err, errlen, "the client's metadata document is not a "
                 "JSON object");
        return -1;
    }

    s = json_string_value(json_object_get(doc, "client_id"));

    if (s == NULL || strcmp(s, url) != 0) {
        json_decref(doc);
        snprintf(err, errlen, "the client's metadata document does not "
                 "name itself: its client_id must be the URL it is at");
        return -1;
    }

    if (json_object_get(doc, "client_secret") != NULL
        || json_object_get(doc, "client_secret_expires_at") != NULL)
    {
        json_decref(doc);
        snprintf(err, errlen, "a client's metadata document is public: it "
                 "has no client_secret");
        return -1;
    }

    v = json_object_get(doc, "token_endpoint_auth_method");

    if (v == NULL) {
        json_object_set_new(doc, "token_endpoint_auth_method",
                            json_string("none"));

    } else if (!json_is_string(v)
               || strcmp(json_string_value(v), "none") != 0)
    {
        json_decref(doc);
        snprintf(err, errlen, "token_endpoint_auth_method must be \"none\": "
                 "ttai takes no private_key_jwt");
        return -1;
    }

    rc = ttai_oauth_register_check(doc, client, &which, err, errlen);

    json_decref(doc);

    return rc;
}


/*
 * How long a fetched document may be used, from its Cache-Control (NULL:
 * none): max-age, within [0, TTAI_CIMD_MAX_TTL]; no-store and no-cache
 * 0; none at all TTAI_CIMD_DEFAULT_TTL
 */

long
ttai_cimd_cache_ttl(const char *cache_control)
{
    long         ttl;
    const char  *p;

    if (cache_control == NULL || *cache_control == '\0') {
        return TTAI_CIMD_DEFAULT_TTL;
    }

    if (strcasestr(cache_control, "no-store") != NULL
        || strcasestr(cache_control, "no-cache") != NULL
        || strcasestr(cache_control, "private") != NULL)
    {
        return 0;
    }

    p = strcasestr(cache_control, "max-age=");

    if (p == NULL) {
        return TTAI_CIMD_DEFAULT_TTL;
    }

    p += sizeof("max-age=") - 1;

    if (!isdigit((unsigned char) *p)) {
        return 0;
    }

    for (ttl = 0; isdigit((unsigned char) *p); p++) {
        ttl = ttl * 10 + (*p - '0');

        if (ttl > TTAI_CIMD_MAX_TTL) {
            return TTAI_CIMD_MAX_TTL;
        }
    }

    return ttl;
}
