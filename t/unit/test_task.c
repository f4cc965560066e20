
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
#include "db_steps.h"
#include "ttai_task.h"


/*
 * Tasks as rows, against a real SQLite migrated with the project's
 * workflows and tasks migrations: a task is made with its instance, read
 * only by its user, shown with the status its instance has, cancelled
 * while it runs and not after.
 */

#define NOW  1800000000000LL
#define ID   "0123456789abcdef0123456789abcdef"




static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0006_workflows.sql",
        "migrations/0008_tasks.sql",
        NULL
    };

    db_open("task", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


static json_t *
row_of(json_t *res, size_t i)
{
    return json_array_get(json_object_get(json_array_get(res, i),
                                          "results"), 0);
}


static void
set_status(const char *status, const char *output, const char *error)
{
    char  sql[512];

    snprintf(sql, sizeof(sql), "UPDATE workflow_instances SET status = '%s', "
             "output = %s, error = %s, updated_at = %lld", status, output,
             error, NOW + 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}


static void
test_lifecycle(void **state)
{
    json_t  *res, *task;

    json_decref(db_run(ttai_task_create(ID, "alice", "slow_compute",
                                     "slow_compute", "{\"seconds\":2}",
                                     NOW)));

    /* another user sees nothing */
    res = db_run(ttai_task_get(ID, "bob"));
    assert_null(row_of(res, 0));
    json_decref(res);

    res = db_run(ttai_task_get(ID, "alice"));
    task = ttai_task_object(row_of(res, 0), 1);
    json_decref(res);

    assert_string_equal(json_string_value(json_object_get(task, "taskId")),
                        ID);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "working");
    assert_string_equal(json_string_value(json_object_get(task,
                                                          "createdAt")),
                        "2027-01-15T08:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(task, "ttlMs")),
                     TTAI_TASK_TTL_MS);
    assert_null(json_object_get(task, "result"));
    json_decref(task);

    /* the instance's output is the tool's result */
    set_status("complete", "'{\"content\":[{\"type\":\"text\","
               "\"text\":\"done\"}]}'", "NULL");
    res = db_run(ttai_task_get(ID, "alice"));
    task = ttai_task_object(row_of(res, 0), 1);
    json_decref(res);

    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "completed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(json_object_get(task, "result"), "content"), 0),
        "text")), "done");
    assert_string_equal(json_string_value(json_object_get(task,
                                                          "lastUpdatedAt")),
                        "2027-01-15T08:00:05.000Z");
    json_decref(task);

    /* an ended task is not cancelled: it stays as it ended */
    res = db_run(ttai_task_cancel(ID, "alice", NOW + 9000));
    assert_non_null(row_of(res, 1));
    json_decref(res);
    res = db_run(ttai_task_get(ID, "alice"));
    task = ttai_task_object(row_of(res, 0), 0);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "completed");
    json_decref(task);
    json_decref(res);
}


static void
test_cancel_and_fail(void **state)
{
    json_t  *res, *task;

    json_decref(db_run(ttai_task_create(ID, "alice", "slow_compute",
                                     "slow_compute", "{}", NOW)));

    /* bob's cancel finds nothing and changes nothing */
    res = db_run(ttai_task_cancel(ID, "bob", NOW));
    assert_null(row_of(res, 1));
    json_decref(res);

    res = db_run(ttai_task_cancel(ID, "alice", NOW));
    assert_non_null(row_of(res, 1));
    json_decref(res);

    res = db_run(ttai_task_get(ID, "alice"));
    task = ttai_task_object(row_of(res, 0), 1);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "cancelled");
    assert_null(json_object_get(task, "result"));
    json_decref(task);
    json_decref(res);

    set_status("errored", "NULL", "'it broke'");
    res = db_run(ttai_task_get(ID, "alice"));
    task = ttai_task_object(row_of(res, 0), 1);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "failed");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
        task, "error"), "code")), -32603);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        task, "error"), "message")), "it broke");
    assert_null(json_object_get(task, "result"));
    json_decref(task);
    json_decref(res);

    assert_null(ttai_task_object(NULL, 1));
}


/* what a task still asks: the last ask's questions less every answer */

static void
test_inputs(void **state)
{
    json_t  *task, *results;

    results = json_loads(
        "[{\"results\":[{\"status\":\"waiting\",\"waiting_for\":"
        "\"input\"}]},"
        " {\"results\":[{\"output\":\"{\\\"inputRequests\\\":{\\\"a\\\":"
        "{\\\"method\\\":\\\"elicitation/create\\\"},\\\"b\\\":"
        "{\\\"method\\\":\\\"elicitation/create\\\"}}}\"}]},"
        " {\"results\":[{\"answer\":\"{\\\"a\\\":{\\\"action\\\":"
        "\\\"accept\\\"},\\\"zz\\\":{}}\"}]}]", 0, NULL);
    assert_non_null(results);

    task = json_pack("{s:s}", "status", "working");
    assert_int_equal(ttai_task_inputs(task, results), 0);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "input_required");
    assert_int_equal(json_object_size(json_object_get(task,
                                                      "inputRequests")), 1);
    assert_non_null(json_object_get(json_object_get(task, "inputRequests"),
                                    "b"));
    json_decref(task);

    /* the other answered too, not yet taken by the workflow: working */
    assert_int_equal(json_array_append_new(json_object_get(
        json_array_get(results, 2), "results"),
        json_pack("{s:s}", "answer", "{\"b\":{\"action\":\"decline\"}}")),
        0);
    task = json_pack("{s:s}", "status", "working");
    assert_int_equal(ttai_task_inputs(task, results), 0);
    assert_string_equal(json_string_value(json_object_get(task, "status")),
                        "working");
    assert_null(json_object_get(task, "inputRequests"));
    json_decref(task);

    /* a task that waits for something else asks nothing */
    json_object_set_new(json_array_get(json_object_get(
        json_array_get(results, 0), "results"), 0), "waiting_for",
        json_string("approval"));
    task = json_pack("{s:s}", "status", "working");
    assert_int_equal(ttai_task_inputs(task, results), 0);
    assert_null(json_object_get(task, "inputRequests"));
    json_decref(task);

    json_decref(results);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_fail, setup,
                                        teardown),
        cmocka_unit_test(test_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
