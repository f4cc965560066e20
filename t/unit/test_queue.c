
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
#include "ttai_queue.h"


/*
 * The queues' statements against a real SQLite, migrated with the
 * project's own migration: claims, acks that happen once, leases that
 * keep a late delivery from changing anything, retries with backoff,
 * dead letters, effects in the ack's transaction.
 */

#define NOW  1800000000000LL


static ttai_queue_conf_t   conf;


static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0005_queues.sql",
        NULL
    };

    db_open("queue", migrations);

    ttai_queue_conf_default(&conf, "jobs");
    conf.max_batch_size = 10;
    conf.max_retries = 2;
    conf.retry_delay = 1000;

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


/* claims a batch; returns its messages (NULL: none) */

static json_t *
claim(const char *lease, long long now, int force)
{
    json_t  *r, *m;

    r = db_run(ttai_queue_claim(&conf, lease, now, force));
    m = ttai_queue_messages(r);
    json_decref(r);

    return m;
}


static void
send(int n, const char *body, const char *queue)
{
    int  i;

    for (i = 0; i < n; i++) {
        json_decref(db_run(ttai_queue_send(queue ? queue : "jobs", body, NOW,
                                        0)));
    }
}


static void
test_claims(void **state)
{
    json_t  *m;

    send(25, "{}", NULL);
    send(3, "{}", "other");

    /* full batches go at once, in order */
    m = claim("a", NOW, 0);
    assert_int_equal(json_array_size(m), 10);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 0),
                                                        "attempts")), 1);
    json_decref(m);

    m = claim("b", NOW, 0);
    assert_int_equal(json_array_size(m), 10);
    json_decref(m);

    /* five are not a batch until the oldest has waited its timeout */
    assert_null(claim("c", NOW, 0));
    assert_null(claim("c", NOW + conf.max_batch_timeout - 1, 0));
    m = claim("c", NOW + conf.max_batch_timeout, 0);
    assert_int_equal(json_array_size(m), 5);
    json_decref(m);

    /* nothing is ready now: all 25 are in flight; the other queue waits */
    assert_null(claim("d", NOW, 1));
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'other' AND lease IS NULL"), 3);

    /* a batch not settled in time is delivered again, a second attempt */
    m = claim("e", NOW + conf.visibility + conf.max_batch_timeout, 1);
    assert_int_equal(json_array_size(m), 10);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 0),
                                                        "attempts")), 2);
    json_decref(m);
}


static void
test_settle(void **state)
{
    size_t                i;
    json_t               *m, *late;
    ttai_queue_outcome_t  out;

    send(10, "{}", NULL);
    m = claim("L1", NOW, 0);
    assert_int_equal(json_array_size(m), 10);

    ttai_queue_outcome_init(&out);

    for (i = 0; i < 4; i++) {
        json_array_append(out.acks,
                          json_object_get(json_array_get(m, i), "id"));
    }

    json_array_append_new(out.retries, json_pack("{s:O, s:i}", "id",
                              json_object_get(json_array_get(m, 4), "id"),
                              "delay", -1));
    json_array_append_new(out.effects, json_pack("{s:s, s:[]}", "sql",
                              "CREATE TABLE done (x)", "params"));
    json_array_append_new(out.sends, json_pack("{s:s, s:s}", "queue",
                                               "next", "body", "{\"n\":1}"));

    /* a delivery whose lease was lost changes nothing of the messages */
    json_decref(db_run(ttai_queue_settle(&conf, "stale", m, &out, NOW)));
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_acks"), 0);
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'jobs'"), 10);
    json_decref(db_run(json_pack("[{s:s, s:[]}]", "sql", "DROP TABLE done",
                              "params")));
    json_decref(db_run(json_pack("[{s:s, s:[s]}]", "sql",
                              "DELETE FROM queue_messages WHERE queue = ?",
                              "params", "next")));

    json_decref(db_run(ttai_queue_settle(&conf, "L1", m, &out, NOW)));

    assert_int_equal(db_scalar("SELECT count(*) FROM queue_acks WHERE "
                            "outcome = 'acked'"), 4);
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'jobs'"), 6);
    assert_int_equal(db_scalar("SELECT count(*) FROM done"), 0);
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'next'"), 1);

    /* retried after the backoff; the five held stay in flight */
    assert_int_equal(db_scalar("SELECT visible_at FROM queue_messages WHERE "
                            "lease IS NULL AND queue = 'jobs'"),
                     NOW + 1000);

    /* acked again (a second settle of the same batch): still once */
    json_array_clear(out.effects);
    json_array_clear(out.sends);
    json_decref(db_run(ttai_queue_settle(&conf, "L1", m, &out, NOW)));
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_acks"), 4);

    /* an ack of an id the batch does not hold is ignored */
    ttai_queue_outcome_free(&out);
    ttai_queue_outcome_init(&out);
    json_array_append_new(out.acks, json_integer(99999));
    late = ttai_queue_settle(&conf, "L1", m, &out, NOW);
    assert_non_null(late);
    assert_int_equal(json_array_size(late), 0);
    json_decref(late);

    ttai_queue_outcome_free(&out);
    json_decref(m);
}


static void
test_dead_letters(void **state)
{
    int                   round;
    json_t               *m;
    long long             now;
    ttai_queue_outcome_t  out;

    send(1, "{\"retry\":9}", NULL);
    snprintf(conf.dead_letter, sizeof(conf.dead_letter), "jobs-dlq");
    conf.retry_delay = 0;

    /* max_retries 2: three deliveries, then the dead-letter queue */
    for (round = 1, now = NOW; round <= 3; round++, now += 1) {
        m = claim("R", now, 1);
        assert_non_null(m);
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(m, 0), "attempts")), round);

        ttai_queue_outcome_init(&out);
        assert_int_equal(ttai_queue_consumer_find("echo")->consume(&conf, m,
                                                                   &out), 0);
        assert_int_equal(json_array_size(out.retries), 1);
        json_decref(db_run(ttai_queue_settle(&conf, "R", m, &out, now)));
        ttai_queue_outcome_free(&out);
        json_decref(m);
    }

    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'jobs'"), 0);
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'jobs-dlq' AND dead_from = 'jobs' "
                            "AND attempts = 0"), 1);

    /* without a dead-letter queue, it is dropped, and the log says so */
    conf.dead_letter[0] = '\0';
    send(1, "{\"retry\":9}", NULL);

    for (round = 1; round <= 3; round++) {
        m = claim("S", NOW + 10 + round, 1);
        ttai_queue_outcome_init(&out);
        ttai_queue_consumer_find("echo")->consume(&conf, m, &out);
        json_decref(db_run(ttai_queue_settle(&conf, "S", m, &out,
                                          NOW + 10 + round)));
        ttai_queue_outcome_free(&out);
        json_decref(m);
    }

    assert_int_equal(db_scalar("SELECT count(*) FROM queue_acks WHERE "
                            "outcome = 'dropped'"), 1);
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages WHERE "
                            "queue = 'jobs'"), 0);
}


static void
test_echo_and_backoff(void **state)
{
    json_t               *m;
    ttai_queue_outcome_t  out;

    send(1, "{\"hold\":1}", NULL);
    send(1, "plain text, not JSON", NULL);

    m = claim("H", NOW, 1);
    ttai_queue_outcome_init(&out);
    ttai_queue_consumer_find("echo")->consume(&conf, m, &out);
    assert_int_equal(json_array_size(out.acks), 1);
    assert_int_equal(json_array_size(out.retries), 0);
    ttai_queue_outcome_free(&out);
    json_decref(m);

    assert_null(ttai_queue_consumer_find("nope"));

    conf.retry_delay = 1000;
    assert_int_equal(ttai_queue_backoff(&conf, 1), 1000);
    assert_int_equal(ttai_queue_backoff(&conf, 2), 2000);
    assert_int_equal(ttai_queue_backoff(&conf, 4), 8000);
    assert_int_equal(ttai_queue_backoff(&conf, 40), TTAI_QUEUE_BACKOFF_MAX);

    assert_true(ttai_queue_name_ok("alerts-webhook_2"));
    assert_false(ttai_queue_name_ok(""));
    assert_false(ttai_queue_name_ok("Alerts"));
    assert_false(ttai_queue_name_ok("a b"));
}


static void
test_stats(void **state)
{
    json_t  *r, *rows;

    send(3, "{}", NULL);
    json_decref(claim("T", NOW, 1));
    send(2, "{}", NULL);

    r = db_run(ttai_queue_stats(NOW));
    rows = json_object_get(json_array_get(r, 0), "results");
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows,
                                                                       0),
                                                        "ready")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows,
                                                                       0),
                                                        "in_flight")), 3);
    json_decref(r);

    json_decref(db_run(ttai_queue_purge("jobs")));
    assert_int_equal(db_scalar("SELECT count(*) FROM queue_messages"), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_and_backoff, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
