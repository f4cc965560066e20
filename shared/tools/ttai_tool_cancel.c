
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tool_order.h"
#include "ttai_tool_trade.h"


/*
 * cancel_order: a working order cancelled, only as the user confirmed it,
 * through the confirmation path of ttai_tool_trade.h.  Its own steps:
 *
 *   order   the order looked at: what the user is shown, and whether it
 *           can still be cancelled
 *   send    DELETE /accounts/{n}/orders/{id}
 *   lookup  after a lost answer, or a confirmation used before: the
 *           order again, whose status says what happened
 */

#define TTAI_TOOL_CANCEL  "cancel_order"


static int ttai_tool_cancel_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_looked(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_cancel_get(ttai_tool_ctx_t *ctx, const char *step,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_cancel_answer(ttai_tool_ctx_t *ctx, json_t *order,
    const char *how);


static const ttai_tool_trade_step_t  ttai_tool_cancel_steps[] = {
    { "order", ttai_tool_cancel_looked },
    { NULL, NULL }
};

static const ttai_tool_trade_t  ttai_tool_cancel_trade = {
    TTAI_TOOL_CANCEL,
    ttai_tool_cancel_begin,
    ttai_tool_cancel_granted,
    ttai_tool_cancel_send,
    ttai_tool_cancel_sent,
    ttai_tool_cancel_lookup,
    ttai_tool_cancel_found,
    ttai_tool_cancel_steps
};


const ttai_tool_impl_t  ttai_tool_cancel_order = {
    TTAI_TOOL_CANCEL,
    ttai_tool_cancel_run,
    ttai_tool_cancel_resume,
    0,
    ttai_tool_cancel_input
};


static int
ttai_tool_cancel_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    if (!ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool cancel_order: trading is not "
                                         "allowed here.  Nothing was "
                                         "changed.");
        return *result ? 0 : -1;
    }

    return ttai_tt_account_run(ctx, args, ttai_tool_cancel_begin, result,
                               pending);
}


static int
ttai_tool_cancel_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t  *canonical;

    /* what the confirmation binds: this order of this account, cancelled */
    canonical = json_pack("{s:s, s:s, s:I}", "tool", TTAI_TOOL_CANCEL,
                          "account", account, "order_id",
                          json_integer_value(json_object_get(args,
                                                             "order_id")));
    if (canonical == NULL) {
        return -1;
    }

    return ttai_tool_trade_begin(&ttai_tool_cancel_trade, ctx, canonical,
                                 pending);
}


static int
ttai_tool_cancel_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_resume(&ttai_tool_cancel_trade, ctx, args, resp,
                                  result, pending);
}


static int
ttai_tool_cancel_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_input(&ttai_tool_cancel_trade, ctx, args,
                                 responses, result, pending);
}


static int
ttai_tool_cancel_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_cancel_get(ctx, "order", pending);
}


/* the order is known: what the user confirms */

static int
ttai_tool_cancel_looked(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    char           *why;
    json_t         *data, *error;
    const char     *status;
    ttai_tt_buf_t   b;

    data = ttai_tt_data(TTAI_TOOL_CANCEL, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        why = ttai_tt_sprintf("the order could not be read: %s",
                              ttai_tool_trade_text(error));
        json_decref(error);

        rc = why ? ttai_tool_trade_refuse(ctx, why, pending) : -1;
        free(why);

        return rc;
    }

    if (json_object_set(ctx->state, "preview", data) != 0) {
        json_decref(data);
        return -1;
    }

    memset(&b, 0, sizeof(b));

    if (!json_is_true(json_object_get(data, "cancellable"))) {
        status = json_string_value(json_object_get(data, "status"));
        ttai_tt_buf_printf(&b, "the order is %s and can no longer be "
                           "cancelled (", status ? status : "not working");
        ttai_tool_order_describe(&b, data);
        ttai_tt_buf_printf(&b, ")");
        json_decref(data);

        rc = b.failed ? -1 : ttai_tool_trade_refuse(ctx, b.data, pending);
        free(b.data);

        return rc;
    }

    ttai_tt_buf_printf(&b, "Cancel this on account %s?  ",
                       ttai_tt_account(ctx));
    ttai_tool_order_describe(&b, data);
    ttai_tt_buf_printf(&b, ".");
    json_decref(data);

    if (b.failed) {
        free(b.data);
        return -1;
    }

    rc = ttai_tool_trade_confirm(&ttai_tool_cancel_trade, ctx, args, b.data,
                                 NULL, result, pending);
    free(b.data);

    return rc;
}


static int
ttai_tool_cancel_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending)
{
    char  *rest;

    rest = ttai_tt_sprintf("/orders/%lld",
                           (long long) json_integer_value(json_object_get(
                               json_object_get(ctx->state, "canonical"),
                               "order_id")));

    if (rest == NULL || ttai_tool_trade_step(ctx, "send") != 0) {
        free(rest);
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "DELETE", ttai_tt_account(ctx),
                                       rest, NULL, NULL, NULL, 0);

    /* what it sent may have arrived: its failure is the tool's to see */
    if (*pending != NULL) {
        (*pending)->failures = 1;
    }
    free(rest);

    return *pending ? 0 : -1;
}


static int
ttai_tool_cancel_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *data, *error, *answer;

    data = ttai_tt_data(TTAI_TOOL_CANCEL, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        return ttai_tool_trade_finish(ctx, "rejected",
                                      ttai_tool_trade_text(error), resp, NULL,
                                      error, pending);
    }

    answer = ttai_tool_cancel_answer(ctx, data, "was cancelled");
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, "sent", NULL, resp,
                                  json_object_get(json_object_get(
                                      ctx->state, "canonical"), "order_id"),
                                  answer, pending);
}


static int
ttai_tool_cancel_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    return ttai_tool_cancel_get(ctx, "lookup", pending);
}


static int
ttai_tool_cancel_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t      *data, *error, *answer, *id;
    const char  *status, *lost, *decision, *how;

    lost = ttai_tool_trade_state(ctx, "lost");
    id = json_object_get(json_object_get(ctx->state, "canonical"),
                         "order_id");

    data = ttai_tt_data(TTAI_TOOL_CANCEL, resp, &error);
    json_decref(error);

    status = json_string_value(json_object_get(data, "status"));

    if (status == NULL) {
        json_decref(data);

        return ttai_tool_trade_finish(ctx, "unknown",
                                      lost ? "the cancel was sent, but its "
                                             "answer was lost and the order "
                                             "could not be read: check "
                                             "get_orders before anything "
                                             "else; ttai will not send it "
                                             "again"
                                           : "this confirmation was used "
                                             "already, and the order could "
                                             "not be read: check get_orders",
                                      NULL, id, NULL, pending);
    }

    if (lost != NULL) {
        decision = strcmp(status, "Cancelled") == 0 ? "sent" : "unknown";
        how = "had its cancel sent; the answer was lost, and ttai did not "
              "send it again";

    } else {
        decision = "reused";
        how = "was the subject of this confirmation already, which cancels "
              "once: nothing more was sent";
    }

    answer = ttai_tool_cancel_answer(ctx, data, how);
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, decision, lost, NULL, id, answer,
                                  pending);
}


static int
ttai_tool_cancel_get(ttai_tool_ctx_t *ctx, const char *step,
    ttai_mcp_pending_t **pending)
{
    int    rc;
    char  *rest;

    rest = ttai_tt_sprintf("/orders/%lld",
                           (long long) json_integer_value(json_object_get(
                               json_object_get(ctx->state, "canonical"),
                               "order_id")));
    if (rest == NULL) {
        return -1;
    }

    rc = ttai_tool_trade_get(ctx, step, ttai_tt_account(ctx), rest,
                             pending);
    free(rest);

    return rc;
}


static json_t *
ttai_tool_cancel_answer(ttai_tool_ctx_t *ctx, json_t *order, const char *how)
{
    json_t         *out;
    const char     *status;
    ttai_tt_buf_t   b;

    status = json_string_value(json_object_get(order, "status"));

    out = json_pack("{s:s, s:O?, s:s?}", "account_number",
                    ttai_tt_account(ctx), "order_id",
                    json_object_get(order, "id"), "status", status);
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "On account %s, ", ttai_tt_account(ctx));
    ttai_tool_order_describe(&b, order);
    ttai_tt_buf_printf(&b, ": it %s.", how);

    return ttai_tt_buf_result(&b, out);
}
