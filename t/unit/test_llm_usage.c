
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ttai_d1.h"
#include "ttai_llm_usage.h"

#include "db_steps.h"


/*
 * The record of LLM calls and the budgets read from it: a day's requests
 * and tokens per user, refused politely when spent, totals by model.
 */

static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0013_llm_usage.sql",
        NULL
    };

    db_open("llm-usage", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


static void
record(const char *user, const char *model, long long in, long long out,
    const char *outcome, long long at)
{
    ttai_llm_call_t  c;

    memset(&c, 0, sizeof(c));
    c.user = user;
    c.provider = "mock";
    c.model = model;
    c.input_tokens = in;
    c.output_tokens = out;
    c.latency_ms = 100;
    c.outcome = outcome;

    json_decref(db_run(ttai_d1_batch_of(1, ttai_llm_usage_record(&c, at))));
}


static void
test_budget(void **state)
{
    char     err[256];
    json_t  *r, *row;

    record("alice", "analyst", 100, 50, "ok", 1000);
    record("alice", "analyst", 200, 80, "ok", 5000);
    record("alice", "analyst", 0, 0, "overloaded", 6000);
    record("bob", "analyst", 999, 999, "ok", 5000);

    /* since 2000: two calls of alice's, 280 tokens */
    r = db_run(ttai_d1_batch_of(1, ttai_llm_usage_day("alice", 2000)));
    row = json_array_get(json_object_get(json_array_get(r, 0), "results"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "requests")), 2);
    assert_int_equal(json_integer_value(json_object_get(row, "tokens")), 280);

    assert_int_equal(ttai_llm_budget_check(row, 3, 1000, err, sizeof(err)),
                     0);
    assert_int_equal(ttai_llm_budget_check(row, 2, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "today's budget of 2 requests to the model "
                                "is spent (2 made)"));
    assert_int_equal(ttai_llm_budget_check(row, 0, 280, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "budget of 280 tokens is spent"));
    assert_int_equal(ttai_llm_budget_check(row, 0, 0, err, sizeof(err)), 0);
    json_decref(r);
}


static void
test_totals(void **state)
{
    json_t  *r, *rows, *a;

    record("alice", "analyst", 100, 50, "ok", 1000);
    record("alice", "analyst", 200, 80, "rate_limited", 5000);
    record("alice", "writer", 10, 10, "ok", 5000);
    record("bob", "analyst", 1, 1, "ok", 5000);

    r = db_run(ttai_d1_batch_of(1, ttai_llm_usage_totals("alice", 0)));
    rows = json_object_get(json_array_get(r, 0), "results");
    assert_int_equal(json_array_size(rows), 2);

    a = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(a, "model")),
                        "analyst");
    assert_int_equal(json_integer_value(json_object_get(a, "requests")), 2);
    assert_int_equal(json_integer_value(json_object_get(a, "input_tokens")),
                     300);
    assert_int_equal(json_integer_value(json_object_get(a, "errors")), 1);
    json_decref(r);

    r = db_run(ttai_d1_batch_of(1, ttai_llm_usage_totals(NULL, 2000)));
    rows = json_object_get(json_array_get(r, 0), "results");
    assert_int_equal(json_array_size(rows), 3);
    json_decref(r);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totals, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
