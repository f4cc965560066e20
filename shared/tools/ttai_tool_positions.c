
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"


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
static json_t *ttai_tool_positions_one(json_t *pos);
static void ttai_tool_positions_line(ttai_tt_buf_t *b, json_t *p);


static const char  ttai_tool_positions_input[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"account_number\":{\"type\":\"string\",\"minLength\":1,"
        "\"maxLength\":32,\"description\":\"The TastyTrade account number "
        "(get_accounts lists them).  Omit it when the user has only one "
        "account.\"},"
      "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500,"
        "\"default\":100,\"description\":\"The most positions to return "
        "(default 100).\"}},"
    "\"additionalProperties\":false}";

static const char  ttai_tool_positions_output[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"account_number\":{\"type\":\"string\"},"
      "\"total\":{\"type\":\"integer\"},"
      "\"returned\":{\"type\":\"integer\"},"
      "\"truncated\":{\"type\":\"boolean\"},"
      "\"positions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"properties\":{"
          "\"symbol\":{\"type\":\"string\"},"
          "\"underlying\":{\"type\":[\"string\",\"null\"]},"
          "\"instrument_type\":{\"type\":[\"string\",\"null\"]},"
          "\"quantity\":{\"type\":[\"number\",\"null\"],"
            "\"description\":\"negative for a short position\"},"
          "\"average_open_price\":{\"type\":[\"number\",\"null\"]},"
          "\"close_price\":{\"type\":[\"number\",\"null\"]},"
          "\"multiplier\":{\"type\":[\"number\",\"null\"]},"
          "\"cost_effect\":{\"type\":[\"string\",\"null\"]},"
          "\"expires_at\":{\"type\":[\"string\",\"null\"]}},"
        "\"required\":[\"symbol\",\"underlying\",\"instrument_type\","
                      "\"quantity\",\"average_open_price\","
                      "\"close_price\",\"multiplier\",\"cost_effect\","
                      "\"expires_at\"]}}},"
    "\"required\":[\"account_number\",\"total\",\"returned\","
                  "\"truncated\",\"positions\"]}";


const ttai_tool_t  ttai_tool_get_positions = {
    "get_positions",
    "Account positions",
    "An account's open positions: symbol (OCC option symbols have "
    "spaces), underlying, instrument type, quantity (negative for a "
    "short position), average open price and previous close price per "
    "share or contract unit, multiplier (100 for most equity options), "
    "cost effect (Debit: paid to open, Credit: received), and expiry for "
    "options and futures.  Prices are in US dollars; a position's value "
    "is price x quantity x multiplier.  At most limit positions (default "
    "100) are returned; the result says when there are more.  "
    "account_number may be omitted when the user has one account.",
    ttai_tool_positions_input,
    ttai_tool_positions_output,
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_IDEMPOTENT | TTAI_TOOL_OPEN_WORLD,
    ttai_tool_positions_run,
    ttai_tool_positions_resume
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

    return *pending ? 0 : -1;
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

        p = ttai_tool_positions_one(pos);

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


static json_t *
ttai_tool_positions_one(json_t *pos)
{
    int          rc;
    json_t      *p, *q;
    const char  *dir;

    p = json_object();
    if (p == NULL) {
        return NULL;
    }

    q = ttai_tt_number(json_object_get(pos, "quantity"));
    dir = json_string_value(json_object_get(pos, "quantity-direction"));

    if (json_is_real(q) && json_real_value(q) != 0
        && dir != NULL && strcmp(dir, "Short") == 0)
    {
        json_real_set(q, -json_real_value(q));
    }

    rc = ttai_tt_set(0, p, "symbol", ttai_tt_string(pos, "symbol"));
    rc = ttai_tt_set(rc, p, "underlying",
                     ttai_tt_string(pos, "underlying-symbol"));
    rc = ttai_tt_set(rc, p, "instrument_type",
                     ttai_tt_string(pos, "instrument-type"));
    rc = ttai_tt_set(rc, p, "quantity", q);
    rc = ttai_tt_set(rc, p, "average_open_price",
                     ttai_tt_number(json_object_get(pos,
                                                    "average-open-price")));
    rc = ttai_tt_set(rc, p, "close_price",
                     ttai_tt_number(json_object_get(pos, "close-price")));
    rc = ttai_tt_set(rc, p, "multiplier",
                     ttai_tt_number(json_object_get(pos, "multiplier")));
    rc = ttai_tt_set(rc, p, "cost_effect",
                     ttai_tt_string(pos, "cost-effect"));
    rc = ttai_tt_set(rc, p, "expires_at", ttai_tt_string(pos, "expires-at"));

    if (rc != 0) {
        json_decref(p);
        return NULL;
    }

    return p;
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
