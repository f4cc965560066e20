
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "ttai_json.h"


#define JANSSON_FLAGS  (JSON_COMPACT | JSON_REAL_PRECISION(15))


/* the text jansson writes and ours, for the same value */
static void
assert_same(json_t *j)
{
    char    *ours, *theirs;
    size_t   len;

    ours = ttai_json_dumps(j, &len);
    theirs = json_dumps(j, JANSSON_FLAGS | JSON_ENCODE_ANY);

    assert_non_null(ours);
    assert_non_null(theirs);

    if (strcmp(ours, theirs) != 0) {
        fail_msg("ours \"%s\" != jansson's \"%s\"", ours, theirs);
    }

    assert_int_equal(len, strlen(ours));

    free(ours);
    free(theirs);
}


static void
test_documents(void **state)
{
    json_t  *j;

    static const char  *docs[] = {
        "{}", "[]", "null", "true", "false", "0", "-1",
        "9223372036854775807", "-9223372036854775808",
        "\"\"", "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/\"",
        "\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"",
        "{\"b\":1,\"a\":[1,2.5,{\"c\":null}],\"d\":\"x\"}",
        "[150.0,149.95,150.05,0.94,41237815.0,-0.66,1e-7,1.5e300]",
        "{\"quotes\":[{\"symbol\":\"AAPL\",\"price\":150.0,\"bid\":149.95,"
        "\"ask\":150.05,\"change_percent\":-3.86,\"volume\":null}]}",
        NULL
    };

    const char  **d;

    for (d = docs; *d != NULL; d++) {
        j = json_loads(*d, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_same(j);
        json_decref(j);
    }
}


static void
test_reals(void **state)
{
    int      i, k;
    char     buf[40];
    double   v, d;
    json_t  *j;

    static const double  fixed[] = {
        0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0,
        100.0, 1e14, 1e15, 1e16, 123456789012345.0, 1234567890123456.0,
        0.000123, 1e-10, 3.14159265358979, 2.718281828459045, 97250.5,
        5925.25, -1370.49, 9007199254740993.0, 4514709583000.0,
        /* a price change rounded to nothing keeps its sign: "-0.0" */
        -0.0, -1e-300
    };

    for (i = 0; i < (int) (sizeof(fixed) / sizeof(fixed[0])); i++) {
        j = json_real(fixed[i]);
        assert_same(j);
        json_decref(j);
    }

    /* prices and percents: an integer over a power of ten */
    srand(7);

    for (i = 0; i < 20000; i++) {
        k = rand() % 7;
        v = (double) (rand() % 10000000 - 5000000);

        while (k--) {
            v /= 10;
        }

        j = json_real(v);
        assert_same(j);
        json_decref(j);
    }

    /* anything: the same text, or at least the same number back */
    for (i = 0; i < 20000; i++) {
        v = (double) rand() / (double) RAND_MAX * 1e6 - 5e5;

        j = json_real(v);
        assert_same(j);
        json_decref(j);

        buf[ttai_json_real(v, buf)] = '\0';
        d = strtod(buf, NULL) - v;
        assert_true((d < 0 ? -d : d) <= 1e-9 * (v < 0 ? -v : v) + 1e-12);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_reals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
