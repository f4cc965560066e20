
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
#include "ttai_tool_order.h"
#include "ttai_tool_trade.h"


/*
 * The confirmation path of the tools that change an account: see
 * ttai_tool_trade.h.  Nothing is sent before the confirmation is taken
 * in the database, in the same transaction as the audit's row of the
 * attempt; a confirmation is taken once, whoever races for it.
 */

static int ttai_tool_trade_granted(const ttai_tool_trade_t *t,
    ttai_tool_ctx_t *ctx, json_t *args, const ttai_mcp_response_t *resp,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_trade_ask(ttai_tool_ctx_t *ctx, const char *question,
    json_t **result);
static int ttai_tool_trade_offer(ttai_tool_ctx_t *ctx, const char *question,
    json_t **result);
static int ttai_tool_trade_use(ttai_tool_ctx_t *ctx, const char *token,
    ttai_mcp_pending_t **pending);
static int ttai_tool_trade_used(const ttai_tool_trade_t *t,
    ttai_tool_ctx_t *ctx, json_t *args, const ttai_mcp_response_t *resp,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_trade_audited(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, json_t **result);
static json_t *ttai_tool_trade_row(const ttai_mcp_response_t *resp,
    size_t index, long long *changes);
static int ttai_tool_trade_forget(ttai_tool_ctx_t *ctx);


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


int
ttai_tool_trade_begin(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *canonical, ttai_mcp_pending_t **pending)
{
    char       *text;
    long long   now, day;

    /* the canonical text is what a confirmation binds, made once */
    text = ttai_order_canonical_text(canonical);

    if (text == NULL
        || json_object_set_new(ctx->state, "tool", json_string(t->name))
           != 0
        || json_object_set_new(ctx->state, "canonical_text",
                               json_string(text)) != 0
        || json_object_set_new(ctx->state, "canonical", canonical) != 0
        || ttai_tool_trade_step(ctx, "grant") != 0)
    {
        free(text);
        return -1;
    }

    free(text);

    /* the day is the UTC day: its limit restarts at midnight UTC */
    now = ttai_tool_trade_now_ms(ctx);
    day = now - now % 86400000;

    *pending = ttai_mcp_pending_d1(ttai_order_day(ctx->call->sub, day));

    return *pending ? 0 : -1;
}


int
ttai_tool_trade_resume(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int                            rc;
    const char                    *step;
    const ttai_tool_trade_step_t  *s;

    if (t->begin != NULL && ttai_tt_account_pending(ctx)) {
        rc = ttai_tt_account_step(ctx, args, resp, t->begin, result,
                                  pending);
        return rc < 0 ? -1 : 0;
    }

    step = ttai_tool_trade_state(ctx, "step");

    if (step == NULL) {
        return -1;
    }

    if (strcmp(step, "grant") == 0) {
        return ttai_tool_trade_granted(t, ctx, args, resp, result, pending);
    }

    if (strcmp(step, "use") == 0) {
        return ttai_tool_trade_used(t, ctx, args, resp, result, pending);
    }

    if (strcmp(step, "send") == 0) {
        if (resp->status != 0) {
            return t->sent(ctx, args, resp, result, pending);
        }

        /* sent, maybe done: looked for, and never sent again */
        if (json_object_set_new(ctx->state, "lost",
                                json_string(resp->error ? resp->error
                                                        : "no answer"))
            != 0)
        {
            return -1;
        }

        return t->lookup(ctx, pending);
    }

    if (strcmp(step, "lookup") == 0) {
        return t->found(ctx, args, resp, result, pending);
    }

    if (strcmp(step, "audit") == 0) {
        return ttai_tool_trade_audited(ctx, resp, result);
    }

    for (s = t->steps; s != NULL && s->name != NULL; s++) {
        if (strcmp(step, s->name) == 0) {
            return s->handler(ctx, args, resp, result, pending);
        }
    }

    return -1;
}


int
ttai_tool_trade_post(ttai_tool_ctx_t *ctx, const char *rest,
    ttai_mcp_pending_t **pending)
{
    char        *body;
    json_t      *o;
    const char  *text;

    text = ttai_tool_trade_state(ctx, "body");
    o = text ? json_loads(text, 0, NULL) : NULL;

    if (o == NULL
        || json_object_set_new(o, "ext-client-order-id",
                               json_string(ttai_tool_trade_state(ctx,
                                                                 "client_id")))
           != 0)
    {
        json_decref(o);
        return -1;
    }

    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    if (body == NULL || ttai_tool_trade_step(ctx, "send") != 0) {
        free(body);
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "POST", ttai_tt_account(ctx),
                                       rest, body, NULL, NULL, 0);
    free(body);

    /* what it sent may have arrived: its failure is the tool's to see */
    if (*pending != NULL) {
        (*pending)->failures = 1;
    }

    return *pending ? 0 : -1;
}


int
ttai_tool_trade_get(ttai_tool_ctx_t *ctx, const char *step,
    const char *account, const char *rest, ttai_mcp_pending_t **pending)
{
    if (ttai_tool_trade_step(ctx, step) != 0) {
        return -1;
    }

    *pending = account
               ? ttai_tt_account_request(ctx, "GET", account, rest, NULL,
                                         NULL, NULL, 0)
               : ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", rest,
                                       NULL, NULL, 0);

    /* a lookup's failure, too, is the tool's to report */
    if (*pending != NULL && strcmp(step, "lookup") == 0) {
        (*pending)->failures = 1;
    }

    return *pending ? 0 : -1;
}


static int
ttai_tool_trade_granted(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *row;

    row = ttai_tool_trade_row(resp, 0, NULL);

    if (row == NULL) {
        *result = ttai_tool_error_result("Tool %s: %s.  Nothing was "
                                         "changed.", t->name,
                                         resp->error ? resp->error
                                         : "the database could not be read");
        return *result ? 0 : -1;
    }

    if (json_integer_value(json_object_get(row, "trading")) != 1) {
        json_decref(row);
        return ttai_tool_trade_refuse(ctx, "the user has not allowed "
                                      "trading (ttai users trading enable)",
                                      pending);
    }

    if (json_object_set(ctx->state, "day", json_object_get(row, "day"))
        != 0)
    {
        json_decref(row);
        return -1;
    }

    json_decref(row);

    return t->granted(ctx, args, result, pending);
}


int
ttai_tool_trade_confirm(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const char *question, const char *how, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         token[TTAI_ORDER_TOKEN_LEN];
    json_t      *el;
    const char  *given;

    if (json_object_set_new(ctx->state, "question", json_string(question))
        != 0)
    {
        return -1;
    }

    given = json_string_value(json_object_get(args, "confirmation_token"));

    if (given != NULL) {
        return ttai_tool_trade_use(ctx, given, pending);
    }

    el = ctx->caps ? json_object_get(ctx->caps, "elicitation") : NULL;

    if (json_is_object(el)
        && (json_object_size(el) == 0 || json_object_get(el, "form")))
    {
        /*
         * The question's own confirmation: a token for this change, kept
         * in the sealed state, so that the answer takes it as a token
         * would be taken, once
         */
        if (ttai_tool_trade_token(ctx, token) != 0
            || json_object_set_new(ctx->state, "asked", json_string(token))
               != 0)
        {
            return -1;
        }

        return ttai_tool_trade_ask(ctx, question, result);
    }

    if (how == NULL) {
        return ttai_tool_trade_offer(ctx, question, result);
    }

    return ttai_tool_trade_refuse(ctx, how, pending);
}


int
ttai_tool_trade_token(ttai_tool_ctx_t *ctx, char *out)
{
    return ttai_order_token(ctx->call->trading_key, ctx->call->sub,
                            ttai_tool_trade_state(ctx, "canonical_text"),
                            ctx->call->now ? ctx->call->now : time(NULL),
                            ctx->call->trading->confirm_ttl, out,
                            TTAI_ORDER_TOKEN_LEN);
}


static int
ttai_tool_trade_ask(ttai_tool_ctx_t *ctx, const char *question,
    json_t **result)
{
    char    *message;
    json_t  *schema;

    message = ttai_tt_sprintf("%s\nIt is real: TastyTrade will act on it.  "
                              "Tick the box to go ahead; anything else "
                              "changes nothing.", question);

    schema = json_pack("{s:s, s:{s:{s:s, s:s, s:b}}, s:[s]}",
                       "type", "object", "properties", "confirm",
                       "type", "boolean", "title", "Yes, do it",
                       "default", 0, "required", "confirm");

    *result = (message && schema)
              ? ttai_tool_input_required(json_pack("{s:o}", "confirm",
                    ttai_tool_elicit_form(message, json_incref(schema))))
              : NULL;

    json_decref(schema);
    free(message);

    return *result ? 0 : -1;
}


/*
 * A client that cannot ask: the change is described with a token for
 * it, and nothing is done until the tool is called again with it, which
 * the model must do only after the user said yes
 */

static int
ttai_tool_trade_offer(ttai_tool_ctx_t *ctx, const char *question,
    json_t **result)
{
    char    token[TTAI_ORDER_TOKEN_LEN], *text;
    json_t  *out;

    if (ttai_tool_trade_token(ctx, token) != 0) {
        return -1;
    }

    out = json_pack("{s:b, s:s, s:s, s:I}", "done", 0, "confirmation",
                    question, "confirmation_token", token,
                    "confirmation_expires_in",
                    (json_int_t) ctx->call->trading->confirm_ttl);

    text = ttai_tt_sprintf("Nothing was changed yet: the user must confirm "
                           "this.\n%s\nShow it to the user.  Only if they "
                           "say yes, call %s again with the same arguments "
                           "and confirmation_token (valid %lds, once).",
                           question, ttai_tool_trade_state(ctx, "tool"),
                           ctx->call->trading->confirm_ttl);

    *result = (out && text) ? ttai_tool_text_result(text, json_incref(out))
                            : NULL;

    json_decref(out);
    free(text);

    return *result ? 0 : -1;
}


int
ttai_tool_trade_input(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, json_t *responses, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t      *content;
    const char  *action, *token;

    token = ttai_tool_trade_state(ctx, "asked");

    /* an answer comes only to a question this server asked, sealed */
    if (token == NULL || !ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool %s: an answer came that no "
                                         "question of this change asked "
                                         "for.  Nothing was changed.",
                                         t->name);
        return *result ? 0 : -1;
    }

    action = ttai_tool_input_action(responses, "confirm", &content);

    if (action == NULL) {
        return ttai_tool_trade_finish(ctx, "unanswered", "the user did not "
                                      "answer the confirmation", NULL, NULL,
                                      NULL, pending);
    }

    if (strcmp(action, "accept") != 0
        || !json_is_true(json_object_get(content, "confirm")))
    {
        return ttai_tool_trade_finish(ctx, "declined",
                                      strcmp(action, "accept") == 0
                                      ? "the user did not tick the box"
                                      : strcmp(action, "cancel") == 0
                                      ? "the user cancelled"
                                      : "the user declined",
                                      NULL, NULL, NULL, pending);
    }

    return ttai_tool_trade_use(ctx, token, pending);
}


/* the token checked, then taken in the database with the audit's row */

static int
ttai_tool_trade_use(ttai_tool_ctx_t *ctx, const char *token,
    ttai_mcp_pending_t **pending)
{
    char                 nonce[TTAI_ORDER_NONCE_HEX + 1];
    char                 client[TTAI_ORDER_CLIENT_ID_LEN];
    json_t              *audit, *batch;
    const char          *why;
    ttai_order_token_e   rc;

    rc = ttai_order_token_check(ctx->call->trading_key, ctx->call->sub,
                                ttai_tool_trade_state(ctx, "canonical_text"),
                                token,
                                ctx->call->now ? ctx->call->now : time(NULL),
                                nonce);

    switch (rc) {

    case TTAI_ORDER_TOKEN_OK:
        break;

    case TTAI_ORDER_TOKEN_EXPIRED:
        why = "the confirmation_token has expired: show the change to the "
              "user again and ask again";
        return ttai_tool_trade_refuse(ctx, why, pending);

    case TTAI_ORDER_TOKEN_MISMATCH:
        why = "the confirmation_token is not for this change: it confirms "
              "other arguments, another account or another user.  Only "
              "the exact change the user saw can be made";
        return ttai_tool_trade_refuse(ctx, why, pending);

    default:
        why = "confirmation_token is not a token this server gave";
        return ttai_tool_trade_refuse(ctx, why, pending);
    }

    ttai_order_client_id(ctx->call->trading_key, nonce, client);

    if (json_object_set_new(ctx->state, "client_id", json_string(client))
        != 0)
    {
        return -1;
    }

    audit = json_pack("{s:s?, s:s, s:s, s:O, s:O?, s:s, s:s, s:O?}",
                      "account", ttai_tt_account(ctx),
                      "tool", ttai_tool_trade_state(ctx, "tool"),
                      "client_id", client,
                      "request", json_object_get(ctx->state, "canonical"),
                      "preview", json_object_get(ctx->state, "preview"),
                      "decision", "confirmed",
                      "reason", json_object_get(ctx->state, "asked")
                                ? "the user accepted the question"
                                : "a confirmation_token the user approved",
                      "notional", json_object_get(ctx->state, "notional"));
    if (audit == NULL) {
        return -1;
    }

    batch = ttai_order_use(nonce, ctx->call->sub, client,
                           ttai_tool_trade_now_ms(ctx), audit);
    json_decref(audit);

    if (ttai_tool_trade_step(ctx, "use") != 0) {
        json_decref(batch);
        return -1;
    }

    *pending = ttai_mcp_pending_d1(batch);

    return *pending ? 0 : -1;
}


static int
ttai_tool_trade_used(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t     *row;
    long long   changes;

    row = ttai_tool_trade_row(resp, 2, NULL);

    if (row == NULL) {
        /* not taken, so nothing can have been sent with it */
        *result = ttai_tool_error_result("Tool %s: the confirmation could "
                                         "not be recorded (%s).  Nothing "
                                         "was changed; try again.", t->name,
                                         resp->error ? resp->error
                                                     : "no answer");
        return *result ? 0 : -1;
    }

    (void) ttai_tool_trade_row(resp, 0, &changes);

    if (changes == 1) {
        json_decref(row);
        return t->send(ctx, args, pending);
    }

    if (json_integer_value(json_object_get(row, "trading")) != 1) {
        json_decref(row);
        return ttai_tool_trade_refuse(ctx, "the user has not allowed "
                                      "trading (ttai users trading enable)",
                                      pending);
    }

    json_decref(row);

    /* used before: whatever it did is looked for, never done again */
    if (json_object_set_new(ctx->state, "reused", json_true()) != 0) {
        return -1;
    }

    return t->lookup(ctx, pending);
}


int
ttai_tool_trade_finish(ttai_tool_ctx_t *ctx, const char *decision,
    const char *reason, const ttai_mcp_response_t *resp, json_t *order_id,
    json_t *answer, ttai_mcp_pending_t **pending)
{
    json_t  *audit, *body;

    if (answer == NULL) {
        if (reason == NULL) {
            reason = decision;
        }

        answer = ttai_tool_error_result("Tool %s: nothing was done: %s%s",
                                        ttai_tool_trade_state(ctx, "tool"),
                                        reason,
                                        reason[0] != '\0'
                                        && reason[strlen(reason) - 1] == '.'
                                        ? "" : ".");
        if (answer == NULL) {
            return -1;
        }
    }

    if (json_object_set_new(ctx->state, "final", answer) != 0) {
        return -1;
    }

    /* what was sent, or may have been, makes the cached answers stale */
    if ((strcmp(decision, "sent") == 0 || strcmp(decision, "unknown") == 0)
        && ttai_tool_trade_forget(ctx) != 0)
    {
        return -1;
    }

    body = (resp != NULL && resp->body != NULL)
           ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;

    audit = json_pack("{s:s?, s:s, s:s?, s:O, s:O?, s:s, s:s?, s:o, s:o?, "
                      "s:O?, s:O?}",
                      "account", ttai_tt_account(ctx),
                      "tool", ttai_tool_trade_state(ctx, "tool"),
                      "client_id", ttai_tool_trade_state(ctx, "client_id"),
                      "request", json_object_get(ctx->state, "canonical"),
                      "preview", json_object_get(ctx->state, "preview"),
                      "decision", decision,
                      "reason", reason,
                      "status", resp && resp->status
                                ? json_integer(resp->status) : json_null(),
                      "response", body,
                      "order_id", order_id,
                      "notional", json_object_get(ctx->state, "notional"));

    if (audit == NULL || ttai_tool_trade_step(ctx, "audit") != 0) {
        json_decref(audit);
        return -1;
    }

    *pending = ttai_mcp_pending_d1(ttai_d1_batch_of(1,
                   ttai_order_audit(ctx->call->sub, audit,
                                    ttai_tool_trade_now_ms(ctx))));
    json_decref(audit);

    return *pending ? 0 : -1;
}


int
ttai_tool_trade_refuse(ttai_tool_ctx_t *ctx, const char *reason,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_finish(ctx, "refused", reason, NULL, NULL, NULL,
                                  pending);
}


static int
ttai_tool_trade_audited(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    json_t **result)
{
    char        *more;
    json_t      *final, *content, *text;
    const char  *t;

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


int
ttai_tool_trade_step(ttai_tool_ctx_t *ctx, const char *step)
{
    return json_object_set_new(ctx->state, "step", json_string(step));
}


const char *
ttai_tool_trade_state(ttai_tool_ctx_t *ctx, const char *key)
{
    return json_string_value(json_object_get(ctx->state, key));
}


const char *
ttai_tool_trade_text(json_t *result)
{
    return json_string_value(json_object_get(json_array_get(
               json_object_get(result, "content"), 0), "text"));
}


/*
 * Row 0 of a D1 batch's statement index (a new reference), or NULL; with
 * changes, that statement's count of changed rows instead (-1: none)
 */

static json_t *
ttai_tool_trade_row(const ttai_mcp_response_t *resp, size_t index,
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

    if (!json_is_object(row)) {
        json_decref(row);
        return NULL;
    }

    return row;
}


long long
ttai_tool_trade_now_ms(ttai_tool_ctx_t *ctx)
{
    struct timespec  ts;

    if (ctx->call->now) {
        return (long long) ctx->call->now * 1000;
    }

    clock_gettime(CLOCK_REALTIME, &ts);

    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * The user's cached orders, positions, balances and watchlists (the
 * keys the read tools fill: ttai_tt_account_request()), so that the
 * next read shows the change
 */

static int
ttai_tool_trade_forget(ttai_tool_ctx_t *ctx)
{
    int          rc;
    char        *esc, *key;
    size_t       i;
    const char  *sub, *account;

    static const char  *fmt[] = {
        "orders:%s:%s:live", "orders:%s:%s:recent", "positions:%s:%s",
        "balances:%s:%s"
    };

    sub = ctx->call->sub;
    account = ttai_tt_account(ctx);

    key = ttai_tt_sprintf("watchlists:%s", sub);
    rc = (key == NULL || ttai_tool_forget(ctx, key) != 0) ? -1 : 0;
    free(key);

    if (rc != 0 || account == NULL) {
        return rc;
    }

    esc = ttai_tt_escape(account);
    if (esc == NULL) {
        return -1;
    }

    for (i = 0; rc == 0 && i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        key = ttai_tt_sprintf(fmt[i], sub, esc);
        rc = (key == NULL || ttai_tool_forget(ctx, key) != 0) ? -1 : 0;
        free(key);
    }

    free(esc);

    return rc;
}
