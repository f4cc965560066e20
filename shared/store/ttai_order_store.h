
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_ORDER_STORE_H_INCLUDED_
#define _TTAI_ORDER_STORE_H_INCLUDED_


#include <jansson.h>


/*
 * Trading's statements (migrations/0009_trading.sql), each a D1 batch
 * statement, NULL when out of memory.
 */

/*
 * A confirmation used, as a batch of three: its nonce taken (the first
 * statement changes one row) only if it was never used, by this call or
 * any other, and while the user may trade; then the audit row of the
 * attempt (fields as ttai_order_audit's), written only if it was taken;
 * then one row: the user's "trading" and the "client_id" of whoever took
 * the nonce (null: nobody)
 */
json_t *ttai_order_use(const char *nonce, const char *user,
    const char *client_id, long long now_ms, json_t *audit);

/*
 * One attempt, appended to the audit: fields is an object with account,
 * tool, client_id, request, preview, decision, reason, status, response,
 * order_id and notional (those absent are null; request, preview and
 * response are stored as their JSON text); tool, request and decision
 * are needed
 */
json_t *ttai_order_audit(const char *user, json_t *fields, long long now_ms);

/*
 * A batch of one row: the user's "trading" (null: no such user), and
 * "day", the notional of the orders the user sent since since_ms
 */
json_t *ttai_order_day(const char *user, long long since_ms);

/*
 * The user's own permission to trade (migrations/0010), on or off: the
 * statement changes no row when there is no such user
 */
json_t *ttai_order_trading_grant(const char *user, int on);

/* a user's audit (NULL: everyone's) since a time, newest first */
json_t *ttai_order_audit_list(const char *user, long long since_ms,
    long long limit);


#endif /* _TTAI_ORDER_STORE_H_INCLUDED_ */
