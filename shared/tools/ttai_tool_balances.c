
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_balances: an account's balances, cached per user and account for
 * the account lifetime.  TastyTrade sends one object under data (some
 * specs say a list: a one-item list is read too).
 */


static int ttai_tool_balances_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_balances_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_balances_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static json_t *ttai_tool_balances_shape(ttai_tool_ctx_t *ctx, json_t *bal);


/* after account_number */
static const ttai_tt_field_t  ttai_tool_balances_fields[] = {
    ttai_tt_field("net-liquidating-value", "net_liquidating_value",
                  TTAI_TT_NUMBER),
    ttai_tt_field("cash-balance", "cash_balance", TTAI_TT_NUMBER),
    ttai_tt_field("equity-buying-power", "equity_buying_power",
                  TTAI_TT_NUMBER),
    ttai_tt_field("derivative-buying-power", "derivative_buying_power",
                  TTAI_TT_NUMBER),
    ttai_tt_field("day-trading-buying-power", "day_trading_buying_power",
                  TTAI_TT_NUMBER),
    ttai_tt_field("maintenance-requirement", "maintenance_requirement",
                  TTAI_TT_NUMBER),
    ttai_tt_field("margin-equity", "margin_equity", TTAI_TT_NUMBER),
    ttai_tt_field("long-equity-value", "long_equity_value",
                  TTAI_TT_NUMBER),
    ttai_tt_field("short-equity-value", "short_equity_value",
                  TTAI_TT_NUMBER),
    ttai_tt_field("long-derivative-value", "long_derivative_value",
                  TTAI_TT_NUMBER),
    ttai_tt_field("short-derivative-value", "short_derivative_value",
                  TTAI_TT_NUMBER),
    ttai_tt_field("pending-cash", "pending_cash", TTAI_TT_SIGNED),
    ttai_tt_field("updated-at", "updated_at", TTAI_TT_STRING),
    ttai_tt_null_field
};

/* the text: a label for each line, in this order */
static const char  *ttai_tool_balances_lines[][2] = {
    { "net_liquidating_value",     "Net liquidating value" },
    { "cash_balance",              "Cash balance" },
    { "pending_cash",              "Pending cash" },
    { "equity_buying_power",       "Equity buying power" },
    { "derivative_buying_power",   "Derivative (option) buying power" },
    { "day_trading_buying_power",  "Day-trading buying power" },
    { "maintenance_requirement",   "Maintenance requirement" },
    { "margin_equity",             "Margin equity" },
    { "long_equity_value",         "Long equity value" },
    { "short_equity_value",        "Short equity value" },
    { "long_derivative_value",     "Long derivative value" },
    { "short_derivative_value",    "Short derivative value" },
    { NULL, NULL }
};


const ttai_tool_impl_t  ttai_tool_get_balances = {
    "get_balances",
    ttai_tool_balances_run,
    ttai_tool_balances_resume,
    0,
    NULL
};


static int
ttai_tool_balances_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tt_account_run(ctx, args, ttai_tool_balances_fetch, result,
                               pending);
}


static int
ttai_tool_balances_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    *pending = ttai_tt_account_request(ctx, "GET", account, "/balances",
                                       NULL, "balances", NULL,
                                       ctx->ttl->account);
    if (*pending == NULL) {
        return -1;
    }

    (*pending)->watch = 1;

    return 0;
}


static int
ttai_tool_balances_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int      rc;
    json_t  *data, *bal, *items;

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_balances_fetch,
                              result, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    data = ttai_tt_data("get_balances", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    if (ttai_tt_account_changed(ctx, resp, "balances") != 0) {
        json_decref(data);
        return -1;
    }

    bal = data;
    items = json_object_get(data, "items");

    if (json_is_array(items)) {
        bal = (json_array_size(items) == 1) ? json_array_get(items, 0)
                                            : NULL;
    }

    if (!json_is_object(bal)) {
        json_decref(data);
        *result = ttai_tool_error_result("Tool get_balances failed: "
                                         "TastyTrade sent no balances for "
                                         "account %s.  Try again.",
                                         ttai_tt_account(ctx));
        return *result ? 0 : -1;
    }

    *result = ttai_tool_balances_shape(ctx, bal);
    json_decref(data);

    return *result ? 0 : -1;
}


static json_t *
ttai_tool_balances_shape(ttai_tool_ctx_t *ctx, json_t *bal)
{
    int             rc;
    size_t          i;
    json_t         *out, *account, *v;
    const char     *updated;
    ttai_tt_buf_t   b;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    /* the account asked for, unless TastyTrade names it */
    account = json_object_get(bal, "account-number");

    rc = ttai_tt_set(0, out, "account_number",
                     json_is_string(account)
                     ? json_incref(account)
                     : json_string(ttai_tt_account(ctx)));

    if (rc != 0 || ttai_tt_map(out, bal, ttai_tool_balances_fields) != 0) {
        json_decref(out);
        return NULL;
    }

    memset(&b, 0, sizeof(b));

    updated = json_string_value(json_object_get(out, "updated_at"));

    ttai_tt_buf_printf(&b, "Balances of account %s (USD%s%s):\n",
                       json_string_value(json_object_get(out,
                                                         "account_number")),
                       updated ? ", as of " : "", updated ? updated : "");

    for (i = 0; ttai_tool_balances_lines[i][0] != NULL; i++) {
        v = json_object_get(out, ttai_tool_balances_lines[i][0]);
        ttai_tt_buf_printf(&b, "%s: ", ttai_tool_balances_lines[i][1]);
        ttai_tt_buf_number(&b, v);
        ttai_tt_buf_printf(&b, "\n");
    }

    return ttai_tt_buf_result(&b, out);
}
