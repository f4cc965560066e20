
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
#include "ttai_monitor.h"


/*
 * The monitor against a real SQLite migrated with the project's own
 * migration: rules checked as they are made, an evaluation that asks
 * for the calls its rules need, fires once per crossing (the band keeps
 * a wobble from firing again), clears, fires again; a pass whose lease
 * was taken writes nothing; positions recorded with their P/L; a failed
 * call kept as the rule's error; webhooks only to the operator's hosts.
 */

#define NOW  1800000000000LL




static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0007_monitor.sql",
        NULL
    };

    db_open("monitor", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


static void
make_rule(const char *user, const char *id, const char *args_text,
    const char *webhook)
{
    char     err[320];
    json_t  *args, *params;

    args = json_loads(args_text, 0, NULL);
    assert_non_null(args);
    params = ttai_monitor_params(json_string_value(json_object_get(args,
                                                                   "kind")),
                                 args, err, sizeof(err));
    if (params == NULL) {
        fail_msg("params refused: %s", err);
    }

    json_decref(db_run(ttai_monitor_create(user, id,
                        json_string_value(json_object_get(args, "kind")),
                        params, NULL, webhook, NOW - 60000)));
    json_decref(params);
    json_decref(args);
}


/*
 * One pass over the users that are due at now: each call the
 * evaluation asks for is answered by answer(); returns the fired list
 */

typedef const char *(*answer_pt)(const char *call);

static json_t *
pass(long long now, const char *lease, const char *write_lease,
    answer_pt answer, int *calls)
{
    int               oom;
    char             *body;
    size_t            i;
    json_t           *users, *u, *batch, *fired, *res;
    const char       *reply;
    ttai_mon_eval_t  *ev;

    res = db_run(ttai_monitor_claim(lease, now, 60000, 100));
    users = ttai_monitor_claimed(res);
    json_decref(res);
    assert_non_null(users);

    batch = json_array();
    fired = json_array();

    json_array_foreach(users, i, u) {
        ev = ttai_monitor_eval_create(json_incref(u), now);
        assert_non_null(ev);

        while ((body = ttai_monitor_eval_next(ev, &oom)) != NULL) {
            if (calls) {
                (*calls)++;
            }

            reply = answer(body);
            free(body);
            assert_int_equal(ttai_monitor_eval_feed(ev, reply,
                                                    strlen(reply)), 0);
        }

        assert_int_equal(oom, 0);
        assert_int_equal(ttai_monitor_eval_finish(ev, write_lease,
                                                  now + 60000, batch,
                                                  fired), 0);
        ttai_monitor_eval_free(ev);
    }

    json_decref(users);

    if (json_array_size(batch)) {
        json_decref(db_run(batch));
    } else {
        json_decref(batch);
    }

    return fired;
}


static double  price_now;

static const char *
answer_quotes(const char *call)
{
    static char  buf[512];

    assert_non_null(strstr(call, "\"get_quotes\""));
    assert_non_null(strstr(call, "AAPL"));

    snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
             "{\"content\":[],\"structuredContent\":{\"quotes\":[{\"symbol\":"
             "\"AAPL\",\"price\":%.2f,\"prev_close\":100}],\"missing\":[]}}}",
             price_now);

    return buf;
}


static void
test_params(void **state)
{
    char         err[320];
    json_t      *args, *p;

    args = json_loads("{\"kind\":\"price_cross\",\"symbol\":\"aapl\","
                      "\"direction\":\"above\",\"level\":150,"
                      "\"amount\":3}", 0, NULL);
    p = ttai_monitor_params("price_cross", args, err, sizeof(err));
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "symbol")),
                        "AAPL");
    assert_null(json_object_get(p, "amount"));
    json_decref(p);
    json_decref(args);

    args = json_loads("{\"symbol\":\"AAPL\",\"direction\":\"up\","
                      "\"level\":150}", 0, NULL);
    assert_null(ttai_monitor_params("price_cross", args, err, sizeof(err)));
    assert_non_null(strstr(err, "\"above\" or \"below\""));
    json_decref(args);

    args = json_loads("{\"symbol\":\"AAPL\",\"direction\":\"above\"}", 0,
                      NULL);
    assert_null(ttai_monitor_params("price_cross", args, err, sizeof(err)));
    assert_non_null(strstr(err, "needs level"));
    json_decref(args);

    args = json_loads("{\"symbol\":\"AA;PL\",\"percent\":3}", 0, NULL);
    assert_null(ttai_monitor_params("day_move", args, err, sizeof(err)));
    assert_non_null(strstr(err, "not a symbol"));
    json_decref(args);

    args = json_loads("{\"percent\":0}", 0, NULL);
    assert_null(ttai_monitor_params("position_pnl", args, err,
                                    sizeof(err)));
    json_decref(args);

    args = json_loads("{}", 0, NULL);
    assert_null(ttai_monitor_params("gamma_flip", args, err, sizeof(err)));
    assert_non_null(strstr(err, "kind must be one of"));
    p = ttai_monitor_params("order_filled", args, err, sizeof(err));
    assert_non_null(p);
    json_decref(p);
    json_decref(args);
}


static void
test_webhook_allowed(void **state)
{
    char               err[200];
    const char *const  allow[] = { "http://127.0.0.1:9000",
                                   "https://hooks.example.com/ttai/" };

    assert_true(ttai_monitor_webhook_allowed("http://127.0.0.1:9000/x",
                                             allow, 2, err, sizeof(err)));
    assert_true(ttai_monitor_webhook_allowed(
        "https://hooks.example.com/ttai/abc", allow, 2, err, sizeof(err)));

    /* the same prefix, another authority or path */
    assert_false(ttai_monitor_webhook_allowed("http://127.0.0.1:90001/",
                                              allow, 2, err, sizeof(err)));
    assert_false(ttai_monitor_webhook_allowed(
        "https://hooks.example.com/other", allow, 2, err, sizeof(err)));
    assert_false(ttai_monitor_webhook_allowed("http://10.0.0.1/", allow, 2,
                                              err, sizeof(err)));
    assert_non_null(strstr(err, "not one this server sends"));
    assert_false(ttai_monitor_webhook_allowed(
        "http://127.0.0.1:9000@evil.example/", allow, 2, err, sizeof(err)));
    assert_false(ttai_monitor_webhook_allowed("file:///etc/passwd", allow, 2,
                                              err, sizeof(err)));
    assert_false(ttai_monitor_webhook_allowed("http://127.0.0.1:9000/",
                                              NULL, 0, err, sizeof(err)));
}


static void
test_crossing_fires_once(void **state)
{
    int      calls;
    json_t  *fired;

    make_rule("alice", "alr_0000000000000001",
              "{\"kind\":\"price_cross\",\"symbol\":\"AAPL\","
              "\"direction\":\"above\",\"level\":150}", NULL);
    assert_int_equal(db_scalar("SELECT count(*) FROM monitor_users"), 1);

    /* below the level: nothing */
    price_now = 149;
    calls = 0;
    fired = pass(NOW, "L1", "L1", answer_quotes, &calls);
    assert_int_equal(calls, 1);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 0);
    assert_int_equal(db_scalar("SELECT last_value = 149 FROM alert_rules"), 1);

    /* not due again before the interval */
    fired = pass(NOW + 1000, "L2", "L2", answer_quotes, &calls);
    assert_int_equal(calls, 1);
    json_decref(fired);

    /* crosses: fires */
    price_now = 151;
    fired = pass(NOW + 60000, "L3", "L3", answer_quotes, NULL);
    assert_int_equal(json_array_size(fired), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(fired, 0), "subject")), "AAPL");
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 1);

    /* still above, and a wobble inside the band: nothing more */
    price_now = 152;
    fired = pass(NOW + 120000, "L4", "L4", answer_quotes, NULL);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);
    price_now = 149.9;
    fired = pass(NOW + 180000, "L5", "L5", answer_quotes, NULL);
    json_decref(fired);
    price_now = 150.5;
    fired = pass(NOW + 240000, "L6", "L6", answer_quotes, NULL);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 1);

    /* clearly back below: armed again; and up again: a second alert */
    price_now = 140;
    fired = pass(NOW + 300000, "L7", "L7", answer_quotes, NULL);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alert_state"), 0);
    price_now = 155;
    fired = pass(NOW + 360000, "L8", "L8", answer_quotes, NULL);
    assert_int_equal(json_array_size(fired), 1);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 2);
    assert_int_equal(db_scalar("SELECT passes FROM monitor_users"), 7);
}


static void
test_late_pass_writes_nothing(void **state)
{
    json_t  *fired;

    make_rule("bob", "alr_0000000000000002",
              "{\"kind\":\"price_cross\",\"symbol\":\"AAPL\","
              "\"direction\":\"below\",\"level\":150}", NULL);

    /* claimed by one lease, written with another: not a statement lands */
    price_now = 120;
    fired = pass(NOW, "A", "B", answer_quotes, NULL);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 0);
    assert_int_equal(db_scalar("SELECT count(*) FROM alert_state"), 0);
    assert_int_equal(db_scalar("SELECT evaluated_at IS NULL FROM alert_rules"),
                     1);

    /* and after its lease, the next claim takes the user again */
    fired = pass(NOW + 61000, "C", "C", answer_quotes, NULL);
    assert_int_equal(json_array_size(fired), 1);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 1);
}


static const char *
answer_account(const char *call)
{
    if (strstr(call, "\"get_positions\"")) {
        return "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[],"
               "\"structuredContent\":{\"account_number\":\"5WT01\","
               "\"total\":2,\"returned\":2,\"truncated\":false,\"positions\":["
               "{\"symbol\":\"AAPL\",\"underlying\":\"AAPL\","
               "\"instrument_type\":\"Equity\",\"quantity\":100,"
               "\"average_open_price\":100,"
               "\"close_price\":110,\"multiplier\":1,\"cost_effect\":\"Debit\","
               "\"expires_at\":null},"
               "{\"symbol\":\"SPY   270115P00500000\",\"underlying\":\"SPY\","
               "\"instrument_type\":\"Equity Option\",\"quantity\":-2,"
               "\"average_open_price\":5,\"close_price\":4,\"multiplier\":100,"
               "\"cost_effect\":\"Credit\","
               "\"expires_at\":\"2027-01-15T21:15:00.000+00:00\"}]}}}";
    }

    if (strstr(call, "\"get_balances\"")) {
        return "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{"
               "\"type\":\"text\",\"text\":\"Tool get_balances failed: the "
               "user has several accounts\"}],\"isError\":true}}";
    }

    /* both positions' symbols are asked for */
    assert_non_null(strstr(call, "\"get_quotes\""));
    assert_non_null(strstr(call, "SPY   270115P00500000"));

    return "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[],"
           "\"structuredContent\":{\"quotes\":[{\"symbol\":\"AAPL\","
           "\"price\":125},{\"symbol\":\"SPY   270115P00500000\","
           "\"price\":4}],\"missing\":[]}}}";
}


static void
test_positions_and_errors(void **state)
{
    int      calls;
    json_t  *fired;

    make_rule("carol", "alr_0000000000000003",
              "{\"kind\":\"position_pnl\",\"percent\":20}", NULL);
    make_rule("carol", "alr_0000000000000004",
              "{\"kind\":\"buying_power_below\",\"amount\":1000}", NULL);

    calls = 0;
    fired = pass(NOW, "P", "P", answer_account, &calls);
    assert_int_equal(calls, 3);

    /* AAPL +25% and the short put +20%: both past +20% */
    assert_int_equal(json_array_size(fired), 2);
    json_decref(fired);

    assert_int_equal(db_scalar("SELECT count(*) FROM positions"), 2);
    assert_int_equal(db_scalar("SELECT round(pnl_percent) FROM positions "
                           "WHERE symbol = 'AAPL'"), 25);
    assert_int_equal(db_scalar("SELECT round(pnl) FROM positions "
                           "WHERE underlying = 'SPY'"), 200);
    assert_int_equal(db_scalar("SELECT last_error LIKE '%several accounts%' "
                           "FROM alert_rules WHERE kind = "
                           "'buying_power_below'"), 1);
    assert_int_equal(db_scalar("SELECT last_error IS NOT NULL FROM "
                           "monitor_users"), 1);

    /* the history the tool reads: the user's own rows */
    fired = db_run(ttai_monitor_history("carol", NULL, "SPY", 0, 10));
    assert_int_equal(json_array_size(json_object_get(json_array_get(fired,
                                                                    0),
                                                     "results")), 1);
    json_decref(fired);
    fired = db_run(ttai_monitor_history("mallory", NULL, NULL, 0, 10));
    assert_int_equal(json_array_size(json_object_get(json_array_get(fired,
                                                                    0),
                                                     "results")), 0);
    json_decref(fired);

    /* positions older than the history are pruned */
    json_decref(db_run(ttai_d1_batch_of(1,
                    ttai_monitor_prune(NOW + 86400000,
                                                           1000))));
    assert_int_equal(db_scalar("SELECT count(*) FROM positions"), 0);
}


/* the live greeks get_position_greeks answers, for the greeks rules */

static double  net_delta_now, short_delta_now;

static const char *
answer_greeks(const char *call)
{
    static char  buf[1024];

    assert_non_null(strstr(call, "\"get_position_greeks\""));

    snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
             "{\"content\":[],\"structuredContent\":{\"account_number\":"
             "\"5WT01\",\"positions\":["
             "{\"symbol\":\"AAPL  270115C00165000\",\"underlying\":\"AAPL\","
             "\"quantity\":-1,\"delta\":%.2f,\"contract_delta\":%.4f},"
             "{\"symbol\":\"SPY   270219P00560000\",\"underlying\":\"SPY\","
             "\"quantity\":2,\"delta\":-80,\"contract_delta\":-0.4},"
             "{\"symbol\":\"AAPL\",\"underlying\":\"AAPL\",\"quantity\":100,"
             "\"delta\":100,\"contract_delta\":null}],"
             "\"total\":{\"delta\":%.2f,\"gamma\":0,\"theta\":0,\"vega\":0},"
             "\"missing\":[]}}}",
             -100 * short_delta_now, short_delta_now, net_delta_now);

    return buf;
}


/*
 * net_delta fires beyond its band either way; short_option_delta for a
 * short option past the level, never for a long one; each once, armed
 * again once clearly back
 */

static void
test_greeks_rules(void **state)
{
    int      calls;
    json_t  *fired;

    make_rule("dave", "alr_0000000000000010",
              "{\"kind\":\"net_delta\",\"level\":50}", NULL);
    make_rule("dave", "alr_0000000000000011",
              "{\"kind\":\"short_option_delta\",\"level\":0.3}", NULL);

    net_delta_now = -60;
    short_delta_now = 0.35;
    calls = 0;
    fired = pass(NOW, "G", "G", answer_greeks, &calls);
    assert_int_equal(calls, 1);
    assert_int_equal(json_array_size(fired), 2);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts WHERE message "
                               "LIKE 'Net delta of 5WT01 is -60.00%'"), 1);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts WHERE message "
                               "LIKE 'Short AAPL  270115C00165000%'"), 1);

    /* still past: nothing new */
    fired = pass(NOW + 60000, "G", "G", answer_greeks, NULL);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);

    /* inside the hysteresis band: as it was; clearly back: armed */
    net_delta_now = 48;
    short_delta_now = 0.29;
    fired = pass(NOW + 120000, "G", "G", answer_greeks, NULL);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);

    net_delta_now = 10;
    short_delta_now = 0.1;
    fired = pass(NOW + 180000, "G", "G", answer_greeks, NULL);
    assert_int_equal(json_array_size(fired), 0);
    json_decref(fired);

    net_delta_now = 70;
    short_delta_now = 0.5;
    fired = pass(NOW + 240000, "G", "G", answer_greeks, NULL);
    assert_int_equal(json_array_size(fired), 2);
    json_decref(fired);
}


static void
test_delete_and_limit(void **state)
{
    int      i;
    char     id[TTAI_MON_ID_LEN + 1];
    json_t  *res, *fired;

    make_rule("dave", "alr_0000000000000005",
              "{\"kind\":\"price_cross\",\"symbol\":\"AAPL\","
              "\"direction\":\"above\",\"level\":1}",
              "http://127.0.0.1:9000/hook");
    price_now = 10;
    fired = pass(NOW, "D", "D", answer_quotes, NULL);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts WHERE "
                           "webhook_status = 'pending'"), 1);

    /* another user cannot delete it */
    res = db_run(ttai_monitor_delete("eve", "alr_0000000000000005"));
    assert_int_equal(json_array_size(json_object_get(json_array_get(res, 0),
                                                     "results")), 0);
    json_decref(res);

    res = db_run(ttai_monitor_delete("dave", "alr_0000000000000005"));
    assert_int_equal(json_array_size(json_object_get(json_array_get(res, 0),
                                                     "results")), 1);
    json_decref(res);

    /* the state goes with the rule, the alert stays */
    assert_int_equal(db_scalar("SELECT count(*) FROM alert_state"), 0);
    assert_int_equal(db_scalar("SELECT count(*) FROM alerts"), 1);

    /* a user without rules leaves the monitor at its next pass */
    fired = pass(NOW + 60000, "E", "E", answer_quotes, NULL);
    json_decref(fired);
    assert_int_equal(db_scalar("SELECT count(*) FROM monitor_users"), 0);

    for (i = 0; i < TTAI_MON_MAX_RULES + 1; i++) {
        ttai_monitor_rule_id(id);
        make_rule("frank", id, "{\"kind\":\"order_filled\"}", NULL);
    }

    assert_int_equal(db_scalar("SELECT count(*) FROM alert_rules WHERE "
                           "user_id = 'frank'"), TTAI_MON_MAX_RULES);
}


static void
test_webhook_rows(void **state)
{
    char     *body;
    json_t   *res, *row;

    make_rule("gina", "alr_0000000000000006",
              "{\"kind\":\"price_cross\",\"symbol\":\"AAPL\","
              "\"direction\":\"above\",\"level\":1}",
              "http://127.0.0.1:9000/hook");
    price_now = 10;
    json_decref(pass(NOW, "G", "G", answer_quotes, NULL));

    res = db_run(ttai_monitor_webhook_claim("H1", NOW, 10));
    row = json_array_get(json_object_get(json_array_get(res, 0), "results"),
                         0);
    assert_non_null(row);

    body = ttai_monitor_webhook_body(row);
    assert_non_null(strstr(body, "\"type\":\"ttai.alert\""));
    assert_non_null(strstr(body, "AAPL is at 10.00, above 1.00"));
    free(body);

    /* claimed: not claimed again while its lease holds */
    json_decref(db_run(ttai_d1_batch_of(1, ttai_monitor_webhook_done(row,
                                                                  "H1", 0,
                                                                  NOW))));
    json_decref(res);
    assert_int_equal(db_scalar("SELECT webhook_attempts FROM alerts"), 1);
    assert_int_equal(db_scalar("SELECT webhook_next FROM alerts")
                     - NOW, 30000);

    res = db_run(ttai_monitor_webhook_claim("H2", NOW + 30000, 10));
    row = json_array_get(json_object_get(json_array_get(res, 0), "results"),
                         0);
    assert_non_null(row);
    json_decref(db_run(ttai_d1_batch_of(1, ttai_monitor_webhook_done(row,
                                                                  "H2", 1,
                                                                  NOW))));
    json_decref(res);
    assert_int_equal(db_scalar("SELECT webhook_status = 'sent' "
                               "FROM alerts"), 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_webhook_allowed),
        cmocka_unit_test_setup_teardown(test_crossing_fires_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late_pass_writes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_and_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_greeks_rules, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_webhook_rows, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
