
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

#include "ttai_sigv4.h"


/*
 * AWS Signature Version 4 against AWS's published test suite
 * (aws-sig-v4-test-suite, 2015-08-30: the example key AKIDEXAMPLE, region
 * us-east-1, service "service", 20150830T123600Z): the canonical request,
 * its hash in the string to sign, and the signatures of get-vanilla,
 * post-vanilla and get-vanilla-query-order-key-case; then what Bedrock
 * needs beyond them: a model id's ":" encoded twice, a session token, a
 * body's hash.
 */

#define SUITE_NOW  1440938160     /* 2015-08-30T12:36:00Z */

static ttai_sigv4_t
suite(const char *method, const char *query)
{
    ttai_sigv4_t  r;

    memset(&r, 0, sizeof(r));
    r.method = method;
    r.host = "example.amazonaws.com";
    r.path = "/";
    r.query = query;
    r.access_key = "AKIDEXAMPLE";
    r.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    r.region = "us-east-1";
    r.service = "service";
    r.now = SUITE_NOW;

    return r;
}


static void
test_get_vanilla(void **state)
{
    char           auth[TTAI_SIGV4_AUTH_MAX], date[TTAI_SIGV4_DATE_LEN + 1];
    char          *canonical, hex[65];
    ttai_sigv4_t   r;
    unsigned char  h[32];

    r = suite("GET", NULL);
    assert_int_equal(ttai_sigv4_sign(&r, auth, date, &canonical), 0);

    assert_string_equal(date, "20150830T123600Z");
    assert_string_equal(canonical,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
        "\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    crypto_hash_sha256(h, (unsigned char *) canonical, strlen(canonical));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    assert_string_equal(hex, "bb579772317eb040ac9ed261061d46c1f17a8133879d"
                             "6129b6e1c25292927e63");
    free(canonical);

    assert_string_equal(auth,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature="
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}


static void
test_post_vanilla_and_query_order(void **state)
{
    char          auth[TTAI_SIGV4_AUTH_MAX], date[TTAI_SIGV4_DATE_LEN + 1];
    ttai_sigv4_t  r;

    r = suite("POST", NULL);
    assert_int_equal(ttai_sigv4_sign(&r, auth, date, NULL), 0);
    assert_non_null(strstr(auth, "Signature=5da7c1a2acd57cee7505fc6676e4e544"
                                 "621c30862966e37dddb68e92efbe5d6b"));

    r = suite("GET", "Param2=value2&Param1=value1");
    assert_int_equal(ttai_sigv4_sign(&r, auth, date, NULL), 0);
    assert_non_null(strstr(auth, "Signature=b97d918cfa904a5beff61c982a1b6f45"
                                 "8b799221646efd99d3219ec94cdf2500"));
}


static void
test_bedrock(void **state)
{
    char                  auth[TTAI_SIGV4_AUTH_MAX];
    char                  date[TTAI_SIGV4_DATE_LEN + 1], *canonical;
    ttai_sigv4_t          r;
    ttai_sigv4_header_t   ct = { "Content-Type", "  application/json  " };

    r = suite("POST", NULL);
    r.host = "bedrock-runtime.us-east-1.amazonaws.com";
    r.path = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
    r.service = "bedrock";
    r.session_token = "TOKEN";
    r.headers = &ct;
    r.nheaders = 1;
    r.body = (const unsigned char *) "{}";
    r.len = 2;

    assert_int_equal(ttai_sigv4_sign(&r, auth, date, &canonical), 0);

    /* the path encoded again: ":" is %253A in what is signed */
    assert_non_null(strstr(canonical, "\n/model/anthropic.claude-3-5-sonnet-"
                                      "20240620-v1%253A0/converse\n"));
    /* headers sorted, lowercase, values trimmed; the token signed */
    assert_non_null(strstr(canonical, "content-type:application/json\n"
                                      "host:bedrock-runtime"));
    assert_non_null(strstr(canonical, "x-amz-security-token:TOKEN\n"));
    /* the body's hash: SHA-256 of "{}" */
    assert_non_null(strstr(canonical, "44136fa355b3678a1146ad16f7e8649e94fb"
                                      "4fc21fe77e8310c060f61caaff8a"));
    free(canonical);

    assert_non_null(strstr(auth, "/20150830/us-east-1/bedrock/aws4_request, "
                                 "SignedHeaders=content-type;host;x-amz-date;"
                                 "x-amz-security-token, Signature="));

    /* what cannot be signed */
    r.path = "model";
    assert_int_equal(ttai_sigv4_sign(&r, auth, date, NULL), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_get_vanilla),
        cmocka_unit_test(test_post_vanilla_and_query_order),
        cmocka_unit_test(test_bedrock),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
