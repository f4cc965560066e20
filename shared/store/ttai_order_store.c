
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_d1.h"
#include "ttai_order_store.h"


static json_t *ttai_order_audit_stmt(const char *user, json_t *fields,
    long long now_ms, int if_used);
static json_t *ttai_order_text(json_t *v);


json_t *
ttai_order_use(const char *nonce, const char *user, const char *client_id,
    long long now_ms, json_t *audit)
{
    json_t  *use, *row, *who;

    /*
     * One transaction: the nonce is taken only while the user may trade,
     * and the attempt is in the audit before anything is sent, whatever
     * happens to the process after
     */
    use = ttai_d1_stmt("INSERT INTO order_confirmations (nonce, user_id, "
                       "client_id, used_at) SELECT ?1, ?2, ?3, ?4 WHERE "
                       "EXISTS (SELECT 1 FROM users WHERE id = ?2 AND "
                       "trading = 1) ON CONFLICT (nonce) DO NOTHING",
                       json_pack("[s, s, s, I]", nonce, user, client_id,
                                 (json_int_t) now_ms));

    row = ttai_order_audit_stmt(user, audit, now_ms, 1);

    who = ttai_d1_stmt("SELECT (SELECT trading FROM users WHERE id = ?2) "
                       "AS trading, (SELECT client_id FROM "
                       "order_confirmations WHERE nonce = ?1) AS client_id",
                       json_pack("[s, s]", nonce, user));

    return ttai_d1_batch_of(3, use, row, who);
}


json_t *
ttai_order_audit(const char *user, json_t *fields, long long now_ms)
{
    return ttai_order_audit_stmt(user, fields, now_ms, 0);
}


json_t *
ttai_order_day(const char *user, long long since_ms)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt("SELECT (SELECT trading FROM users WHERE id = "
                            "?1) AS trading, (SELECT coalesce(sum(notional), "
                            "0) FROM order_audit WHERE user_id = ?1 AND at "
                            ">= ?2 AND decision IN ('sent', 'unknown')) AS "
                            "day", json_pack("[s, I]", user,
                                             (json_int_t) since_ms)));
}


/*
 * The audit row; if_used: only when the statement before it changed a
 * row (the confirmation was taken just now)
 */

static json_t *
ttai_order_audit_stmt(const char *user, json_t *fields, long long now_ms,
    int if_used)
{
    size_t       i;
    json_t      *params, *v;
    const char  *tool, *decision;

    /* the columns after at and user_id, in order; text: kept as JSON */
    static const struct {
        const char  *name;
        int          text;
    } cols[] = {
        { "account", 0 }, { "tool", 0 }, { "client_id", 0 },
        { "request", 1 }, { "preview", 1 }, { "decision", 0 },
        { "reason", 0 }, { "status", 0 }, { "response", 1 },
        { "order_id", 0 }, { "notional", 0 }
    };

    tool = json_string_value(json_object_get(fields, "tool"));
    decision = json_string_value(json_object_get(fields, "decision"));

    /* what was asked is always kept, even when it was refused */
    if (tool == NULL || decision == NULL
        || json_object_get(fields, "request") == NULL)
    {
        return NULL;
    }

    params = json_pack("[I, s]", (json_int_t) now_ms, user);

    for (i = 0; params != NULL && i < sizeof(cols) / sizeof(cols[0]); i++) {
        v = json_object_get(fields, cols[i].name);
        v = cols[i].text ? ttai_order_text(v)
                         : json_incref(v ? v : json_null());

        if (json_array_append_new(params, v) != 0) {
            json_decref(params);
            params = NULL;
        }
    }

    if (params == NULL) {
        return NULL;
    }

    return ttai_d1_stmt(if_used
                        ? "INSERT INTO order_audit (at, user_id, account, "
                          "tool, client_id, request, preview, decision, "
                          "reason, status, response, order_id, notional) "
                          "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                          "WHERE changes() = 1"
                        : "INSERT INTO order_audit (at, user_id, account, "
                          "tool, client_id, request, preview, decision, "
                          "reason, status, response, order_id, notional) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        params);
}


json_t *
ttai_order_trading_grant(const char *user, int on)
{
    return ttai_d1_stmt("UPDATE users SET trading = ? WHERE id = ?",
                        json_pack("[i, s]", on ? 1 : 0, user));
}


json_t *
ttai_order_audit_list(const char *user, long long since_ms, long long limit)
{
    return ttai_d1_stmt("SELECT id, at, user_id, account, tool, client_id, "
                        "request, preview, decision, reason, status, "
                        "response, order_id FROM order_audit WHERE "
                        "(?1 IS NULL OR user_id = ?1) AND at >= ?2 "
                        "ORDER BY at DESC, id DESC LIMIT ?3",
                        json_pack("[s?, I, I]", user, (json_int_t) since_ms,
                                  (json_int_t) limit));
}


/* a JSON value kept as its text; null stays null */

static json_t *
ttai_order_text(json_t *v)
{
    char    *text;
    json_t  *s;

    if (v == NULL || json_is_null(v)) {
        return json_null();
    }

    if (json_is_string(v)) {
        return json_incref(v);
    }

    text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    s = text ? json_string(text) : NULL;
    free(text);

    return s;
}
