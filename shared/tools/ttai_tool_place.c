
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_order.h"
#include "ttai_order_store.h"
#include "ttai_d1.h"
#include "ttai_tt.h"
#include "ttai_worker.h"
#include "ttai_tool_order.h"
#include "ttai_tool_trade.h"


/*
 * place_order: an order sent to TastyTrade, only as a human confirmed it
 * (README, "Trading safely"), through the confirmation path of
 * ttai_tool_trade.h.  Its own steps:
 *
 *   account  the account, when not given (ttai_tt_account_run)
 *   (grant)
 *   quotes   the legs' market, for the operator's limits and price band
 *   dry      TastyTrade's dry run: what the human is shown, and what a
 *            market that is closed looks like
 *   (confirm, use)
 *   send     the order, with a client order id derived from the
 *            confirmation
 *   lookup   after a lost answer, or a confirmation used before: the
 *            account's orders, for the one that id names
 *   (audit)
 *
 * Where the client cannot ask its user, the token is preview_order's,
 * given for the exact arguments the user saw.
 */

#define TTAI_TOOL_PLACE           "place_order"
#define TTAI_TOOL_PLACE_MSG_MAX   2048

/* the dry run's warning of an order that would wait for the next session */
#define TTAI_TOOL_PLACE_CLOSED_1  "tif_next_valid_sesssion"
#define TTAI_TOOL_PLACE_CLOSED_2  "tif.next_valid_session"


static int ttai_tool_place_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_place_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_place_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_place_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_place_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_place_placed(ttai_tool_ctx_t *ctx, json_t *order,
    const char *how);


static const ttai_tool_trade_step_t  ttai_tool_place_steps[] = {
    { "quotes", ttai_tool_place_quoted },
    { "dry", ttai_tool_place_dried },
    { NULL, NULL }
};

static const ttai_tool_trade_t  ttai_tool_place_trade = {
    TTAI_TOOL_PLACE,
    ttai_tool_place_begin,
    ttai_tool_place_granted,
    ttai_tool_place_send,
    ttai_tool_place_sent,
    ttai_tool_place_lookup,
    ttai_tool_place_found,
    ttai_tool_place_steps
};


const ttai_tool_impl_t  ttai_tool_place_order = {
    TTAI_TOOL_PLACE,
    ttai_tool_place_run,
    ttai_tool_place_resume,
    0,
    ttai_tool_place_input
};


static int
ttai_tool_place_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *effect;

    /* the toolset is not listed otherwise; this is the last guard */
    if (!ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool place_order: trading is not "
                                         "allowed here.  Nothing was "
                                         "placed.");
        return *result ? 0 : -1;
    }

    if (ttai_tool_order_check(TTAI_TOOL_PLACE, args, &effect, result) != 0) {
        return -1;
    }

    if (*result != NULL) {
        return 0;
    }

    if (json_object_set_new(ctx->state, "price_effect",
                            effect ? json_string(effect) : json_null())
        != 0)
    {
        return -1;
    }

    return ttai_tt_account_run(ctx, args, ttai_tool_place_begin, result,
                               pending);
}


/* the account is known: the order, then the user's permission and day */







/* the account is known: the order made canonical, then the permission */

static int
ttai_tool_place_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    char     err[256];
    json_t  *canonical;

    canonical = ttai_order_canonical(args, account, err, sizeof(err));
    if (canonical == NULL) {
        if (strcmp(err, "out of memory") == 0) {
            return -1;
        }

        *result = ttai_tool_error_result("Invalid order for place_order: "
                                         "%s.  Nothing was placed.", err);
        return *result ? 0 : -1;
    }

    return ttai_tool_trade_begin(&ttai_tool_place_trade, ctx, canonical,
                                 pending);
}


static int
ttai_tool_place_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_resume(&ttai_tool_place_trade, ctx, args, resp,
                                  result, pending);
}


static int
ttai_tool_place_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_input(&ttai_tool_place_trade, ctx, args,
                                 responses, result, pending);
}


/* the user may trade: the legs' market */

static int
ttai_tool_place_granted(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  *path;

    path = ttai_tool_order_quotes_path(json_object_get(ctx->state,
                                                       "canonical"));
    if (path == NULL || ttai_tool_trade_step(ctx, "quotes") != 0) {
        free(path);
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, NULL, 0);
    free(path);

    return *pending ? 0 : -1;
}


/* the market is known: the operator's limits, then the dry run */

static int
ttai_tool_place_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int          rc;
    char         err[320], *text;
    json_t      *mids, *body;
    double       notional;
    const char  *effect;

    mids = ttai_tool_order_mids(resp);
    if (mids == NULL) {
        return -1;
    }

    rc = ttai_order_check_limits(&ctx->call->trading->limits,
                                 json_object_get(ctx->state, "canonical"),
                                 mids,
                                 json_number_value(json_object_get(ctx->state,
                                                                   "day")),
                                 &notional, err, sizeof(err));
    json_decref(mids);

    if (json_object_set_new(ctx->state, "notional", json_real(notional))
        != 0)
    {
        return -1;
    }

    if (rc != 0) {
        return ttai_tool_trade_refuse(ctx, err, pending);
    }

    effect = json_string_value(json_object_get(ctx->state, "price_effect"));

    body = ttai_tool_order_body(args, effect);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    if (text == NULL || ttai_tool_trade_step(ctx, "dry") != 0) {
        free(text);
        return -1;
    }

    json_object_set_new(ctx->state, "body", json_string(text));

    *pending = ttai_tt_account_request(ctx, "POST", ttai_tt_account(ctx),
                                       "/orders/dry-run", text, NULL, NULL,
                                       0);
    free(text);

    return *pending ? 0 : -1;
}


/* the dry run is known: the confirmation, by token or by the human */

static int
ttai_tool_place_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    char            why[TTAI_TOOL_PLACE_MSG_MAX];
    size_t          i;
    json_t         *data, *error, *preview, *w;
    const char     *code, *text;
    ttai_tt_buf_t   b;

    data = ttai_tt_data(TTAI_TOOL_PLACE, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        text = json_string_value(json_object_get(json_array_get(
                   json_object_get(error, "content"), 0), "text"));
        snprintf(why, sizeof(why), "the dry run refused it: %s",
                 text ? text : "no reason given");
        json_decref(error);

        return ttai_tool_trade_refuse(ctx, why, pending);
    }

    preview = ttai_tool_order_preview(ttai_tt_account(ctx), data);
    json_decref(data);

    if (preview == NULL
        || json_object_set_new(ctx->state, "preview", preview) != 0)
    {
        return -1;
    }

    /* an order that would only wait for the next session */
    json_array_foreach(json_object_get(preview, "warnings"), i, w) {
        code = json_string_value(json_object_get(w, "code"));

        if (code != NULL
            && (strcmp(code, TTAI_TOOL_PLACE_CLOSED_1) == 0
                || strcmp(code, TTAI_TOOL_PLACE_CLOSED_2) == 0)
            && ctx->call->trading->outside_hours == TTAI_ORDER_HOURS_REFUSE)
        {
            return ttai_tool_trade_refuse(ctx, "the market is closed, and "
                                          "this server refuses orders "
                                          "outside market hours "
                                          "(outside_hours=refuse)", pending);
        }
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Place this order?  Amounts in USD, negative = "
                       "debit.\n");
    ttai_tool_order_preview_text(&b, preview);

    if (b.failed) {
        free(b.data);
        return -1;
    }

    rc = ttai_tool_trade_confirm(&ttai_tool_place_trade, ctx, args, b.data,
                                 "a human must confirm every order, and "
                                 "this client cannot ask: call "
                                 "preview_order with the same arguments, "
                                 "show the user its preview, and only if "
                                 "they say to place it call place_order "
                                 "again with its confirmation_token",
                                 result, pending);
    free(b.data);

    return rc;
}






/* the token checked, then taken in the database with the audit's row */





/* the confirmation is taken: the order, named by its client order id */

static int
ttai_tool_place_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_post(ctx, "/orders", pending);
}


static int
ttai_tool_place_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t      *data, *error, *order, *answer;
    const char  *text;

    data = ttai_tt_data(TTAI_TOOL_PLACE, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        text = json_string_value(json_object_get(json_array_get(
                   json_object_get(error, "content"), 0), "text"));

        return ttai_tool_trade_finish(ctx, "rejected",
                                      text ? text : "TastyTrade refused it",
                                      resp, NULL, error, pending);
    }

    order = json_object_get(data, "order");

    answer = ttai_tool_place_placed(ctx, order, "was placed");
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
ttai_tool_place_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_get(ctx, "lookup", ttai_tt_account(ctx),
                               "/orders/live", pending);
}


static int
ttai_tool_place_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         why[TTAI_TOOL_PLACE_MSG_MAX];
    size_t       i;
    json_t      *data, *error, *item, *found, *answer;
    const char  *client, *id, *lost;

    client = ttai_tool_trade_state(ctx, "client_id");
    lost = ttai_tool_trade_state(ctx, "lost");

    found = NULL;
    data = ttai_tt_data(TTAI_TOOL_PLACE, resp, &error);
    json_decref(error);

    json_array_foreach(json_object_get(data, "items"), i, item) {
        id = json_string_value(json_object_get(item, "ext-client-order-id"));

        if (id != NULL && client != NULL && strcmp(id, client) == 0) {
            found = item;
            break;
        }
    }

    if (found != NULL) {
        answer = ttai_tool_place_placed(ctx, found,
                     lost ? "was placed (its answer was lost; ttai found "
                            "it among the account's orders and did not "
                            "send it again)"
                          : "was placed already with this confirmation, "
                            "which places one order only: nothing more "
                            "was placed");
        json_decref(data);

        if (answer == NULL) {
            return -1;
        }

        return ttai_tool_trade_finish(ctx, lost ? "sent" : "reused",
                                      lost ? lost
                                           : "the confirmation was used "
                                             "before: its order reported, "
                                             "nothing sent",
                                      NULL,
                                      json_object_get(json_object_get(answer,
                                          "structuredContent"), "order_id"),
                                      answer, pending);
    }

    json_decref(data);

    if (lost == NULL) {
        return ttai_tool_trade_refuse(ctx, "this confirmation was used "
                                      "already; each places one order, "
                                      "once.  Check get_orders before "
                                      "anything else", pending);
    }

    snprintf(why, sizeof(why), "the order was sent, but its answer was "
             "lost (%s) and it is not among the account's orders yet.  "
             "ttai will not send it again: check get_orders in a minute "
             "before placing anything", lost);

    return ttai_tool_trade_finish(ctx, "unknown", why, NULL, NULL, NULL,
                                  pending);
}








/* what the user sees of the order placed */

static json_t *
ttai_tool_place_placed(ttai_tool_ctx_t *ctx, json_t *order, const char *how)
{
    json_t         *out, *id;
    const char     *status;
    ttai_tt_buf_t   b;

    id = json_object_get(order, "id");
    status = json_string_value(json_object_get(order, "status"));

    out = json_pack("{s:b, s:s, s:O?, s:s?, s:s?, s:O?}",
                    "placed", 1,
                    "account_number", ttai_tt_account(ctx),
                    "order_id", id,
                    "status", status,
                    "client_order_id",
                    ttai_tool_trade_state(ctx, "client_id"),
                    "preview", json_object_get(ctx->state, "preview"));
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Order ");
    ttai_tt_buf_number(&b, json_is_integer(id) ? id : NULL);
    ttai_tt_buf_printf(&b, " on account %s %s; its status: %s.\n",
                       ttai_tt_account(ctx), how, status ? status : "unknown");

    if (json_object_get(ctx->state, "preview") != NULL) {
        ttai_tool_order_preview_text(&b,
                                     json_object_get(ctx->state, "preview"));
    }

    ttai_tt_buf_printf(&b, "get_orders shows it; cancel_order or "
                       "replace_order change it, with the user's consent.");

    return ttai_tt_buf_result(&b, out);
}








/* GET /market-data/by-type for the legs, each by its instrument type */

char *
ttai_tool_order_quotes_path(json_t *canonical)
{
    char         *path, *esc, *next;
    size_t        i, t;
    json_t       *leg;
    const char   *type, *param;

    static const char  *types[][2] = {
        { "Equity", "equity" },
        { "Equity Option", "equity-option" },
        { "Future", "future" },
        { "Future Option", "future-option" },
        { "Cryptocurrency", "cryptocurrency" }
    };

    path = strdup("/market-data/by-type");

    json_array_foreach(json_object_get(canonical, "legs"), i, leg) {
        if (path == NULL) {
            return NULL;
        }

        type = json_string_value(json_object_get(leg, "type"));
        param = NULL;

        for (t = 0; type != NULL && t < sizeof(types) / sizeof(types[0]);
             t++)
        {
            if (strcmp(type, types[t][0]) == 0) {
                param = types[t][1];
            }
        }

        if (param == NULL) {
            continue;
        }

        esc = ttai_tt_escape(json_string_value(json_object_get(leg,
                                                               "symbol")));
        next = esc ? ttai_tt_sprintf("%s%c%s=%s", path,
                                     strchr(path, '?') ? '&' : '?', param,
                                     esc)
                   : NULL;
        free(esc);
        free(path);
        path = next;
    }

    return path;
}


/*
 * The legs' middle prices by symbol, from the quotes: an object, empty
 * when the market could not be read (then each leg is priced at the
 * order's price, and the band is not checked)
 */

json_t *
ttai_tool_order_mids(const ttai_mcp_response_t *resp)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t       i;
    json_t      *mids, *data, *error, *item, *v;
    double       mid, bid, ask;
    const char  *s;

    mids = json_object();
    if (mids == NULL) {
        return NULL;
    }

    data = ttai_tt_data(NULL, resp, &error);
    json_decref(error);

    json_array_foreach(json_object_get(data, "items"), i, item) {
        s = json_string_value(json_object_get(item, "symbol"));

        if (s == NULL || ttai_worker_symbol(s, strlen(s), symbol) != 0) {
            continue;
        }

        v = json_object_get(item, "mid");
        mid = json_is_string(v) ? strtod(json_string_value(v), NULL) : 0;

        if (mid <= 0) {
            v = json_object_get(item, "bid");
            bid = json_is_string(v) ? strtod(json_string_value(v), NULL) : 0;
            v = json_object_get(item, "ask");
            ask = json_is_string(v) ? strtod(json_string_value(v), NULL) : 0;

            mid = (bid > 0 && ask > 0) ? (bid + ask) / 2 : 0;
        }

        if (mid > 0 && json_object_set_new(mids, symbol, json_real(mid))
                       != 0)
        {
            json_decref(data);
            json_decref(mids);
            return NULL;
        }
    }

    json_decref(data);

    return mids;
}


