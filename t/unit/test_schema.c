
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_tools.h"


static const char  quotes_schema[] =
    "{\"type\":\"object\","
    " \"properties\":{"
    "  \"symbols\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
    "              \"minLength\":1,\"maxLength\":12},"
    "              \"minItems\":1,\"maxItems\":100},"
    "  \"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":250},"
    "  \"ratio\":{\"type\":\"number\",\"minimum\":0.5},"
    "  \"side\":{\"type\":\"string\",\"enum\":[\"buy\",\"sell\"]},"
    "  \"kind\":{\"const\":\"equity\"},"
    "  \"live\":{\"type\":\"boolean\"},"
    "  \"note\":{\"type\":[\"string\",\"null\"],\"description\":\"free\"},"
    "  \"legs\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "           \"properties\":{\"symbol\":{\"type\":\"string\"},"
    "                           \"qty\":{\"type\":\"integer\"}},"
    "           \"required\":[\"symbol\"],"
    "           \"additionalProperties\":false}}"
    " },"
    " \"required\":[\"symbols\"],"
    " \"additionalProperties\":false}";


static json_t *
load(const char *text)
{
    json_t  *j;

    j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);

    return j;
}


/* validates args against the quotes schema; returns the message or "" */

static const char *
check(const char *args)
{
    int            rc;
    json_t        *schema, *value;
    static char    err[256];

    schema = load(quotes_schema);
    value = load(args);

    rc = ttai_schema_validate(schema, value, err, sizeof(err));
    assert_true(rc == 0 || rc == -1);

    if (rc == 0) {
        err[0] = '\0';
    } else {
        assert_true(err[0] != '\0');
    }

    json_decref(schema);
    json_decref(value);

    return err;
}


static void
test_valid_arguments(void **state)
{
    assert_string_equal(check("{\"symbols\":[\"AAPL\"]}"), "");
    assert_string_equal(check("{\"symbols\":[\"AAPL\",\"SPY\"],\"limit\":250,"
                              "\"ratio\":0.5,\"side\":\"sell\","
                              "\"kind\":\"equity\",\"live\":false,"
                              "\"note\":null,"
                              "\"legs\":[{\"symbol\":\"X\",\"qty\":2}]}"),
                        "");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"ratio\":3}"), "");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"note\":\"hi\"}"), "");
}


static void
test_types(void **state)
{
    assert_string_equal(check("[]"),
                        "the arguments must be an object, not an array");
    assert_string_equal(check("{\"symbols\":\"AAPL\"}"),
                        "argument \"symbols\" must be an array, "
                        "not a string");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"limit\":\"10\"}"),
                        "argument \"limit\" must be an integer, "
                        "not a string");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"limit\":2.5}"),
                        "argument \"limit\" must be an integer, "
                        "not a number with a fraction");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"ratio\":true}"),
                        "argument \"ratio\" must be a number, "
                        "not a boolean");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"live\":1}"),
                        "argument \"live\" must be true or false, "
                        "not an integer");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"note\":{}}"),
                        "argument \"note\" must be a string or null, "
                        "not an object");
}


static void
test_required_and_unknown(void **state)
{
    assert_string_equal(check("{}"), "argument \"symbols\" is required");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"colour\":1}"),
                        "unknown argument \"colour\"; expected only: "
                        "symbols, limit, ratio, side, kind, live, note, "
                        "legs");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"legs\":[{}]}"),
                        "argument \"legs[0].symbol\" is required");
    assert_string_equal(check("{\"symbols\":[\"A\"],"
                              "\"legs\":[{\"symbol\":\"X\"},"
                              "{\"symbol\":\"Y\",\"qty\":\"1\"}]}"),
                        "argument \"legs[1].qty\" must be an integer, "
                        "not a string");
    assert_string_equal(check("{\"symbols\":[\"A\"],"
                              "\"legs\":[{\"symbol\":\"X\",\"px\":1}]}"),
                        "unknown argument \"legs[0].px\"; expected only: "
                        "symbol, qty");
}


static void
test_limits(void **state)
{
    char    args[2048];
    size_t  i, n;

    n = snprintf(args, sizeof(args), "{\"symbols\":[");
    for (i = 0; i < 101; i++) {
        n += snprintf(args + n, sizeof(args) - n, "%s\"S\"", i ? "," : "");
    }
    snprintf(args + n, sizeof(args) - n, "]}");

    assert_string_equal(check(args), "argument \"symbols\" must be an array "
                        "of at most 100 items");
    assert_string_equal(check("{\"symbols\":[]}"),
                        "argument \"symbols\" must be an array of at least "
                        "1 item");
    assert_string_equal(check("{\"symbols\":[\"\"]}"),
                        "argument \"symbols[0]\" must be at least "
                        "1 character long");
    assert_string_equal(check("{\"symbols\":[\"ABCDEFGHIJKLM\"]}"),
                        "argument \"symbols[0]\" must be at most "
                        "12 characters long");

    /* characters, not bytes */
    assert_string_equal(check("{\"symbols\":[\"\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"]}"), "");

    assert_string_equal(check("{\"symbols\":[\"A\"],\"limit\":0}"),
                        "argument \"limit\" must be at least 1");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"limit\":251}"),
                        "argument \"limit\" must be at most 250");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"ratio\":0.25}"),
                        "argument \"ratio\" must be at least 0.5");
}


static void
test_enum_and_const(void **state)
{
    assert_string_equal(check("{\"symbols\":[\"A\"],\"side\":\"hold\"}"),
                        "argument \"side\" must be one of: "
                        "\"buy\", \"sell\"");
    assert_string_equal(check("{\"symbols\":[\"A\"],\"kind\":\"future\"}"),
                        "argument \"kind\" must be \"equity\"");
}


static void
test_numbers_compare_by_value(void **state)
{
    int      rc;
    char     err[128];
    json_t  *schema, *value;

    schema = load("{\"enum\":[1,2.5]}");

    value = load("1.0");
    rc = ttai_schema_validate(schema, value, err, sizeof(err));
    assert_int_equal(rc, 0);
    json_decref(value);

    value = load("3");
    rc = ttai_schema_validate(schema, value, err, sizeof(err));
    assert_int_equal(rc, -1);
    assert_string_equal(err, "the arguments must be one of: 1, 2.5");
    json_decref(value);

    json_decref(schema);

    /* inside arrays and objects too, as JSON Schema's equality says */
    schema = load("{\"enum\":[[1,{\"a\":2}]]}");

    value = load("[1.0,{\"a\":2.0}]");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     0);
    json_decref(value);

    value = load("[1,{\"a\":2,\"b\":3}]");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     -1);
    json_decref(value);

    value = load("[1,{\"b\":2}]");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     -1);
    json_decref(value);

    json_decref(schema);

    schema = load("{\"const\":{\"a\":[1]}}");
    value = load("{\"a\":[1.0]}");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     0);
    json_decref(value);
    json_decref(schema);

    /* integers beyond a double's 53 bits compare as integers */
    schema = load("{\"maximum\":9007199254740992,"
                  "\"minimum\":-9007199254740992}");

    value = load("9007199254740993");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "the arguments must be at most "
                        "9007199254740992");
    json_decref(value);

    value = load("-9007199254740993");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     -1);
    json_decref(value);

    value = load("9007199254740992");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     0);
    json_decref(value);

    json_decref(schema);
}


static void
test_no_arguments(void **state)
{
    int      rc;
    char     err[128];
    json_t  *schema, *value;

    schema = load("{\"type\":\"object\",\"additionalProperties\":false}");

    value = load("{}");
    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     0);
    json_decref(value);

    value = load("{\"x\":1}");
    rc = ttai_schema_validate(schema, value, err, sizeof(err));
    assert_int_equal(rc, -1);
    assert_string_equal(err, "unknown argument \"x\": none are expected "
                        "here");
    json_decref(value);

    json_decref(schema);
}


static void
test_output_wording(void **state)
{
    char     err[128];
    json_t  *schema, *value;

    schema = load("{\"type\":\"object\",\"properties\":{\"user\":"
                  "{\"type\":\"object\",\"properties\":"
                  "{\"sub\":{\"type\":\"string\"}}}}}");
    value = load("{\"user\":{\"sub\":7}}");

    assert_int_equal(ttai_schema_validate_output(schema, value, err,
                                                 sizeof(err)), -1);
    assert_string_equal(err, "field \"user.sub\" must be a string, "
                        "not an integer");

    json_decref(value);
    json_decref(schema);
}


static void
test_small_error_buffer(void **state)
{
    char     err[8];
    json_t  *schema, *value;

    schema = load(quotes_schema);
    value = load("{}");

    assert_int_equal(ttai_schema_validate(schema, value, err, sizeof(err)),
                     -1);
    assert_true(strlen(err) < sizeof(err));
    assert_int_equal(ttai_schema_validate(schema, value, NULL, 0), -1);

    json_decref(value);
    json_decref(schema);
}


/* JSON Schema 2020-12's references, combinations and conditions */

static const char  contact_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"type\":\"object\",\"$defs\":{\"address\":{\"$anchor\":"
    "\"addressDef\",\"type\":\"object\",\"properties\":{\"street\":"
    "{\"type\":\"string\"},\"city\":{\"type\":\"string\"}},"
    "\"required\":[\"city\"]}},"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"address\":"
    "{\"$ref\":\"#/$defs/address\"},\"home\":{\"$ref\":\"#addressDef\"},"
    "\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\","
    "\"email\"]},\"phone\":{\"type\":\"string\"},\"email\":"
    "{\"type\":\"string\"},\"tier\":{\"oneOf\":[{\"type\":"
    "\"integer\"},{\"type\":\"number\",\"minimum\":10}]},"
    "\"nick\":{\"not\":{\"const\":\"root\"}}},"
    "\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},{\"required\":"
    "[\"email\"]}]}],"
    "\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},"
    "\"required\":[\"contactMethod\"]},"
    "\"then\":{\"required\":[\"phone\"]},\"else\":{\"required\":"
    "[\"email\"]},\"additionalProperties\":false}";


static const char *
contact(const char *args)
{
    int            rc;
    json_t        *schema, *value;
    static char    err[256];

    schema = load(contact_schema);
    value = load(args);

    rc = ttai_schema_validate(schema, value, err, sizeof(err));

    json_decref(schema);
    json_decref(value);

    return rc == 0 ? "" : err;
}


static void
test_composition(void **state)
{
    assert_string_equal(contact("{\"email\":\"a@b.c\"}"), "");
    assert_string_equal(contact("{\"contactMethod\":\"phone\","
                                "\"phone\":\"555\",\"email\":\"e\"}"), "");
    assert_string_equal(contact("{\"email\":\"e\",\"address\":"
                                "{\"city\":\"Chicago\"},\"home\":"
                                "{\"city\":\"Austin\"}}"), "");

    /* allOf / anyOf: neither phone nor email */
    assert_string_equal(contact("{\"name\":\"n\"}"),
                        "the arguments must match one of the forms allowed "
                        "(the first: argument \"phone\" is required)");

    /* if / then: a phone contact without a phone */
    assert_string_equal(contact("{\"contactMethod\":\"phone\","
                                "\"email\":\"e\"}"),
                        "argument \"phone\" is required");

    /* $ref, by pointer and by anchor */
    assert_string_equal(contact("{\"email\":\"e\",\"address\":"
                                "{\"street\":\"Main\"}}"),
                        "argument \"address.city\" is required");
    assert_string_equal(contact("{\"email\":\"e\",\"home\":"
                                "{\"city\":7}}"),
                        "argument \"home.city\" must be a string, not an "
                        "integer");

    /* oneOf: 12 is an integer and a number of at least 10 */
    assert_string_equal(contact("{\"email\":\"e\",\"tier\":3}"), "");
    assert_string_equal(contact("{\"email\":\"e\",\"tier\":12.5}"), "");
    assert_string_equal(contact("{\"email\":\"e\",\"tier\":12}"),
                        "argument \"tier\" must match exactly one of the "
                        "forms allowed, not 2");

    /* not */
    assert_string_equal(contact("{\"email\":\"e\",\"nick\":\"root\"}"),
                        "argument \"nick\" must not match the form it "
                        "excludes");

    /* additionalProperties: false still holds */
    assert_non_null(strstr(contact("{\"email\":\"e\",\"x\":1}"), "\"x\""));
}


static const char *
schema_error(const char *text)
{
    int          rc;
    json_t      *schema;
    static char  err[256];

    schema = load(text);
    rc = ttai_schema_check(schema, err, sizeof(err));
    json_decref(schema);

    return rc == 0 ? "" : err;
}


static void
test_schema_check(void **state)
{
    assert_string_equal(schema_error(quotes_schema), "");
    assert_string_equal(schema_error("{\"type\":\"object\","
                                     "\"$schema\":\"https://json-schema.org/"
                                     "draft/2020-12/schema\","
                                     "\"title\":\"t\",\"properties\":{}}"),
                        "");

    assert_string_equal(schema_error("[]"), "the schema must be an object");
    assert_string_equal(schema_error("{\"type\":\"text\"}"),
                        "the schema has a bad \"type\"");
    assert_string_equal(schema_error("{\"type\":[]}"),
                        "the schema has a bad \"type\"");
    assert_string_equal(schema_error("{\"properties\":{\"s\":"
                                     "{\"type\":\"string\","
                                     "\"pattern\":\"^[A-Z]+$\"}}}"),
                        "schema \"s\" uses \"pattern\", which ttai does not "
                        "enforce");
    assert_string_equal(schema_error("{\"oneOf\":[]}"),
                        "the schema has a bad \"oneOf\"");
    assert_string_equal(schema_error("{\"dependentRequired\":{}}"),
                        "the schema uses \"dependentRequired\", which ttai "
                        "does not enforce");
    assert_string_equal(schema_error("{\"$ref\":\"#/$defs/none\"}"),
                        "the schema has a bad \"$ref\"");
    assert_string_equal(schema_error("{\"$ref\":\"https://x.example/s\"}"),
                        "the schema has a bad \"$ref\"");
    assert_string_equal(schema_error("{\"allOf\":[{\"pattern\":\"x\"}]}"),
                        "the schema uses \"pattern\", which ttai does not "
                        "enforce");
    assert_string_equal(schema_error(contact_schema), "");
    assert_string_equal(schema_error("{\"required\":\"a\"}"),
                        "the schema has a bad \"required\"");
    assert_string_equal(schema_error("{\"required\":[1]}"),
                        "the schema has a bad \"required\"");
    assert_string_equal(schema_error("{\"enum\":[]}"),
                        "the schema has a bad \"enum\"");
    assert_string_equal(schema_error("{\"maxItems\":-1}"),
                        "the schema has a bad \"maxItems\"");
    assert_string_equal(schema_error("{\"minimum\":\"1\"}"),
                        "the schema has a bad \"minimum\"");
    assert_string_equal(schema_error("{\"items\":{\"type\":\"tuple\"}}"),
                        "the schema has a bad \"type\"");
    assert_string_equal(schema_error("{\"properties\":[]}"),
                        "the schema has properties that are not an object");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid_arguments),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_required_and_unknown),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_enum_and_const),
        cmocka_unit_test(test_numbers_compare_by_value),
        cmocka_unit_test(test_no_arguments),
        cmocka_unit_test(test_output_wording),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_schema_check),
        cmocka_unit_test(test_composition),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
