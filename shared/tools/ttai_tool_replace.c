
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_order.h"
#include "ttai_tt.h"
#include "ttai_tool_order.h"
#include "ttai_tool_trade.h"


/*
 * replace_order: a working order's price, type or time in force changed
 * (TastyTrade's cancel-replace: what is left of it becomes a new order
 * that names it), only as the user confirmed it, through the
 * confirmation path of ttai_tool_trade.h.  Its own steps:
 *
 *   order   the order looked at: its legs and what is left of them
 *   quotes  their market, for the operator's limits and price band
 *   dry     TastyTrade's dry run of the replacement: what the user sees
 *   send    PUT /accounts/{n}/orders/{id}
 *   lookup  after a lost answer, or a confirmation used before: the
 *           account's orders, for the one that replaces this one
 */

#define TTAI_TOOL_REPLACE  "replace_order"


static int ttai_tool_replace_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_replace_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_replace_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_replace_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_replace_looked(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_replace_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static char *ttai_tool_replace_path(ttai_tool_ctx_t *ctx, const char *tail);
static json_t *ttai_tool_replace_answer(ttai_tool_ctx_t *ctx, json_t *order,
    const char *how);
static int ttai_tool_replace_failed(ttai_tool_ctx_t *ctx, const char *what,
    json_t *error, ttai_mcp_pending_t **pending);
static json_t *ttai_tool_replace_decimal(json_t *v);


static const ttai_tool_trade_step_t  ttai_tool_replace_steps[] = {
    { "order", ttai_tool_replace_looked },
    { "quotes", ttai_tool_replace_quoted },
    { "dry", ttai_tool_replace_dried },
    { NULL, NULL }
};

static const ttai_tool_trade_t  ttai_tool_replace_trade = {
    TTAI_TOOL_REPLACE,
    ttai_tool_replace_begin,
    ttai_tool_replace_granted,
    ttai_tool_replace_send,
    ttai_tool_replace_sent,
    ttai_tool_replace_lookup,
    ttai_tool_replace_found,
    ttai_tool_replace_steps
};


const ttai_tool_impl_t  ttai_tool_replace_order = {
    TTAI_TOOL_REPLACE,
    ttai_tool_replace_run,
    ttai_tool_replace_resume,
    0,
    ttai_tool_replace_input
};


static int
ttai_tool_replace_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int          limit, stop;
    const char  *type, *tif;

    if (!ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool replace_order: trading is "
                                         "not allowed here.  Nothing was "
                                         "changed.");
        return *result ? 0 : -1;
    }

    type = json_string_value(json_object_get(args, "order_type"));
    tif = json_string_value(json_object_get(args, "time_in_force"));
    limit = (strstr(type, "Limit") != NULL);
    stop = (strncmp(type, "Stop", 4) == 0);

    if (limit != (json_object_get(args, "price") != NULL)
        || stop != (json_object_get(args, "stop_price") != NULL)
        || (tif != NULL && strcmp(tif, "GTD") == 0)
           != (json_object_get(args, "gtc_date") != NULL))
    {
        *result = ttai_tool_error_result("Invalid change for replace_order: "
                                         "Limit and Stop Limit take price, "
                                         "Stop and Stop Limit stop_price, "
                                         "GTD gtc_date, and no other order "
                                         "takes them.  Nothing was changed.");
        return *result ? 0 : -1;
    }

    return ttai_tt_account_run(ctx, args, ttai_tool_replace_begin, result,
                               pending);
}


static int
ttai_tool_replace_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t  *canonical, *v;

    /* what the confirmation binds: this order, changed to exactly this */
    canonical = json_pack("{s:s, s:s, s:I, s:O, s:s}", "tool",
                          TTAI_TOOL_REPLACE, "account", account, "order_id",
                          json_integer_value(json_object_get(args,
                                                             "order_id")),
                          "type", json_object_get(args, "order_type"),
                          "tif",
                          json_string_value(json_object_get(args,
                                                            "time_in_force"))
                          ? json_string_value(json_object_get(args,
                                                  "time_in_force"))
                          : "as before");
    if (canonical == NULL) {
        return -1;
    }

    v = json_object_get(args, "price");
    if (v != NULL) {
        json_object_set_new(canonical, "price",
                            ttai_tool_replace_decimal(v));
    }

    v = json_object_get(args, "stop_price");
    if (v != NULL) {
        json_object_set_new(canonical, "stop",
                            ttai_tool_replace_decimal(v));
    }

    if (json_object_get(args, "price_effect") != NULL) {
        json_object_set(canonical, "effect",
                        json_object_get(args, "price_effect"));
    }

    if (json_object_get(args, "gtc_date") != NULL) {
        json_object_set(canonical, "gtd", json_object_get(args, "gtc_date"));
    }

    return ttai_tool_trade_begin(&ttai_tool_replace_trade, ctx, canonical,
                                 pending);
}


static int
ttai_tool_replace_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_resume(&ttai_tool_replace_trade, ctx, args, resp,
                                  result, pending);
}


static int
ttai_tool_replace_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_input(&ttai_tool_replace_trade, ctx, args,
                                 responses, result, pending);
}


static int
ttai_tool_replace_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    int    rc;
    char  *path;

    path = ttai_tool_replace_path(ctx, "");
    if (path == NULL) {
        return -1;
    }

    rc = ttai_tool_trade_get(ctx, "order", ttai_tt_account(ctx), path,
                             pending);
    free(path);

    return rc;
}


/*
 * The order is known: the replacement as an order of what is left, for
 * the operator's limits; then its legs' market
 */

static int
ttai_tool_replace_looked(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    char            err[256], *path;
    void           *tmp;
    size_t          i;
    json_t         *data, *error, *order, *legs, *leg, *l, *canonical, *v;
    const char     *effect, *key;
    ttai_tt_buf_t   b;

    data = ttai_tt_data(TTAI_TOOL_REPLACE, resp, &error);

    if (data == NULL) {
        return error ? ttai_tool_replace_failed(ctx, "the order could not "
                                                "be read", error, pending)
                     : -1;
    }

    if (!json_is_true(json_object_get(data, "editable"))) {
        memset(&b, 0, sizeof(b));
        ttai_tt_buf_printf(&b, "the order can no longer be changed (");
        ttai_tool_order_describe(&b, data);
        ttai_tt_buf_printf(&b, ")");
        json_decref(data);

        rc = b.failed ? -1 : ttai_tool_trade_refuse(ctx, b.data, pending);
        free(b.data);

        return rc;
    }

    effect = json_string_value(json_object_get(args, "price_effect"));
    if (effect == NULL) {
        effect = json_string_value(json_object_get(data, "price-effect"));
    }

    /* the order the replacement is: the same legs, what is left of them */
    legs = json_array();
    order = json_pack("{s:O, s:s, s:O?, s:s?, s:O?, s:O?, s:o}",
                      "order_type", json_object_get(args, "order_type"),
                      "time_in_force",
                      json_string_value(json_object_get(args,
                                                        "time_in_force"))
                      ? json_string_value(json_object_get(args,
                                                          "time_in_force"))
                      : json_string_value(json_object_get(data,
                                                          "time-in-force")),
                      "price", json_object_get(args, "price"),
                      "price_effect",
                      json_object_get(args, "price") ? effect : NULL,
                      "stop_price", json_object_get(args, "stop_price"),
                      "gtc_date", json_object_get(args, "gtc_date"),
                      "legs", legs);

    json_array_foreach(json_object_get(data, "legs"), i, leg) {
        l = json_pack("{s:O, s:O, s:O, s:O}", "symbol",
                      json_object_get(leg, "symbol"), "instrument_type",
                      json_object_get(leg, "instrument-type"), "action",
                      json_object_get(leg, "action"), "quantity",
                      json_object_get(leg, "remaining-quantity"));

        if (l == NULL || json_array_append_new(legs, l) != 0) {
            json_decref(order);
            json_decref(data);
            return -1;
        }
    }

    rc = json_object_set(ctx->state, "original", data);
    json_decref(data);

    /* what was not given is absent, as in an order's own arguments */
    json_object_foreach_safe(order, tmp, key, v) {
        if (json_is_null(v)) {
            json_object_del(order, key);
        }
    }

    if (order == NULL || rc != 0) {
        json_decref(order);
        return -1;
    }

    canonical = ttai_order_canonical(order, ttai_tt_account(ctx), err,
                                     sizeof(err));
    if (canonical == NULL) {
        json_decref(order);

        if (strcmp(err, "out of memory") == 0) {
            return -1;
        }

        return ttai_tool_trade_refuse(ctx, err, pending);
    }

    rc = json_object_set_new(ctx->state, "replacement", order)
         || json_object_set_new(ctx->state, "order", canonical);

    path = rc ? NULL : ttai_tool_order_quotes_path(canonical);

    if (path == NULL || ttai_tool_trade_step(ctx, "quotes") != 0) {
        free(path);
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, NULL, 0);
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_replace_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int                  rc;
    char                 err[320], *text, *path;
    json_t              *mids, *body, *order;
    double               notional;
    ttai_order_limits_t  lim;

    mids = ttai_tool_order_mids(resp);
    if (mids == NULL) {
        return -1;
    }

    /*
     * The replaced order counted in the day already: the replacement is
     * held to the limits of an order, not counted again
     */
    lim = ctx->call->trading->limits;
    lim.max_day_notional = 0;

    rc = ttai_order_check_limits(&lim, json_object_get(ctx->state, "order"),
                                 mids, 0, &notional, err, sizeof(err));
    json_decref(mids);

    if (rc != 0) {
        return ttai_tool_trade_refuse(ctx, err, pending);
    }

    order = json_object_get(ctx->state, "replacement");

    body = ttai_tool_order_body(order,
                                json_string_value(json_object_get(order,
                                    "price_effect")));

    /* a replace names the order's terms only; the legs stay */
    if (body != NULL) {
        json_object_del(body, "legs");
    }

    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    path = ttai_tool_replace_path(ctx, "/dry-run");

    if (text == NULL || path == NULL
        || json_object_set_new(ctx->state, "body", json_string(text)) != 0
        || ttai_tool_trade_step(ctx, "dry") != 0)
    {
        free(text);
        free(path);
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "POST", ttai_tt_account(ctx),
                                       path, text, NULL, NULL, 0);
    free(text);
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_replace_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    json_t         *data, *error, *preview;
    ttai_tt_buf_t   b;

    data = ttai_tt_data(TTAI_TOOL_REPLACE, resp, &error);

    if (data == NULL) {
        return error ? ttai_tool_replace_failed(ctx, "the dry run refused "
                                                "it", error, pending)
                     : -1;
    }

    preview = ttai_tool_order_preview(ttai_tt_account(ctx), data);
    json_decref(data);

    if (preview == NULL
        || json_object_set_new(ctx->state, "preview", preview) != 0)
    {
        return -1;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Replace ");
    ttai_tool_order_describe(&b, json_object_get(ctx->state, "original"));
    ttai_tt_buf_printf(&b, "\nwith this?  Amounts in USD, negative = "
                       "debit.\n");
    ttai_tool_order_preview_text(&b, preview);

    if (b.failed) {
        free(b.data);
        return -1;
    }

    rc = ttai_tool_trade_confirm(&ttai_tool_replace_trade, ctx, args, b.data,
                                 NULL, result, pending);
    free(b.data);

    return rc;
}


static int
ttai_tool_replace_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending)
{
    char  *path;

    path = ttai_tool_replace_path(ctx, "");

    if (path == NULL || ttai_tool_trade_step(ctx, "send") != 0) {
        free(path);
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "PUT", ttai_tt_account(ctx),
                                       path,
                                       ttai_tool_trade_state(ctx, "body"),
                                       NULL, NULL, 0);

    /* what it sent may have arrived: its failure is the tool's to see */
    if (*pending != NULL) {
        (*pending)->failures = 1;
    }
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_replace_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *data, *error, *answer, *order;

    data = ttai_tt_data(TTAI_TOOL_REPLACE, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        return ttai_tool_trade_finish(ctx, "rejected",
                                      ttai_tool_trade_text(error), resp, NULL,
                                      error, pending);
    }

    /* the new order itself, or as dry runs and placements wrap it */
    order = json_object_get(data, "order");
    if (order == NULL) {
        order = data;
    }

    answer = ttai_tool_replace_answer(ctx, order, "replaces it");

    if (answer == NULL) {
        json_decref(data);
        return -1;
    }

    json_decref(data);

    return ttai_tool_trade_finish(ctx, "sent", NULL, resp,
                                  json_object_get(json_object_get(answer,
                                      "structuredContent"), "order_id"),
                                  answer, pending);
}


static int
ttai_tool_replace_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_get(ctx, "lookup", ttai_tt_account(ctx),
                               "/orders/live", pending);
}


static int
ttai_tool_replace_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    size_t       i;
    json_t      *data, *error, *item, *found, *answer, *id;
    const char  *lost;

    lost = ttai_tool_trade_state(ctx, "lost");
    id = json_object_get(json_object_get(ctx->state, "canonical"),
                         "order_id");

    data = ttai_tt_data(TTAI_TOOL_REPLACE, resp, &error);
    json_decref(error);

    found = NULL;

    json_array_foreach(json_object_get(data, "items"), i, item) {
        if (json_integer_value(json_object_get(item, "replaces-order-id"))
            == json_integer_value(id))
        {
            found = item;
            break;
        }
    }

    if (found == NULL) {
        json_decref(data);

        return ttai_tool_trade_finish(ctx, "unknown",
                                      lost ? "the change was sent, but its "
                                             "answer was lost and no order "
                                             "replacing it is among the "
                                             "account's orders yet: check "
                                             "get_orders in a minute; ttai "
                                             "will not send it again"
                                           : "this confirmation was used "
                                             "already; each changes an "
                                             "order once.  Check get_orders",
                                      NULL, id, NULL, pending);
    }

    answer = ttai_tool_replace_answer(ctx, found,
                 lost ? "replaces it (the answer was lost; ttai found it and "
                        "did not send the change again)"
                      : "replaced it already with this confirmation, which "
                        "changes an order once: nothing more was sent");
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, lost ? "sent" : "reused", lost, NULL,
                                  json_object_get(json_object_get(answer,
                                      "structuredContent"), "order_id"),
                                  answer, pending);
}


static char *
ttai_tool_replace_path(ttai_tool_ctx_t *ctx, const char *tail)
{
    return ttai_tt_sprintf("/orders/%lld%s",
                           (long long) json_integer_value(json_object_get(
                               json_object_get(ctx->state, "canonical"),
                               "order_id")), tail);
}


static json_t *
ttai_tool_replace_answer(ttai_tool_ctx_t *ctx, json_t *order,
    const char *how)
{
    json_t         *out, *old;
    ttai_tt_buf_t   b;

    old = json_object_get(json_object_get(ctx->state, "canonical"),
                          "order_id");

    out = json_pack("{s:s, s:O, s:O?, s:O?}", "account_number",
                    ttai_tt_account(ctx), "replaced_order_id", old,
                    "order_id", json_object_get(order, "id"),
                    "status", json_object_get(order, "status"));
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "On account %s, order ", ttai_tt_account(ctx));
    ttai_tt_buf_number(&b, old);
    ttai_tt_buf_printf(&b, " was replaced: ");
    ttai_tool_order_describe(&b, order);
    ttai_tt_buf_printf(&b, " %s.", how);

    return ttai_tt_buf_result(&b, out);
}


static int
ttai_tool_replace_failed(ttai_tool_ctx_t *ctx, const char *what,
    json_t *error, ttai_mcp_pending_t **pending)
{
    int    rc;
    char  *why;

    why = ttai_tt_sprintf("%s: %s", what, ttai_tool_trade_text(error));
    json_decref(error);

    rc = why ? ttai_tool_trade_refuse(ctx, why, pending) : -1;
    free(why);

    return rc;
}


/* as the canonical order writes prices: four places, one text per value */

static json_t *
ttai_tool_replace_decimal(json_t *v)
{
    char  buf[64];

    snprintf(buf, sizeof(buf), "%.4f", json_number_value(v));

    return json_string(buf);
}
