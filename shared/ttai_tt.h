
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TT_H_INCLUDED_
#define _TTAI_TT_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


/*
 * What the TastyTrade tools share: reading TastyTrade's JSON (decimals
 * sent as strings, amounts signed by a sibling "-effect", the "data"
 * envelope and the "error" one), turning its errors into results a
 * model can act on, and finding the account a call is about.
 */


/*
 * "1.5" or 1.5 -> a real; NULL, absent, null or unparsable -> json null.
 * A new reference; NULL only when out of memory.
 */
json_t *ttai_tt_number(json_t *v);

/*
 * obj[key] as a number, negated when obj[key + "-effect"] is "Debit";
 * json null when it is absent or unparsable.  A new reference; NULL only
 * when out of memory.
 */
json_t *ttai_tt_signed(json_t *obj, const char *key);

/*
 * A 2xx with a JSON object that has "data": returns data (a new
 * reference).  Otherwise returns NULL with *error_result set to an
 * isError result: ttai_tt_error_result() for a status other than 2xx,
 * "TastyTrade sent a response ttai could not read" for a body without
 * data.  NULL with *error_result NULL: out of memory.
 */
json_t *ttai_tt_data(const char *tool, const ttai_mcp_response_t *resp,
    json_t **error_result);

/*
 * As ttai_tt_data(), but returns the whole body (a new reference), for
 * the members next to "data" such as "pagination".
 */
json_t *ttai_tt_envelope(const char *tool, const ttai_mcp_response_t *resp,
    json_t **error_result);

/*
 * An isError result for a TastyTrade answer other than 2xx: it names the
 * status, TastyTrade's error code and message and the nested errors, and
 * says what to do (401: reconnect; 403: not permitted; 404: not found;
 * 422: rejected, with the reasons; 429: wait; 5xx: try again).  tool may
 * be NULL.  NULL only when out of memory.
 */
json_t *ttai_tt_error_result(const char *tool, int status, const char *body,
    size_t len);

/*
 * Percent-encodes everything but the RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~), for a path segment or a query value.  Returns
 * a malloc'd string, or NULL when out of memory.
 */
char *ttai_tt_escape(const char *s);

/*
 * The account a tool acts on, in two steps.  With args.account_number,
 * *account is set and no request is needed.  Without it, *pending is
 * GET /customers/me/accounts (cached as accounts:<sub> for the account
 * lifetime) and ctx->state gets "account_step": the tool's resume sees
 * that mark and calls ttai_tt_account_resume().  Either way the account
 * is kept in ctx->state ("account") for later steps: see
 * ttai_tt_account().  Returns 0, or -1 when out of memory.
 */
int ttai_tt_account_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char **account, ttai_mcp_pending_t **pending);

/*
 * Reads the accounts list: with exactly one open account, *account is
 * set (kept in ctx->state) and the "account_step" mark removed;
 * otherwise *result is an isError listing the accounts and asking for
 * account_number, or saying why the list could not be read.  Returns 0,
 * or -1 when out of memory.
 */
int ttai_tt_account_resume(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, const char **account, json_t **result);

/* the account kept in ctx->state, or NULL before it is known */
const char *ttai_tt_account(ttai_tool_ctx_t *ctx);

/* 1 while ctx->state has the "account_step" mark */
int ttai_tt_account_pending(ttai_tool_ctx_t *ctx);


#endif /* _TTAI_TT_H_INCLUDED_ */
