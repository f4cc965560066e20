
/*
 * Copyright (C) ttai contributors
 */


/*
 * Dynamic client registration (RFC 7591): a POST /register body, read
 * as the shell reads it, then ttai_oauth_register_check(); and every
 * string of its redirect_uris through ttai_oauth_redirect_ok().
 *
 * Checked: a redirect URI ttai takes is one a second reading, written
 * here from RFC 3986, finds safe to send a code to: http or https, no
 * userinfo, no fragment, no blank or byte a browser would re-encode, a
 * port that is a port, and http only to this machine.  A registration
 * that passes holds only such URIs, exactly those sent, each one
 * registered; a known authentication method; grant types that start
 * with authorization_code; and a name fit for the consent page.  One
 * refused says why, in the words of RFC 7591.
 */

#include <strings.h>

#include <jansson.h>

#include "ttai_oauth.h"
#include "fuzz.h"


static int fuzz_safe(const char *uri);
static int fuzz_loopback(const char *host, size_t len);
static void fuzz_registered(json_t *req, ttai_oauth_client_t *client);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                  err[TTAI_OAUTH_ERRLEN];
    size_t                i;
    json_t               *req, *uri;
    const char           *which, *s;
    ttai_oauth_client_t   client;

    /* as ngx_http_ttai_oauth_body() reads it */
    req = json_loadb((const char *) data, size, 0, NULL);
    if (req == NULL) {
        return 0;
    }

    json_array_foreach(json_object_get(req, "redirect_uris"), i, uri) {
        s = json_string_value(uri);

        if (s != NULL && ttai_oauth_redirect_ok(s)) {
            fuzz_check(fuzz_safe(s), "a redirect URI taken that is not "
                       "safe: %s", s);
        }
    }

    err[0] = '\0';
    which = NULL;

    rc = ttai_oauth_register_check(req, &client, &which, err, sizeof(err));

    if (rc == 0) {
        fuzz_registered(req, &client);
        ttai_oauth_client_free(&client);

    } else {
        fuzz_check(err[0] != '\0' && which != NULL
                   && (strcmp(which, "invalid_redirect_uri") == 0
                       || strcmp(which, "invalid_client_metadata") == 0),
                   "a refusal without its error and reason: %s, %s",
                   which ? which : "(null)", err);
        fuzz_check(client.name == NULL && client.redirect_uris == NULL
                   && client.auth_method == NULL
                   && client.grant_types == NULL,
                   "a refused registration left a client behind");
    }

    json_decref(req);

    return 0;
}


static void
fuzz_registered(json_t *req, ttai_oauth_client_t *client)
{
    size_t       i, n;
    json_t      *uri, *g, *name;
    const char  *s;

    fuzz_check(json_equal(client->redirect_uris,
                          json_object_get(req, "redirect_uris")),
               "the URIs registered are not those sent");

    n = json_array_size(client->redirect_uris);
    fuzz_check(n >= 1 && n <= TTAI_OAUTH_MAX_REDIRECTS, "%zu URIs", n);

    json_array_foreach(client->redirect_uris, i, uri) {
        s = json_string_value(uri);
        fuzz_check(s != NULL && fuzz_safe(s), "an unsafe URI registered");
        fuzz_check(ttai_oauth_redirect_registered(client->redirect_uris, s),
                   "a URI registered is not found: %s", s);
    }

    fuzz_check(strcmp(client->auth_method, "none") == 0
               || strcmp(client->auth_method, "client_secret_post") == 0
               || strcmp(client->auth_method, "client_secret_basic") == 0,
               "authentication method %s", client->auth_method);

    s = json_string_value(json_object_get(req,
                                          "token_endpoint_auth_method"));
    fuzz_check(strcmp(client->auth_method,
                      s != NULL ? s : "client_secret_basic") == 0,
               "another authentication method than asked");

    g = client->grant_types;
    fuzz_check(json_is_array(g) && json_array_size(g) >= 1
               && json_array_size(g) <= 2
               && strcmp(json_string_value(json_array_get(g, 0)),
                         "authorization_code") == 0
               && (json_array_size(g) == 1
                   || strcmp(json_string_value(json_array_get(g, 1)),
                             "refresh_token") == 0),
               "grant types that are not ttai's");

    name = json_object_get(req, "client_name");
    fuzz_check(strcmp(client->name,
                      name != NULL ? json_string_value(name) : "") == 0,
               "another name than sent");
    fuzz_check(strlen(client->name) <= 200, "a name of %zu bytes",
               strlen(client->name));

    for (s = client->name; *s; s++) {
        fuzz_check((unsigned char) *s >= 0x20 && *s != 0x7f,
                   "a name with control character 0x%02x",
                   (unsigned char) *s);
    }

    /* a registration without a code grant could never get a token */
    g = json_object_get(req, "grant_types");

    if (g != NULL) {
        json_array_foreach(g, i, uri) {
            if (strcmp(json_string_value(uri), "authorization_code") == 0) {
                break;
            }
        }

        fuzz_check(i < json_array_size(g), "grant types without "
                   "authorization_code passed");
    }
}


/*
 * scheme "://" authority path-abempty [ "?" query ], RFC 3986, for
 * http and https: where a browser takes the code
 */

static int
fuzz_safe(const char *uri)
{
    size_t        n, i, hlen;
    const char   *p, *auth, *end, *host, *colon;
    int           https;

    n = strlen(uri);

    if (n == 0 || n > TTAI_OAUTH_MAX_URI) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) uri[i] <= 0x20 || (unsigned char) uri[i] >= 0x7f
            || uri[i] == '#' || uri[i] == '\\')
        {
            return 0;
        }
    }

    if (strncasecmp(uri, "https://", 8) == 0) {
        https = 1;
        auth = uri + 8;

    } else if (strncasecmp(uri, "http://", 7) == 0) {
        https = 0;
        auth = uri + 7;

    } else {
        return 0;
    }

    /* the authority ends at the path or the query */
    for (end = auth; *end && *end != '/' && *end != '?'; end++) {
        /* void */
    }

    for (p = auth; p < end; p++) {
        if (*p == '@') {
            return 0;
        }
    }

    /* host [":" port]; an IPv6 literal in brackets */
    host = auth;

    if (*host == '[') {
        for (p = host; p < end && *p != ']'; p++) {
            /* void */
        }

        if (p == end) {
            return 0;
        }

        hlen = p + 1 - host;
        colon = p + 1;

        if (colon < end && *colon != ':') {
            return 0;
        }

    } else {
        for (colon = host; colon < end && *colon != ':'; colon++) {
            /* void */
        }

        hlen = colon - host;
    }

    if (hlen == 0) {
        return 0;
    }

    if (colon < end) {
        if (end - colon < 2 || end - colon > 6) {
            return 0;
        }

        for (p = colon + 1, n = 0; p < end; p++) {
            if (*p < '0' || *p > '9') {
                return 0;
            }

            n = n * 10 + (*p - '0');
        }

        if (n < 1 || n > 65535) {
            return 0;
        }
    }

    return https || fuzz_loopback(host, hlen);
}


/* localhost, [::1], or 127.x.y.z in plain dotted decimal */

static int
fuzz_loopback(const char *host, size_t len)
{
    int     a, b, c, d;
    char    buf[32], tail;

    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0)
        || (len == 5 && memcmp(host, "[::1]", 5) == 0))
    {
        return 1;
    }

    if (len >= sizeof(buf)) {
        return 0;
    }

    memcpy(buf, host, len);
    buf[len] = '\0';

    if (strspn(buf, "0123456789.") != len
        || sscanf(buf, "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) != 4)
    {
        return 0;
    }

    return a == 127 && b >= 0 && b <= 255 && c >= 0 && c <= 255 && d >= 0
           && d <= 255;
}
