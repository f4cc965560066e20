/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "ttai_oauth.h"


static json_t *
form(const char *body, char *err)
{
    err[0] = '\0';

    return ttai_oauth_form(body, strlen(body), err, TTAI_OAUTH_ERRLEN);
}


static const char *
get(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}


static void
test_form_decodes(void **state)
{
    char    err[TTAI_OAUTH_ERRLEN];
    json_t  *f;

    f = form("grant_type=authorization_code&code=a%2Bb+c&redirect_uri="
             "https%3A%2F%2Fc.example%2Fcb&empty=&bare&%7e=x%C3%A9", err);
    assert_non_null(f);
    assert_int_equal(json_object_size(f), 6);
    assert_string_equal(get(f, "grant_type"), "authorization_code");
    assert_string_equal(get(f, "code"), "a+b c");
    assert_string_equal(get(f, "redirect_uri"), "https://c.example/cb");
    assert_string_equal(get(f, "empty"), "");
    assert_string_equal(get(f, "bare"), "");
    assert_string_equal(get(f, "~"), "x\xc3\xa9");
    json_decref(f);

    f = form("", err);
    assert_non_null(f);
    assert_int_equal(json_object_size(f), 0);
    json_decref(f);

    f = form("a=1&&b=2&", err);
    assert_non_null(f);
    assert_int_equal(json_object_size(f), 2);
    json_decref(f);

    /* the length is the caller's: what follows it is not read */
    f = ttai_oauth_form("a=1&b=2", 3, err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(json_object_size(f), 1);
    assert_string_equal(get(f, "a"), "1");
    json_decref(f);
}


static void
test_form_refuses(void **state)
{
    char  err[TTAI_OAUTH_ERRLEN];

    assert_null(form("a=%4", err));
    assert_non_null(strstr(err, "escape"));
    assert_null(form("a=%", err));
    assert_null(form("a=%zz", err));
    assert_null(form("a=%g0&b=1", err));
    assert_null(form("%=1", err));

    assert_null(form("a=x%00y", err));
    assert_non_null(strstr(err, "NUL"));
    assert_null(ttai_oauth_form("a=x\0y", 5, err, sizeof(err)));

    assert_null(form("code=1&state=2&code=3", err));
    assert_non_null(strstr(err, "\"code\""));
    assert_non_null(strstr(err, "repeated"));

    /* the same name, written two ways */
    assert_null(form("a%20b=1&a+b=2", err));
    assert_non_null(strstr(err, "\"a b\""));

    assert_null(form("=x", err));
    assert_null(form("a=%ff", err));
}


static void
test_unescape_escape(void **state)
{
    char  *s;

    s = ttai_oauth_unescape("a+b%20c%2fd", 11);
    assert_string_equal(s, "a b c/d");
    free(s);

    s = ttai_oauth_unescape("abc", 2);
    assert_string_equal(s, "ab");
    free(s);

    assert_null(ttai_oauth_unescape("%2", 2));
    assert_null(ttai_oauth_unescape("%00", 3));

    s = ttai_oauth_escape("aZ09-._~ /?&=+%\xc3\xa9");
    assert_string_equal(s, "aZ09-._~%20%2F%3F%26%3D%2B%25%C3%A9");
    free(s);

    s = ttai_oauth_escape("");
    assert_string_equal(s, "");
    free(s);
}


static void
test_redirect_good(void **state)
{
    size_t  i;

    static const char  *good[] = {
        "https://c.example/cb",
        "HTTPS://C.Example/cb",
        "https://c.example",
        "https://c.example:8443/oauth/callback?x=1&y=2",
        "https://claude.ai/api/mcp/auth_callback",
        "https://[2001:db8::1]/cb",
        "http://localhost/cb",
        "http://LOCALHOST:6274/oauth/callback",
        "HTTP://localhost:33418",
        "http://127.0.0.1:3000/cb",
        "http://127.255.0.9/cb",
        "http://[::1]/cb",
        "http://[::1]:8080/cb?a=b",
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!ttai_oauth_redirect_ok(good[i])) {
            fail_msg("refused: %s", good[i]);
        }
    }
}


static void
test_redirect_bad(void **state)
{
    char    *s;
    size_t   i;

    static const char  *bad[] = {
        "",
        "http://evil.com/cb",
        "http://localhost.evil.com/cb",
        "http://127.0.0.1.evil.com/cb",
        "http://localhost@evil.com/cb",
        "http://128.0.0.1/cb",
        "http://127.0.0.256/cb",
        "http://127.1/cb",
        "http://127.0.0.01234/cb",
        "http://[::2]/cb",
        "http://0.0.0.0/cb",
        "https://a@b.com",
        "https://a:pw@b.com/cb",
        "https://x#f",
        "https://c.example/cb#",
        "javascript:alert(1)",
        "JavaScript://c.example/%0aalert(1)",
        "data:text/html,hi",
        "myapp://callback",
        "com.example.app:/cb",
        "ftp://c.example/cb",
        "https:c.example/cb",
        "https:/c.example/cb",
        "https:///cb",
        "https://",
        "https://:443/cb",
        "//c.example/cb",
        "/cb",
        "https://c.example/c b",
        "https://c.example/cb\n",
        "https://c.example/\tcb",
        "https://c.example\\@evil.com/",
        "https://c.example:/cb",
        "https://c.example:99999/cb",
        "https://c.example:0/cb",
        "https://c.example:80a/cb",
        "https://c..example/cb",
        "https://c.ex%41mple/cb",
        "https://c.example/\xc3\xa9",
        "https://[::1/cb",
        " https://c.example/cb",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ttai_oauth_redirect_ok(bad[i])) {
            fail_msg("accepted: %s", bad[i]);
        }
    }

    /* at most TTAI_OAUTH_MAX_URI bytes */
    s = malloc(TTAI_OAUTH_MAX_URI + 2);
    assert_non_null(s);
    memcpy(s, "https://c.example/", 18);
    memset(s + 18, 'a', TTAI_OAUTH_MAX_URI - 18);
    s[TTAI_OAUTH_MAX_URI] = '\0';
    assert_true(ttai_oauth_redirect_ok(s));
    s[TTAI_OAUTH_MAX_URI] = 'a';
    s[TTAI_OAUTH_MAX_URI + 1] = '\0';
    assert_false(ttai_oauth_redirect_ok(s));
    free(s);
}


static void
test_redirect_registered(void **state)
{
    json_t  *uris;

    uris = json_pack("[ss]", "https://c.example/cb",
                     "http://localhost:3000/cb");

    assert_true(ttai_oauth_redirect_registered(uris,
                                               "https://c.example/cb"));
    assert_true(ttai_oauth_redirect_registered(uris,
                                               "http://localhost:3000/cb"));
    assert_false(ttai_oauth_redirect_registered(uris,
                                                "https://c.example/cb/"));
    assert_false(ttai_oauth_redirect_registered(uris,
                                                "https://C.example/cb"));
    assert_false(ttai_oauth_redirect_registered(uris,
                                                "https://c.example/cb?x"));
    assert_false(ttai_oauth_redirect_registered(NULL,
                                                "https://c.example/cb"));

    json_decref(uris);
}


static int
check(const char *text, ttai_oauth_client_t *client, const char **which,
    char *err)
{
    int      rc;
    json_t  *req;

    req = json_loads(text, 0, NULL);
    assert_non_null(req);

    err[0] = '\0';
    rc = ttai_oauth_register_check(req, client, which, err,
                                   TTAI_OAUTH_ERRLEN);

    json_decref(req);

    return rc;
}


static void
test_register_defaults(void **state)
{
    char                 err[TTAI_OAUTH_ERRLEN];
    const char          *which;
    ttai_oauth_client_t  c;

    assert_int_equal(check("{\"redirect_uris\":[\"https://c.example/cb\"],"
                           "\"logo_uri\":\"https://c.example/l.png\"}",
                           &c, &which, err), 0);
    assert_string_equal(c.name, "");
    assert_string_equal(c.auth_method, "client_secret_basic");
    assert_int_equal(json_array_size(c.redirect_uris), 1);
    assert_string_equal(json_string_value(json_array_get(c.redirect_uris, 0)),
                        "https://c.example/cb");
    assert_int_equal(json_array_size(c.grant_types), 2);
    assert_string_equal(json_string_value(json_array_get(c.grant_types, 0)),
                        "authorization_code");
    assert_string_equal(json_string_value(json_array_get(c.grant_types, 1)),
                        "refresh_token");
    ttai_oauth_client_free(&c);
    assert_null(c.name);

    /* what Claude sends */
    assert_int_equal(check("{\"client_name\":\"Claude\","
                           "\"redirect_uris\":[\"https://claude.ai/api/mcp/"
                           "auth_callback\",\"http://localhost:6274/cb\"],"
                           "\"grant_types\":[\"authorization_code\","
                           "\"refresh_token\",\"authorization_code\"],"
                           "\"response_types\":[\"code\"],"
                           "\"token_endpoint_auth_method\":\"none\","
                           "\"scope\":\"mcp:tools\"}",
                           &c, &which, err), 0);
    assert_string_equal(c.name, "Claude");
    assert_string_equal(c.auth_method, "none");
    assert_int_equal(json_array_size(c.redirect_uris), 2);
    assert_int_equal(json_array_size(c.grant_types), 2);
    ttai_oauth_client_free(&c);

    assert_int_equal(check("{\"redirect_uris\":[\"https://c.example/cb\"],"
                           "\"grant_types\":[\"authorization_code\"],"
                           "\"token_endpoint_auth_method\":"
                           "\"client_secret_post\",\"client_name\":"
                           "\"Caf\\u00e9 \\u2603\"}", &c, &which, err), 0);
    assert_int_equal(json_array_size(c.grant_types), 1);
    assert_string_equal(c.auth_method, "client_secret_post");
    assert_string_equal(c.name, "Caf\xc3\xa9 \xe2\x98\x83");
    assert_null(c.application_type);
    ttai_oauth_client_free(&c);

    /* SEP-837: a desktop client says "native", and may use localhost */
    assert_int_equal(check("{\"redirect_uris\":[\"http://127.0.0.1:9/cb\"],"
                           "\"application_type\":\"native\","
                           "\"token_endpoint_auth_method\":\"none\"}",
                           &c, &which, err), 0);
    assert_string_equal(c.application_type, "native");
    ttai_oauth_client_free(&c);

    assert_int_equal(check("{\"redirect_uris\":[\"https://c.example/cb\"],"
                           "\"application_type\":\"web\"}",
                           &c, &which, err), 0);
    assert_string_equal(c.application_type, "web");
    ttai_oauth_client_free(&c);
}


static void
test_register_refuses(void **state)
{
    int                  rc;
    char                 err[TTAI_OAUTH_ERRLEN], *big;
    json_t              *req;
    size_t               i;
    const char          *which;
    ttai_oauth_client_t  c;

    static const struct {
        const char  *req;
        const char  *which;
        const char  *words;
    } bad[] = {
        { "{}", "invalid_redirect_uri", "redirect_uris" },
        { "{\"redirect_uris\":\"https://c.example/cb\"}",
          "invalid_redirect_uri", "redirect_uris" },
        { "{\"redirect_uris\":[]}", "invalid_redirect_uri", "redirect_uris" },
        { "{\"redirect_uris\":[1]}", "invalid_redirect_uri",
          "redirect_uris[0]" },
        { "{\"redirect_uris\":[\"https://c.example/cb\","
          "\"http://evil.com/cb\"]}", "invalid_redirect_uri",
          "redirect_uris[1]" },
        { "{\"redirect_uris\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
          "\"a\",\"a\"]}", "invalid_redirect_uri", "redirect_uris" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"token_endpoint_auth_method\":\"private_key_jwt\"}",
          "invalid_client_metadata", "token_endpoint_auth_method" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"token_endpoint_auth_method\":null}",
          "invalid_client_metadata", "token_endpoint_auth_method" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":[\"implicit\"]}",
          "invalid_client_metadata", "\"implicit\"" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":[\"authorization_code\",\"password\"]}",
          "invalid_client_metadata", "\"password\"" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":[\"client_credentials\"]}",
          "invalid_client_metadata", "grant_types" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":[\"refresh_token\"]}",
          "invalid_client_metadata", "authorization_code" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":\"authorization_code\"}",
          "invalid_client_metadata", "grant_types" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"grant_types\":[7]}",
          "invalid_client_metadata", "grant_types[0]" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"response_types\":[\"token\"]}",
          "invalid_client_metadata", "response_types" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"response_types\":[\"code\",\"id_token\"]}",
          "invalid_client_metadata", "response_types" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"response_types\":[]}",
          "invalid_client_metadata", "response_types" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"client_name\":42}",
          "invalid_client_metadata", "client_name" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"client_name\":\"a\\nb\"}",
          "invalid_client_metadata", "client_name" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"client_name\":\"a\\u0085b\"}",
          "invalid_client_metadata", "client_name" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"client_name\":\"evil\\u202egood\"}",
          "invalid_client_metadata", "client_name" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"application_type\":\"desktop\"}",
          "invalid_client_metadata", "application_type" },
        { "{\"redirect_uris\":[\"https://c.example/cb\"],"
          "\"application_type\":7}",
          "invalid_client_metadata", "application_type" },
        { "{\"redirect_uris\":[\"https://c.example/cb\","
          "\"http://127.0.0.1:8000/cb\"],\"application_type\":\"web\"}",
          "invalid_redirect_uri", "\"native\"" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        which = NULL;
        rc = check(bad[i].req, &c, &which, err);

        if (rc != -1 || which == NULL || strcmp(which, bad[i].which) != 0
            || strstr(err, bad[i].words) == NULL)
        {
            fail_msg("%s: rc %d, %s, \"%s\"", bad[i].req, rc,
                     which ? which : "(null)", err);
        }

        assert_null(c.name);
        assert_null(c.redirect_uris);
    }

    req = json_array();
    assert_int_equal(ttai_oauth_register_check(req, &c, &which, err,
                                               sizeof(err)), -1);
    assert_string_equal(which, "invalid_client_metadata");
    json_decref(req);

    /* client_name: 200 bytes, not 201 */
    big = malloc(202);
    assert_non_null(big);
    memset(big, 'n', 201);
    big[201] = '\0';

    req = json_pack("{s[s]ss}", "redirect_uris", "https://c.example/cb",
                    "client_name", big);
    assert_int_equal(ttai_oauth_register_check(req, &c, &which, err,
                                               sizeof(err)), -1);
    assert_non_null(strstr(err, "client_name"));
    json_decref(req);

    big[200] = '\0';
    req = json_pack("{s[s]ss}", "redirect_uris", "https://c.example/cb",
                    "client_name", big);
    assert_int_equal(ttai_oauth_register_check(req, &c, &which, err,
                                               sizeof(err)), 0);
    ttai_oauth_client_free(&c);
    json_decref(req);

    free(big);
}


/* RFC 7636 appendix B */
static const char  rfc_verifier[] =
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char  rfc_challenge[] =
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";


static void
test_pkce(void **state)
{
    char  v[130], c[sizeof(rfc_challenge)];

    assert_true(ttai_oauth_challenge_ok(rfc_challenge));
    assert_true(ttai_oauth_pkce_verify(rfc_verifier, rfc_challenge));

    /* one character of the verifier or of the challenge changed */
    memcpy(v, rfc_verifier, sizeof(rfc_verifier));
    v[5] ^= 1;
    assert_false(ttai_oauth_pkce_verify(v, rfc_challenge));

    memcpy(c, rfc_challenge, sizeof(rfc_challenge));
    c[42] = 'N';
    assert_true(ttai_oauth_challenge_ok(c));
    assert_false(ttai_oauth_pkce_verify(rfc_verifier, c));

    /* "plain": the verifier as its own challenge */
    memcpy(c, rfc_verifier, sizeof(rfc_verifier));
    assert_false(ttai_oauth_pkce_verify(rfc_verifier, c));

    /* 42 characters is too short, though its hash is right */
    memcpy(v, rfc_verifier, 42);
    v[42] = '\0';
    assert_false(ttai_oauth_pkce_verify(v, rfc_challenge));
    assert_false(ttai_oauth_pkce_verify("", rfc_challenge));

    /* 128 is the most; 129 too many */
    memset(v, 'a', 128);
    v[128] = '\0';
    assert_false(ttai_oauth_pkce_verify(v, rfc_challenge));
    memset(v, 'a', 129);
    v[129] = '\0';
    assert_false(ttai_oauth_pkce_verify(v, rfc_challenge));

    /* a character outside the unreserved set */
    memcpy(v, rfc_verifier, sizeof(rfc_verifier));
    v[10] = '+';
    assert_false(ttai_oauth_pkce_verify(v, rfc_challenge));

    assert_false(ttai_oauth_challenge_ok(""));
    assert_false(ttai_oauth_challenge_ok(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
    assert_false(ttai_oauth_challenge_ok(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMM"));
    assert_false(ttai_oauth_challenge_ok(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    assert_false(ttai_oauth_challenge_ok(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
    assert_false(ttai_oauth_challenge_ok(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.cM"));
}


static void
test_pkce_long_verifier(void **state)
{
    char           v[129], c[64];
    unsigned char  d[crypto_hash_sha256_BYTES];

    memset(v, '~', 128);
    v[128] = '\0';

    crypto_hash_sha256(d, (unsigned char *) v, 128);
    sodium_bin2base64(c, sizeof(c), d, sizeof(d),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    assert_true(ttai_oauth_pkce_verify(v, c));
}


static void
test_token(void **state)
{
    int     i, j;
    char    t[16][TTAI_OAUTH_TOKEN_LEN + 1];
    size_t  k;

    for (i = 0; i < 16; i++) {
        memset(t[i], '!', sizeof(t[i]));
        assert_int_equal(ttai_oauth_token(t[i]), 0);
        assert_int_equal(strlen(t[i]), TTAI_OAUTH_TOKEN_LEN);

        for (k = 0; k < TTAI_OAUTH_TOKEN_LEN; k++) {
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_", t[i][k]));
        }

        for (j = 0; j < i; j++) {
            assert_string_not_equal(t[i], t[j]);
        }
    }
}


static void
test_hash(void **state)
{
    char  h[TTAI_OAUTH_HASH_LEN + 1], t[TTAI_OAUTH_TOKEN_LEN + 1];

    /* SHA-256("abc"), FIPS 180-2 */
    ttai_oauth_hash("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
                           "b00361a396177a9cb410ff61f20015ad");

    assert_true(ttai_oauth_hash_equal("abc", 3, h));
    assert_false(ttai_oauth_hash_equal("abd", 3, h));
    assert_false(ttai_oauth_hash_equal("abc", 2, h));

    h[63] = 'c';
    assert_false(ttai_oauth_hash_equal("abc", 3, h));

    h[63] = '\0';
    assert_false(ttai_oauth_hash_equal("abc", 3, h));
    assert_false(ttai_oauth_hash_equal("abc", 3, ""));

    ttai_oauth_token(t);
    ttai_oauth_hash(t, strlen(t), h);
    assert_int_equal(strlen(h), TTAI_OAUTH_HASH_LEN);
    assert_null(strstr(h, t));
    assert_true(ttai_oauth_hash_equal(t, TTAI_OAUTH_TOKEN_LEN, h));
}


/* the id of a sign-in in its access tokens */
static void
test_family_id(void **state)
{
    char    f[TTAI_OAUTH_HASH_LEN + 1], id[TTAI_OAUTH_FAMILY_ID_LEN + 1];
    char    other[TTAI_OAUTH_FAMILY_ID_LEN + 1];
    size_t  k;

    /* base64url of the first 16 bytes of SHA-256("ttai family id\0" f) */
    memset(f, 'a', TTAI_OAUTH_HASH_LEN);
    f[TTAI_OAUTH_HASH_LEN] = '\0';
    memset(id, '!', sizeof(id));
    ttai_oauth_family_id(f, id);
    assert_string_equal(id, "ivuemN9N8GjVjCRYsP4KeA");

    /* the same family, the same id; another, another */
    ttai_oauth_family_id(f, other);
    assert_string_equal(other, id);

    f[0] = 'b';
    ttai_oauth_family_id(f, other);
    assert_string_not_equal(other, id);

    /* a family as the store names it: the hash of a refresh token */
    ttai_oauth_hash("refresh", 7, f);
    ttai_oauth_family_id(f, id);
    assert_int_equal(strlen(id), TTAI_OAUTH_FAMILY_ID_LEN);

    for (k = 0; k < TTAI_OAUTH_FAMILY_ID_LEN; k++) {
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz"
                               "0123456789-_", id[k]));
    }
}


static void
test_url(void **state)
{
    char  *u;

    u = ttai_oauth_url("https://c.example/cb?x=1", "code", "abc", "state",
                       "s t", NULL);
    assert_string_equal(u, "https://c.example/cb?x=1&code=abc&state=s%20t");
    free(u);

    u = ttai_oauth_url("https://c.example/cb", "code", "abc", "state", NULL,
                       "iss", "https://ttai.example", NULL);
    assert_string_equal(u, "https://c.example/cb?code=abc&iss=https%3A%2F%2F"
                           "ttai.example");
    free(u);

    u = ttai_oauth_url("https://c.example/cb?", "error", "access_denied",
                       NULL);
    assert_string_equal(u, "https://c.example/cb?error=access_denied");
    free(u);

    u = ttai_oauth_url("https://c.example/cb?a=1&", "b", "&=?#+%~", NULL);
    assert_string_equal(u, "https://c.example/cb?a=1&b=%26%3D%3F%23%2B%25~");
    free(u);

    u = ttai_oauth_url("https://c.example/cb", "state", NULL, NULL);
    assert_string_equal(u, "https://c.example/cb");
    free(u);

    u = ttai_oauth_url("https://c.example/cb", "e", "", NULL);
    assert_string_equal(u, "https://c.example/cb?e=");
    free(u);
}


static void
test_error_json(void **state)
{
    char    *s;
    json_t  *j;

    s = ttai_oauth_error_json("invalid_grant", "the code \"x\" expired");
    j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_string_equal(get(j, "error"), "invalid_grant");
    assert_string_equal(get(j, "error_description"),
                        "the code \"x\" expired");
    json_decref(j);
    free(s);

    s = ttai_oauth_error_json("invalid_request", NULL);
    assert_string_equal(s, "{\"error\":\"invalid_request\"}");
    free(s);
}


static void
assert_strings(json_t *a, const char *want)
{
    char    *s;

    s = json_dumps(a, JSON_COMPACT);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}


static void
test_metadata(void **state)
{
    char    *s;
    json_t  *m;

    s = ttai_oauth_metadata("https://ttai.example");
    m = json_loads(s, 0, NULL);
    assert_non_null(m);
    free(s);

    assert_string_equal(get(m, "issuer"), "https://ttai.example");
    assert_string_equal(get(m, "authorization_endpoint"),
                        "https://ttai.example/authorize");
    assert_string_equal(get(m, "token_endpoint"),
                        "https://ttai.example/token");
    assert_string_equal(get(m, "registration_endpoint"),
                        "https://ttai.example/register");
    assert_string_equal(get(m, "revocation_endpoint"),
                        "https://ttai.example/revoke");
    assert_strings(json_object_get(m, "response_types_supported"),
                   "[\"code\"]");
    assert_strings(json_object_get(m, "response_modes_supported"),
                   "[\"query\"]");
    assert_strings(json_object_get(m, "grant_types_supported"),
                   "[\"authorization_code\",\"refresh_token\"]");
    assert_strings(json_object_get(m,
                                   "token_endpoint_auth_methods_supported"),
                   "[\"none\",\"client_secret_post\","
                   "\"client_secret_basic\"]");
    assert_strings(json_object_get(m,
                       "revocation_endpoint_auth_methods_supported"),
                   "[\"none\",\"client_secret_post\","
                   "\"client_secret_basic\"]");
    assert_strings(json_object_get(m, "code_challenge_methods_supported"),
                   "[\"S256\"]");
    assert_strings(json_object_get(m, "scopes_supported"),
                   "[\"mcp:tools\"]");
    assert_true(json_is_true(json_object_get(m,
                    "authorization_response_iss_parameter_supported")));
    assert_true(json_is_true(json_object_get(m,
                    "client_id_metadata_document_supported")));
    assert_int_equal(json_object_size(m), 14);
    json_decref(m);

    /* an issuer is data, not JSON text */
    s = ttai_oauth_metadata("https://a\"b\\c");
    m = json_loads(s, 0, NULL);
    assert_non_null(m);
    assert_string_equal(get(m, "issuer"), "https://a\"b\\c");
    assert_string_equal(get(m, "token_endpoint"), "https://a\"b\\c/token");
    json_decref(m);
    free(s);
}


static void
test_html_escape(void **state)
{
    char  *s;

    s = ttai_oauth_html_escape("<a href=\"x\" title='y'>&amp;</a>");
    assert_string_equal(s, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;"
                           "&amp;amp;&lt;/a&gt;");
    free(s);

    s = ttai_oauth_html_escape("");
    assert_string_equal(s, "");
    free(s);

    s = ttai_oauth_html_escape("plain caf\xc3\xa9");
    assert_string_equal(s, "plain caf\xc3\xa9");
    free(s);
}


static void
test_consent_html(void **state)
{
    char  *s;

    s = ttai_oauth_consent_html("<script>alert('x')</script>",
                                "https://evil.example:8443/cb?a=1&b=\"2\"",
                                "mcp:tools", "/authorize",
                                "req\"><img src=x>", "csrf'tok");
    assert_non_null(s);

    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "<img"));
    assert_null(strstr(s, "javascript"));
    assert_non_null(strstr(s, "<!DOCTYPE html>"));
    assert_non_null(strstr(s, "<html lang=\"en\">"));
    assert_non_null(strstr(s, "<title>Connect &lt;script&gt;alert(&#39;x"
                              "&#39;)&lt;/script&gt; to ttai</title>"));
    assert_non_null(strstr(s, "<strong>evil.example</strong>"));
    assert_non_null(strstr(s, "https://evil.example:8443/cb?a=1&amp;b="
                              "&quot;2&quot;"));
    assert_non_null(strstr(s, "read your TastyTrade accounts, balances, "
                              "positions, orders and market data through "
                              "ttai's tools."));
    assert_non_null(strstr(s, "It cannot place, change or cancel orders"));
    assert_null(strstr(s, "name=\"trade\""));
    assert_non_null(strstr(s, "mcp:tools"));
    assert_non_null(strstr(s, "<form method=\"post\" "
                              "action=\"/authorize\">"));
    assert_non_null(strstr(s, "name=\"request\" value=\"req&quot;&gt;"
                              "&lt;img src=x&gt;\""));
    assert_non_null(strstr(s, "name=\"csrf\" value=\"csrf&#39;tok\""));
    assert_non_null(strstr(s, "name=\"decision\" value=\"approve\""));
    assert_non_null(strstr(s, "name=\"decision\" value=\"deny\""));
    assert_non_null(strstr(s, ">Allow</button>"));
    assert_non_null(strstr(s, ">Deny</button>"));
    assert_null(strstr(s, "http://"));
    assert_null(strstr(s, "src=\""));
    assert_non_null(strstr(s, "</html>"));
    free(s);

    s = ttai_oauth_consent_html("", "http://[::1]:3000/cb", "mcp:tools",
                                "/authorize", "r", "c");
    assert_non_null(strstr(s, "<strong>[::1]</strong>"));
    assert_non_null(strstr(s, "unnamed"));
    free(s);

    /* trading asked for: a box of its own, unticked */
    s = ttai_oauth_consent_html("App", "https://app.example/cb",
                                "mcp:tools mcp:trade", "/authorize", "r",
                                "c");
    assert_non_null(strstr(s, "<input type=\"checkbox\" name=\"trade\" "
                              "value=\"1\">"));
    assert_null(strstr(s, "checked"));
    assert_non_null(strstr(s, "place, change and cancel orders"));
    assert_null(strstr(s, "It cannot place"));
    free(s);
}


static void
test_scope_parse(void **state)
{
    int  trade;

    assert_int_equal(ttai_oauth_scope_parse(NULL, &trade), 0);
    assert_int_equal(trade, 0);
    assert_int_equal(ttai_oauth_scope_parse("", &trade), 0);
    assert_int_equal(ttai_oauth_scope_parse("mcp:tools", &trade), 0);
    assert_int_equal(trade, 0);
    assert_int_equal(ttai_oauth_scope_parse("mcp:tools  mcp:trade", &trade),
                     0);
    assert_int_equal(trade, 1);
    assert_int_equal(ttai_oauth_scope_parse("mcp:trade", &trade), 0);
    assert_int_equal(trade, 1);
    assert_int_equal(ttai_oauth_scope_parse("mcp:tools mcp:trader", &trade),
                     -1);
    assert_int_equal(ttai_oauth_scope_parse("admin", &trade), -1);
    assert_true(ttai_oauth_scope_trades("mcp:tools mcp:trade"));
    assert_false(ttai_oauth_scope_trades("mcp:tools"));
    assert_false(ttai_oauth_scope_trades(NULL));
}


static void
test_error_html(void **state)
{
    char  *s;

    s = ttai_oauth_error_html("Unknown <client>",
                              "The client_id \"x&y\" is not registered.");
    assert_non_null(s);
    assert_non_null(strstr(s, "<title>Unknown &lt;client&gt;</title>"));
    assert_non_null(strstr(s, "<h1>Unknown &lt;client&gt;</h1>"));
    assert_non_null(strstr(s, "The client_id &quot;x&amp;y&quot; is not "
                              "registered."));
    assert_null(strstr(s, "<client>"));
    assert_null(strstr(s, "<form"));
    free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_form_decodes),
        cmocka_unit_test(test_form_refuses),
        cmocka_unit_test(test_unescape_escape),
        cmocka_unit_test(test_redirect_good),
        cmocka_unit_test(test_redirect_bad),
        cmocka_unit_test(test_redirect_registered),
        cmocka_unit_test(test_register_defaults),
        cmocka_unit_test(test_register_refuses),
        cmocka_unit_test(test_pkce),
        cmocka_unit_test(test_pkce_long_verifier),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_family_id),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_consent_html),
        cmocka_unit_test(test_error_html),
        cmocka_unit_test(test_scope_parse),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests_name("ttai_oauth", tests, NULL, NULL);
}
