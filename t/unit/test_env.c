
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "ttai_env.h"


static int
setup(void **state)
{
    static ttai_env_t  env;

    ttai_env_init(&env);
    *state = &env;

    return 0;
}


static int
teardown(void **state)
{
    ttai_env_free(*state);

    return 0;
}


static int
parse(ttai_env_t *env, const char *text, ttai_env_error_t *err)
{
    return ttai_env_parse(env, text, strlen(text), err);
}


static void
assert_value(ttai_env_t *env, const char *key, const char *value)
{
    const ttai_env_entry_t  *e;

    e = ttai_env_get(env, key);
    assert_non_null(e);
    assert_string_equal(e->value, value);
    assert_int_equal(e->value_len, strlen(value));
}


static void
test_plain_pairs_and_comments(void **state)
{
    ttai_env_t        *env = *state;
    ttai_env_error_t   err;

    assert_int_equal(parse(env,
                           "# a comment\n"
                           "\n"
                           "A=1\n"
                           "  B = two words  \n"
                           "C=x # trailing comment\n"
                           "D=a#b\n"
                           "E=\n", &err), 0);

    assert_int_equal(env->nentries, 5);
    assert_value(env, "A", "1");
    assert_value(env, "B", "two words");
    assert_value(env, "C", "x");
    assert_value(env, "D", "a#b");
    assert_value(env, "E", "");
    assert_null(ttai_env_get(env, "F"));
}


static void
test_quotes_export_and_crlf(void **state)
{
    ttai_env_t        *env = *state;
    ttai_env_error_t   err;

    assert_int_equal(parse(env,
                           "export A=\"with # hash\"\r\n"
                           "B='single $quoted'  # note\r\n"
                           "C=\"\"\n", &err), 0);

    assert_value(env, "A", "with # hash");
    assert_value(env, "B", "single $quoted");
    assert_value(env, "C", "");
}


static void
test_line_numbers_and_last_wins(void **state)
{
    ttai_env_t              *env = *state;
    ttai_env_error_t         err;
    const ttai_env_entry_t  *e;

    assert_int_equal(parse(env, "A=1\n# x\nA=2", &err), 0);

    assert_int_equal(env->nentries, 1);
    e = ttai_env_get(env, "A");
    assert_string_equal(e->value, "2");
    assert_int_equal(e->line, 3);
}


static void
test_errors_name_the_line_not_the_value(void **state)
{
    ttai_env_t        *env = *state;
    ttai_env_error_t   err;

    assert_int_equal(parse(env, "A=1\nnot a pair secretvalue\n", &err), -1);
    assert_int_equal(err.line, 2);
    assert_null(strstr(err.msg, "secretvalue"));

    assert_int_equal(parse(env, "OK=1\nK=\"unterminated secretvalue\n",
                           &err), -1);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "unterminated"));
    assert_non_null(strstr(err.msg, "K"));
    assert_null(strstr(err.msg, "secretvalue"));

    assert_int_equal(parse(env, "K=\"a\"secretvalue\n", &err), -1);
    assert_null(strstr(err.msg, "secretvalue"));

    assert_int_equal(parse(env, "1KEY=x\n", &err), -1);
    assert_int_equal(parse(env, "=x\n", &err), -1);
    assert_int_equal(parse(env, "KEY x\n", &err), -1);
}


static void
test_nul_and_long_values_are_refused(void **state)
{
    char               buf[TTAI_ENV_MAX_VALUE + 16];
    ttai_env_t        *env = *state;
    ttai_env_error_t   err;

    assert_int_equal(ttai_env_parse(env, "A=x\0y\n", 6, &err), -1);
    assert_int_equal(err.line, 1);

    memcpy(buf, "A=", 2);
    memset(buf + 2, 'v', TTAI_ENV_MAX_VALUE + 1);

    assert_int_equal(ttai_env_parse(env, buf, TTAI_ENV_MAX_VALUE + 3, &err),
                     -1);
    assert_null(ttai_env_get(env, "A"));
}


static void
test_set_overrides(void **state)
{
    ttai_env_t        *env = *state;
    ttai_env_error_t   err;

    assert_int_equal(parse(env, "A=file\n", &err), 0);
    assert_int_equal(ttai_env_set(env, "A", "env", 3, 0), 0);

    assert_value(env, "A", "env");
    assert_int_equal(ttai_env_get(env, "A")->line, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_pairs_and_comments,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotes_export_and_crlf,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_numbers_and_last_wins,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_errors_name_the_line_not_the_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_and_long_values_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_overrides, setup, teardown),
    };

    return cmocka_run_group_tests_name("ttai_env", tests, NULL, NULL);
}
