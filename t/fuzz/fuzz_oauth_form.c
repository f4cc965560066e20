
/*
 * Copyright (C) ttai contributors
 */


/*
 * What the sign-in endpoints read from a form body or a query string:
 * ttai_oauth_form(), then with its fields what the endpoints do with
 * them: the token request's first check, PKCE, the redirect back with
 * a query, and the consent page.
 *
 * Checked: the fields of a form written again from them are the same
 * fields; every value escaped and unescaped is itself; a redirect made
 * with ttai_oauth_url() carries back exactly the fields put in; the
 * token check sends on only what has what it needs; a PKCE verifier
 * passes only with its own S256 challenge; and the consent and error
 * pages have the same markup whatever the values, which are escaped.
 */

#include <jansson.h>
#include <sodium.h>

#include "ttai_oauth.h"
#include "ttai_oauth_grant.h"
#include "fuzz.h"


static void fuzz_round_trip(json_t *form);
static void fuzz_token(json_t *form);
static void fuzz_pkce(const char *verifier, const char *challenge);
static void fuzz_url(json_t *form);
static void fuzz_pages(json_t *form);
static void fuzz_markup(const char *html, size_t counts[4]);
static const char *fuzz_field(json_t *form, const char *name);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char     err[TTAI_OAUTH_ERRLEN], *body;
    json_t  *form;

    body = fuzz_strndup((const char *) data, size);

    err[0] = '\0';
    form = ttai_oauth_form(body, size, err, sizeof(err));

    if (form == NULL) {
        fuzz_check(err[0] != '\0', "a form refused without a reason");
        free(body);
        return 0;
    }

    fuzz_check(json_is_object(form), "a form that is no object");

    fuzz_round_trip(form);
    fuzz_token(form);
    fuzz_pkce(fuzz_field(form, "code_verifier"),
              fuzz_field(form, "code_challenge"));
    fuzz_url(form);
    fuzz_pages(form);

    json_decref(form);
    free(body);

    return 0;
}


static const char *
fuzz_field(json_t *form, const char *name)
{
    return json_string_value(json_object_get(form, name));
}


/* the fields written again as a form, and read back */

static void
fuzz_round_trip(json_t *form)
{
    char        *body, *k, *v, *back, err[TTAI_OAUTH_ERRLEN];
    size_t       len, size;
    json_t      *value, *again;
    const char  *key;

    size = 1;
    body = calloc(1, size);
    fuzz_check(body != NULL, "out of memory");
    len = 0;

    json_object_foreach(form, key, value) {
        fuzz_check(json_is_string(value), "a field that is no string");

        k = ttai_oauth_escape(key);
        v = ttai_oauth_escape(json_string_value(value));
        fuzz_check(k != NULL && v != NULL, "out of memory");

        back = ttai_oauth_unescape(v, strlen(v));
        fuzz_check(back != NULL && strcmp(back, json_string_value(value)) == 0,
                   "a value escaped and unescaped is another: %s", v);
        free(back);

        size += strlen(k) + strlen(v) + 2;
        body = realloc(body, size);
        fuzz_check(body != NULL, "out of memory");

        len += sprintf(body + len, "%s%s=%s", len ? "&" : "", k, v);

        free(k);
        free(v);
    }

    again = ttai_oauth_form(body, len, err, sizeof(err));
    fuzz_check(again != NULL, "a form written from fields is refused: %s "
               "(%s)", err, body);
    fuzz_check(json_equal(form, again), "a form written from fields reads "
               "as other fields: %s", body);

    json_decref(again);
    free(body);
}


static void
fuzz_token(json_t *form)
{
    int                      rc;
    ttai_oauth_decision_t    d;
    ttai_oauth_token_req_t   req;

    memset(&req, 0, sizeof(req));
    req.grant_type = fuzz_field(form, "grant_type");
    req.client_id = fuzz_field(form, "client_id");
    req.client_secret = fuzz_field(form, "client_secret");
    req.code = fuzz_field(form, "code");
    req.refresh_token = fuzz_field(form, "refresh_token");
    req.redirect_uri = fuzz_field(form, "redirect_uri");
    req.code_verifier = fuzz_field(form, "code_verifier");

    rc = ttai_oauth_token_check(&req, &d);

    if (rc != 0) {
        fuzz_check(d.error != NULL && d.description != NULL,
                   "a token request refused without an error");
        return;
    }

    fuzz_check(d.error == NULL, "a token request passed with an error");
    fuzz_check(req.client_id != NULL, "no client_id passed");
    fuzz_check((strcmp(req.grant_type, "authorization_code") == 0
                && req.code != NULL)
               || (strcmp(req.grant_type, "refresh_token") == 0
                   && req.refresh_token != NULL),
               "a token request passed without what its grant needs");
}


/* S256, computed here: BASE64URL(SHA-256(verifier)) */

static void
fuzz_pkce(const char *verifier, const char *challenge)
{
    char           b64[64];
    size_t         i, n;
    unsigned char  digest[crypto_hash_sha256_BYTES];

    if (challenge != NULL && ttai_oauth_challenge_ok(challenge)) {
        fuzz_check(strlen(challenge) == 43, "a challenge of %zu characters",
                   strlen(challenge));
    }

    if (verifier == NULL || challenge == NULL
        || !ttai_oauth_pkce_verify(verifier, challenge))
    {
        if (verifier != NULL) {
            /* the verifier's own challenge passes, if the verifier can */
            n = strlen(verifier);

            for (i = 0; i < n; i++) {
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                            "vwxyz0123456789-._~", verifier[i]))
                {
                    break;
                }
            }

            if (i == n && n >= 43 && n <= 128) {
                crypto_hash_sha256(digest, (const unsigned char *) verifier,
                                   n);
                sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                fuzz_check(ttai_oauth_pkce_verify(verifier, b64),
                           "a verifier fails its own challenge: %s",
                           verifier);
            }
        }

        return;
    }

    crypto_hash_sha256(digest, (const unsigned char *) verifier,
                       strlen(verifier));
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    fuzz_check(strcmp(b64, challenge) == 0, "a verifier passed another's "
               "challenge: %s, %s", verifier, challenge);
}


/* the redirect back to the client: the query holds the fields given */

static void
fuzz_url(json_t *form)
{
    char        *url, err[TTAI_OAUTH_ERRLEN];
    json_t      *back;
    const char  *code, *state, *q;

    code = fuzz_field(form, "code");
    state = fuzz_field(form, "state");

    url = ttai_oauth_url("https://client.example/cb?x=1", "code", code,
                         "state", state, "iss", "https://ttai.example",
                         NULL);
    fuzz_check(url != NULL, "out of memory");

    q = strchr(url, '?');
    fuzz_check(q != NULL && strchr(url, '#') == NULL
               && strpbrk(url, " \"<>\\^`{|}") == NULL,
               "a redirect that is no URL: %s", url);

    back = ttai_oauth_form(q + 1, strlen(q + 1), err, sizeof(err));
    fuzz_check(back != NULL, "the query of a redirect is refused: %s", url);

    fuzz_check(json_object_size(back) == 2 + (code != NULL)
                                         + (state != NULL)
               && strcmp(fuzz_field(back, "x"), "1") == 0
               && strcmp(fuzz_field(back, "iss"), "https://ttai.example") == 0
               && (code == NULL || strcmp(fuzz_field(back, "code"), code) == 0)
               && (state == NULL
                   || strcmp(fuzz_field(back, "state"), state) == 0),
               "a redirect carries other fields: %s", url);

    json_decref(back);
    free(url);
}


/* what the markup is made of: < > " ' */

static void
fuzz_markup(const char *html, size_t counts[4])
{
    const char  *p;

    memset(counts, 0, 4 * sizeof(size_t));

    for (p = html; *p; p++) {
        switch (*p) {
        case '<': counts[0]++; break;
        case '>': counts[1]++; break;
        case '"': counts[2]++; break;
        case '\'': counts[3]++; break;
        default: break;
        }
    }
}


static void
fuzz_pages(json_t *form)
{
    char        *html, *plain;
    size_t       have[4], want[4];
    const char  *name, *redirect, *scope, *state;

    name = fuzz_field(form, "client_name");
    redirect = fuzz_field(form, "redirect_uri");
    scope = fuzz_field(form, "scope");
    state = fuzz_field(form, "state");

    html = ttai_oauth_consent_html(name, redirect ? redirect : "",
                                   scope ? scope : "", "/authorize",
                                   state ? state : "", "csrf");
    plain = ttai_oauth_consent_html("a", "https://a/", "a", "/authorize",
                                    "a", "csrf");
    fuzz_check(html != NULL && plain != NULL, "out of memory");

    fuzz_markup(html, have);
    fuzz_markup(plain, want);

    fuzz_check(memcmp(have, want, sizeof(have)) == 0, "values changed the "
               "markup of the consent page:\n%s", html);

    free(html);
    free(plain);

    html = ttai_oauth_error_html(name ? name : "", state ? state : "");
    plain = ttai_oauth_error_html("", "");
    fuzz_check(html != NULL && plain != NULL, "out of memory");

    fuzz_markup(html, have);
    fuzz_markup(plain, want);

    fuzz_check(memcmp(have, want, sizeof(have)) == 0, "values changed the "
               "markup of the error page:\n%s", html);

    free(html);
    free(plain);
}
