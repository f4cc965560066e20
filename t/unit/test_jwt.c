
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ttai_jwt.h"


/* a JWT_SECRET as .dev.vars holds it: 64 hex characters, used as bytes */
static const char  secret[] =
    "8f3a0c1e5b7d9f2a4c6e8a0b2d4f6a8c0e2a4c6e8a0b2d4f6a8c0e2a4c6e8a0b";

#define NOW  1800000000L


static char *b64url(const void *data, size_t len);
static char *token_for(const char *header, const char *payload,
    const char *key);
static char *token_forn(const char *header, size_t hlen,
    const char *payload, size_t plen, const char *key);
static ttai_jwt_rc_e verify(const char *token, ttai_jwt_policy_t *policy,
    ttai_jwt_claims_t *claims);
static ttai_jwt_rc_e verify_payload(const char *payload,
    ttai_jwt_policy_t *policy);


static char *
b64url(const void *data, size_t len)
{
    char    *out;
    size_t   n;

    n = sodium_base64_ENCODED_LEN(len,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out = malloc(n);
    assert_non_null(out);

    sodium_bin2base64(out, n, data, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    return out;
}


/*
 * What jose's SignJWT produces, built without libjwt: base64url of the
 * header and the payload, and an HMAC-SHA256 over "header.payload" keyed
 * with the secret's bytes.  key NULL: no signature at all.
 */

static char *
token_for(const char *header, const char *payload, const char *key)
{
    return token_forn(header, strlen(header), payload, strlen(payload), key);
}


/* the same for parts that may hold NUL bytes */

static char *
token_forn(const char *header, size_t hlen, const char *payload,
    size_t plen, const char *key)
{
    char                              *h, *p, *s, *input, *token;
    size_t                             n;
    unsigned char                      mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state       st;

    h = b64url(header, hlen);
    p = b64url(payload, plen);

    n = strlen(h) + 1 + strlen(p);
    input = malloc(n + 1);
    assert_non_null(input);
    snprintf(input, n + 1, "%s.%s", h, p);

    if (key != NULL) {
        crypto_auth_hmacsha256_init(&st, (const unsigned char *) key,
                                    strlen(key));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *) input, n);
        crypto_auth_hmacsha256_final(&st, mac);
        s = b64url(mac, sizeof(mac));

    } else {
        s = b64url("", 0);
    }

    token = malloc(n + 1 + strlen(s) + 1);
    assert_non_null(token);
    sprintf(token, "%s.%s", input, s);

    free(h);
    free(p);
    free(s);
    free(input);

    return token;
}


static ttai_jwt_rc_e
verify(const char *token, ttai_jwt_policy_t *policy,
    ttai_jwt_claims_t *claims)
{
    ttai_jwt_policy_t  def;

    if (policy == NULL) {
        memset(&def, 0, sizeof(def));
        def.now = NOW;
        policy = &def;
    }

    return ttai_jwt_verify(token, strlen(token),
                           (const unsigned char *) secret, strlen(secret),
                           policy, claims);
}


static ttai_jwt_rc_e
verify_payload(const char *payload, ttai_jwt_policy_t *policy)
{
    char           *token;
    ttai_jwt_rc_e   rc;

    token = token_for("{\"alg\":\"HS256\"}", payload, secret);
    rc = verify(token, policy, NULL);
    free(token);

    return rc;
}


static void
test_jose_token_verifies(void **state)
{
    char               *token;
    ttai_jwt_claims_t   claims;

    /* SignJWT({sub, email}).setIssuedAt().setExpirationTime('24h') */
    token = token_for("{\"alg\":\"HS256\"}",
                      "{\"sub\":\"tt-account-123\","
                      "\"email\":\"test@example.com\","
                      "\"iat\":1800000000,\"exp\":1800086400}", secret);

    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_string_equal(claims.sub, "tt-account-123");
    assert_string_equal(claims.email, "test@example.com");
    assert_int_equal(claims.iat, 1800000000L);
    assert_int_equal(claims.exp, 1800086400L);

    free(token);
}


static void
test_mint_round_trip(void **state)
{
    char               *token;
    ttai_jwt_policy_t   policy;
    ttai_jwt_claims_t   claims;

    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "tt-account-123", "test@example.com",
                          "https://ttai.example", "https://ttai.example/mcp",
                          NULL, NULL, 86400, NOW);
    assert_non_null(token);

    memset(&policy, 0, sizeof(policy));
    policy.now = NOW + 100;
    policy.issuer = "https://ttai.example";
    policy.audience = "https://ttai.example/mcp";

    assert_int_equal(verify(token, &policy, &claims), TTAI_JWT_OK);
    assert_string_equal(claims.sub, "tt-account-123");
    assert_string_equal(claims.email, "test@example.com");
    assert_int_equal(claims.iat, NOW);
    assert_int_equal(claims.exp, NOW + 86400);
    assert_string_equal(claims.fam, "");

    free(token);

    /* no email, issuer or audience */
    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "u", NULL, NULL, NULL, NULL, NULL, 60, NOW);
    assert_non_null(token);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_string_equal(claims.email, "");
    free(token);

    /* the sign-in of a token from /token */
    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "u", NULL, NULL, NULL, "ivuemN9N8GjVjCRYsP4KeA", NULL,
                          60, NOW);
    assert_non_null(token);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_string_equal(claims.fam, "ivuemN9N8GjVjCRYsP4KeA");
    free(token);

    /* what cannot be minted */
    assert_null(ttai_jwt_mint((const unsigned char *) secret, 0, "u", NULL,
                              NULL, NULL, NULL, NULL, 60, NOW));
    assert_null(ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                              "", NULL, NULL, NULL, NULL, NULL, 60, NOW));
    assert_null(ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                              "u", NULL, NULL, NULL, NULL, NULL, 0, NOW));
    assert_null(ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                              "u", NULL, NULL, NULL,
                              "0123456789012345678901234567890123456789"
                              "01234567890123456789012345", NULL, 60, NOW));

    /* the scope: trading only when it is one of its names */
    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "u", NULL, NULL, NULL, "f", "mcp:tools mcp:trade",
                          60, NOW);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_int_equal(claims.trade, 1);
    free(token);

    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "u", NULL, NULL, NULL, "f", "mcp:tools", 60, NOW);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_int_equal(claims.trade, 0);
    free(token);

    token = ttai_jwt_mint((const unsigned char *) secret, strlen(secret),
                          "u", NULL, NULL, NULL, "f", "mcp:trader mcp:tools",
                          60, NOW);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_int_equal(claims.trade, 0);
    free(token);
}


/* fam is a string of at most TTAI_JWT_MAX_FAM bytes, or the token is not */
static void
test_fam_claim(void **state)
{
    char               *token;
    ttai_jwt_claims_t   claims;

    token = token_for("{\"alg\":\"HS256\"}",
                      "{\"sub\":\"u\",\"fam\":\"abc\"}", secret);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_OK);
    assert_string_equal(claims.fam, "abc");
    free(token);

    token = token_for("{\"alg\":\"HS256\"}",
                      "{\"sub\":\"u\",\"fam\":7}", secret);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_MALFORMED);
    assert_string_equal(claims.fam, "");
    free(token);

    token = token_for("{\"alg\":\"HS256\"}",
                      "{\"sub\":\"u\",\"fam\":\""
                      "0123456789012345678901234567890123456789"
                      "01234567890123456789012345\"}", secret);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_MALFORMED);
    free(token);
}


static void
test_refuses_other_algorithms(void **state)
{
    char  *token;
    size_t i;

    static const char  *headers[] = {
        "{\"alg\":\"none\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":\"hs256\"}",
        "{\"alg\":256}",
        "{\"typ\":\"JWT\"}",
    };

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        /* signed with the right key, and unsigned */
        token = token_for(headers[i], "{\"sub\":\"u\"}", secret);
        assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_ALG);
        free(token);

        token = token_for(headers[i], "{\"sub\":\"u\"}", NULL);
        assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_ALG);
        free(token);
    }

    /* "none" with no key at all is still refused */
    token = token_for("{\"alg\":\"none\"}", "{\"sub\":\"u\"}", NULL);
    assert_int_equal(ttai_jwt_verify(token, strlen(token), NULL, 0, NULL,
                                     NULL), TTAI_JWT_ALG);
    free(token);
}


static void
test_refuses_bad_signatures(void **state)
{
    char               *token, *p;
    ttai_jwt_claims_t   claims;

    static const char  other[] =
        "0000000000000000000000000000000000000000000000000000000000000000";

    token = token_for("{\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", other);
    assert_int_equal(verify(token, NULL, &claims), TTAI_JWT_SIGNATURE);
    assert_string_equal(claims.sub, "");
    free(token);

    /* the hex-decoded secret is not the key: the string is */
    token = token_for("{\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", secret);
    assert_int_equal(ttai_jwt_verify(token, strlen(token),
                                     (const unsigned char *) "\x8f\x3a", 2,
                                     NULL, NULL), TTAI_JWT_SIGNATURE);

    /* no key: libjwt would not check, so we refuse */
    assert_int_equal(ttai_jwt_verify(token, strlen(token), NULL, 0, NULL,
                                     NULL), TTAI_JWT_SIGNATURE);

    /* an empty signature */
    p = strrchr(token, '.');
    p[1] = '\0';
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_SIGNATURE);
    free(token);

    /* another payload under a valid signature */
    token = token_for("{\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", secret);
    p = token_for("{\"alg\":\"HS256\"}", "{\"sub\":\"admin\"}", secret);
    memcpy(strrchr(p, '.'), strrchr(token, '.'),
           strlen(strrchr(token, '.')) + 1);
    assert_int_equal(verify(p, NULL, NULL), TTAI_JWT_SIGNATURE);
    free(p);
    free(token);
}


static void
test_expiry_and_leeway(void **state)
{
    char               payload[128];
    ttai_jwt_policy_t  policy;

    memset(&policy, 0, sizeof(policy));
    policy.now = NOW;

    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}",
             NOW + 1);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);

    /* valid only before exp */
    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}", NOW);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_EXPIRED);

    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}",
             NOW - 10);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_EXPIRED);

    policy.leeway = 30;
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);

    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}",
             NOW - 30);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_EXPIRED);

    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}",
             NOW - 29);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);

    /* a fractional NumericDate is a date too */
    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld.5}",
             NOW - 100);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_EXPIRED);

    /* a negative leeway is none */
    policy.leeway = -100;
    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld}",
             NOW + 1);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);
}


static void
test_not_before_and_leeway(void **state)
{
    char               payload[128];
    ttai_jwt_policy_t  policy;

    memset(&policy, 0, sizeof(policy));
    policy.now = NOW;

    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"nbf\":%ld}",
             NOW + 60);
    assert_int_equal(verify_payload(payload, &policy),
                     TTAI_JWT_NOT_YET_VALID);

    policy.leeway = 59;
    assert_int_equal(verify_payload(payload, &policy),
                     TTAI_JWT_NOT_YET_VALID);

    policy.leeway = 60;
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);

    policy.leeway = 0;
    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"nbf\":%ld}", NOW);
    assert_int_equal(verify_payload(payload, &policy), TTAI_JWT_OK);

    /* 0 means now */
    policy.now = 0;
    snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"nbf\":%ld}",
             (long) time(NULL) + 3600);
    assert_int_equal(verify_payload(payload, &policy),
                     TTAI_JWT_NOT_YET_VALID);
}


static void
test_subject_is_required(void **state)
{
    assert_int_equal(verify_payload("{\"email\":\"a@b\"}", NULL),
                     TTAI_JWT_NO_SUBJECT);
    assert_int_equal(verify_payload("{\"sub\":\"\"}", NULL),
                     TTAI_JWT_NO_SUBJECT);
    assert_int_equal(verify_payload("{\"sub\":123}", NULL),
                     TTAI_JWT_NO_SUBJECT);
    assert_int_equal(verify_payload("{\"sub\":null}", NULL),
                     TTAI_JWT_NO_SUBJECT);
}


static void
test_issuer(void **state)
{
    ttai_jwt_policy_t  policy;

    memset(&policy, 0, sizeof(policy));
    policy.now = NOW;

    /* not configured: any or none */
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"iss\":\"x\"}", &policy),
                     TTAI_JWT_OK);
    policy.issuer = "";
    assert_int_equal(verify_payload("{\"sub\":\"u\"}", &policy), TTAI_JWT_OK);

    policy.issuer = "https://ttai.example";
    assert_int_equal(verify_payload("{\"sub\":\"u\","
                                    "\"iss\":\"https://ttai.example\"}",
                                    &policy), TTAI_JWT_OK);
    assert_int_equal(verify_payload("{\"sub\":\"u\","
                                    "\"iss\":\"https://evil.example\"}",
                                    &policy), TTAI_JWT_ISSUER);
    assert_int_equal(verify_payload("{\"sub\":\"u\"}", &policy),
                     TTAI_JWT_ISSUER);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"iss\":[\"x\"]}",
                                    &policy), TTAI_JWT_ISSUER);
}


static void
test_audience(void **state)
{
    ttai_jwt_policy_t  policy;

    memset(&policy, 0, sizeof(policy));
    policy.now = NOW;
    policy.audience = "https://ttai.example/mcp";

    assert_int_equal(verify_payload("{\"sub\":\"u\","
                                    "\"aud\":\"https://ttai.example/mcp\"}",
                                    &policy), TTAI_JWT_OK);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":[\"other\","
                                    "\"https://ttai.example/mcp\"]}",
                                    &policy), TTAI_JWT_OK);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":[\"other\"]}",
                                    &policy), TTAI_JWT_AUDIENCE);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":\"other\"}",
                                    &policy), TTAI_JWT_AUDIENCE);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":[]}", &policy),
                     TTAI_JWT_AUDIENCE);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":{}}", &policy),
                     TTAI_JWT_AUDIENCE);
    assert_int_equal(verify_payload("{\"sub\":\"u\"}", &policy),
                     TTAI_JWT_AUDIENCE);

    /* not configured: anything goes */
    policy.audience = NULL;
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"aud\":\"other\"}",
                                    &policy), TTAI_JWT_OK);
}


static void
test_malformed(void **state)
{
    char     *token, *big, claim[TTAI_JWT_MAX_CLAIM + 64];
    size_t    n;

    static const char  *tokens[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.sig",
        "eyJhbGciOiJIUzI1NiJ9..sig",
        ".eyJzdWIiOiJ1In0.sig",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",         /* "not json" */
        "eyJhbGciOiJIUzI1NiJ9.WzFd.sig",                /* [1] */
        "eyJhbGciOiJIUzI1NiJ9=.eyJzdWIiOiJ1In0.sig",    /* padding */
    };

    for (n = 0; n < sizeof(tokens) / sizeof(tokens[0]); n++) {
        assert_int_equal(verify(tokens[n], NULL, NULL), TTAI_JWT_MALFORMED);
    }

    /* a NUL inside the token */
    token = token_for("{\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", secret);
    token[3] = '\0';
    assert_int_equal(ttai_jwt_verify(token, strlen(token + 4) + 4,
                                     (const unsigned char *) secret,
                                     strlen(secret), NULL, NULL),
                     TTAI_JWT_MALFORMED);
    free(token);

    /*
     * A NUL byte in a part, signed with the key: jansson reads past it,
     * libjwt stops there, so the token is malformed, not forged
     */
    token = token_forn("{\"alg\":\"HS256\"}", 15,
                       "{\"sub\":\"u\",\"iat\":180\0}", 22, secret);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_MALFORMED);
    free(token);

    token = token_forn("{\"alg\":\"HS256\"}\0", 16, "{\"sub\":\"u\"}", 11,
                       secret);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_MALFORMED);
    free(token);

    /* a typ libjwt refuses, and a critical extension */
    token = token_for("{\"alg\":\"HS256\",\"typ\":\"xyz\"}", "{\"sub\":\"u\"}",
                      secret);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_MALFORMED);
    free(token);

    token = token_for("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", "{\"sub\":\"u\"}",
                      secret);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_OK);
    free(token);

    token = token_for("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}",
                      "{\"sub\":\"u\"}", secret);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_MALFORMED);
    free(token);

    /* dates that are not numbers, an email that is not a string */
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"exp\":\"tomorrow\"}",
                                    NULL), TTAI_JWT_MALFORMED);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"nbf\":true}", NULL),
                     TTAI_JWT_MALFORMED);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"exp\":1e300}", NULL),
                     TTAI_JWT_MALFORMED);
    assert_int_equal(verify_payload("{\"sub\":\"u\",\"email\":1}", NULL),
                     TTAI_JWT_MALFORMED);

    /* claims longer than the limit */
    memset(claim, 0, sizeof(claim));
    snprintf(claim, sizeof(claim), "{\"sub\":\"%0*d\"}",
             TTAI_JWT_MAX_CLAIM + 1, 0);
    assert_int_equal(verify_payload(claim, NULL), TTAI_JWT_MALFORMED);

    snprintf(claim, sizeof(claim), "{\"sub\":\"%0*d\"}", TTAI_JWT_MAX_CLAIM,
             0);
    assert_int_equal(verify_payload(claim, NULL), TTAI_JWT_OK);

    snprintf(claim, sizeof(claim), "{\"sub\":\"u\",\"email\":\"%0*d\"}",
             TTAI_JWT_MAX_CLAIM + 1, 0);
    assert_int_equal(verify_payload(claim, NULL), TTAI_JWT_MALFORMED);

    /* a token longer than the limit, however well signed */
    n = TTAI_JWT_MAX_TOKEN;
    big = malloc(n + 32);
    assert_non_null(big);
    snprintf(big, n + 32, "{\"sub\":\"u\",\"pad\":\"%0*d\"}",
             (int) (n * 3 / 4), 0);
    token = token_for("{\"alg\":\"HS256\"}", big, secret);
    assert_true(strlen(token) > TTAI_JWT_MAX_TOKEN);
    assert_int_equal(verify(token, NULL, NULL), TTAI_JWT_MALFORMED);
    free(token);
    free(big);
}


static void
test_strerror(void **state)
{
    int  rc, other;

    for (rc = TTAI_JWT_OK; rc <= TTAI_JWT_AUDIENCE; rc++) {
        assert_non_null(ttai_jwt_strerror(rc));

        for (other = TTAI_JWT_OK; other < rc; other++) {
            assert_string_not_equal(ttai_jwt_strerror(rc),
                                    ttai_jwt_strerror(other));
        }
    }

    assert_string_equal(ttai_jwt_strerror(TTAI_JWT_EXPIRED), "token expired");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_jose_token_verifies),
        cmocka_unit_test(test_mint_round_trip),
        cmocka_unit_test(test_fam_claim),
        cmocka_unit_test(test_refuses_other_algorithms),
        cmocka_unit_test(test_refuses_bad_signatures),
        cmocka_unit_test(test_expiry_and_leeway),
        cmocka_unit_test(test_not_before_and_leeway),
        cmocka_unit_test(test_subject_is_required),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_strerror),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
