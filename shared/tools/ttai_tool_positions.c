
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_positions: an account's open positions, cached per user and
 * account for the account lifetime.  TastyTrade sends quantities
 * unsigned with a quantity-direction; here a short position has a
 * negative quantity, which is what a model reasons with.
 */

#define TTAI_TOOL_POSITIONS_LIMIT  100


static int ttai_tool_positions_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_positions_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_positions_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static void ttai_tool_positions_line(ttai_tt_buf_t *b, json_t *p);


static const ttai_tt_field_t  ttai_tool_positions_fields[] = {
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("underlying-symbol", "underlying", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("quantity", "quantity", TTAI_TT_SHORT),
    ttai_tt_field("average-open-price", "average_open_price",
                  TTAI_TT_NUMBER),
    ttai_tt_field("close-price", "close_price", TTAI_TT_NUMBER),
    ttai_tt_field("multiplier", "multiplier", TTAI_TT_NUMBER),
    ttai_tt_field("cost-effect", "cost_effect", TTAI_TT_STRING),
    ttai_tt_field("expires-at", "expires_at", TTAI_TT_STRING),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_positions = {
    "get_positions",
    ttai_tool_positions_run,
    ttai_tool_positions_resume,
    0,
    NULL
};


static int
ttai_tool_positions_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tt_account_run(ctx, args, ttai_tool_positions_fetch, result,
                               pending);
}


static int
ttai_tool_positions_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    *pending = ttai_tt_account_request(ctx, "GET", account, "/positions",
                                       NULL, "positions", NULL,
                                       ctx->ttl->account);
    if (*pending == NULL) {
        return -1;
    }

    /* ttai://positions changes when a fetch finds them changed */
    (*pending)->watch = 1;

    return 0;
}


static int
ttai_tool_positions_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    size_t          i, limit, total, n;
    json_t         *data, *items, *pos, *list, *p, *out, *jl;
    ttai_tt_buf_t   b;

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_positions_fetch,
                              result, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    data = ttai_tt_data("get_positions", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    if (ttai_tt_account_changed(ctx, resp, "positions") != 0) {
        json_decref(data);
        return -1;
    }

    items = json_object_get(data, "items");

    if (!json_is_array(items)) {
        json_decref(data);
        *result = ttai_tool_error_result("Tool get_positions failed: "
                                         "TastyTrade sent a positions list "
                                         "without items.  Try again.");
        return *result ? 0 : -1;
    }

    jl = json_object_get(args, "limit");
    limit = json_is_integer(jl) ? (size_t) json_integer_value(jl)
                                : TTAI_TOOL_POSITIONS_LIMIT;

    list = json_array();
    out = json_object();
    rc = (list && out) ? 0 : -1;

    total = 0;
    n = 0;

    json_array_foreach(items, i, pos) {
        if (!json_is_string(json_object_get(pos, "symbol"))) {
            continue;
        }

        total++;

        if (rc != 0 || n == limit) {
            continue;
        }

        p = ttai_tt_mapped(pos, ttai_tool_positions_fields);

        if (p == NULL || json_array_append_new(list, p) != 0) {
            rc = -1;
            continue;
        }

        n++;
    }

    rc = ttai_tt_set(rc, out, "account_number",
                     json_string(ttai_tt_account(ctx)));
    rc = ttai_tt_set(rc, out, "total", json_integer((json_int_t) total));
    rc = ttai_tt_set(rc, out, "returned", json_integer((json_int_t) n));
    rc = ttai_tt_set(rc, out, "truncated", json_boolean(n < total));
    rc = ttai_tt_set(rc, out, "positions", json_incref(list));

    json_decref(data);

    if (rc != 0) {
        json_decref(list);
        json_decref(out);
        return -1;
    }

    memset(&b, 0, sizeof(b));

    if (total == 0) {
        ttai_tt_buf_printf(&b, "Account %s has no open positions.",
                           ttai_tt_account(ctx));

    } else {
        ttai_tt_buf_printf(&b, "Account %s: %zu position%s "
                           "(symbol, quantity, type, average open price, "
                           "close price):\n", ttai_tt_account(ctx), total,
                           total == 1 ? "" : "s");

        json_array_foreach(list, i, p) {
            ttai_tool_positions_line(&b, p);
        }

        if (n < total) {
            ttai_tt_buf_printf(&b, "Only the first %zu of %zu are shown: "
                               "call get_positions with a larger limit "
                               "(up to 500) to see more.\n", n, total);
        }
    }

    json_decref(list);

    *result = ttai_tt_buf_result(&b, out);

    return *result ? 0 : -1;
}


/* AAPL  100  Equity  288.7  282.48 [x100] [expires 2023-07-31] */

static void
ttai_tool_positions_line(ttai_tt_buf_t *b, json_t *p)
{
    json_t      *mult;
    const char  *type, *expires;

    type = json_string_value(json_object_get(p, "instrument_type"));
    expires = json_string_value(json_object_get(p, "expires_at"));
    mult = json_object_get(p, "multiplier");

    ttai_tt_buf_printf(b, "%s  ",
                       json_string_value(json_object_get(p, "symbol")));
    ttai_tt_buf_number(b, json_object_get(p, "quantity"));
    ttai_tt_buf_printf(b, "  %s  ", type ? type : "?");
    ttai_tt_buf_number(b, json_object_get(p, "average_open_price"));
    ttai_tt_buf_printf(b, "  ");
    ttai_tt_buf_number(b, json_object_get(p, "close_price"));

    if (json_is_number(mult) && json_number_value(mult) != 1) {
        ttai_tt_buf_printf(b, "  x");
        ttai_tt_buf_number(b, mult);
    }

    if (expires != NULL) {
        ttai_tt_buf_printf(b, "  expires %.10s", expires);
    }

    ttai_tt_buf_printf(b, "\n");
}
