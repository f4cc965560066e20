
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TT_H_INCLUDED_
#define _TTAI_TT_H_INCLUDED_


#include <stddef.h>
#include <time.h>

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

/*
 * The tool's own request once the account is known: a pending request,
 * or a result (an error the tool finds in its arguments).
 */
typedef int (*ttai_tt_fetch_pt)(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);

/*
 * The two steps above for a tool's run and resume.  run:
 * ttai_tt_account_begin(), then fetch when the account is given.
 * step, first in a resume: returns 1 when resp was the accounts list (and
 * then the account's error result or fetch's answer is set), 0 when resp
 * answers the tool's own request, -1 when out of memory.
 */
int ttai_tt_account_run(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_tt_fetch_pt fetch, json_t **result, ttai_mcp_pending_t **pending);
int ttai_tt_account_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, ttai_tt_fetch_pt fetch,
    json_t **result, ttai_mcp_pending_t **pending);

/* the account kept in ctx->state, or NULL before it is known */
const char *ttai_tt_account(ttai_tool_ctx_t *ctx);

/* 1 while ctx->state has the "account_step" mark */
int ttai_tt_account_pending(ttai_tool_ctx_t *ctx);

/*
 * A request about the account: method /accounts/<account><rest>, the
 * account percent-encoded, rest ("/balances", "/orders?...") as is.
 * With a key prefix, the answer is cached as
 * "<key_prefix>:<sub>:<account><key_suffix>" (key_suffix may be NULL)
 * for ttl seconds.  NULL when out of memory.
 */
/*
 * A fetch of an account's data (what: "positions", "balances") found it
 * changed (resp->changed): ttai://<what> and ttai://accounts/<n>/<what>
 * are reported to the listening streams of the user.  0, or -1.
 */
int ttai_tt_account_changed(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, const char *what);

ttai_mcp_pending_t *ttai_tt_account_request(ttai_tool_ctx_t *ctx,
    const char *method, const char *account, const char *rest,
    const char *body, const char *key_prefix, const char *key_suffix,
    long ttl);


/* shaping */

/* obj[key] when it is a string (a copy), else json null; new reference */
json_t *ttai_tt_string(json_t *obj, const char *key);

/*
 * A timestamp as an ISO 8601 string: a string is kept as sent, an
 * integer is read as epoch milliseconds (orders' updated-at), anything
 * else (and 0) is json null.  New reference; NULL when out of memory.
 */
json_t *ttai_tt_time(json_t *v);

/* the UTC date days before now, as YYYY-MM-DD (buf: 11 bytes at least) */
void ttai_tt_date_back(char *buf, size_t size, time_t now, int days);

/*
 * json_object_set_new() that remembers a failure: returns rc, or -1 when
 * the value is NULL (out of memory) or cannot be set; the value's
 * reference is taken either way.
 */
int ttai_tt_set(int rc, json_t *obj, const char *key, json_t *value);


/* the compact text a model reads */

typedef struct {
    char                *data;
    size_t               len;
    size_t               size;
    int                  failed;     /* out of memory: data is NULL */
    int                  untrusted;  /* ttai_tt_buf_data() wrote to it */
} ttai_tt_buf_t;

/* text from TastyTrade or a user, quoted: see ttai_tool_quote() */
void ttai_tt_buf_data(ttai_tt_buf_t *b, const char *s);

/* appends; after a failure the buffer stays failed and empty */
void ttai_tt_buf_printf(ttai_tt_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * a number with up to 4 decimals and no trailing zeros ("32520.734",
 * "-75", "0.75"), or "n/a" for json null
 */
void ttai_tt_buf_number(ttai_tt_buf_t *b, json_t *n);

/* a text result from the buffer, which it frees; NULL: out of memory */
json_t *ttai_tt_buf_result(ttai_tt_buf_t *b, json_t *structured);

/* a malloc'd printf, or NULL when out of memory */
char *ttai_tt_sprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


#endif /* _TTAI_TT_H_INCLUDED_ */
