
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TOOL_TRADE_H_INCLUDED_
#define _TTAI_TOOL_TRADE_H_INCLUDED_


#include <jansson.h>

#include "ttai_tools.h"


/*
 * The one confirmation path of every tool that changes an account
 * (README, "Trading safely"): place_order, replace_order, cancel_order,
 * place_complex_order and the watchlist edits.  Each tool describes its
 * change as a canonical request (the state's "canonical": what the
 * confirmation binds), and these steps do the rest:
 *
 *   grant    the user's permission, read in the database
 *   (the tool's own preparation: the order looked at, a dry run, ...)
 *   confirm  a token given, or the human asked where the client can, or
 *            a refusal that says how to get a token
 *   use      the confirmation taken, once, with the audit's row
 *   (the tool sends the change; an answer lost, or a confirmation used
 *   before, is looked up, never sent again)
 *   audit    the outcome written, then the answer
 *
 * The tool's steps keep their names in ctx->state "step"; these use
 * "grant", "use" and "audit".
 */

typedef struct ttai_tool_trade_s  ttai_tool_trade_t;

/* a step's answer, as a tool's resume gets it */
typedef int (*ttai_tool_trade_step_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

typedef struct {
    const char                *name;
    ttai_tool_trade_step_pt    handler;
} ttai_tool_trade_step_t;

struct ttai_tool_trade_s {
    const char                *name;

    /* the account is known: the canonical request (NULL: no account) */
    ttai_tt_fetch_pt           begin;

    /* the user may trade: the tool prepares its change, then confirms */
    int                      (*granted)(ttai_tool_ctx_t *ctx, json_t *args,
                                        json_t **result,
                                        ttai_mcp_pending_t **pending);

    /*
     * The confirmation is taken: the change is sent (step "send"), with
     * its failure seen; sent gets TastyTrade's answer.  A lost answer
     * goes to lookup instead, with the state's "lost" saying why.
     */
    int                      (*send)(ttai_tool_ctx_t *ctx, json_t *args,
                                     ttai_mcp_pending_t **pending);
    ttai_tool_trade_step_pt    sent;

    /*
     * A lost answer, or a confirmation used before: what was done,
     * looked up (step "lookup"); found reads it
     */
    int                      (*lookup)(ttai_tool_ctx_t *ctx,
                                       ttai_mcp_pending_t **pending);
    ttai_tool_trade_step_pt    found;

    /* the tool's other steps, ending with a NULL name */
    const ttai_tool_trade_step_t  *steps;
};


/* the account is known and the canonical request made: the permission */
int ttai_tool_trade_begin(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *canonical, ttai_mcp_pending_t **pending);

/* a tool's resume: every step, the account's, these and the tool's */
int ttai_tool_trade_resume(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

/*
 * A change sent with the body kept in the state's "body" and the
 * confirmation's client order id added: POST rest, its failure seen
 */
int ttai_tool_trade_post(ttai_tool_ctx_t *ctx, const char *rest,
    ttai_mcp_pending_t **pending);

/* a GET of rest at the account, or at TastyTrade when account is NULL */
int ttai_tool_trade_get(ttai_tool_ctx_t *ctx, const char *step,
    const char *account, const char *rest, ttai_mcp_pending_t **pending);

/*
 * The change is ready to confirm: question is what the human is shown
 * (and the reason a client that cannot ask is given), how is what the
 * token path needs ("call preview_order ... with its confirmation_token")
 */
int ttai_tool_trade_confirm(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, const char *question, const char *how, json_t **result,
    ttai_mcp_pending_t **pending);

/* the input step of every trading tool: the human's answer */
int ttai_tool_trade_input(const ttai_tool_trade_t *t, ttai_tool_ctx_t *ctx,
    json_t *args, json_t *responses, json_t **result,
    ttai_mcp_pending_t **pending);

/*
 * The outcome into the audit, then the answer: answer is a result (the
 * reference is taken), or NULL for an error result that gives reason
 */
int ttai_tool_trade_finish(ttai_tool_ctx_t *ctx, const char *decision,
    const char *reason, const ttai_mcp_response_t *resp, json_t *order_id,
    json_t *answer, ttai_mcp_pending_t **pending);
int ttai_tool_trade_refuse(ttai_tool_ctx_t *ctx, const char *reason,
    ttai_mcp_pending_t **pending);

/* the token of a change not yet confirmed, for a client that cannot ask */
int ttai_tool_trade_token(ttai_tool_ctx_t *ctx, char *out);

/* helpers */
int ttai_tool_trade_step(ttai_tool_ctx_t *ctx, const char *step);
const char *ttai_tool_trade_state(ttai_tool_ctx_t *ctx, const char *key);
long long ttai_tool_trade_now_ms(ttai_tool_ctx_t *ctx);

/* the text of a result's first content, or NULL */
const char *ttai_tool_trade_text(json_t *result);


#endif /* _TTAI_TOOL_TRADE_H_INCLUDED_ */
