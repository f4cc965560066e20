
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ttai_crypto.h"


static const char  token[] = "access-token-value";


static void
test_round_trip(void **state)
{
    size_t         n;
    unsigned char  key[32], blob[sizeof(token) + TTAI_CRYPTO_OVERHEAD];
    unsigned char  out[sizeof(token)];

    randombytes_buf(key, sizeof(key));

    assert_int_equal(ttai_token_seal(key, "tt-account-123", "access_token",
                                     (unsigned char *) token, sizeof(token),
                                     blob), 0);

    /* the plaintext appears nowhere in the blob */
    assert_null(memmem(blob, sizeof(blob), "access-token", 12));

    assert_int_equal(ttai_token_open(key, "tt-account-123", "access_token",
                                     blob, sizeof(blob), out, &n), 0);
    assert_int_equal(n, sizeof(token));
    assert_memory_equal(out, token, n);
}


static void
test_each_value_has_its_own_nonce(void **state)
{
    unsigned char  key[32];
    unsigned char  a[sizeof(token) + TTAI_CRYPTO_OVERHEAD];
    unsigned char  b[sizeof(token) + TTAI_CRYPTO_OVERHEAD];

    randombytes_buf(key, sizeof(key));

    ttai_token_seal(key, "u", "f", (unsigned char *) token, sizeof(token), a);
    ttai_token_seal(key, "u", "f", (unsigned char *) token, sizeof(token), b);

    assert_memory_not_equal(a + 1, b + 1, 24);
    assert_memory_not_equal(a, b, sizeof(a));
}


static void
test_wrong_key_user_field_or_tamper_fail(void **state)
{
    size_t         n;
    unsigned char  key[32], other[32];
    unsigned char  blob[sizeof(token) + TTAI_CRYPTO_OVERHEAD];
    unsigned char  out[sizeof(token)];

    randombytes_buf(key, sizeof(key));
    randombytes_buf(other, sizeof(other));

    ttai_token_seal(key, "u1", "refresh_token", (unsigned char *) token,
                    sizeof(token), blob);

    assert_int_equal(ttai_token_open(other, "u1", "refresh_token", blob,
                                     sizeof(blob), out, &n), -1);
    assert_int_equal(ttai_token_open(key, "u2", "refresh_token", blob,
                                     sizeof(blob), out, &n), -1);
    assert_int_equal(ttai_token_open(key, "u1", "access_token", blob,
                                     sizeof(blob), out, &n), -1);

    /* "u1"+"x" and "u"+"1x" must not share associated data */
    assert_int_equal(ttai_token_open(key, "u", "1refresh_token", blob,
                                     sizeof(blob), out, &n), -1);

    blob[sizeof(blob) - 1] ^= 1;
    assert_int_equal(ttai_token_open(key, "u1", "refresh_token", blob,
                                     sizeof(blob), out, &n), -1);
    blob[sizeof(blob) - 1] ^= 1;

    blob[0] = 2;
    assert_int_equal(ttai_token_open(key, "u1", "refresh_token", blob,
                                     sizeof(blob), out, &n), -1);

    assert_int_equal(ttai_token_open(key, "u1", "refresh_token", blob, 10,
                                     out, &n), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_each_value_has_its_own_nonce),
        cmocka_unit_test(test_wrong_key_user_field_or_tamper_fail),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests_name("ttai_crypto", tests, NULL, NULL);
}
