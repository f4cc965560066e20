
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

#include "ttai_tt_map.h"


/*
 * The mapper of TastyTrade's objects: each kind, what it makes of every
 * type TastyTrade might send, the order of the members, paths, nested
 * objects and lists.
 */


/* maps the JSON text in with fields; the result as compact JSON text */

static char *
mapped(const char *in, const ttai_tt_field_t *fields)
{
    char          *text;
    json_t        *j, *out;
    json_error_t   err;

    j = NULL;

    if (in != NULL) {
        j = json_loads(in, JSON_DECODE_ANY, &err);

        if (j == NULL) {
            fail_msg("bad test JSON %s: %s", in, err.text);
        }
    }

    out = ttai_tt_mapped(j, fields);
    assert_non_null(out);

    text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_non_null(text);

    json_decref(out);
    json_decref(j);

    return text;
}


static void
assert_mapped(const char *in, const ttai_tt_field_t *fields,
    const char *want)
{
    char  *got;

    got = mapped(in, fields);

    if (strcmp(got, want) != 0) {
        fail_msg("%s mapped to %s, not %s", in ? in : "NULL", got, want);
    }

    free(got);
}


/* one row of kind, from "v" to "out", over each value */

static void
assert_kind(unsigned kind, const char *const (*cases)[2], size_t n)
{
    char              in[256], want[256];
    size_t            i;
    ttai_tt_field_t   fields[2] = {
        ttai_tt_field("v", "out", 0),
        ttai_tt_null_field
    };

    fields[0].kind = kind;

    for (i = 0; i < n; i++) {
        if (cases[i][0] == NULL) {
            snprintf(in, sizeof(in), "{}");
        } else {
            snprintf(in, sizeof(in), "{\"v\":%s}", cases[i][0]);
        }

        snprintf(want, sizeof(want), "{\"out\":%s}", cases[i][1]);

        assert_mapped(in, fields, want);
    }
}


#define assert_cases(kind, cases)                                            \
    assert_kind(kind, cases, sizeof(cases) / sizeof(cases[0]))


static void
test_scalars(void **state)
{
    static const char *const  strings[][2] = {
        { "\"Margin\"", "\"Margin\"" }, { "\"\"", "\"\"" },
        { "1.5", "null" }, { "true", "null" }, { "null", "null" },
        { "{}", "null" }, { NULL, "null" },
    };

    static const char *const  numbers[][2] = {
        { "\"7218.997\"", "7218.997" }, { "\"-12.340\"", "-12.34" },
        { "2", "2.0" }, { "2.5", "2.5" }, { "\"1e3\"", "1000.0" },
        { "\"abc\"", "null" }, { "\"\"", "null" }, { "\" 1\"", "null" },
        { "\"nan\"", "null" }, { "\"inf\"", "null" }, { "\"0x10\"", "null" },
        { "true", "null" }, { "null", "null" }, { NULL, "null" },
    };

    static const char *const  percents[][2] = {
        { "\"0.427330631\"", "42.73" }, { "0.5", "50.0" },
        { "\"x\"", "null" }, { NULL, "null" },
    };

    static const char *const  wholes[][2] = {
        { "\"4.7\"", "4" }, { "3", "3" }, { "\"-2.9\"", "-2" },
        { "\"x\"", "null" }, { NULL, "null" },
    };

    static const char *const  integers[][2] = {
        { "7", "7" }, { "-1", "-1" }, { "7.0", "null" }, { "\"7\"", "null" },
        { NULL, "null" },
    };

    static const char *const  booleans[][2] = {
        { "true", "true" }, { "false", "false" }, { "1", "null" },
        { "\"true\"", "null" }, { NULL, "null" },
    };

    static const char *const  flags[][2] = {
        { "true", "true" }, { "false", "false" }, { "1", "false" },
        { "\"true\"", "false" }, { NULL, "false" },
    };

    static const char *const  ids[][2] = {
        { "1075264", "1075264" }, { "\"abc-1\"", "\"abc-1\"" },
        { "1.5", "null" }, { "true", "null" }, { NULL, "null" },
    };

    static const char *const  times[][2] = {
        { "\"2026-06-12T19:33:24.000+00:00\"",
          "\"2026-06-12T19:33:24.000+00:00\"" },
        { "1700000000123", "\"2023-11-14T22:13:20.123Z\"" },
        { "0", "null" }, { "-5", "null" }, { "1.5", "null" },
        { NULL, "null" },
    };

    static const char *const  counts[][2] = {
        { "[1,2,3]", "3" }, { "[]", "0" }, { "\"abc\"", "0" },
        { "{\"a\":1}", "0" }, { NULL, "0" },
    };

    assert_cases(TTAI_TT_STRING, strings);
    assert_cases(TTAI_TT_NUMBER, numbers);
    assert_cases(TTAI_TT_PERCENT, percents);
    assert_cases(TTAI_TT_WHOLE, wholes);
    assert_cases(TTAI_TT_INTEGER, integers);
    assert_cases(TTAI_TT_BOOLEAN, booleans);
    assert_cases(TTAI_TT_FLAG, flags);
    assert_cases(TTAI_TT_ID, ids);
    assert_cases(TTAI_TT_TIME, times);
    assert_cases(TTAI_TT_COUNT, counts);
}


/* the sign lives in a sibling member */

static void
test_signs(void **state)
{
    static const ttai_tt_field_t  signed_fields[] = {
        ttai_tt_field("value", "value", TTAI_TT_SIGNED),
        ttai_tt_null_field
    };

    static const ttai_tt_field_t  short_fields[] = {
        ttai_tt_field("quantity", "quantity", TTAI_TT_SHORT),
        ttai_tt_null_field
    };

    assert_mapped("{\"value\":\"25.5\",\"value-effect\":\"Debit\"}",
                  signed_fields, "{\"value\":-25.5}");
    assert_mapped("{\"value\":\"25.5\",\"value-effect\":\"Credit\"}",
                  signed_fields, "{\"value\":25.5}");
    assert_mapped("{\"value\":\"25.5\",\"value-effect\":\"None\"}",
                  signed_fields, "{\"value\":25.5}");
    assert_mapped("{\"value\":\"25.5\"}", signed_fields, "{\"value\":25.5}");
    assert_mapped("{\"value\":\"0.0\",\"value-effect\":\"Debit\"}",
                  signed_fields, "{\"value\":0.0}");
    assert_mapped("{\"value\":\"x\",\"value-effect\":\"Debit\"}",
                  signed_fields, "{\"value\":null}");

    assert_mapped("{\"quantity\":\"3\",\"quantity-direction\":\"Short\"}",
                  short_fields, "{\"quantity\":-3.0}");
    assert_mapped("{\"quantity\":3,\"quantity-direction\":\"Long\"}",
                  short_fields, "{\"quantity\":3.0}");
    assert_mapped("{\"quantity\":0,\"quantity-direction\":\"Short\"}",
                  short_fields, "{\"quantity\":0.0}");
    assert_mapped("{\"quantity-direction\":\"Short\"}",
                  short_fields, "{\"quantity\":null}");
}


/* the table's order, whatever TastyTrade's; paths; optional members */

static void
test_order_and_paths(void **state)
{
    static const ttai_tt_field_t  fields[] = {
        ttai_tt_field("account.account-number", "number", TTAI_TT_STRING),
        ttai_tt_field("authority-level", "authority_level",
                      TTAI_TT_STRING),
        ttai_tt_field("account.is-closed", "is_closed", TTAI_TT_FLAG),
        ttai_tt_field("account.x.y", "deep", TTAI_TT_NUMBER),
        ttai_tt_field("note", "note", TTAI_TT_STRING | TTAI_TT_OPTIONAL),
        ttai_tt_null_field
    };

    assert_mapped("{\"authority-level\":\"owner\",\"account\":{"
                  "\"is-closed\":true,\"x\":{\"y\":\"1.25\"},"
                  "\"account-number\":\"5WT1\"}}", fields,
                  "{\"number\":\"5WT1\",\"authority_level\":\"owner\","
                  "\"is_closed\":true,\"deep\":1.25}");

    assert_mapped("{\"note\":\"hi\",\"account\":\"not an object\"}",
                  fields,
                  "{\"number\":null,\"authority_level\":null,"
                  "\"is_closed\":false,\"deep\":null,\"note\":\"hi\"}");

    /* nothing, or not an object: every member, each empty */
    assert_mapped(NULL, fields,
                  "{\"number\":null,\"authority_level\":null,"
                  "\"is_closed\":false,\"deep\":null}");
    assert_mapped("[1,2]", fields,
                  "{\"number\":null,\"authority_level\":null,"
                  "\"is_closed\":false,\"deep\":null}");
}


/* objects in objects, and lists of them */

static void
test_nested(void **state)
{
    json_t  *out;

    static const ttai_tt_field_t  leg[] = {
        ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
        ttai_tt_field("fills", "fills", TTAI_TT_COUNT),
        ttai_tt_null_field
    };

    static const ttai_tt_field_t  fields[] = {
        ttai_tt_nested("legs", "legs", TTAI_TT_LIST, leg, 2),
        ttai_tt_nested("all-legs", "all_legs", TTAI_TT_LIST, leg, 0),
        ttai_tt_nested("next", "next", TTAI_TT_OBJECT, leg, 0),
        ttai_tt_nested("fees", "fees", TTAI_TT_GROUP, leg, 0),
        ttai_tt_null_field
    };

    assert_mapped("{\"legs\":[{\"symbol\":\"A\",\"fills\":[1]},7,"
                  "{\"symbol\":\"C\"}],\"all-legs\":[{},{},{}],"
                  "\"next\":{\"symbol\":\"N\"},\"fees\":{\"fills\":[1,2]}}",
                  fields,
                  "{\"legs\":[{\"symbol\":\"A\",\"fills\":1},"
                  "{\"symbol\":null,\"fills\":0}],"
                  "\"all_legs\":[{\"symbol\":null,\"fills\":0},"
                  "{\"symbol\":null,\"fills\":0},"
                  "{\"symbol\":null,\"fills\":0}],"
                  "\"next\":{\"symbol\":\"N\",\"fills\":0},"
                  "\"fees\":{\"symbol\":null,\"fills\":2}}");

    assert_mapped("{\"legs\":{},\"next\":\"x\",\"fees\":null}", fields,
                  "{\"legs\":[],\"all_legs\":[],\"next\":null,"
                  "\"fees\":{\"symbol\":null,\"fills\":0}}");

    /* into an object that has members already: after them */
    out = json_pack("{s:b}", "placed", 0);
    assert_non_null(out);
    assert_int_equal(ttai_tt_map(out, NULL, leg), 0);
    assert_int_equal(json_object_size(out), 3);
    assert_true(json_is_false(json_object_get(out, "placed")));
    assert_true(json_is_null(json_object_get(out, "symbol")));
    json_decref(out);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_signs),
        cmocka_unit_test(test_order_and_paths),
        cmocka_unit_test(test_nested),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
