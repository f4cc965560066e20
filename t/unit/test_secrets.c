
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "ttai_secrets.h"


#define HEX64  "00112233445566778899aabbccddeeff" \
               "00112233445566778899AABBCCDDEEFF"


static void
test_required_keys(void **state)
{
    const ttai_secret_spec_t  *jwt, *tok, *anth;

    jwt = ttai_secret_find("JWT_SECRET");
    tok = ttai_secret_find("TOKEN_ENCRYPTION_KEY");
    anth = ttai_secret_find("ANTHROPIC_API_KEY");

    assert_non_null(jwt);
    assert_non_null(tok);
    assert_non_null(anth);
    assert_null(ttai_secret_find("LOG_LEVEL"));

    assert_non_null(ttai_secret_check(jwt, NULL, 0));
    assert_non_null(ttai_secret_check(tok, "", 0));
    assert_null(ttai_secret_check(anth, NULL, 0));
}


static void
test_hex32_values(void **state)
{
    char                       bad[sizeof(HEX64)];
    const char                *why;
    const ttai_secret_spec_t  *jwt;

    jwt = ttai_secret_find("JWT_SECRET");

    assert_null(ttai_secret_check(jwt, HEX64, 64));

    /* one short, one long, and one non-hex digit */
    assert_non_null(ttai_secret_check(jwt, HEX64, 63));
    assert_non_null(ttai_secret_check(jwt, HEX64 "0", 65));

    memcpy(bad, HEX64, sizeof(HEX64));
    bad[0] = 'z';
    bad[1] = 'z';

    why = ttai_secret_check(jwt, bad, 64);
    assert_non_null(why);
    assert_non_null(strstr(why, "64 hex"));
    assert_null(strstr(why, "zz"));
}


static void
test_hex32_decodes(void **state)
{
    char           bad[sizeof(HEX64)];
    unsigned char  key[TTAI_SECRET_KEY_LEN];

    assert_int_equal(ttai_secret_hex32(HEX64, 64, key), 0);
    assert_int_equal(key[0], 0x00);
    assert_int_equal(key[1], 0x11);
    assert_int_equal(key[15], 0xff);
    assert_int_equal(key[31], 0xff);

    memset(key, 0x5a, sizeof(key));
    memcpy(bad, HEX64, sizeof(HEX64));
    bad[63] = 'g';

    assert_int_equal(ttai_secret_hex32(bad, 64, key), -1);

    /* a failed decode leaves no partial key behind */
    assert_int_equal(key[0], 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_hex32_values),
        cmocka_unit_test(test_hex32_decodes),
    };

    return cmocka_run_group_tests_name("ttai_secrets", tests, NULL, NULL);
}
