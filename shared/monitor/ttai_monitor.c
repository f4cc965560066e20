
/*
 * Copyright (C) ttai contributors
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_d1.h"
#include "ttai_monitor.h"


/*
 * The monitor's statements, and one user's evaluation: the tool calls
 * its rules need (an account's positions, balances and orders first, then
 * the quotes of every symbol the rules and the positions name), then the
 * kinds' observations turned into statements.  Every statement of a pass
 * checks that the user's lease is still this pass's, so a pass that
 * outlived its lease writes nothing; an alert is inserted only when its
 * rule's state row was, so one crossing is one alert however often it
 * is evaluated.
 */

/* the most symbols of one get_quotes call (its schema's maxItems) */
#define TTAI_MON_QUOTES_PER_CALL  100

/* a webhook is tried this many times, 30 s apart and doubling */
#define TTAI_MON_WEBHOOK_TRIES    5
#define TTAI_MON_WEBHOOK_DELAY    30000


struct ttai_mon_eval_s {
    json_t               *user;       /* the claimed entry */
    const char           *id;
    long long             now;

    /* {"quotes":{},"accounts":{KEY:{...}},"errors":{WHAT:text}} */
    json_t               *data;

    /* the calls to make: [{"tool","args","what","key"}], and the current */
    json_t               *calls;
    json_t               *current;
    unsigned              quotes_asked:1;
    unsigned              seq;
};


static int ttai_mon_want(ttai_mon_eval_t *ev, const char *tool,
    const char *what, json_t *params);
static int ttai_mon_ask_quotes(ttai_mon_eval_t *ev);
static int ttai_mon_symbol_add(json_t *set, json_t *symbol);
static const char *ttai_mon_error(ttai_mon_eval_t *ev,
    const ttai_mon_kind_t *k, json_t *params);
static int ttai_mon_positions(ttai_mon_eval_t *ev, const char *lease,
    json_t *batch);


/* -- the tools' statements ------------------------------------------ */


json_t *
ttai_monitor_create(const char *user, const char *id, const char *kind,
    json_t *params, const char *note, const char *webhook, long long now_ms)
{
    char    *text;
    json_t  *insert;

    text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        return NULL;
    }

    insert = ttai_d1_stmt(
                 "INSERT INTO alert_rules (id, user_id, kind, params, note, "
                 "webhook, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
                 "WHERE (SELECT count(*) FROM alert_rules WHERE user_id = "
                 "?2) < ?8",
                 json_pack("[s, s, s, s, s?, s?, I, i]", id, user, kind,
                           text, note, webhook, (json_int_t) now_ms,
                           TTAI_MON_MAX_RULES));
    free(text);

    /* the user is evaluated at the next tick, not at the next interval */
    return ttai_d1_batch_of(3, insert,
               ttai_d1_stmt(
                   "INSERT INTO monitor_users (user_id, next_at) "
                   "SELECT ?1, ?2 WHERE changes() = 1 "
                   "ON CONFLICT (user_id) DO UPDATE "
                   "SET next_at = min(next_at, excluded.next_at)",
                   json_pack("[s, I]", user, (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "SELECT id, kind, params, note, webhook, created_at "
                   "FROM alert_rules WHERE id = ?1 AND user_id = ?2",
                   json_pack("[s, s]", id, user)));
}


json_t *
ttai_monitor_list(const char *user)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "SELECT r.id, r.kind, r.params, r.note, r.webhook, "
                   "r.created_at, r.evaluated_at, r.last_value, "
                   "r.last_error, (SELECT json_group_array(subject) FROM "
                   "alert_state s WHERE s.rule_id = r.id) AS firing, "
                   "(SELECT count(*) FROM alerts a WHERE a.rule_id = r.id) "
                   "AS fired FROM alert_rules r WHERE r.user_id = ?1 "
                   "ORDER BY r.created_at, r.id",
                   json_pack("[s]", user)));
}


json_t *
ttai_monitor_delete(const char *user, const char *id)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "DELETE FROM alert_rules WHERE id = ?1 AND user_id = ?2 "
                   "RETURNING id",
                   json_pack("[s, s]", id, user)),
               ttai_d1_stmt(
                   "SELECT count(*) AS rules FROM alert_rules "
                   "WHERE user_id = ?1",
                   json_pack("[s]", user)));
}


json_t *
ttai_monitor_fired(const char *user, long long before_id, long limit)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "SELECT id, rule_id, kind, subject, value, message, "
                   "fired_at, webhook_status FROM alerts WHERE user_id = ?1 "
                   "AND id < ?2 ORDER BY id DESC LIMIT ?3",
                   json_pack("[s, I, i]", user,
                             (json_int_t) (before_id > 0 ? before_id
                                                         : INT64_MAX),
                             (int) limit)));
}


json_t *
ttai_monitor_history(const char *user, const char *account,
    const char *symbol, long long since_ms, long limit)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "SELECT account_number, symbol, underlying, "
                   "instrument_type, snapshot_at, quantity, "
                   "average_open_price, price, close_price, multiplier, "
                   "expires_at, pnl, pnl_percent FROM positions "
                   "WHERE user_id = ?1 AND (?2 IS NULL OR account_number = "
                   "?2) AND (?3 IS NULL OR symbol = ?3 OR underlying = ?3) "
                   "AND snapshot_at >= ?4 "
                   "ORDER BY snapshot_at DESC, account_number, symbol "
                   "LIMIT ?5",
                   json_pack("[s, s?, s?, I, i]", user, account, symbol,
                             (json_int_t) since_ms, (int) limit)));
}


json_t *
ttai_monitor_debug(const char *user)
{
    if (user == NULL) {
        return ttai_d1_batch_of(2,
                   ttai_d1_stmt(
                       "SELECT (SELECT count(*) FROM monitor_users) AS users, "
                       "(SELECT count(*) FROM alert_rules) AS rules, "
                       "(SELECT count(*) FROM alerts) AS alerts, "
                       "(SELECT count(*) FROM positions) AS positions, "
                       "(SELECT count(*) FROM alerts WHERE webhook_status = "
                       "'pending') AS webhooks_pending",
                       json_array()),
                   ttai_d1_stmt(
                       "SELECT kind, count(*) AS rules FROM alert_rules "
                       "GROUP BY kind ORDER BY kind",
                       json_array()));
    }

    return ttai_d1_batch_of(4,
               ttai_d1_stmt(
                   "SELECT user_id, next_at, lease, passes, evaluated_at, "
                   "last_error FROM monitor_users WHERE user_id = ?1",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "SELECT r.id, r.kind, r.params, r.webhook, r.created_at, "
                   "r.evaluated_at, r.last_value, r.last_error, "
                   "(SELECT json_group_object(subject, fired_at) FROM "
                   "alert_state s WHERE s.rule_id = r.id) AS firing "
                   "FROM alert_rules r WHERE r.user_id = ?1 "
                   "ORDER BY r.created_at",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "SELECT id, rule_id, subject, value, message, fired_at, "
                   "webhook_status, webhook_attempts FROM alerts "
                   "WHERE user_id = ?1 ORDER BY id DESC LIMIT 10",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "SELECT count(*) AS rows, max(snapshot_at) AS last "
                   "FROM positions WHERE user_id = ?1",
                   json_pack("[s]", user)));
}


/* -- the background's statements ------------------------------------ */


json_t *
ttai_monitor_claim(const char *lease, long long now_ms, long lease_ms,
    long max)
{
    return ttai_d1_batch_of(3,
               ttai_d1_stmt(
                   "UPDATE monitor_users SET lease = ?1, next_at = ?2 + ?3 "
                   "WHERE user_id IN (SELECT user_id FROM monitor_users "
                   "WHERE next_at <= ?2 ORDER BY next_at LIMIT ?4) "
                   "RETURNING user_id",
                   json_pack("[s, I, I, i]", lease, (json_int_t) now_ms,
                             (json_int_t) lease_ms, (int) max)),
               ttai_d1_stmt(
                   "SELECT r.id, r.user_id, r.kind, r.params, r.webhook, "
                   "r.created_at FROM alert_rules r JOIN monitor_users m "
                   "ON m.user_id = r.user_id WHERE m.lease = ?1 "
                   "ORDER BY r.user_id, r.created_at",
                   json_pack("[s]", lease)),
               ttai_d1_stmt(
                   "SELECT s.rule_id, s.subject FROM alert_state s "
                   "JOIN alert_rules r ON r.id = s.rule_id "
                   "JOIN monitor_users m ON m.user_id = r.user_id "
                   "WHERE m.lease = ?1",
                   json_pack("[s]", lease)));
}


json_t *
ttai_monitor_prune(long long now_ms, long long keep_ms)
{
    return ttai_d1_stmt("DELETE FROM positions WHERE snapshot_at < ?1",
                        json_pack("[I]", (json_int_t) (now_ms - keep_ms)));
}


json_t *
ttai_monitor_claimed(json_t *results)
{
    size_t       i;
    json_t      *users, *by, *u, *row, *rule, *params, *fired, *rf;
    const char  *uid, *rid, *text;

    users = json_array();
    by = json_object();

    if (users == NULL || by == NULL) {
        goto failed;
    }

    json_array_foreach(json_object_get(json_array_get(results, 0),
                                       "results"), i, row)
    {
        uid = json_string_value(json_object_get(row, "user_id"));

        if (uid == NULL) {
            continue;
        }

        u = json_pack("{s:s, s:[], s:{}}", "user", uid, "rules", "fired");

        if (u == NULL || json_object_set(by, uid, u) != 0
            || json_array_append_new(users, u) != 0)
        {
            goto failed;
        }
    }

    json_array_foreach(json_object_get(json_array_get(results, 1),
                                       "results"), i, row)
    {
        u = json_object_get(by, json_string_value(json_object_get(
                                                      row, "user_id")));
        text = json_string_value(json_object_get(row, "params"));
        params = text ? json_loads(text, 0, NULL) : NULL;

        if (u == NULL || params == NULL) {
            /* a rule whose params no longer read is skipped, not fatal */
            json_decref(params);
            continue;
        }

        rule = json_pack("{s:O, s:O, s:o, s:O, s:O}",
                         "id", json_object_get(row, "id"),
                         "kind", json_object_get(row, "kind"),
                         "params", params,
                         "webhook", json_object_get(row, "webhook"),
                         "created_at", json_object_get(row, "created_at"));

        if (rule == NULL
            || json_array_append_new(json_object_get(u, "rules"), rule) != 0)
        {
            goto failed;
        }
    }

    /* which subjects have fired, per rule */
    json_array_foreach(json_object_get(json_array_get(results, 2),
                                       "results"), i, row)
    {
        rid = json_string_value(json_object_get(row, "rule_id"));
        text = json_string_value(json_object_get(row, "subject"));

        if (rid == NULL || text == NULL) {
            continue;
        }

        /* the rule's user: found through the rules, which are few */
        {
            size_t   j, k;
            json_t  *uu, *r;

            json_array_foreach(users, j, uu) {
                json_array_foreach(json_object_get(uu, "rules"), k, r) {
                    if (strcmp(json_string_value(json_object_get(r, "id")),
                               rid) != 0)
                    {
                        continue;
                    }

                    fired = json_object_get(uu, "fired");
                    rf = json_object_get(fired, rid);

                    if (rf == NULL) {
                        rf = json_object();
                        if (rf == NULL
                            || json_object_set_new(fired, rid, rf) != 0)
                        {
                            goto failed;
                        }
                    }

                    if (json_object_set_new(rf, text, json_true()) != 0) {
                        goto failed;
                    }
                }
            }
        }
    }

    json_decref(by);

    return users;

failed:

    json_decref(by);
    json_decref(users);

    return NULL;
}


/* -- one user's evaluation ------------------------------------------ */


ttai_mon_eval_t *
ttai_monitor_eval_create(json_t *user, long long now_ms)
{
    size_t                  i;
    json_t                 *rule, *params;
    ttai_mon_eval_t        *ev;
    const ttai_mon_kind_t  *k;

    ev = calloc(1, sizeof(ttai_mon_eval_t));
    if (ev == NULL) {
        json_decref(user);
        return NULL;
    }

    ev->user = user;
    ev->id = json_string_value(json_object_get(user, "user"));
    ev->now = now_ms;
    ev->data = json_pack("{s:{}, s:{}, s:{}}", "quotes", "accounts",
                         "errors");
    ev->calls = json_array();

    if (ev->data == NULL || ev->calls == NULL || ev->id == NULL) {
        ttai_monitor_eval_free(ev);
        return NULL;
    }

    json_array_foreach(json_object_get(user, "rules"), i, rule) {
        k = ttai_mon_kind(json_string_value(json_object_get(rule, "kind")));
        params = json_object_get(rule, "params");

        if (k == NULL) {
            continue;
        }

        if (((k->needs & TTAI_MON_POSITIONS)
             && ttai_mon_want(ev, "get_positions", "positions", params) != 0)
            || ((k->needs & TTAI_MON_BALANCES)
                && ttai_mon_want(ev, "get_balances", "balances", params)
                   != 0)
            || ((k->needs & TTAI_MON_ORDERS)
                && ttai_mon_want(ev, "get_orders", "orders", params) != 0)
            || ((k->needs & TTAI_MON_GREEKS)
                && ttai_mon_want(ev, "get_position_greeks", "greeks",
                                 params) != 0))
        {
            ttai_monitor_eval_free(ev);
            return NULL;
        }
    }

    return ev;
}


/* one call per tool and account, however many rules need it */

static int
ttai_mon_want(ttai_mon_eval_t *ev, const char *tool, const char *what,
    json_t *params)
{
    size_t       i;
    json_t      *c, *args, *num;
    const char  *key;

    num = json_object_get(params, "account_number");
    key = json_is_string(num) ? json_string_value(num) : "";

    json_array_foreach(ev->calls, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "what")), what) == 0
            && strcmp(json_string_value(json_object_get(c, "key")), key) == 0)
        {
            return 0;
        }
    }

    args = json_object();
    if (args == NULL) {
        return -1;
    }

    if ((*key && json_object_set(args, "account_number", num) != 0)
        || (strcmp(what, "positions") == 0
            && json_object_set_new(args, "limit", json_integer(500)) != 0)
        || (strcmp(what, "orders") == 0
            && json_object_set_new(args, "status", json_string("live"))
               != 0))
    {
        json_decref(args);
        return -1;
    }

    c = json_pack("{s:s, s:o, s:s, s:s}", "tool", tool, "args", args,
                  "what", what, "key", key);

    return (c == NULL || json_array_append_new(ev->calls, c) != 0) ? -1 : 0;
}


char *
ttai_monitor_eval_next(ttai_mon_eval_t *ev, int *oom)
{
    char    *body;
    json_t  *c, *msg;

    *oom = 0;

    if (json_array_size(ev->calls) == 0 && !ev->quotes_asked) {
        ev->quotes_asked = 1;

        if (ttai_mon_ask_quotes(ev) != 0) {
            *oom = 1;
            return NULL;
        }
    }

    c = json_array_get(ev->calls, 0);
    if (c == NULL) {
        return NULL;
    }

    json_decref(ev->current);
    ev->current = json_incref(c);
    (void) json_array_remove(ev->calls, 0);

    msg = json_pack("{s:s, s:i, s:s, s:{s:O, s:O}}", "jsonrpc", "2.0",
                    "id", (int) ++ev->seq, "method", "tools/call", "params",
                    "name", json_object_get(c, "tool"),
                    "arguments", json_object_get(c, "args"));

    body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);

    *oom = (body == NULL);

    return body;
}


/* the quotes of every symbol the rules name and the positions hold */

static int
ttai_mon_ask_quotes(ttai_mon_eval_t *ev)
{
    size_t                  i, n;
    json_t                 *set, *rule, *acct, *pos, *chunk, *c;
    const char             *key;
    const ttai_mon_kind_t  *k;

    set = json_array();
    if (set == NULL) {
        return -1;
    }

    json_array_foreach(json_object_get(ev->user, "rules"), i, rule) {
        k = ttai_mon_kind(json_string_value(json_object_get(rule, "kind")));

        if (k != NULL && (k->needs & TTAI_MON_QUOTES)
            && !(k->needs & TTAI_MON_POSITIONS)
            && ttai_mon_symbol_add(set, json_object_get(json_object_get(
                                            rule, "params"), "symbol"))
               != 0)
        {
            json_decref(set);
            return -1;
        }
    }

    json_object_foreach(json_object_get(ev->data, "accounts"), key, acct) {
        json_array_foreach(json_object_get(acct, "positions"), i, pos) {
            if (ttai_mon_symbol_add(set, json_object_get(pos, "symbol"))
                != 0)
            {
                json_decref(set);
                return -1;
            }
        }
    }

    for (i = 0; i < json_array_size(set); i += TTAI_MON_QUOTES_PER_CALL) {
        chunk = json_array();
        if (chunk == NULL) {
            json_decref(set);
            return -1;
        }

        for (n = i; n < json_array_size(set)
                    && n < i + TTAI_MON_QUOTES_PER_CALL; n++)
        {
            if (json_array_append(chunk, json_array_get(set, n)) != 0) {
                json_decref(chunk);
                json_decref(set);
                return -1;
            }
        }

        c = json_pack("{s:s, s:{s:o}, s:s, s:s}", "tool", "get_quotes",
                      "args", "symbols", chunk, "what", "quotes", "key", "");

        if (c == NULL || json_array_append_new(ev->calls, c) != 0) {
            json_decref(set);
            return -1;
        }
    }

    json_decref(set);

    return 0;
}


static int
ttai_mon_symbol_add(json_t *set, json_t *symbol)
{
    size_t   i;
    json_t  *v;

    if (!json_is_string(symbol)) {
        return 0;
    }

    json_array_foreach(set, i, v) {
        if (json_equal(v, symbol)) {
            return 0;
        }
    }

    return json_array_append(set, symbol);
}


int
ttai_monitor_eval_feed(ttai_mon_eval_t *ev, const char *body, size_t len)
{
    char         label[96];
    size_t       i;
    json_t      *msg, *result, *sc, *accounts, *acct, *q, *text;
    const char  *what, *key, *why;

    if (ev->current == NULL) {
        return 0;
    }

    what = json_string_value(json_object_get(ev->current, "what"));
    key = json_string_value(json_object_get(ev->current, "key"));

    msg = json_loadb(body ? body : "", len, 0, NULL);
    result = json_object_get(msg, "result");
    sc = json_object_get(result, "structuredContent");

    if (!json_is_object(sc) || json_is_true(json_object_get(result,
                                                            "isError")))
    {
        text = json_object_get(json_array_get(json_object_get(result,
                                                               "content"),
                                              0), "text");
        why = json_string_value(text);
        why = why ? why
              : json_string_value(json_object_get(json_object_get(msg,
                                                                  "error"),
                                                  "message"));

        snprintf(label, sizeof(label), "%s:%s", what, key);

        if (json_object_set_new(json_object_get(ev->data, "errors"), label,
                                json_string(why ? why : "no answer"))
            != 0)
        {
            json_decref(msg);
            return -1;
        }

        json_decref(msg);
        return 0;
    }

    if (strcmp(what, "quotes") == 0) {
        json_array_foreach(json_object_get(sc, "quotes"), i, q) {
            if (json_is_string(json_object_get(q, "symbol"))
                && json_object_set(json_object_get(ev->data, "quotes"),
                                   json_string_value(json_object_get(
                                       q, "symbol")), q) != 0)
            {
                json_decref(msg);
                return -1;
            }
        }

        json_decref(msg);
        return 0;
    }

    accounts = json_object_get(ev->data, "accounts");
    acct = json_object_get(accounts, key);

    if (acct == NULL) {
        acct = json_object();
        if (acct == NULL || json_object_set_new(accounts, key, acct) != 0) {
            json_decref(msg);
            return -1;
        }
    }

    if (json_object_set(acct, "account_number",
                        json_object_get(sc, "account_number")) != 0
        || json_object_set(acct, what,
                           (strcmp(what, "balances") == 0
                            || strcmp(what, "greeks") == 0)
                           ? sc : json_object_get(sc, what)) != 0)
    {
        json_decref(msg);
        return -1;
    }

    json_decref(msg);

    return 0;
}


/* the error that kept a rule from its data, or NULL */

static const char *
ttai_mon_error(ttai_mon_eval_t *ev, const ttai_mon_kind_t *k, json_t *params)
{
    char         label[96];
    size_t       i;
    json_t      *num;
    const char  *e;

    static const struct {
        unsigned     need;
        const char  *what;
    } whats[] = {
        { TTAI_MON_POSITIONS, "positions" },
        { TTAI_MON_BALANCES, "balances" },
        { TTAI_MON_ORDERS, "orders" },
        { TTAI_MON_GREEKS, "greeks" },
        { TTAI_MON_QUOTES, "quotes" },
    };

    num = json_object_get(params, "account_number");

    for (i = 0; i < sizeof(whats) / sizeof(whats[0]); i++) {
        if (!(k->needs & whats[i].need)) {
            continue;
        }

        snprintf(label, sizeof(label), "%s:%s", whats[i].what,
                 (whats[i].need != TTAI_MON_QUOTES && json_is_string(num))
                 ? json_string_value(num) : "");

        e = json_string_value(json_object_get(json_object_get(ev->data,
                                                              "errors"),
                                              label));
        if (e != NULL) {
            return e;
        }
    }

    return NULL;
}


typedef struct {
    ttai_mon_eval_t   *ev;
    json_t            *rule;
    json_t            *fired;      /* this rule's fired subjects, or NULL */
    json_t            *batch;
    json_t            *out;
    const char        *lease;
    unsigned           seen;
    double             first;
    int                has_first;
} ttai_mon_obs_ctx_t;


static int
ttai_mon_observed(void *data, const ttai_mon_obs_t *o)
{
    ttai_mon_obs_ctx_t *x = data;

    json_t      *value, *webhook, *a;
    const char  *rid, *user;

    x->seen++;

    if (o->has_value && !x->has_first) {
        x->first = o->value;
        x->has_first = 1;
    }

    rid = json_string_value(json_object_get(x->rule, "id"));
    user = x->ev->id;
    value = o->has_value ? json_real(o->value) : json_null();

    if (value == NULL) {
        return -1;
    }

    if (o->zone == TTAI_MON_CLEAR) {
        json_decref(value);

        if (json_object_get(x->fired, o->subject) == NULL) {
            return 0;
        }

        return ttai_d1_push(x->batch, ttai_d1_stmt(
                   "DELETE FROM alert_state WHERE rule_id = ?1 AND "
                   "subject = ?2 AND EXISTS (SELECT 1 FROM monitor_users "
                   "WHERE user_id = ?3 AND lease = ?4)",
                   json_pack("[s, s, s, s]", rid, o->subject, user,
                             x->lease)));
    }

    if (o->zone != TTAI_MON_FIRE
        || json_object_get(x->fired, o->subject) != NULL)
    {
        json_decref(value);
        return 0;
    }

    webhook = json_object_get(x->rule, "webhook");
    webhook = json_is_string(webhook) ? webhook : json_null();

    if (ttai_d1_push(x->batch, ttai_d1_stmt(
            "INSERT INTO alert_state (rule_id, subject, fired_at) "
            "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM alert_rules "
            "WHERE id = ?1) AND EXISTS (SELECT 1 FROM monitor_users "
            "WHERE user_id = ?4 AND lease = ?5) "
            "ON CONFLICT (rule_id, subject) DO NOTHING",
            json_pack("[s, s, I, s, s]", rid, o->subject,
                      (json_int_t) x->ev->now, user, x->lease))) != 0
        || ttai_d1_push(x->batch, ttai_d1_stmt(
            "INSERT INTO alerts (user_id, rule_id, kind, subject, value, "
            "message, fired_at, webhook, webhook_status, webhook_next) "
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
            "CASE WHEN ?8 IS NULL THEN NULL ELSE 'pending' END, ?7 "
            "WHERE changes() = 1",
            json_pack("[s, s, O, s, O, s, I, O]", user, rid,
                      json_object_get(x->rule, "kind"), o->subject, value,
                      o->message, (json_int_t) x->ev->now, webhook)))
           != 0)
    {
        json_decref(value);
        return -1;
    }

    a = json_pack("{s:s, s:s, s:O, s:s, s:O, s:s}", "user", user,
                  "rule_id", rid, "kind", json_object_get(x->rule, "kind"),
                  "subject", o->subject, "value", value,
                  "message", o->message);
    json_decref(value);

    return (a == NULL || json_array_append_new(x->out, a) != 0) ? -1 : 0;
}


int
ttai_monitor_eval_finish(ttai_mon_eval_t *ev, const char *lease,
    long long next_ms, json_t *batch, json_t *fired)
{
    char                    why[200];
    size_t                  i;
    json_t                  *rule, *params, *last;
    long long               created;
    const char             *err, *rid;
    ttai_mon_obs_ctx_t      x;
    const ttai_mon_kind_t  *k;

    json_array_foreach(json_object_get(ev->user, "rules"), i, rule) {
        k = ttai_mon_kind(json_string_value(json_object_get(rule, "kind")));
        params = json_object_get(rule, "params");
        rid = json_string_value(json_object_get(rule, "id"));
        created = json_integer_value(json_object_get(rule, "created_at"));

        if (k == NULL || rid == NULL) {
            continue;
        }

        memset(&x, 0, sizeof(x));
        x.ev = ev;
        x.rule = rule;
        x.fired = json_object_get(json_object_get(ev->user, "fired"), rid);
        x.batch = batch;
        x.out = fired;
        x.lease = lease;

        err = ttai_mon_error(ev, k, params);

        if (err == NULL
            && k->eval(params, ev->data, created, ev->now, ttai_mon_observed,
                       &x) != 0)
        {
            return -1;
        }

        if (err == NULL && x.seen == 0 && (k->needs & TTAI_MON_QUOTES)
            && !(k->needs & TTAI_MON_POSITIONS))
        {
            snprintf(why, sizeof(why), "no quote for %.48s",
                     json_string_value(json_object_get(params, "symbol")));
            err = why;
        }

        last = x.has_first ? json_real(x.first) : json_null();

        if (ttai_d1_push(batch, ttai_d1_stmt(
                "UPDATE alert_rules SET evaluated_at = ?1, last_value = ?2, "
                "last_error = ?3 WHERE id = ?4 AND EXISTS (SELECT 1 FROM "
                "monitor_users WHERE user_id = ?5 AND lease = ?6)",
                json_pack("[I, o, s?, s, s, s]", (json_int_t) ev->now, last,
                          err, rid, ev->id, lease)))
            != 0)
        {
            return -1;
        }
    }

    if (ttai_mon_positions(ev, lease, batch) != 0) {
        return -1;
    }

    /* the user's next pass; a rule made meanwhile keeps its earlier one */
    return ttai_d1_push(batch, ttai_d1_stmt(
               "UPDATE monitor_users SET next_at = CASE WHEN next_at <= ?1 "
               "THEN next_at ELSE ?2 END, lease = NULL, passes = passes + 1, "
               "evaluated_at = ?1, last_error = ?3 "
               "WHERE user_id = ?4 AND lease = ?5",
               json_pack("[I, I, s?, s, s]", (json_int_t) ev->now,
                         (json_int_t) next_ms,
                         json_object_size(json_object_get(ev->data,
                                                          "errors"))
                         ? "a call failed; see list_alerts" : NULL,
                         ev->id, lease)))
           || ttai_d1_push(batch, ttai_d1_stmt(
               "DELETE FROM monitor_users WHERE user_id = ?1 AND lease IS "
               "NULL AND NOT EXISTS (SELECT 1 FROM alert_rules WHERE "
               "user_id = ?1)",
               json_pack("[s]", ev->id)));
}


/* every position fetched, one row per snapshot */

static int
ttai_mon_positions(ttai_mon_eval_t *ev, const char *lease, json_t *batch)
{
    size_t       i;
    double       price, pnl, pct;
    json_t      *acct, *pos;
    const char  *key, *num;
    int          ok;

    json_object_foreach(json_object_get(ev->data, "accounts"), key, acct) {
        num = json_string_value(json_object_get(acct, "account_number"));

        if (num == NULL) {
            continue;
        }

        json_array_foreach(json_object_get(acct, "positions"), i, pos) {
            ok = ttai_monitor_pnl(pos, ev->data, &price, &pnl, &pct);

            if (ttai_d1_push(batch, ttai_d1_stmt(
                    "INSERT OR REPLACE INTO positions (user_id, "
                    "account_number, symbol, snapshot_at, underlying, "
                    "instrument_type, quantity, average_open_price, price, "
                    "close_price, multiplier, expires_at, pnl, pnl_percent) "
                    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                    "?12, ?13, ?14 WHERE EXISTS (SELECT 1 FROM "
                    "monitor_users WHERE user_id = ?1 AND lease = ?15)",
                    json_pack("[s, s, O, I, O, O, O, O, o, O, O, O, o, o, s]",
                              ev->id, num, json_object_get(pos, "symbol"),
                              (json_int_t) ev->now,
                              json_object_get(pos, "underlying"),
                              json_object_get(pos, "instrument_type"),
                              json_object_get(pos, "quantity"),
                              json_object_get(pos, "average_open_price"),
                              ok ? json_real(price) : json_null(),
                              json_object_get(pos, "close_price"),
                              json_object_get(pos, "multiplier"),
                              json_object_get(pos, "expires_at"),
                              ok ? json_real(pnl) : json_null(),
                              ok ? json_real(pct) : json_null(), lease)))
                != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


const char *
ttai_monitor_eval_user(ttai_mon_eval_t *ev)
{
    return ev->id;
}


void
ttai_monitor_eval_free(ttai_mon_eval_t *ev)
{
    if (ev == NULL) {
        return;
    }

    json_decref(ev->current);
    json_decref(ev->calls);
    json_decref(ev->data);
    json_decref(ev->user);
    free(ev);
}


void
ttai_monitor_iso(long long ms, char out[32])
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);

    if (gmtime_r(&t, &tm) == NULL
        || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        out[0] = '\0';
    }
}


/* -- webhooks -------------------------------------------------------- */


json_t *
ttai_monitor_webhook_claim(const char *lease, long long now_ms, long max)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "UPDATE alerts SET webhook_lease = ?1, webhook_next = "
                   "?2 + 60000 WHERE id IN (SELECT id FROM alerts WHERE "
                   "webhook_status = 'pending' AND webhook_next <= ?2 "
                   "ORDER BY id LIMIT ?3) RETURNING id, user_id, rule_id, "
                   "kind, subject, value, message, fired_at, webhook, "
                   "webhook_attempts",
                   json_pack("[s, I, i]", lease, (json_int_t) now_ms,
                             (int) max)));
}


char *
ttai_monitor_webhook_body(json_t *row)
{
    char     at[32], *text;
    json_t  *body;

    ttai_monitor_iso(json_integer_value(json_object_get(row, "fired_at")),
                     at);

    body = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s}",
                     "type", "ttai.alert",
                     "id", json_object_get(row, "id"),
                     "user", json_object_get(row, "user_id"),
                     "rule_id", json_object_get(row, "rule_id"),
                     "kind", json_object_get(row, "kind"),
                     "subject", json_object_get(row, "subject"),
                     "value", json_object_get(row, "value"),
                     "message", json_object_get(row, "message"),
                     "fired_at", at);

    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    return text;
}


json_t *
ttai_monitor_webhook_done(json_t *row, const char *lease, int sent,
    long long now_ms)
{
    json_int_t  id, tries;

    id = json_integer_value(json_object_get(row, "id"));
    tries = json_integer_value(json_object_get(row, "webhook_attempts")) + 1;

    if (sent) {
        return ttai_d1_stmt(
                   "UPDATE alerts SET webhook_status = 'sent', "
                   "webhook_attempts = webhook_attempts + 1, "
                   "webhook_lease = NULL WHERE id = ?1 AND webhook_lease = ?2",
                   json_pack("[I, s]", id, lease));
    }

    return ttai_d1_stmt(
               "UPDATE alerts SET webhook_attempts = webhook_attempts + 1, "
               "webhook_status = CASE WHEN webhook_attempts + 1 >= ?3 "
               "THEN 'failed' ELSE 'pending' END, webhook_next = ?4, "
               "webhook_lease = NULL WHERE id = ?1 AND webhook_lease = ?2",
               json_pack("[I, s, i, I]", id, lease, TTAI_MON_WEBHOOK_TRIES,
                         (json_int_t) (now_ms + ((json_int_t)
                                       TTAI_MON_WEBHOOK_DELAY
                                       << (tries < 10 ? tries - 1 : 9)))));
}
