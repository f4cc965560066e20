
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
 * place_complex_order: an OCO (two orders, the first to fill cancels
 * the other) or an OTOCO (an opening order whose fill starts such a
 * pair), sent to TastyTrade's complex orders only as the user confirmed
 * them, through the confirmation path of ttai_tool_trade.h.  Each order
 * is checked as place_order checks one; its own steps:
 *
 *   quotes  the legs' market, for the operator's limits
 *   dry     TastyTrade's dry run of the whole: what the user sees
 *   send    POST /accounts/{n}/complex-orders, with a client order id
 *   lookup  after a lost answer, or a confirmation used before: the
 *           account's live complex orders, for that id
 *
 * What counts toward the day's notional is what can open a position at
 * once: an OTOCO's trigger, or the larger of an OCO's two.
 */

#define TTAI_TOOL_COMPLEX  "place_complex_order"


static int ttai_tool_complex_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_complex_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_complex_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_complex_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_complex_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_complex_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_complex_parts(json_t *args);
static json_t *ttai_tool_complex_body(ttai_tool_ctx_t *ctx, json_t *args);
static void ttai_tool_complex_describe(ttai_tt_buf_t *b, json_t *canonical);
static json_t *ttai_tool_complex_answer(ttai_tool_ctx_t *ctx, json_t *c,
    const char *how);


static const ttai_tool_trade_step_t  ttai_tool_complex_steps[] = {
    { "quotes", ttai_tool_complex_quoted },
    { "dry", ttai_tool_complex_dried },
    { NULL, NULL }
};

static const ttai_tool_trade_t  ttai_tool_complex_trade = {
    TTAI_TOOL_COMPLEX,
    ttai_tool_complex_begin,
    ttai_tool_complex_granted,
    ttai_tool_complex_send,
    ttai_tool_complex_sent,
    ttai_tool_complex_lookup,
    ttai_tool_complex_found,
    ttai_tool_complex_steps
};


const ttai_tool_impl_t  ttai_tool_place_complex_order = {
    TTAI_TOOL_COMPLEX,
    ttai_tool_complex_run,
    ttai_tool_complex_resume,
    0,
    ttai_tool_complex_input
};


static int
ttai_tool_complex_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    size_t       i;
    json_t      *parts, *o, *effects;
    const char  *type, *effect;

    if (!ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool place_complex_order: trading "
                                         "is not allowed here.  Nothing was "
                                         "placed.");
        return *result ? 0 : -1;
    }

    type = json_string_value(json_object_get(args, "type"));

    if ((strcmp(type, "OTOCO") == 0)
        != (json_object_get(args, "trigger_order") != NULL))
    {
        *result = ttai_tool_error_result("Invalid order for "
                                         "place_complex_order: an OTOCO "
                                         "needs trigger_order, the order "
                                         "that opens the position, and an "
                                         "OCO takes none.  Nothing was "
                                         "placed.");
        return *result ? 0 : -1;
    }

    parts = ttai_tool_complex_parts(args);
    effects = json_array();

    if (parts == NULL || effects == NULL
        || json_object_set_new(ctx->state, "effects", effects) != 0)
    {
        json_decref(parts);
        return -1;
    }

    /* each order as place_order would check it */
    json_array_foreach(parts, i, o) {
        if (ttai_tool_order_check(TTAI_TOOL_COMPLEX, o, &effect, result)
            != 0)
        {
            json_decref(parts);
            return -1;
        }

        if (*result != NULL) {
            json_decref(parts);
            return 0;
        }

        if (json_array_append_new(effects,
                                  effect ? json_string(effect) : json_null())
            != 0)
        {
            json_decref(parts);
            return -1;
        }
    }

    json_decref(parts);

    return ttai_tt_account_run(ctx, args, ttai_tool_complex_begin, result,
                               pending);
}


/* the trigger (OTOCO) and the two orders, in that order */

static json_t *
ttai_tool_complex_parts(json_t *args)
{
    json_t  *parts;

    parts = json_array();
    if (parts == NULL) {
        return NULL;
    }

    if ((json_object_get(args, "trigger_order") != NULL
         && json_array_append(parts, json_object_get(args, "trigger_order"))
            != 0)
        || json_array_extend(parts, json_object_get(args, "orders")) != 0)
    {
        json_decref(parts);
        return NULL;
    }

    return parts;
}


static int
ttai_tool_complex_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    char     err[256];
    size_t   i;
    json_t  *canonical, *list, *parts, *o, *c;

    list = json_array();
    canonical = json_pack("{s:s, s:s, s:O, s:o}", "tool", TTAI_TOOL_COMPLEX,
                          "account", account, "type",
                          json_object_get(args, "type"), "orders", list);
    parts = ttai_tool_complex_parts(args);

    if (canonical == NULL || parts == NULL) {
        json_decref(canonical);
        json_decref(parts);
        return -1;
    }

    json_array_foreach(parts, i, o) {
        c = ttai_order_canonical(o, account, err, sizeof(err));

        if (c == NULL) {
            json_decref(canonical);
            json_decref(parts);

            if (strcmp(err, "out of memory") == 0) {
                return -1;
            }

            *result = ttai_tool_error_result("Invalid order for "
                                             "place_complex_order: order "
                                             "%zu: %s.  Nothing was placed.",
                                             i + 1, err);
            return *result ? 0 : -1;
        }

        /* the account is the whole's; each order is only its terms */
        json_object_del(c, "account");

        if (json_array_append_new(list, c) != 0) {
            json_decref(canonical);
            json_decref(parts);
            return -1;
        }
    }

    json_decref(parts);

    return ttai_tool_trade_begin(&ttai_tool_complex_trade, ctx, canonical,
                                 pending);
}


static int
ttai_tool_complex_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_resume(&ttai_tool_complex_trade, ctx, args, resp,
                                  result, pending);
}


static int
ttai_tool_complex_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_input(&ttai_tool_complex_trade, ctx, args,
                                 responses, result, pending);
}


/* the user may trade: every leg's market, in one request */

static int
ttai_tool_complex_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char     *path;
    size_t    i;
    json_t   *all, *legs, *o;

    legs = json_array();
    all = json_pack("{s:o}", "legs", legs);
    if (all == NULL) {
        return -1;
    }

    json_array_foreach(json_object_get(json_object_get(ctx->state,
                                                       "canonical"),
                                       "orders"), i, o)
    {
        if (json_array_extend(legs, json_object_get(o, "legs")) != 0) {
            json_decref(all);
            return -1;
        }
    }

    path = ttai_tool_order_quotes_path(all);
    json_decref(all);

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
ttai_tool_complex_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int                  rc, otoco;
    char                 err[320], why[400], *text, *path;
    size_t               i;
    json_t              *mids, *o, *body;
    double               notional, counted, day;
    ttai_order_limits_t  lim;

    mids = ttai_tool_order_mids(resp);
    if (mids == NULL) {
        return -1;
    }

    otoco = json_object_get(args, "trigger_order") != NULL;
    day = json_number_value(json_object_get(ctx->state, "day"));
    counted = 0;

    json_array_foreach(json_object_get(json_object_get(ctx->state,
                                                       "canonical"),
                                       "orders"), i, o)
    {
        /* the day's limit is checked once, on what counts, below */
        lim = ctx->call->trading->limits;
        lim.max_day_notional = 0;

        /* an order's canonical form without its account, as limits read */
        rc = ttai_order_check_limits(&lim, o, mids, 0, &notional, err,
                                     sizeof(err));
        if (rc != 0) {
            json_decref(mids);
            snprintf(why, sizeof(why), "order %zu: %s", i + 1, err);
            return ttai_tool_trade_refuse(ctx, why, pending);
        }

        if (otoco ? i == 0 : notional > counted) {
            counted = notional;
        }
    }

    json_decref(mids);

    lim = ctx->call->trading->limits;

    if (lim.max_day_notional > 0 && day + counted > lim.max_day_notional) {
        snprintf(why, sizeof(why), "with it, today's orders come to %.2f "
                 "USD, more than the day's limit of %.2f", day + counted,
                 lim.max_day_notional);
        return ttai_tool_trade_refuse(ctx, why, pending);
    }

    if (json_object_set_new(ctx->state, "notional", json_real(counted)) != 0)
    {
        return -1;
    }

    body = ttai_tool_complex_body(ctx, args);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    path = strdup("/complex-orders/dry-run");

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


/* the complex order as TastyTrade reads it */

static json_t *
ttai_tool_complex_body(ttai_tool_ctx_t *ctx, json_t *args)
{
    size_t       i, k;
    json_t      *body, *orders, *o, *effects;
    const char  *type;

    type = json_string_value(json_object_get(args, "type"));
    effects = json_object_get(ctx->state, "effects");
    orders = json_array();

    body = json_pack("{s:s, s:o}", "type", type, "orders", orders);
    if (body == NULL) {
        return NULL;
    }

    k = 0;

    o = json_object_get(args, "trigger_order");
    if (o != NULL) {
        o = ttai_tool_order_body(o, json_string_value(json_array_get(effects,
                                                                     k++)));
        if (o == NULL || json_object_set_new(body, "trigger-order", o) != 0)
        {
            json_decref(body);
            return NULL;
        }
    }

    json_array_foreach(json_object_get(args, "orders"), i, o) {
        o = ttai_tool_order_body(o, json_string_value(json_array_get(effects,
                                                                     k++)));
        if (o == NULL || json_array_append_new(orders, o) != 0) {
            json_decref(body);
            return NULL;
        }
    }

    return body;
}


static int
ttai_tool_complex_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    char           *why;
    json_t         *data, *error, *preview;
    ttai_tt_buf_t   b;

    data = ttai_tt_data(TTAI_TOOL_COMPLEX, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        why = ttai_tt_sprintf("the dry run refused it: %s",
                              ttai_tool_trade_text(error));
        json_decref(error);

        rc = why ? ttai_tool_trade_refuse(ctx, why, pending) : -1;
        free(why);

        return rc;
    }

    preview = ttai_tool_order_preview(ttai_tt_account(ctx), data);
    json_decref(data);

    if (preview == NULL
        || json_object_set_new(ctx->state, "preview", preview) != 0)
    {
        return -1;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Place this %s on account %s?\n",
                       json_string_value(json_object_get(args, "type")),
                       ttai_tt_account(ctx));
    ttai_tool_complex_describe(&b, json_object_get(ctx->state, "canonical"));
    ttai_tt_buf_printf(&b, "Amounts in USD, negative = debit.\n");
    ttai_tool_order_preview_text(&b, preview);

    if (b.failed) {
        free(b.data);
        return -1;
    }

    rc = ttai_tool_trade_confirm(&ttai_tool_complex_trade, ctx, args, b.data,
                                 NULL, result, pending);
    free(b.data);

    return rc;
}


static int
ttai_tool_complex_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_post(ctx, "/complex-orders", pending);
}


static int
ttai_tool_complex_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *data, *error, *answer;

    data = ttai_tt_data(TTAI_TOOL_COMPLEX, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        return ttai_tool_trade_finish(ctx, "rejected",
                                      ttai_tool_trade_text(error), resp, NULL,
                                      error, pending);
    }

    answer = ttai_tool_complex_answer(ctx,
                                      json_object_get(data, "complex-order"),
                                      "was placed");
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, "sent", NULL, resp,
                                  json_object_get(json_object_get(answer,
                                      "structuredContent"), "order_id"),
                                  answer, pending);
}


static int
ttai_tool_complex_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_get(ctx, "lookup", ttai_tt_account(ctx),
                               "/complex-orders/live", pending);
}


static int
ttai_tool_complex_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    size_t       i;
    json_t      *data, *error, *item, *found, *answer;
    const char  *client, *id, *lost;

    client = ttai_tool_trade_state(ctx, "client_id");
    lost = ttai_tool_trade_state(ctx, "lost");

    data = ttai_tt_data(NULL, resp, &error);
    json_decref(error);

    found = NULL;

    json_array_foreach(json_object_get(data, "items"), i, item) {
        id = json_string_value(json_object_get(item, "ext-client-order-id"));

        if (id != NULL && client != NULL && strcmp(id, client) == 0) {
            found = item;
            break;
        }
    }

    if (found == NULL) {
        json_decref(data);

        return ttai_tool_trade_finish(ctx, lost ? "unknown" : "refused",
                                      lost ? "the orders were sent, but the "
                                             "answer was lost and they are "
                                             "not among the account's yet: "
                                             "check get_orders in a minute "
                                             "before placing anything; ttai "
                                             "will not send them again"
                                           : "this confirmation was used "
                                             "already; each places its "
                                             "orders once.  Check get_orders",
                                      NULL, NULL, NULL, pending);
    }

    answer = ttai_tool_complex_answer(ctx, found,
                 lost ? "was placed (the answer was lost; ttai found it and "
                        "did not send it again)"
                      : "was placed already with this confirmation, which "
                        "places it once: nothing more was placed");
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, lost ? "sent" : "reused", lost, NULL,
                                  json_object_get(json_object_get(answer,
                                      "structuredContent"), "order_id"),
                                  answer, pending);
}


/* the orders as the user asked for them, one line each */

static void
ttai_tool_complex_describe(ttai_tt_buf_t *b, json_t *canonical)
{
    int          otoco;
    size_t       i, k;
    json_t      *o, *leg;
    const char  *s;

    otoco = strcmp(json_string_value(json_object_get(canonical, "type")),
                   "OTOCO") == 0;

    json_array_foreach(json_object_get(canonical, "orders"), i, o) {
        ttai_tt_buf_printf(b, "%s",
                           otoco && i == 0 ? "First: "
                           : (int) i == otoco ? "Then, whichever fills "
                                                "first of: "
                           : "or: ");

        ttai_tt_buf_printf(b, "%s %s",
                           json_string_value(json_object_get(o, "type")),
                           json_string_value(json_object_get(o, "tif")));

        s = json_string_value(json_object_get(o, "price"));
        if (s != NULL) {
            ttai_tt_buf_printf(b, " at %g", strtod(s, NULL));
        }

        s = json_string_value(json_object_get(o, "stop"));
        if (s != NULL) {
            ttai_tt_buf_printf(b, " stop %g", strtod(s, NULL));
        }

        json_array_foreach(json_object_get(o, "legs"), k, leg) {
            ttai_tt_buf_printf(b, "%s %s %g %s", k ? ";" : ":",
                               json_string_value(json_object_get(leg,
                                                                 "action")),
                               strtod(json_string_value(json_object_get(
                                          leg, "qty")), NULL),
                               json_string_value(json_object_get(leg,
                                                                 "symbol")));
        }

        ttai_tt_buf_printf(b, "\n");
    }
}


static json_t *
ttai_tool_complex_answer(ttai_tool_ctx_t *ctx, json_t *c, const char *how)
{
    size_t          i;
    json_t         *out, *ids, *o;
    ttai_tt_buf_t   b;

    ids = json_array();
    out = json_pack("{s:b, s:s, s:O?, s:O?, s:o}", "placed", 1,
                    "account_number", ttai_tt_account(ctx),
                    "order_id", json_object_get(c, "id"),
                    "type", json_object_get(c, "type"), "orders", ids);
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Complex order ");
    ttai_tt_buf_number(&b, json_object_get(c, "id"));
    ttai_tt_buf_printf(&b, " on account %s %s:\n", ttai_tt_account(ctx),
                       how);

    o = json_object_get(c, "trigger-order");
    if (o != NULL) {
        ttai_tt_buf_printf(&b, "trigger: ");
        ttai_tool_order_describe(&b, o);
        ttai_tt_buf_printf(&b, "\n");
        json_array_append(ids, json_object_get(o, "id"));
    }

    json_array_foreach(json_object_get(c, "orders"), i, o) {
        ttai_tool_order_describe(&b, o);
        ttai_tt_buf_printf(&b, "\n");
        json_array_append(ids, json_object_get(o, "id"));
    }

    ttai_tt_buf_printf(&b, "get_orders shows them; cancel_order cancels "
                       "one, with the user's consent.");

    return ttai_tt_buf_result(&b, out);
}
