
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
        "migrations/0009_trading.sql",
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
test_single_use(void **state)
{
    char  *why;

    json_decref(db_run(ttai_d1_batch_of(1, ttai_order_use("n1", "alice",
                                                          "ttai-1", 1000))));

    why = db_refused(ttai_d1_batch_of(1, ttai_order_use("n1", "alice",
                                                        "ttai-1", 2000)));
    assert_non_null(why);
    assert_non_null(strstr(why, "UNIQUE"));
    free(why);

    /* not even by another user */
    why = db_refused(ttai_d1_batch_of(1, ttai_order_use("n1", "mallory",
                                                        "ttai-9", 2000)));
    assert_non_null(why);
    free(why);

    assert_int_equal(db_scalar("SELECT count(*) FROM order_confirmations"),
                     1);
    assert_int_equal(db_scalar("SELECT used_at FROM order_confirmations"),
                     1000);
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
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
