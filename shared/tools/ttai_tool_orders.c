
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_orders: the orders working now or from today, whatever their
 * status (live), or the last seven days' (recent).  Both are cached per
 * user and account for the account lifetime, which is short enough that
 * a status never looks stale for long.
 */

#define TTAI_TOOL_ORDERS_MAX        50
#define TTAI_TOOL_ORDERS_DAYS       7
#define TTAI_TOOL_ORDERS_LEGS_MAX   8


static int ttai_tool_orders_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_orders_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_orders_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static void ttai_tool_orders_line(ttai_tt_buf_t *b, json_t *o);
static int ttai_tool_orders_recent(json_t *args);


static const ttai_tt_field_t  ttai_tool_orders_leg_fields[] = {
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("action", "action", TTAI_TT_STRING),
    ttai_tt_field("quantity", "quantity", TTAI_TT_NUMBER),
    ttai_tt_field("remaining-quantity", "remaining", TTAI_TT_NUMBER),
    ttai_tt_field("fills", "fills", TTAI_TT_COUNT),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_orders_fields[] = {
    ttai_tt_field("id", "id", TTAI_TT_ID),
    ttai_tt_field("status", "status", TTAI_TT_STRING),
    ttai_tt_field("order-type", "order_type", TTAI_TT_STRING),
    ttai_tt_field("time-in-force", "time_in_force", TTAI_TT_STRING),
    ttai_tt_field("price", "price", TTAI_TT_SIGNED),
    ttai_tt_field("stop-trigger", "stop_trigger", TTAI_TT_NUMBER),
    ttai_tt_field("size", "size", TTAI_TT_NUMBER),
    ttai_tt_field("underlying-symbol", "underlying", TTAI_TT_STRING),
    ttai_tt_field("received-at", "received_at", TTAI_TT_TIME),
    ttai_tt_field("updated-at", "updated_at", TTAI_TT_TIME),
    ttai_tt_nested("legs", "legs", TTAI_TT_LIST, ttai_tool_orders_leg_fields,
                   TTAI_TOOL_ORDERS_LEGS_MAX),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_orders = {
    "get_orders",
    ttai_tool_orders_run,
    ttai_tool_orders_resume,
    0,
    NULL
};


static int
ttai_tool_orders_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tt_account_run(ctx, args, ttai_tool_orders_fetch, result,
                               pending);
}


static int
ttai_tool_orders_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    char  date[16], *rest;

    if (!ttai_tool_orders_recent(args)) {
        *pending = ttai_tt_account_request(ctx, "GET", account,
                                           "/orders/live", NULL, "orders",
                                           ":live", ctx->ttl->account);
        return *pending ? 0 : -1;
    }

    ttai_tt_date_back(date, sizeof(date), time(NULL),
                      TTAI_TOOL_ORDERS_DAYS);

    rest = ttai_tt_sprintf("/orders?start-date=%s&per-page=%d&sort=Desc",
                           date, TTAI_TOOL_ORDERS_MAX);
    if (rest == NULL) {
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "GET", account, rest, NULL,
                                       "orders", ":recent",
                                       ctx->ttl->account);
    free(rest);

    return *pending ? 0 : -1;
}


static int
ttai_tool_orders_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc, recent;
    size_t          i, n, total;
    json_t         *body, *items, *order, *list, *o, *out, *ti;
    ttai_tt_buf_t   b;

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_orders_fetch,
                              result, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    body = ttai_tt_envelope("get_orders", resp, result);
    if (body == NULL) {
        return *result ? 0 : -1;
    }

    items = json_object_get(json_object_get(body, "data"), "items");

    if (!json_is_array(items)) {
        json_decref(body);
        *result = ttai_tool_error_result("Tool get_orders failed: "
                                         "TastyTrade sent an orders list "
                                         "without items.  Try again.");
        return *result ? 0 : -1;
    }

    recent = ttai_tool_orders_recent(args);

    list = json_array();
    out = json_object();
    rc = (list && out) ? 0 : -1;
    n = 0;

    json_array_foreach(items, i, order) {
        if (rc != 0 || n == TTAI_TOOL_ORDERS_MAX) {
            break;
        }

        if (!json_is_object(order)) {
            continue;
        }

        o = ttai_tt_mapped(order, ttai_tool_orders_fields);

        if (o == NULL || json_array_append_new(list, o) != 0) {
            rc = -1;
            break;
        }

        n++;
    }

    /* recent orders come a page at a time: the total is TastyTrade's */
    ti = json_object_get(json_object_get(body, "pagination"),
                         "total-items");
    total = json_array_size(items);

    if (json_is_integer(ti) && json_integer_value(ti) > (json_int_t) total)
    {
        total = (size_t) json_integer_value(ti);
    }

    json_decref(body);

    rc = ttai_tt_set(rc, out, "account_number",
                     json_string(ttai_tt_account(ctx)));
    rc = ttai_tt_set(rc, out, "status", json_string(recent ? "recent"
                                                           : "live"));
    rc = ttai_tt_set(rc, out, "total", json_integer((json_int_t) total));
    rc = ttai_tt_set(rc, out, "returned", json_integer((json_int_t) n));
    rc = ttai_tt_set(rc, out, "truncated", json_boolean(n < total));
    rc = ttai_tt_set(rc, out, "orders", json_incref(list));

    if (rc != 0) {
        json_decref(list);
        json_decref(out);
        return -1;
    }

    memset(&b, 0, sizeof(b));

    if (n == 0) {
        ttai_tt_buf_printf(&b, "Account %s has no orders %s.",
                           ttai_tt_account(ctx),
                           recent ? "in the last 7 days"
                                  : "working or from today");

    } else {
        ttai_tt_buf_printf(&b, "Account %s: %zu order%s %s (price: "
                           "negative = debit):\n", ttai_tt_account(ctx),
                           total, total == 1 ? "" : "s",
                           recent ? "in the last 7 days, newest first"
                                  : "working or from today");

        json_array_foreach(list, i, o) {
            ttai_tool_orders_line(&b, o);
        }

        if (n < total) {
            ttai_tt_buf_printf(&b, "Only %zu of %zu are shown%s.\n", n,
                               total,
                               recent ? " (the newest)" : "");
        }
    }

    json_decref(list);

    *result = ttai_tt_buf_result(&b, out);

    return *result ? 0 : -1;
}


/*
 * 1075264  Cancelled  Limit Day  -1.02 x1  AAPL  2026-06-12T19:33:24
 *     Buy to Open 1 AAPL (1 remaining, 0 fills)
 */

static void
ttai_tool_orders_line(ttai_tt_buf_t *b, json_t *o)
{
    size_t       i;
    json_t      *id, *leg;
    const char  *s;

    id = json_object_get(o, "id");

    if (json_is_integer(id)) {
        ttai_tt_buf_printf(b, "%" JSON_INTEGER_FORMAT,
                           json_integer_value(id));
    } else {
        ttai_tt_buf_printf(b, "%s", json_is_string(id)
                                    ? json_string_value(id) : "-");
    }

    s = json_string_value(json_object_get(o, "status"));
    ttai_tt_buf_printf(b, "  %s", s ? s : "?");

    s = json_string_value(json_object_get(o, "order_type"));
    ttai_tt_buf_printf(b, "  %s", s ? s : "?");

    s = json_string_value(json_object_get(o, "time_in_force"));
    ttai_tt_buf_printf(b, " %s  ", s ? s : "?");

    if (json_is_number(json_object_get(o, "price"))) {
        ttai_tt_buf_printf(b, "price ");
        ttai_tt_buf_number(b, json_object_get(o, "price"));
        ttai_tt_buf_printf(b, "  ");
    }

    if (json_is_number(json_object_get(o, "stop_trigger"))) {
        ttai_tt_buf_printf(b, "stop ");
        ttai_tt_buf_number(b, json_object_get(o, "stop_trigger"));
        ttai_tt_buf_printf(b, "  ");
    }

    ttai_tt_buf_printf(b, "size ");
    ttai_tt_buf_number(b, json_object_get(o, "size"));

    s = json_string_value(json_object_get(o, "underlying"));
    ttai_tt_buf_printf(b, "  %s", s ? s : "?");

    s = json_string_value(json_object_get(o, "received_at"));
    if (s != NULL) {
        ttai_tt_buf_printf(b, "  received %.19s", s);
    }

    ttai_tt_buf_printf(b, "\n");

    json_array_foreach(json_object_get(o, "legs"), i, leg) {
        s = json_string_value(json_object_get(leg, "action"));
        ttai_tt_buf_printf(b, "    %s ", s ? s : "?");
        ttai_tt_buf_number(b, json_object_get(leg, "quantity"));

        s = json_string_value(json_object_get(leg, "symbol"));
        ttai_tt_buf_printf(b, " %s (", s ? s : "?");
        ttai_tt_buf_number(b, json_object_get(leg, "remaining"));
        ttai_tt_buf_printf(b, " remaining, %" JSON_INTEGER_FORMAT
                           " fill%s)\n",
                           json_integer_value(json_object_get(leg, "fills")),
                           json_integer_value(json_object_get(leg, "fills"))
                           == 1 ? "" : "s");
    }
}


static int
ttai_tool_orders_recent(json_t *args)
{
    const char  *status;

    status = json_string_value(json_object_get(args, "status"));

    return status != NULL && strcmp(status, "recent") == 0;
}
