
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


/*
 * place_order: an order sent to TastyTrade, only as a human confirmed it
 * (README, "Trading safely").  In steps, each a request the shell makes:
 *
 *   account  the account, when not given (ttai_tt_account_run)
 *   grant    the user's permission and what the day's orders came to
 *   quotes   the legs' market, for the price band
 *   dry      TastyTrade's dry run: the order as it would be, its cost
 *   ask      (the human is asked, where the client can: the input step)
 *   use      the confirmation taken, once, and the attempt audited
 *   send     the order, with a client order id derived from the
 *            confirmation
 *   lookup   after a lost answer, or a confirmation used before: the
 *            account's orders, for the one that id names
 *   audit    the outcome written, then the answer
 *
 * Nothing is sent before the confirmation is taken in the database, and
 * nothing is sent twice: a second use of one confirmation, or a retry
 * after a timeout, looks the order up instead.  Every refusal names
 * what refused it.
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
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_quoted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_dried(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_ask(ttai_tool_ctx_t *ctx, json_t **result);
static int ttai_tool_place_use(ttai_tool_ctx_t *ctx, const char *token,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_place_used(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_found(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_audited(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result);
static int ttai_tool_place_finish(ttai_tool_ctx_t *ctx, const char *decision,
    const char *reason, const ttai_mcp_response_t *resp, json_t *order_id,
    json_t *answer, ttai_mcp_pending_t **pending);
static int ttai_tool_place_refuse(ttai_tool_ctx_t *ctx, const char *reason,
    ttai_mcp_pending_t **pending);
static int ttai_tool_place_step(ttai_tool_ctx_t *ctx, const char *step);
static const char *ttai_tool_place_state(ttai_tool_ctx_t *ctx,
    const char *key);
static json_t *ttai_tool_place_row(const ttai_mcp_response_t *resp,
    size_t index, long long *changes);
static char *ttai_tool_place_quotes_path(json_t *canonical);
static json_t *ttai_tool_place_mids(const ttai_mcp_response_t *resp);
static json_t *ttai_tool_place_placed(ttai_tool_ctx_t *ctx, json_t *order,
    const char *how);
static long long ttai_tool_place_now_ms(ttai_tool_ctx_t *ctx);


const ttai_tool_impl_t  ttai_tool_place_order = {
    TTAI_TOOL_PLACE,
    ttai_tool_place_run,
    ttai_tool_place_resume,
    0,
    ttai_tool_place_input
};


int
ttai_tool_order_tradable(ttai_tool_ctx_t *ctx)
{
    const ttai_mcp_call_t  *call;

    call = ctx->call;

    return call != NULL && call->trading != NULL && call->trade_granted
           && call->trading_key != NULL && call->sub != NULL;
}


int
ttai_tool_order_token(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, time_t now, char *out)
{
    int      rc;
    char     err[256], *text;
    json_t  *canonical;

    out[0] = '\0';

    canonical = ttai_order_canonical(args, account, err, sizeof(err));
    if (canonical == NULL) {
        return strcmp(err, "out of memory") == 0 ? -1 : 0;
    }

    text = ttai_order_canonical_text(canonical);
    json_decref(canonical);

    if (text == NULL) {
        return -1;
    }

    rc = ttai_order_token(ctx->call->trading_key, ctx->call->sub, text, now,
                          ctx->call->trading->confirm_ttl, out,
                          TTAI_ORDER_TOKEN_LEN);
    free(text);

    return rc;
}


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

static int
ttai_tool_place_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    char       err[256];
    json_t    *canonical;
    long long  now, day;

    canonical = ttai_order_canonical(args, account, err, sizeof(err));
    if (canonical == NULL) {
        if (strcmp(err, "out of memory") == 0) {
            return -1;
        }

        *result = ttai_tool_error_result("Invalid order for place_order: "
                                         "%s.  Nothing was placed.", err);
        return *result ? 0 : -1;
    }

    if (json_object_set_new(ctx->state, "canonical", canonical) != 0) {
        return -1;
    }

    /* the day is the UTC day: its limit restarts at midnight UTC */
    now = ttai_tool_place_now_ms(ctx);
    day = now - now % 86400000;

    if (ttai_tool_place_step(ctx, "grant") != 0) {
        return -1;
    }

    *pending = ttai_mcp_pending_d1(ttai_order_day(ctx->call->sub, day));

    return *pending ? 0 : -1;
}


static int
ttai_tool_place_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int          rc;
    const char  *step;

    if (ttai_tt_account_pending(ctx)) {
        rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_place_begin,
                                  result, pending);
        return rc < 0 ? -1 : 0;
    }

    step = ttai_tool_place_state(ctx, "step");

    if (step == NULL) {
        return -1;
    }

    if (strcmp(step, "grant") == 0) {
        return ttai_tool_place_granted(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "quotes") == 0) {
        return ttai_tool_place_quoted(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "dry") == 0) {
        return ttai_tool_place_dried(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "use") == 0) {
        return ttai_tool_place_used(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "send") == 0) {
        return ttai_tool_place_sent(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "lookup") == 0) {
        return ttai_tool_place_found(ctx, resp, result, pending);
    }

    if (strcmp(step, "audit") == 0) {
        return ttai_tool_place_audited(ctx, resp, result);
    }

    return -1;
}


static int
ttai_tool_place_granted(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char    *path;
    json_t  *row;

    row = ttai_tool_place_row(resp, 0, NULL);

    if (row == NULL) {
        *result = ttai_tool_error_result("Tool place_order: %s.  Nothing "
                                         "was placed.",
                                         resp->error ? resp->error
                                         : "the database could not be read");
        return *result ? 0 : -1;
    }

    if (json_integer_value(json_object_get(row, "trading")) != 1) {
        return ttai_tool_place_refuse(ctx, "the user has not allowed "
                                      "trading (ttai users trading enable)",
                                      pending);
    }

    if (json_object_set(ctx->state, "day", json_object_get(row, "day"))
        != 0)
    {
        return -1;
    }

    path = ttai_tool_place_quotes_path(json_object_get(ctx->state,
                                                       "canonical"));
    if (path == NULL || ttai_tool_place_step(ctx, "quotes") != 0) {
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

    mids = ttai_tool_place_mids(resp);
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
        return ttai_tool_place_refuse(ctx, err, pending);
    }

    effect = json_string_value(json_object_get(ctx->state, "price_effect"));

    body = ttai_tool_order_body(args, effect);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    if (text == NULL || ttai_tool_place_step(ctx, "dry") != 0) {
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
    char         why[TTAI_TOOL_PLACE_MSG_MAX], token[TTAI_ORDER_TOKEN_LEN];
    size_t       i;
    json_t      *data, *error, *preview, *w, *el;
    const char  *code, *text;

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

        return ttai_tool_place_refuse(ctx, why, pending);
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
            return ttai_tool_place_refuse(ctx, "the market is closed, and "
                                          "this server refuses orders "
                                          "outside market hours "
                                          "(outside_hours=refuse)", pending);
        }
    }

    text = json_string_value(json_object_get(args, "confirmation_token"));

    if (text != NULL) {
        return ttai_tool_place_use(ctx, text, result, pending);
    }

    el = ctx->caps ? json_object_get(ctx->caps, "elicitation") : NULL;

    if (json_is_object(el)
        && (json_object_size(el) == 0 || json_object_get(el, "form")))
    {
        /*
         * The question's own confirmation: a token for this order, kept
         * in the sealed state, so that the answer takes it as a token
         * would be taken, once
         */
        if (ttai_order_token(ctx->call->trading_key, ctx->call->sub,
                             ttai_tool_place_state(ctx, "canonical_text"),
                             ctx->call->now ? ctx->call->now : time(NULL),
                             ctx->call->trading->confirm_ttl, token,
                             sizeof(token))
            != 0
            || json_object_set_new(ctx->state, "asked", json_string(token))
               != 0)
        {
            return -1;
        }

        return ttai_tool_place_ask(ctx, result);
    }

    return ttai_tool_place_refuse(ctx, "a human must confirm every order, "
                                  "and this client cannot ask: call "
                                  "preview_order with the same arguments, "
                                  "show the user its preview, and only if "
                                  "they say to place it call place_order "
                                  "again with its confirmation_token",
                                  pending);
}


static int
ttai_tool_place_ask(ttai_tool_ctx_t *ctx, json_t **result)
{
    json_t         *schema;
    ttai_tt_buf_t   b;

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Place this order?  It is real: TastyTrade will "
                       "execute it.  Amounts in USD, negative = debit.\n");
    ttai_tool_order_preview_text(&b, json_object_get(ctx->state, "preview"));

    if (b.failed) {
        free(b.data);
        return -1;
    }

    schema = json_pack("{s:s, s:{s:{s:s, s:s, s:s, s:b}}, s:[s]}",
                       "type", "object", "properties", "confirm",
                       "type", "boolean", "title", "Place this order",
                       "description", "Tick to place it; anything else "
                       "places nothing.", "default", 0,
                       "required", "confirm");

    *result = schema ? ttai_tool_input_required(json_pack("{s:o}", "confirm",
                           ttai_tool_elicit_form(b.data, schema)))
                     : NULL;
    free(b.data);

    return *result ? 0 : -1;
}


static int
ttai_tool_place_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *content;
    const char  *action, *token;

    token = ttai_tool_place_state(ctx, "asked");

    /* an answer comes only to a question this server asked, sealed */
    if (token == NULL || !ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool place_order: an answer came "
                                         "that no question of this order "
                                         "asked for.  Nothing was placed.");
        return *result ? 0 : -1;
    }

    action = ttai_tool_input_action(responses, "confirm", &content);

    if (action == NULL) {
        return ttai_tool_place_finish(ctx, "unanswered", "the user did not "
                                      "answer the confirmation", NULL, NULL,
                                      NULL, pending);
    }

    if (strcmp(action, "accept") != 0
        || !json_is_true(json_object_get(content, "confirm")))
    {
        return ttai_tool_place_finish(ctx, "declined",
                                      strcmp(action, "accept") == 0
                                      ? "the user did not tick \"Place this "
                                        "order\""
                                      : strcmp(action, "cancel") == 0
                                      ? "the user cancelled"
                                      : "the user declined",
                                      NULL, NULL, NULL, pending);
    }

    return ttai_tool_place_use(ctx, token, result, pending);
}


/* the token checked, then taken in the database with the audit's row */

static int
ttai_tool_place_use(ttai_tool_ctx_t *ctx, const char *token,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char                 nonce[TTAI_ORDER_NONCE_HEX + 1];
    char                 client[TTAI_ORDER_CLIENT_ID_LEN];
    json_t              *audit, *batch;
    const char          *canonical, *why;
    ttai_order_token_e   rc;

    canonical = ttai_tool_place_state(ctx, "canonical_text");

    rc = ttai_order_token_check(ctx->call->trading_key, ctx->call->sub,
                                canonical, token,
                                ctx->call->now ? ctx->call->now : time(NULL),
                                nonce);

    switch (rc) {

    case TTAI_ORDER_TOKEN_OK:
        break;

    case TTAI_ORDER_TOKEN_EXPIRED:
        why = "the confirmation_token has expired: preview the order again "
              "and ask the user again";
        return ttai_tool_place_refuse(ctx, why, pending);

    case TTAI_ORDER_TOKEN_MISMATCH:
        why = "the confirmation_token is not for this order: it confirms "
              "other arguments, another account or another user.  Only "
              "the exact order the user saw can be placed";
        return ttai_tool_place_refuse(ctx, why, pending);

    default:
        why = "confirmation_token is not a token preview_order gave";
        return ttai_tool_place_refuse(ctx, why, pending);
    }

    ttai_order_client_id(ctx->call->trading_key, nonce, client);

    if (json_object_set_new(ctx->state, "client_id", json_string(client))
        != 0)
    {
        return -1;
    }

    audit = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s, s:s, s:O}",
                      "account", ttai_tt_account(ctx),
                      "tool", TTAI_TOOL_PLACE, "client_id", client,
                      "request", json_object_get(ctx->state, "canonical"),
                      "preview", json_object_get(ctx->state, "preview"),
                      "decision", "confirmed",
                      "reason", json_object_get(ctx->state, "asked")
                                ? "the user accepted the question"
                                : "a confirmation_token from preview_order",
                      "notional", json_object_get(ctx->state, "notional"));
    if (audit == NULL) {
        return -1;
    }

    batch = ttai_order_use(nonce, ctx->call->sub, client,
                           ttai_tool_place_now_ms(ctx), audit);
    json_decref(audit);

    if (ttai_tool_place_step(ctx, "use") != 0) {
        json_decref(batch);
        return -1;
    }

    *pending = ttai_mcp_pending_d1(batch);

    return *pending ? 0 : -1;
}


static int
ttai_tool_place_used(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char        *body;
    json_t      *row, *o;
    long long    changes;
    const char  *text;

    row = ttai_tool_place_row(resp, 2, NULL);

    if (row == NULL) {
        /* not taken, so nothing can have been sent with it */
        *result = ttai_tool_error_result("Tool place_order: the "
                                         "confirmation could not be "
                                         "recorded (%s).  Nothing was "
                                         "placed; try again.",
                                         resp->error ? resp->error
                                                     : "no answer");
        return *result ? 0 : -1;
    }

    (void) ttai_tool_place_row(resp, 0, &changes);

    if (changes != 1) {
        if (json_integer_value(json_object_get(row, "trading")) != 1) {
            return ttai_tool_place_refuse(ctx, "the user has not allowed "
                                          "trading (ttai users trading "
                                          "enable)", pending);
        }

        /* used before: whatever it placed is looked for, not placed again */
        json_object_set_new(ctx->state, "reused", json_true());

        return ttai_tool_place_lookup(ctx, pending);
    }

    text = json_string_value(json_object_get(ctx->state, "body"));
    o = text ? json_loads(text, 0, NULL) : NULL;

    if (o == NULL
        || json_object_set_new(o, "ext-client-order-id",
                               json_string(ttai_tool_place_state(ctx,
                                                                 "client_id")))
           != 0)
    {
        json_decref(o);
        return -1;
    }

    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    if (body == NULL || ttai_tool_place_step(ctx, "send") != 0) {
        free(body);
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "POST", ttai_tt_account(ctx),
                                       "/orders", body, NULL, NULL, 0);
    free(body);

    return *pending ? 0 : -1;
}


static int
ttai_tool_place_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t      *data, *error, *order, *answer;
    const char  *text;

    if (resp->status == 0) {
        /* sent, maybe placed: it is looked for, never sent again */
        json_object_set_new(ctx->state, "lost",
                            json_string(resp->error ? resp->error
                                                    : "no answer"));
        return ttai_tool_place_lookup(ctx, pending);
    }

    data = ttai_tt_data(TTAI_TOOL_PLACE, resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        text = json_string_value(json_object_get(json_array_get(
                   json_object_get(error, "content"), 0), "text"));

        return ttai_tool_place_finish(ctx, "rejected",
                                      text ? text : "TastyTrade refused it",
                                      resp, NULL, error, pending);
    }

    order = json_object_get(data, "order");

    answer = ttai_tool_place_placed(ctx, order, "was placed");
    json_decref(data);

    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_place_finish(ctx, "sent", NULL, resp,
                                  json_object_get(json_object_get(answer,
                                      "structuredContent"), "order_id"),
                                  answer, pending);
}


static int
ttai_tool_place_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    if (ttai_tool_place_step(ctx, "lookup") != 0) {
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "GET", ttai_tt_account(ctx),
                                       "/orders/live", NULL, NULL, NULL, 0);

    return *pending ? 0 : -1;
}


static int
ttai_tool_place_found(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char         why[TTAI_TOOL_PLACE_MSG_MAX];
    size_t       i;
    json_t      *data, *error, *item, *found, *answer;
    const char  *client, *id, *lost;

    client = ttai_tool_place_state(ctx, "client_id");
    lost = ttai_tool_place_state(ctx, "lost");

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

        return ttai_tool_place_finish(ctx, lost ? "sent" : "reused",
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
        return ttai_tool_place_refuse(ctx, "this confirmation was used "
                                      "already; each places one order, "
                                      "once.  Check get_orders before "
                                      "anything else", pending);
    }

    snprintf(why, sizeof(why), "the order was sent, but its answer was "
             "lost (%s) and it is not among the account's orders yet.  "
             "ttai will not send it again: check get_orders in a minute "
             "before placing anything", lost);

    return ttai_tool_place_finish(ctx, "unknown", why, NULL, NULL, NULL,
                                  pending);
}


/*
 * The outcome into the audit; the answer (a result, taken; NULL: an
 * error result made of the decision's reason) waits in the state
 */

static int
ttai_tool_place_finish(ttai_tool_ctx_t *ctx, const char *decision,
    const char *reason, const ttai_mcp_response_t *resp, json_t *order_id,
    json_t *answer, ttai_mcp_pending_t **pending)
{
    json_t  *audit, *body, *notional;

    if (answer == NULL) {
        answer = ttai_tool_error_result("Tool place_order: not placed: %s.",
                                        reason ? reason : decision);
        if (answer == NULL) {
            return -1;
        }
    }

    if (json_object_set_new(ctx->state, "final", answer) != 0) {
        return -1;
    }

    body = (resp != NULL && resp->body != NULL)
           ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
    notional = json_object_get(ctx->state, "notional");

    audit = json_pack("{s:s?, s:s, s:s?, s:O, s:O?, s:s, s:s?, s:o, s:o?, "
                      "s:O?, s:O?}",
                      "account", ttai_tt_account(ctx),
                      "tool", TTAI_TOOL_PLACE,
                      "client_id", ttai_tool_place_state(ctx, "client_id"),
                      "request", json_object_get(ctx->state, "canonical"),
                      "preview", json_object_get(ctx->state, "preview"),
                      "decision", decision,
                      "reason", reason,
                      "status", resp && resp->status
                                ? json_integer(resp->status) : json_null(),
                      "response", body,
                      "order_id", order_id,
                      "notional", notional);

    if (audit == NULL || ttai_tool_place_step(ctx, "audit") != 0) {
        json_decref(audit);
        return -1;
    }

    *pending = ttai_mcp_pending_d1(ttai_d1_batch_of(1,
                   ttai_order_audit(ctx->call->sub, audit,
                                    ttai_tool_place_now_ms(ctx))));
    json_decref(audit);

    return *pending ? 0 : -1;
}


static int
ttai_tool_place_refuse(ttai_tool_ctx_t *ctx, const char *reason,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_place_finish(ctx, "refused", reason, NULL, NULL, NULL,
                                  pending);
}


static int
ttai_tool_place_audited(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result)
{
    json_t      *final, *content, *text;
    const char  *t;
    char        *more;

    final = json_object_get(ctx->state, "final");
    if (final == NULL) {
        return -1;
    }

    *result = json_deep_copy(final);
    if (*result == NULL) {
        return -1;
    }

    if (resp->status == 200) {
        return 0;
    }

    /* never silent: the answer stands, and says what was not kept */
    content = json_array_get(json_object_get(*result, "content"), 0);
    t = json_string_value(json_object_get(content, "text"));
    more = ttai_tt_sprintf("%s\nWarning: this attempt could not be written "
                           "to the order audit (%s).", t ? t : "",
                           resp->error ? resp->error : "no answer");
    text = more ? json_string(more) : NULL;
    free(more);

    if (text == NULL || json_object_set_new(content, "text", text) != 0) {
        return -1;
    }

    return 0;
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
                    ttai_tool_place_state(ctx, "client_id"),
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


static int
ttai_tool_place_step(ttai_tool_ctx_t *ctx, const char *step)
{
    char  *text;

    /* the canonical text is what the confirmation binds, made once */
    if (strcmp(step, "grant") == 0) {
        text = ttai_order_canonical_text(json_object_get(ctx->state,
                                                         "canonical"));
        if (text == NULL
            || json_object_set_new(ctx->state, "canonical_text",
                                   json_string(text)) != 0)
        {
            free(text);
            return -1;
        }

        free(text);
    }

    return json_object_set_new(ctx->state, "step", json_string(step));
}


static const char *
ttai_tool_place_state(ttai_tool_ctx_t *ctx, const char *key)
{
    return json_string_value(json_object_get(ctx->state, key));
}


/*
 * Row 0 of a D1 batch's statement index (a new reference), or NULL; with
 * changes, that statement's count of changed rows instead (-1: none)
 */

static json_t *
ttai_tool_place_row(const ttai_mcp_response_t *resp, size_t index,
    long long *changes)
{
    json_t  *r, *st, *row;

    if (changes != NULL) {
        *changes = -1;
    }

    if (resp->status != 200 || resp->body == NULL) {
        return NULL;
    }

    r = json_loadb(resp->body, resp->len, 0, NULL);
    st = json_array_get(r, index);

    if (changes != NULL) {
        *changes = json_integer_value(json_object_get(json_object_get(st,
                                                                  "meta"),
                                                      "changes"));
        json_decref(r);
        return NULL;
    }

    row = json_incref(json_array_get(json_object_get(st, "results"), 0));
    json_decref(r);

    return json_is_object(row) ? row : (json_decref(row), NULL);
}


/* GET /market-data/by-type for the legs, each by its instrument type */

static char *
ttai_tool_place_quotes_path(json_t *canonical)
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

static json_t *
ttai_tool_place_mids(const ttai_mcp_response_t *resp)
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

    data = ttai_tt_data(TTAI_TOOL_PLACE, resp, &error);
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


static long long
ttai_tool_place_now_ms(ttai_tool_ctx_t *ctx)
{
    struct timespec  ts;

    if (ctx->call->now) {
        return (long long) ctx->call->now * 1000;
    }

    clock_gettime(CLOCK_REALTIME, &ts);

    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
