
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
#include <sodium.h>
#include <sqlite3.h>

#include "ttai_d1.h"
#include "db_steps.h"
#include "ttai_task.h"
#include "ttai_workflow.h"


/*
 * Workflows against a real SQLite migrated with the project's own
 * migration: turns that sleep, wait for an event, retry a failing step
 * and finish, every step written once; a turn whose lease was lost
 * writes nothing; terminate.
 */

#define T0  1800000000000LL




static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0006_workflows.sql",
        "migrations/0008_tasks.sql",
        NULL
    };

    db_open("wf", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


static void
expect(const char *sql, const char *want)
{
    char  *got;

    got = db_text(sql);

    if (strcmp(got, want) != 0) {
        fail_msg("%s: \"%s\", not \"%s\"", sql, got, want);
    }

    free(got);
}


/* one turn at now: 1 when an instance was claimed */

static int
turn(long long now, const char *lease)
{
    int              claimed;
    json_t          *r, *batch;
    ttai_wf_fetch_t  fetch;

    r = db_run(ttai_workflow_claim(lease, now, 30000));
    batch = ttai_workflow_turn(r, lease, now, 16, &claimed, &fetch);
    json_decref(r);

    if (!claimed) {
        assert_null(batch);
        return 0;
    }

    json_decref(db_run(batch));

    return 1;
}


static void
test_lifecycle(void **state)
{
    json_decref(db_run(ttai_workflow_create("wf1", "demo",
                    "{\"sleep_ms\":1000,\"event\":\"go\",\"fail\":2}", T0)));

    /* one, then the nap: asleep until T0 + 1000 */
    assert_true(turn(T0, "a"));
    expect("SELECT status || ' ' || wake_at FROM workflow_instances",
           "running 1800000001000");
    expect("SELECT group_concat(name || ':' || status, ',') FROM "
           "workflow_steps", "one:complete,nap:sleeping");
    expect("SELECT lease IS NULL FROM workflow_instances", "1");

    assert_false(turn(T0 + 999, "b"));

    /* the nap is over: the approval waits for the event "go" */
    assert_true(turn(T0 + 1000, "c"));
    expect("SELECT status || ' ' || waiting_for FROM workflow_instances",
           "waiting go");
    assert_false(turn(T0 + 5000, "d"));

    json_decref(db_run(ttai_workflow_event("wf1", "go",
                                        "{\"by\":\"alice\"}", T0 + 6000)));

    /* the event ends the wait; the flaky step fails twice, with backoff */
    assert_true(turn(T0 + 6000, "e"));
    expect("SELECT output FROM workflow_steps WHERE name = 'approval'",
           "{\"by\":\"alice\"}");
    expect("SELECT attempts || ' ' || status FROM workflow_steps "
           "WHERE name = 'flaky'", "1 failed");
    expect("SELECT wake_at - 1800000006000 FROM workflow_instances", "200");

    assert_false(turn(T0 + 6100, "f"));
    assert_true(turn(T0 + 6200, "g"));
    expect("SELECT attempts FROM workflow_steps WHERE name = 'flaky'", "2");
    expect("SELECT wake_at - 1800000006200 FROM workflow_instances", "400");

    /* the third attempt succeeds, and the rest runs to the end */
    assert_true(turn(T0 + 6600, "h"));
    expect("SELECT status || ' ' || output FROM workflow_instances",
           "complete {\"ok\":true}");
    expect("SELECT output FROM workflow_steps WHERE name = 'flaky'",
           "{\"after\":2}");
    expect("SELECT output FROM workflow_steps WHERE name = 'two'",
           "{\"one\":{\"started\":1800000000000},"
           "\"approval\":{\"by\":\"alice\"}}");

    /* every step was written once; the event was taken */
    expect("SELECT count(*) || ' ' || max(runs) || ' ' || min(runs) FROM "
           "workflow_steps", "5 1 1");
    expect("SELECT count(*) FROM workflow_events", "0");

    assert_false(turn(T0 + 99999999, "i"));
}


static void
test_lost_lease(void **state)
{
    int              claimed;
    json_t          *r, *late;
    ttai_wf_fetch_t  fetch;

    json_decref(db_run(ttai_workflow_create("wf2", "demo", "{}", T0)));

    /* a turn computed under lease "old", which expires meanwhile */
    r = db_run(ttai_workflow_claim("old", T0, 1000));
    late = ttai_workflow_turn(r, "old", T0, 16, &claimed, &fetch);
    json_decref(r);
    assert_true(claimed);

    /* another worker takes the instance and runs its first step */
    assert_true(turn(T0 + 2000, "new"));

    /* the late turn's statements find the lease taken: nothing changes */
    json_decref(db_run(late));
    expect("SELECT count(*) || ' ' || max(runs) FROM workflow_steps",
           "2 1");
    expect("SELECT wake_at FROM workflow_instances", "1800000003000");
}


/*
 * A task's instance: the turn that ends it says whose task ended, in its
 * last statement's rows, for the listening streams; the turns before it
 * say nothing
 */

static void
test_task_end(void **state)
{
    int              claimed;
    json_t          *r, *batch, *res, *rows;
    ttai_wf_fetch_t  fetch;

    json_decref(db_run(ttai_task_create("0123456789abcdef0123456789abcdef",
                                     "alice", "slow_compute", "slow_compute",
                                     "{\"seconds\":1}", T0)));

    /* the nap begins: not the end */
    r = db_run(ttai_workflow_claim("a", T0, 30000));
    batch = ttai_workflow_turn(r, "a", T0, 16, &claimed, &fetch);
    json_decref(r);
    res = db_run(batch);
    rows = json_object_get(json_array_get(res, json_array_size(res) - 1),
                           "results");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(res);

    /* after it, the end: alice's task, complete */
    r = db_run(ttai_workflow_claim("b", T0 + 1000, 30000));
    batch = ttai_workflow_turn(r, "b", T0 + 1000, 16, &claimed, &fetch);
    json_decref(r);
    assert_int_equal(claimed, 1);
    res = db_run(batch);
    rows = json_object_get(json_array_get(res, json_array_size(res) - 1),
                           "results");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(rows, 0), "user_id")), "alice");
    assert_string_equal(ttai_task_status(json_string_value(json_object_get(
        json_array_get(rows, 0), "status"))), "completed");
    json_decref(res);
}


static void
test_terminate_and_unknown(void **state)
{
    json_decref(db_run(ttai_workflow_create("wf3", "demo", "{}", T0)));
    assert_true(turn(T0, "a"));
    json_decref(db_run(ttai_workflow_terminate("wf3", T0 + 1)));
    assert_false(turn(T0 + 5000, "b"));
    expect("SELECT status FROM workflow_instances WHERE id = 'wf3'",
           "terminated");

    json_decref(db_run(ttai_workflow_create("wf4", "nope", "{}", T0)));
    assert_true(turn(T0 + 6000, "c"));
    expect("SELECT status || ': ' || error FROM workflow_instances "
           "WHERE id = 'wf4'", "errored: no workflow named nope");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_and_unknown, setup,
                                        teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
