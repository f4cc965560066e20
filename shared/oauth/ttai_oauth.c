/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_oauth.h"


#define TTAI_OAUTH_NAME_MAX       200
#define TTAI_OAUTH_VERIFIER_MIN   43
#define TTAI_OAUTH_VERIFIER_MAX   128
#define TTAI_OAUTH_CHALLENGE_LEN  43
#define TTAI_OAUTH_SECRET_BYTES   32

/* what ttai_oauth_decode() can say */
#define TTAI_OAUTH_DECODE_BAD     -1
#define TTAI_OAUTH_DECODE_NUL     -2
#define TTAI_OAUTH_DECODE_NOMEM   -3


static int ttai_oauth_decode(const char *s, size_t len, char **out);
static int ttai_oauth_hex(int c);
static int ttai_oauth_unreserved(int c);
static size_t ttai_oauth_escaped_len(const char *s);
static char *ttai_oauth_escape_into(char *p, const char *s);
static int ttai_oauth_loopback(const char *host, size_t len);
static int ttai_oauth_host_ok(const char *host, size_t len);
static int ttai_oauth_grant_types(json_t *v, ttai_oauth_client_t *client,
    char *err, size_t errlen);
static int ttai_oauth_name_ok(const char *s, size_t len);
static json_t *ttai_oauth_strings(const char *first, ...);


json_t *
ttai_oauth_form(const char *body, size_t len, char *err, size_t errlen)
{
    int          rc;
    char        *name, *value;
    json_t      *form, *v;
    const char  *p, *end, *amp, *eq;

    form = json_object();
    if (form == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    p = body;
    end = body + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        /* "a=1&&b=2" and a trailing '&' carry nothing */
        if (amp == p) {
            p++;
            continue;
        }

        eq = memchr(p, '=', amp - p);
        if (eq == NULL) {
            eq = amp;
        }

        if (eq == p) {
            snprintf(err, errlen, "a parameter has no name");
            goto failed;
        }

        rc = ttai_oauth_decode(p, eq - p, &name);
        if (rc != 0) {
            goto bad;
        }

        rc = ttai_oauth_decode(eq < amp ? eq + 1 : amp,
                               eq < amp ? (size_t) (amp - eq - 1) : 0,
                               &value);
        if (rc != 0) {
            free(name);
            goto bad;
        }

        /*
         * RFC 6749 3.1: "Request and response parameters MUST NOT be
         * included more than once"; taking either copy would let a
         * proxy and ttai read different requests.
         */
        if (json_object_get(form, name) != NULL) {
            snprintf(err, errlen, "the parameter \"%.64s\" is repeated",
                     name);
            free(name);
            free(value);
            goto failed;
        }

        v = json_string(value);
        if (v == NULL || json_object_set_new(form, name, v) != 0) {
            snprintf(err, errlen, "the parameter \"%.64s\" is not UTF-8",
                     name);
            free(name);
            free(value);
            goto failed;
        }

        free(name);
        free(value);

        p = amp + 1;
    }

    return form;

bad:

    if (rc == TTAI_OAUTH_DECODE_NOMEM) {
        snprintf(err, errlen, "out of memory");

    } else if (rc == TTAI_OAUTH_DECODE_NUL) {
        snprintf(err, errlen, "the body has a NUL character in it");

    } else {
        snprintf(err, errlen, "the body has an invalid %%-escape");
    }

failed:

    json_decref(form);
    return NULL;
}


char *
ttai_oauth_unescape(const char *s, size_t len)
{
    char  *out;

    if (ttai_oauth_decode(s, len, &out) != 0) {
        return NULL;
    }

    return out;
}


/*
 * '+' is a space and %XX a byte, as HTML forms write them.  A '%' not
 * followed by two hex digits is an error rather than itself: a lenient
 * decoder is one more way for two parsers to disagree.
 */

static int
ttai_oauth_decode(const char *s, size_t len, char **out)
{
    int     hi, lo;
    char   *d, *p;
    size_t  i;

    d = malloc(len + 1);
    if (d == NULL) {
        return TTAI_OAUTH_DECODE_NOMEM;
    }

    p = d;

    for (i = 0; i < len; i++) {

        if (s[i] == '+') {
            *p++ = ' ';
            continue;
        }

        if (s[i] != '%') {
            if (s[i] == '\0') {
                free(d);
                return TTAI_OAUTH_DECODE_NUL;
            }

            *p++ = s[i];
            continue;
        }

        if (len - i < 3
            || (hi = ttai_oauth_hex((unsigned char) s[i + 1])) < 0
            || (lo = ttai_oauth_hex((unsigned char) s[i + 2])) < 0)
        {
            free(d);
            return TTAI_OAUTH_DECODE_BAD;
        }

        if (hi == 0 && lo == 0) {
            free(d);
            return TTAI_OAUTH_DECODE_NUL;
        }

        *p++ = (char) (hi << 4 | lo);
        i += 2;
    }

    *p = '\0';
    *out = d;

    return 0;
}


static int
ttai_oauth_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
ttai_oauth_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}


char *
ttai_oauth_escape(const char *s)
{
    char  *out;

    out = malloc(ttai_oauth_escaped_len(s) + 1);
    if (out == NULL) {
        return NULL;
    }

    *ttai_oauth_escape_into(out, s) = '\0';

    return out;
}


static size_t
ttai_oauth_escaped_len(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        n += ttai_oauth_unreserved((unsigned char) *s) ? 1 : 3;
    }

    return n;
}


/* returns the end of what it wrote; no NUL */

static char *
ttai_oauth_escape_into(char *p, const char *s)
{
    unsigned char  c;

    static const char  hex[] = "0123456789ABCDEF";

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        if (ttai_oauth_unreserved(c)) {
            *p++ = (char) c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0x0f];
    }

    return p;
}


char *
ttai_oauth_url(const char *uri, ...)
{
    char        *out, *p, sep;
    size_t       n;
    va_list      args;
    const char  *name, *value;

    n = strlen(uri);

    va_start(args, uri);

    for ( ;; ) {
        name = va_arg(args, const char *);
        if (name == NULL) {
            break;
        }

        value = va_arg(args, const char *);
        if (value == NULL) {
            continue;
        }

        n += 1 + ttai_oauth_escaped_len(name) + 1
             + ttai_oauth_escaped_len(value);
    }

    va_end(args);

    out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }

    p = out;
    n = strlen(uri);
    memcpy(p, uri, n);
    p += n;

    /* a query already there, perhaps ending in '?' or '&', is kept */
    if (strchr(uri, '?') == NULL) {
        sep = '?';

    } else if (n > 0 && (uri[n - 1] == '?' || uri[n - 1] == '&')) {
        sep = '\0';

    } else {
        sep = '&';
    }

    va_start(args, uri);

    for ( ;; ) {
        name = va_arg(args, const char *);
        if (name == NULL) {
            break;
        }

        value = va_arg(args, const char *);
        if (value == NULL) {
            continue;
        }

        if (sep != '\0') {
            *p++ = sep;
        }

        sep = '&';

        p = ttai_oauth_escape_into(p, name);
        *p++ = '=';
        p = ttai_oauth_escape_into(p, value);
    }

    va_end(args);

    *p = '\0';

    return out;
}


int
ttai_oauth_redirect_ok(const char *uri)
{
    size_t       n, slen, hlen;
    const char  *p, *auth, *aend, *host, *port;

    n = strlen(uri);

    if (n == 0 || n > TTAI_OAUTH_MAX_URI) {
        return 0;
    }

    /*
     * Only printable ASCII: a space, a control character or a byte a
     * browser would re-encode makes the URI ttai checked differ from
     * the one the browser follows.  A backslash is a slash to browsers.
     */
    for (p = uri; *p; p++) {
        if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f
            || *p == '#' || *p == '\\')
        {
            return 0;
        }
    }

    if (strncasecmp(uri, "https://", 8) == 0) {
        slen = 5;

    } else if (strncasecmp(uri, "http://", 7) == 0) {
        slen = 4;

    } else {
        /* javascript:, data:, custom schemes: none of MCP's clients */
        return 0;
    }

    auth = uri + slen + 3;
    aend = auth + strcspn(auth, "/?");

    /* userinfo: "https://good.example@evil.example/" */
    if (memchr(auth, '@', aend - auth) != NULL) {
        return 0;
    }

    host = auth;

    if (*host == '[') {
        p = memchr(host, ']', aend - host);
        if (p == NULL) {
            return 0;
        }

        port = p + 1;

    } else {
        port = memchr(host, ':', aend - host);
        if (port == NULL) {
            port = aend;
        }
    }

    hlen = port - host;

    if (port < aend) {
        if (*port != ':' || port + 1 == aend || aend - port > 6) {
            return 0;
        }

        for (p = port + 1; p < aend; p++) {
            if (*p < '0' || *p > '9') {
                return 0;
            }
        }

        if (atoi(port + 1) < 1 || atoi(port + 1) > 65535) {
            return 0;
        }
    }

    if (!ttai_oauth_host_ok(host, hlen)) {
        return 0;
    }

    if (slen == 4 && !ttai_oauth_loopback(host, hlen)) {
        return 0;
    }

    return 1;
}


/* a DNS name or an IP literal; no '%', no empty labels at the ends */

static int
ttai_oauth_host_ok(const char *host, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']') {
            return 0;
        }

        for (i = 1; i < len - 1; i++) {
            if (ttai_oauth_hex((unsigned char) host[i]) < 0
                && host[i] != ':' && host[i] != '.')
            {
                return 0;
            }
        }

        return 1;
    }

    if (host[0] == '.' || host[0] == '-' || host[len - 1] == '-') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!ttai_oauth_unreserved((unsigned char) host[i])
            || host[i] == '_' || host[i] == '~'
            || (host[i] == '.' && i + 1 < len && host[i + 1] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


/* "localhost", 127.0.0.0/8 in dotted decimal, or [::1]: nothing else */

static int
ttai_oauth_loopback(const char *host, size_t len)
{
    int          octets, digits, value;
    const char  *p, *end;

    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0)
        || (len == 5 && memcmp(host, "[::1]", 5) == 0))
    {
        return 1;
    }

    if (len < 7 || memcmp(host, "127.", 4) != 0) {
        return 0;
    }

    end = host + len;
    octets = 0;
    digits = 0;
    value = 0;

    for (p = host; p <= end; p++) {
        if (p == end || *p == '.') {
            if (digits == 0 || value > 255) {
                return 0;
            }

            octets++;
            digits = 0;
            value = 0;
            continue;
        }

        if (*p < '0' || *p > '9' || ++digits > 3) {
            return 0;
        }

        value = value * 10 + (*p - '0');
    }

    return octets == 4;
}


int
ttai_oauth_redirect_registered(json_t *uris, const char *uri)
{
    size_t       i;
    json_t      *v;
    const char  *s;

    if (!json_is_array(uris)) {
        return 0;
    }

    json_array_foreach(uris, i, v) {
        s = json_string_value(v);

        if (s != NULL && strcmp(s, uri) == 0) {
            return 1;
        }
    }

    return 0;
}


int
ttai_oauth_register_check(json_t *req, ttai_oauth_client_t *client,
    const char **which, char *err, size_t errlen)
{
    size_t       i, n;
    json_t      *v, *uris, *e;
    const char  *s;

    memset(client, 0, sizeof(ttai_oauth_client_t));

    *which = "invalid_client_metadata";

    if (!json_is_object(req)) {
        snprintf(err, errlen, "the registration request is not a JSON "
                 "object");
        return -1;
    }

    *which = "invalid_redirect_uri";

    uris = json_object_get(req, "redirect_uris");

    if (!json_is_array(uris)) {
        snprintf(err, errlen, "redirect_uris is required: an array of "
                 "https URIs, or http ones to localhost");
        return -1;
    }

    n = json_array_size(uris);

    if (n == 0 || n > TTAI_OAUTH_MAX_REDIRECTS) {
        snprintf(err, errlen, "redirect_uris must have from 1 to %d URIs, "
                 "not %zu", TTAI_OAUTH_MAX_REDIRECTS, n);
        return -1;
    }

    json_array_foreach(uris, i, e) {
        s = json_string_value(e);

        if (s == NULL) {
            snprintf(err, errlen, "redirect_uris[%zu] is not a string", i);
            return -1;
        }

        if (!ttai_oauth_redirect_ok(s)) {
            snprintf(err, errlen, "redirect_uris[%zu] is not an https URI, "
                     "nor an http one to localhost, without a fragment or "
                     "user name", i);
            return -1;
        }
    }

    *which = "invalid_client_metadata";

    /*
     * SEP-837: a client says what it is.  A "web" client runs on a
     * server, so its redirect URIs are https; a "native" one (desktop,
     * command line) may use http to localhost.  A client that does not
     * say is held to what ttai always allowed.
     */
    v = json_object_get(req, "application_type");

    if (v != NULL) {
        s = json_string_value(v);

        if (s == NULL || (strcmp(s, "web") != 0 && strcmp(s, "native") != 0))
        {
            snprintf(err, errlen, "application_type must be \"web\" or "
                     "\"native\"");
            return -1;
        }

        client->application_type = (s[0] == 'w') ? "web" : "native";

        json_array_foreach(uris, i, e) {
            if (s[0] == 'w'
                && strncmp(json_string_value(e), "https://", 8) != 0)
            {
                *which = "invalid_redirect_uri";
                snprintf(err, errlen, "redirect_uris[%zu] is not https: a "
                         "\"web\" client's are; a desktop or command-line "
                         "client registers as \"native\"", i);
                return -1;
            }
        }
    }

    v = json_object_get(req, "token_endpoint_auth_method");

    if (v == NULL) {
        /* RFC 7591 2: "If unspecified or omitted, the default is
         * client_secret_basic" */
        s = "client_secret_basic";

    } else {
        s = json_string_value(v);

        if (s == NULL
            || (strcmp(s, "none") != 0
                && strcmp(s, "client_secret_post") != 0
                && strcmp(s, "client_secret_basic") != 0))
        {
            snprintf(err, errlen, "token_endpoint_auth_method must be "
                     "\"none\", \"client_secret_post\" or "
                     "\"client_secret_basic\"");
            return -1;
        }
    }

    v = json_object_get(req, "response_types");

    if (v != NULL) {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            snprintf(err, errlen, "response_types must be [\"code\"]");
            return -1;
        }

        json_array_foreach(v, i, e) {
            s = json_string_value(e);

            if (s == NULL || strcmp(s, "code") != 0) {
                snprintf(err, errlen, "response_types must be [\"code\"]: "
                         "ttai has only the authorization code flow");
                return -1;
            }
        }
    }

    v = json_object_get(req, "client_name");

    if (v != NULL) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "client_name is not a string");
            return -1;
        }

        if (json_string_length(v) > TTAI_OAUTH_NAME_MAX) {
            snprintf(err, errlen, "client_name is longer than %d bytes",
                     TTAI_OAUTH_NAME_MAX);
            return -1;
        }

        if (!ttai_oauth_name_ok(json_string_value(v),
                                json_string_length(v)))
        {
            snprintf(err, errlen, "client_name has control characters in "
                     "it");
            return -1;
        }
    }

    if (ttai_oauth_grant_types(json_object_get(req, "grant_types"), client,
                               err, errlen)
        != 0)
    {
        return -1;
    }

    s = json_string_value(json_object_get(req,
                                          "token_endpoint_auth_method"));

    client->name = strdup(v != NULL ? json_string_value(v) : "");
    client->auth_method = strdup(s != NULL ? s : "client_secret_basic");
    client->redirect_uris = json_deep_copy(uris);

    if (client->name == NULL || client->auth_method == NULL
        || client->redirect_uris == NULL || client->grant_types == NULL)
    {
        ttai_oauth_client_free(client);
        *which = "server_error";
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


/*
 * Within authorization_code and refresh_token, and with
 * authorization_code: a client that can only refresh could never get
 * its first token.  Stored in one order, without repeats.
 */

static int
ttai_oauth_grant_types(json_t *v, ttai_oauth_client_t *client, char *err,
    size_t errlen)
{
    int          code, refresh;
    size_t       i;
    json_t      *e;
    const char  *s;

    if (v == NULL) {
        client->grant_types = ttai_oauth_strings("authorization_code",
                                                 "refresh_token", NULL);
        return 0;
    }

    if (!json_is_array(v)) {
        snprintf(err, errlen, "grant_types is not an array");
        return -1;
    }

    code = 0;
    refresh = 0;

    json_array_foreach(v, i, e) {
        s = json_string_value(e);

        if (s == NULL) {
            snprintf(err, errlen, "grant_types[%zu] is not a string", i);
            return -1;
        }

        if (strcmp(s, "authorization_code") == 0) {
            code = 1;

        } else if (strcmp(s, "refresh_token") == 0) {
            refresh = 1;

        } else {
            snprintf(err, errlen, "grant_types: \"%.64s\" is not "
                     "supported; ttai has authorization_code and "
                     "refresh_token", s);
            return -1;
        }
    }

    if (!code) {
        snprintf(err, errlen, "grant_types must include "
                 "authorization_code");
        return -1;
    }

    client->grant_types = ttai_oauth_strings("authorization_code",
                                             refresh ? "refresh_token"
                                                     : NULL,
                                             NULL);
    return 0;
}


/*
 * The name is shown on the consent page: no C0 or C1 control
 * characters, and no bidirectional overrides that could make it read as
 * another name.  jansson has already checked that it is UTF-8.
 */

static int
ttai_oauth_name_ok(const char *s, size_t len)
{
    size_t          i;
    unsigned char   c;
    unsigned char  *u;

    u = (unsigned char *) s;

    for (i = 0; i < len; i++) {
        c = u[i];

        if (c < 0x20 || c == 0x7f) {
            return 0;
        }

        /* U+0080..U+009F */
        if (c == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
        {
            return 0;
        }

        /* U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 */
        if (c == 0xe2 && i + 2 < len
            && ((u[i + 1] == 0x80
                 && (u[i + 2] == 0x8e || u[i + 2] == 0x8f
                     || (u[i + 2] >= 0xaa && u[i + 2] <= 0xae)))
                || (u[i + 1] == 0x81
                    && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
        {
            return 0;
        }
    }

    return 1;
}


/* an array of the strings given, up to the first NULL */

static json_t *
ttai_oauth_strings(const char *first, ...)
{
    json_t      *a;
    va_list      args;
    const char  *s;

    a = json_array();
    if (a == NULL) {
        return NULL;
    }

    va_start(args, first);

    for (s = first; s != NULL; s = va_arg(args, const char *)) {
        if (json_array_append_new(a, json_string(s)) != 0) {
            va_end(args);
            json_decref(a);
            return NULL;
        }
    }

    va_end(args);

    return a;
}


void
ttai_oauth_client_free(ttai_oauth_client_t *client)
{
    free(client->name);
    free(client->auth_method);
    json_decref(client->redirect_uris);
    json_decref(client->grant_types);

    memset(client, 0, sizeof(ttai_oauth_client_t));
}


int
ttai_oauth_challenge_ok(const char *challenge)
{
    size_t  i;

    for (i = 0; challenge[i]; i++) {
        if (i == TTAI_OAUTH_CHALLENGE_LEN) {
            return 0;
        }

        if (!ttai_oauth_unreserved((unsigned char) challenge[i])
            || challenge[i] == '.' || challenge[i] == '~')
        {
            return 0;
        }
    }

    return i == TTAI_OAUTH_CHALLENGE_LEN;
}


int
ttai_oauth_pkce_verify(const char *verifier, const char *challenge)
{
    char           b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    size_t         i;
    unsigned char  digest[crypto_hash_sha256_BYTES];

    for (i = 0; verifier[i]; i++) {
        if (i == TTAI_OAUTH_VERIFIER_MAX
            || !ttai_oauth_unreserved((unsigned char) verifier[i]))
        {
            return 0;
        }
    }

    if (i < TTAI_OAUTH_VERIFIER_MIN || !ttai_oauth_challenge_ok(challenge)) {
        return 0;
    }

    crypto_hash_sha256(digest, (const unsigned char *) verifier, i);

    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    return sodium_memcmp(b64, challenge, TTAI_OAUTH_CHALLENGE_LEN) == 0;
}


int
ttai_oauth_token(char out[TTAI_OAUTH_TOKEN_LEN + 1])
{
    unsigned char  bytes[TTAI_OAUTH_SECRET_BYTES];

    randombytes_buf(bytes, sizeof(bytes));

    sodium_bin2base64(out, TTAI_OAUTH_TOKEN_LEN + 1, bytes, sizeof(bytes),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    sodium_memzero(bytes, sizeof(bytes));

    return 0;
}


/*
 * A plain SHA-256 is enough: the secrets are 256 random bits, so there
 * is nothing for a salt or a slow hash to protect.
 */

void
ttai_oauth_hash(const char *secret, size_t len,
    char out[TTAI_OAUTH_HASH_LEN + 1])
{
    unsigned char  digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, (const unsigned char *) secret, len);

    sodium_bin2hex(out, TTAI_OAUTH_HASH_LEN + 1, digest, sizeof(digest));
}


int
ttai_oauth_hash_equal(const char *secret, size_t len, const char *hash)
{
    char  mine[TTAI_OAUTH_HASH_LEN + 1];

    if (strnlen(hash, TTAI_OAUTH_HASH_LEN + 1) != TTAI_OAUTH_HASH_LEN) {
        return 0;
    }

    ttai_oauth_hash(secret, len, mine);

    return sodium_memcmp(mine, hash, TTAI_OAUTH_HASH_LEN) == 0;
}


void
ttai_oauth_family_id(const char *family,
    char out[TTAI_OAUTH_FAMILY_ID_LEN + 1])
{
    unsigned char              digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state   st;

    static const unsigned char  label[] = "ttai family id";

    /* the label and its NUL keep this hash apart from the stored ones */
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, label, sizeof(label));
    crypto_hash_sha256_update(&st, (const unsigned char *) family,
                              strlen(family));
    crypto_hash_sha256_final(&st, digest);

    sodium_bin2base64(out, TTAI_OAUTH_FAMILY_ID_LEN + 1, digest, 16,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}


char *
ttai_oauth_error_json(const char *error, const char *description)
{
    char    *out;
    json_t  *o;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    if (json_object_set_new(o, "error", json_string(error)) != 0
        || (description != NULL
            && json_object_set_new(o, "error_description",
                                   json_string(description))
               != 0))
    {
        json_decref(o);
        return NULL;
    }

    out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(o);

    return out;
}


char *
ttai_oauth_metadata(const char *issuer)
{
    char        *out, *url;
    size_t       i, n;
    json_t      *o, *methods;
    const char  *paths[][2] = {
        { "authorization_endpoint", "/authorize" },
        { "token_endpoint", "/token" },
        { "registration_endpoint", "/register" },
        { "revocation_endpoint", "/revoke" },
    };

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    out = NULL;
    methods = NULL;
    n = strlen(issuer);

    if (json_object_set_new(o, "issuer", json_string(issuer)) != 0) {
        goto done;
    }

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        url = malloc(n + strlen(paths[i][1]) + 1);
        if (url == NULL) {
            goto done;
        }

        memcpy(url, issuer, n);
        strcpy(url + n, paths[i][1]);

        if (json_object_set_new(o, paths[i][0], json_string(url)) != 0) {
            free(url);
            goto done;
        }

        free(url);
    }

    methods = ttai_oauth_strings("none", "client_secret_post",
                                 "client_secret_basic", NULL);

    if (json_object_set_new(o, "response_types_supported",
                            ttai_oauth_strings("code", NULL)) != 0
        || json_object_set_new(o, "response_modes_supported",
                               ttai_oauth_strings("query", NULL)) != 0
        || json_object_set_new(o, "grant_types_supported",
                               ttai_oauth_strings("authorization_code",
                                                  "refresh_token", NULL))
           != 0
        || json_object_set(o, "token_endpoint_auth_methods_supported",
                           methods) != 0
        || json_object_set(o, "revocation_endpoint_auth_methods_supported",
                           methods) != 0
        || json_object_set_new(o, "code_challenge_methods_supported",
                               ttai_oauth_strings("S256", NULL)) != 0
        || json_object_set_new(o, "scopes_supported",
                               ttai_oauth_strings("mcp:tools", NULL)) != 0
        || json_object_set_new(o, "authorization_response_iss_parameter"
                               "_supported", json_true()) != 0
        || json_object_set_new(o, "client_id_metadata_document_supported",
                               json_true()) != 0)
    {
        goto done;
    }

    out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

done:

    json_decref(methods);
    json_decref(o);

    return out;
}


int
ttai_oauth_scope_parse(const char *scope, int *trade)
{
    size_t  n;

    *trade = 0;

    while (scope != NULL && *scope != '\0') {
        n = strcspn(scope, " ");

        if (n == sizeof(TTAI_OAUTH_SCOPE_TRADE) - 1
            && strncmp(scope, TTAI_OAUTH_SCOPE_TRADE, n) == 0)
        {
            *trade = 1;

        } else if (n != 0
                   && (n != sizeof(TTAI_OAUTH_SCOPE) - 1
                       || strncmp(scope, TTAI_OAUTH_SCOPE, n) != 0))
        {
            return -1;
        }

        scope += n;
        scope += strspn(scope, " ");
    }

    return 0;
}


int
ttai_oauth_scope_trades(const char *scope)
{
    int  trade;

    return ttai_oauth_scope_parse(scope, &trade) == 0 && trade;
}
