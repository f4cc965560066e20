
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
#include "ttai_order_store.h"

#include "db_steps.h"


/*
 * Trading's tables: a confirmation's nonce is used once (a second use
 * fails in the database, whoever tries); the audit keeps every attempt
 * and refuses to change or lose one.
 */

static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0001_initial.sql",
        "migrations/0009_trading.sql",
        "migrations/0010_trading_grants.sql",
        "migrations/0011_trading_notional.sql",
        NULL
    };

    db_open("orders", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


/* a batch's failure, or NULL when it ran */

static char *
db_refused(json_t *batch)
{
    json_t           *r;
    ttai_d1_error_t   err;

    assert_non_null(batch);
    r = ttai_d1_batch(db, batch, NULL, &err);
    json_decref(batch);

    if (r != NULL) {
        json_decref(r);
        return NULL;
    }

    return strdup(err.msg);
}


static void
db_exec(const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}


/* the row the use batch ends with */

static json_t *
db_use(const char *nonce, const char *user, const char *client_id,
    long long now, long long *changed)
{
    json_t  *r, *audit, *row;

    audit = json_pack("{s:s, s:{s:s}, s:s, s:s}", "tool", "place_order",
                      "request", "type", "Limit", "decision", "confirmed",
                      "client_id", client_id);
    r = db_run(ttai_order_use(nonce, user, client_id, now, audit));
    json_decref(audit);

    *changed = json_integer_value(json_object_get(json_object_get(
                   json_array_get(r, 0), "meta"), "changes"));
    row = json_incref(json_array_get(json_object_get(json_array_get(r, 2),
                                                     "results"), 0));
    json_decref(r);

    return row;
}


static void
test_single_use(void **state)
{
    json_t     *row;
    long long   changed;

    db_exec("INSERT INTO users (id, trading) VALUES ('alice', 1), "
            "('mallory', 1), ('carol', 0)");

    row = db_use("n1", "alice", "ttai-1", 1000, &changed);
    assert_int_equal(changed, 1);
    assert_string_equal(json_string_value(json_object_get(row, "client_id")),
                        "ttai-1");
    assert_int_equal(json_integer_value(json_object_get(row, "trading")), 1);
    json_decref(row);

    /* used: taken by nobody else, and the row says by what */
    row = db_use("n1", "alice", "ttai-1", 2000, &changed);
    assert_int_equal(changed, 0);
    assert_string_equal(json_string_value(json_object_get(row, "client_id")),
                        "ttai-1");
    json_decref(row);

    row = db_use("n1", "mallory", "ttai-9", 2000, &changed);
    assert_int_equal(changed, 0);
    json_decref(row);

    /* a user who may not trade takes nothing */
    row = db_use("n2", "carol", "ttai-2", 2000, &changed);
    assert_int_equal(changed, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "trading")), 0);
    assert_true(json_is_null(json_object_get(row, "client_id")));
    json_decref(row);

    assert_int_equal(db_scalar("SELECT count(*) FROM order_confirmations"),
                     1);
    assert_int_equal(db_scalar("SELECT used_at FROM order_confirmations"),
                     1000);

    /* the audit has the one attempt that took it, and no other */
    assert_int_equal(db_scalar("SELECT count(*) FROM order_audit"), 1);
    assert_int_equal(db_scalar("SELECT count(*) FROM order_audit WHERE "
                               "user_id = 'alice' AND decision = "
                               "'confirmed'"), 1);
}


static void
test_day(void **state)
{
    json_t  *r, *row, *fields;

    db_exec("INSERT INTO users (id, trading) VALUES ('alice', 1)");

    fields = json_pack("{s:s, s:{}, s:s, s:f}", "tool", "place_order",
                       "request", "decision", "sent", "notional", 1500.5);
    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_audit("alice", fields,
                                                            1000))));
    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_audit("alice", fields,
                                                            5000))));
    json_object_set_new(fields, "decision", json_string("refused"));
    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_audit("alice", fields,
                                                            6000))));
    json_decref(fields);

    /* since 2000: one sent order counts, the refused one does not */
    r = db_run(ttai_order_day("alice", 2000));
    row = json_array_get(json_object_get(json_array_get(r, 0), "results"), 0);
    assert_true(json_number_value(json_object_get(row, "day")) == 1500.5);
    assert_int_equal(json_integer_value(json_object_get(row, "trading")), 1);
    json_decref(r);

    r = db_run(ttai_order_day("nobody", 0));
    row = json_array_get(json_object_get(json_array_get(r, 0), "results"), 0);
    assert_true(json_is_null(json_object_get(row, "trading")));
    json_decref(r);
}


static void
test_audit(void **state)
{
    char    *why, *text;
    json_t  *fields, *r;

    fields = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:i, s:{s:i}}",
                       "account", "5WT01", "tool", "place_order",
                       "client_id", "ttai-1", "request", "type", "Limit",
                       "decision", "sent", "status", 201, "response",
                       "id", 42);
    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_audit("alice", fields,
                                                            1000))));
    json_decref(fields);

    fields = json_pack("{s:s, s:{s:s}, s:s, s:s}", "tool", "place_order",
                       "request", "type", "Market", "decision", "refused",
                       "reason", "a token for another order");
    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_audit("bob", fields,
                                                            2000))));
    json_decref(fields);

    /* a row without its tool, request or decision is not written */
    fields = json_pack("{s:s}", "tool", "place_order");
    assert_null(ttai_order_audit("bob", fields, 3000));
    json_decref(fields);

    text = db_text("SELECT request FROM order_audit WHERE user_id = 'alice'");
    assert_string_equal(text, "{\"type\":\"Limit\"}");
    free(text);
    text = db_text("SELECT account FROM order_audit WHERE user_id = 'bob'");
    assert_string_equal(text, "NULL");
    free(text);

    /* append-only */
    why = db_refused(ttai_d1_batch_of(1, ttai_d1_stmt("UPDATE order_audit "
                     "SET decision = 'sent' WHERE user_id = 'bob'",
                     json_array())));
    assert_non_null(why);
    assert_non_null(strstr(why, "append-only"));
    free(why);

    why = db_refused(ttai_d1_batch_of(1, ttai_d1_stmt("DELETE FROM "
                     "order_audit", json_array())));
    assert_non_null(why);
    free(why);
    assert_int_equal(db_scalar("SELECT count(*) FROM order_audit"), 2);

    /* the list: one user's, or everyone's, newest first */
    r = db_run(ttai_d1_batch_of(1, ttai_order_audit_list("alice", 0, 10)));
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0),
                                                     "results")), 1);
    json_decref(r);

    r = db_run(ttai_d1_batch_of(1, ttai_order_audit_list(NULL, 0, 10)));
    assert_string_equal(json_string_value(json_object_get(json_array_get(
        json_object_get(json_array_get(r, 0), "results"), 0), "user_id")),
        "bob");
    json_decref(r);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
