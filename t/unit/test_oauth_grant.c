
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
#include <sodium.h>

#include "ttai_oauth_grant.h"


#define NOW          1700000000LL
#define VERIFIER     "dBjftJeZ4CVP-mJ92K9jj2K6mM1PtJvqCaF2szQiKUBa"
#define REDIRECT     "http://127.0.0.1:9/cb"
#define SECRET       "the-client-secret"
#define GRANTS       "[\"authorization_code\",\"refresh_token\"]"


typedef struct {
    char                     challenge[64];
    char                     secret_hash[TTAI_OAUTH_HASH_LEN + 1];
    ttai_oauth_client_row_t  public_client;
    ttai_oauth_client_row_t  confidential;
    ttai_oauth_grant_row_t   code;
    ttai_oauth_grant_row_t   refresh;
    ttai_oauth_token_req_t   code_req;
    ttai_oauth_token_req_t   refresh_req;
    ttai_oauth_decision_t    d;
} fixture_t;


static int
setup(void **state)
{
    fixture_t      *f;
    unsigned char   digest[crypto_hash_sha256_BYTES];

    assert_true(sodium_init() >= 0);

    f = calloc(1, sizeof(fixture_t));
    assert_non_null(f);

    crypto_hash_sha256(digest, (const unsigned char *) VERIFIER,
                       strlen(VERIFIER));
    sodium_bin2base64(f->challenge, sizeof(f->challenge), digest,
                      sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    ttai_oauth_hash(SECRET, strlen(SECRET), f->secret_hash);

    f->public_client.client_id = "pub";
    f->public_client.auth_method = "none";
    f->public_client.grant_types = GRANTS;

    /* the secret in the form, where the requests below send it */
    f->confidential.client_id = "conf";
    f->confidential.secret_hash = f->secret_hash;
    f->confidential.auth_method = "client_secret_post";
    f->confidential.grant_types = GRANTS;

    f->code.client_id = "pub";
    f->code.user_id = "5WT00001";
    f->code.redirect_uri = REDIRECT;
    f->code.code_challenge = f->challenge;
    f->code.expires_at = NOW + 60;

    f->refresh.client_id = "pub";
    f->refresh.user_id = "5WT00001";
    f->refresh.family = "fam";
    f->refresh.expires_at = NOW + 86400;

    f->code_req.grant_type = "authorization_code";
    f->code_req.client_id = "pub";
    f->code_req.code = "the-code";
    f->code_req.redirect_uri = REDIRECT;
    f->code_req.code_verifier = VERIFIER;

    f->refresh_req.grant_type = "refresh_token";
    f->refresh_req.client_id = "pub";
    f->refresh_req.refresh_token = "the-refresh-token";

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    free(*state);

    return 0;
}


static void
refused(int rc, ttai_oauth_decision_t *d, const char *error,
    const char *description)
{
    assert_int_equal(rc, -1);
    assert_non_null(d->error);
    assert_string_equal(d->error, error);
    assert_string_equal(d->description, description);
    assert_false(d->revoke_family);
}


static int
code_check(fixture_t *f, const ttai_oauth_client_row_t *client,
    const ttai_oauth_grant_row_t *grant)
{
    return ttai_oauth_grant_check(client, grant, &f->code_req, NOW, &f->d);
}


static int
refresh_check(fixture_t *f, const ttai_oauth_client_row_t *client,
    const ttai_oauth_grant_row_t *grant)
{
    return ttai_oauth_grant_check(client, grant, &f->refresh_req, NOW,
                                  &f->d);
}


/* -- before the store is asked ---------------------------------------- */


static void
test_request_ok(void **state)
{
    fixture_t  *f = *state;

    assert_int_equal(ttai_oauth_token_check(&f->code_req, &f->d), 0);
    assert_null(f->d.error);

    assert_int_equal(ttai_oauth_token_check(&f->refresh_req, &f->d), 0);
    assert_null(f->d.error);
}


static void
test_request_no_client_id(void **state)
{
    fixture_t  *f = *state;

    f->code_req.client_id = NULL;

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "invalid_client", "client_id is required");

    /* before anything else: a request without it says only that */
    f->code_req.grant_type = "password";

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "invalid_client", "client_id is required");
}


static void
test_request_grant_type(void **state)
{
    fixture_t  *f = *state;

    f->code_req.grant_type = "password";

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token");

    f->code_req.grant_type = NULL;

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token");

    /* a prefix is not the name */
    f->code_req.grant_type = "authorization_code_x";

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token");
}


static void
test_request_no_code(void **state)
{
    fixture_t  *f = *state;

    f->code_req.code = NULL;
    f->code_req.refresh_token = "a refresh token is not a code";

    refused(ttai_oauth_token_check(&f->code_req, &f->d), &f->d,
            "invalid_request", "code is required");

    f->refresh_req.refresh_token = NULL;
    f->refresh_req.code = "a code is not a refresh token";

    refused(ttai_oauth_token_check(&f->refresh_req, &f->d), &f->d,
            "invalid_request", "refresh_token is required");
}


/* -- the client ------------------------------------------------------- */


static void
test_unknown_client(void **state)
{
    fixture_t  *f = *state;

    refused(code_check(f, NULL, &f->code), &f->d, "invalid_client",
            "unknown client, or wrong client credentials");

    refused(refresh_check(f, NULL, NULL), &f->d, "invalid_client",
            "unknown client, or wrong client credentials");
}


static void
test_confidential_client(void **state)
{
    fixture_t  *f = *state;

    f->code.client_id = "conf";
    f->code_req.client_id = "conf";

    /* no secret */
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    /* a wrong one, and one that differs in its last byte only */
    f->code_req.client_secret = "not-the-secret";
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    f->code_req.client_secret = "the-client-secreT";
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    /* an empty one */
    f->code_req.client_secret = "";
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    /* its own: the grant is judged */
    f->code_req.client_secret = SECRET;
    assert_int_equal(code_check(f, &f->confidential, &f->code), 0);
    assert_null(f->d.error);

    /* the credentials come first, before an unknown grant */
    f->code_req.client_secret = "wrong";
    refused(code_check(f, &f->confidential, NULL), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");
}


/* RFC 7591: the secret comes the one way the client registered */
static void
test_auth_method(void **state)
{
    fixture_t  *f = *state;

    f->code.client_id = "conf";
    f->code_req.client_id = "conf";
    f->code_req.client_secret = SECRET;

    /* registered client_secret_post, sent in the header */
    f->code_req.basic = 1;
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "this client registered client_secret_post: "
            "its secret goes in the form");

    /* registered client_secret_basic, sent in the form, then the header */
    f->confidential.auth_method = "client_secret_basic";
    f->code_req.basic = 0;
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "this client registered client_secret_basic: "
            "its secret goes in the Authorization header");

    f->code_req.basic = 1;
    assert_int_equal(code_check(f, &f->confidential, &f->code), 0);

    /* a wrong secret says nothing about the way it came */
    f->code_req.client_secret = "not-the-secret";
    f->code_req.basic = 0;
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    /* a method ttai does not know lets nothing in */
    f->confidential.auth_method = NULL;
    f->code_req.client_secret = SECRET;
    f->code_req.basic = 1;
    refused(code_check(f, &f->confidential, &f->code), &f->d,
            "invalid_client", "this client registered client_secret_basic: "
            "its secret goes in the Authorization header");

    /* a public client, its client_id alone: "none" */
    assert_int_equal(refresh_check(f, &f->public_client, &f->refresh), 0);
}


static void
test_grant_types(void **state)
{
    fixture_t  *f = *state;

    f->public_client.grant_types = "[\"authorization_code\"]";

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "unauthorized_client",
            "this client did not register the refresh_token grant type");

    assert_int_equal(code_check(f, &f->public_client, &f->code), 0);

    /* a name is a whole element, not a part of one */
    f->public_client.grant_types = "[\"refresh_token_x\","
                                   "\"authorization_code\"]";
    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "unauthorized_client",
            "this client did not register the refresh_token grant type");

    f->public_client.grant_types = "[\"refresh_token\"]";
    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "unauthorized_client",
            "this client did not register the authorization_code grant "
            "type");

    /* nothing, or not JSON: nothing is registered */
    f->public_client.grant_types = NULL;
    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "unauthorized_client",
            "this client did not register the authorization_code grant "
            "type");

    f->public_client.grant_types = "authorization_code";
    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "unauthorized_client",
            "this client did not register the authorization_code grant "
            "type");

    /* the client's credentials are judged first */
    f->code_req.client_secret = "made-up";
    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");
}


static void
test_public_client_with_secret(void **state)
{
    fixture_t  *f = *state;

    f->code_req.client_secret = SECRET;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");

    /* even an empty one: a public client sends none */
    f->code_req.client_secret = "";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_client", "unknown client, or wrong client credentials");
}


/* -- codes ------------------------------------------------------------ */


static void
test_code_ok(void **state)
{
    fixture_t  *f = *state;

    f->d.error = "stale";
    f->d.revoke_family = 1;

    assert_int_equal(code_check(f, &f->public_client, &f->code), 0);
    assert_null(f->d.error);
    assert_false(f->d.revoke_family);
}


static void
test_code_unknown(void **state)
{
    fixture_t  *f = *state;

    refused(code_check(f, &f->public_client, NULL), &f->d, "invalid_grant",
            "unknown authorization code");
}


static void
test_code_of_another_client(void **state)
{
    fixture_t  *f = *state;

    f->code.client_id = "someone-else";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "unknown authorization code");

    /* not even a prefix of the id */
    f->code.client_id = "pu";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "unknown authorization code");
}


static void
test_code_expired(void **state)
{
    fixture_t  *f = *state;

    f->code.expires_at = NOW;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the authorization code expired");

    f->code.expires_at = NOW - 3600;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the authorization code expired");

    /* a second before, it is still good */
    f->code.expires_at = NOW + 1;

    assert_int_equal(code_check(f, &f->public_client, &f->code), 0);
}


static void
test_code_reused(void **state)
{
    fixture_t  *f = *state;

    f->code.used = 1;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the authorization code was used already");
}


/* RFC 6749 4.1.2: a code used twice revokes the tokens it gave */
static void
test_code_reused_revokes(void **state)
{
    fixture_t  *f = *state;

    f->code.used = 1;
    f->code.family = "fam";

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_string_equal(f->d.error, "invalid_grant");
    assert_string_equal(f->d.description,
                        "the authorization code was used already");
    assert_true(f->d.revoke_family);
    assert_false(f->d.use_code);

    /* expired too: a code that comes back late was leaked all the same */
    f->code.expires_at = NOW - 3600;

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_string_equal(f->d.description,
                        "the authorization code was used already");
    assert_true(f->d.revoke_family);

    /* whatever else is wrong with the request */
    f->code_req.code_verifier = "w123456789w123456789w123456789w123456789w12";
    f->code_req.redirect_uri = "http://127.0.0.1:9/other";

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_true(f->d.revoke_family);
    assert_false(f->d.use_code);

    /* but not another client's code: that says nothing at all */
    f->code.client_id = "someone-else";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "unknown authorization code");
}


/* one guess at the verifier per code */
static void
test_code_wrong_verifier_uses_it(void **state)
{
    fixture_t  *f = *state;

    f->code_req.code_verifier = "x123456789x123456789x123456789x123456789x12";

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_string_equal(f->d.error, "invalid_grant");
    assert_string_equal(f->d.description,
                        "the PKCE code_verifier does not match");
    assert_true(f->d.use_code);
    assert_false(f->d.revoke_family);

    /* a request without one, or refused before the verifier, keeps it */
    f->code_req.code_verifier = NULL;

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_false(f->d.use_code);

    f->code_req.code_verifier = "x123456789x123456789x123456789x123456789x12";
    f->code_req.redirect_uri = "http://127.0.0.1:9/other";

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_string_equal(f->d.description,
                        "redirect_uri does not match the authorization "
                        "request");
    assert_false(f->d.use_code);

    f->code_req.redirect_uri = REDIRECT;
    f->code.expires_at = NOW;

    assert_int_equal(code_check(f, &f->public_client, &f->code), -1);
    assert_string_equal(f->d.description, "the authorization code expired");
    assert_false(f->d.use_code);

    /* the right one, after all that, still redeems it */
    f->code.expires_at = NOW + 60;
    f->code_req.code_verifier = VERIFIER;

    assert_int_equal(code_check(f, &f->public_client, &f->code), 0);
    assert_false(f->d.use_code);
}


static void
test_code_redirect_mismatch(void **state)
{
    fixture_t  *f = *state;

    f->code_req.redirect_uri = "http://127.0.0.1:9/other";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant",
            "redirect_uri does not match the authorization request");

    /* exactly the same: a prefix, or one more slash, is another URI */
    f->code_req.redirect_uri = REDIRECT "/";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant",
            "redirect_uri does not match the authorization request");

    f->code_req.redirect_uri = NULL;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant",
            "redirect_uri does not match the authorization request");
}


static void
test_code_pkce(void **state)
{
    fixture_t  *f = *state;

    f->code_req.code_verifier = NULL;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the PKCE code_verifier does not match");

    f->code_req.code_verifier = "x123456789x123456789x123456789x123456789x12";

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the PKCE code_verifier does not match");

    /* the challenge itself is not its verifier */
    f->code_req.code_verifier = f->challenge;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the PKCE code_verifier does not match");

    f->code_req.code_verifier = VERIFIER;
    f->code.code_challenge = NULL;

    refused(code_check(f, &f->public_client, &f->code), &f->d,
            "invalid_grant", "the PKCE code_verifier does not match");
}


/* -- refresh tokens --------------------------------------------------- */


static void
test_refresh_ok(void **state)
{
    fixture_t  *f = *state;

    assert_int_equal(refresh_check(f, &f->public_client, &f->refresh), 0);
    assert_null(f->d.error);
    assert_false(f->d.revoke_family);

    /* a refresh needs no redirect URI nor verifier */
    assert_null(f->refresh_req.redirect_uri);
    assert_null(f->refresh_req.code_verifier);
}


static void
test_refresh_unknown(void **state)
{
    fixture_t  *f = *state;

    refused(refresh_check(f, &f->public_client, NULL), &f->d,
            "invalid_grant", "unknown refresh token");

    f->refresh.client_id = "someone-else";

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "invalid_grant", "unknown refresh token");
}


static void
test_refresh_expired(void **state)
{
    fixture_t  *f = *state;

    f->refresh.expires_at = NOW;

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "invalid_grant", "the refresh token expired");
}


static void
test_refresh_revoked(void **state)
{
    fixture_t  *f = *state;

    f->refresh.revoked = 1;

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "invalid_grant", "the refresh token was revoked");

    /* revoked already: nothing more to revoke */
    f->refresh.used = 1;

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "invalid_grant", "the refresh token was revoked");
}


static void
test_refresh_reused(void **state)
{
    fixture_t  *f = *state;

    f->refresh.used = 1;

    assert_int_equal(refresh_check(f, &f->public_client, &f->refresh), -1);
    assert_string_equal(f->d.error, "invalid_grant");
    assert_string_equal(f->d.description,
                        "the refresh token was used already; every token "
                        "of this sign-in is now revoked");
    assert_true(f->d.revoke_family);

    /* an expired one is only expired: it is not a theft */
    f->refresh.expires_at = NOW - 1;

    refused(refresh_check(f, &f->public_client, &f->refresh), &f->d,
            "invalid_grant", "the refresh token expired");
}


static void
test_raced(void **state)
{
    fixture_t  *f = *state;

    f->d.revoke_family = 1;

    ttai_oauth_grant_raced(&f->refresh_req, &f->d);

    assert_string_equal(f->d.error, "invalid_grant");
    assert_string_equal(f->d.description, "the grant was used already");
    assert_false(f->d.revoke_family);

    /* a code redeemed twice at once is a code redeemed twice */
    ttai_oauth_grant_raced(&f->code_req, &f->d);

    assert_string_equal(f->d.error, "invalid_grant");
    assert_string_equal(f->d.description, "the grant was used already");
    assert_true(f->d.revoke_family);
    assert_false(f->d.use_code);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_request_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_no_client_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_grant_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_no_code, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_confidential_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_public_client_with_secret,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_of_another_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_code_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_reused_revokes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_code_wrong_verifier_uses_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_redirect_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_code_pkce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refresh_expired, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refresh_revoked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refresh_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_raced, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
