
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"


/*
 * TastyTrade's JSON, read the way its real responses are written rather
 * than the way its spec says: decimals are strings ("7218.997"), signs
 * live in a sibling "<key>-effect", lists come as {"data":{"items":[]}}
 * and errors as {"error":{"code","message","errors":[]}}.
 */

#define TTAI_TT_TEXT_MAX      2048   /* as ttai_tool_error_result() */
#define TTAI_TT_QUOTE_MAX     240    /* one upstream string in a message */
#define TTAI_TT_REASONS_MAX   6      /* nested errors named */
#define TTAI_TT_ACCOUNTS_MAX  20     /* accounts named in a message */
#define TTAI_TT_NUMBER_MAX    64


typedef struct {
    char    *buf;
    size_t   size;
    size_t   len;
} ttai_tt_text_t;


static void ttai_tt_append(ttai_tt_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ttai_tt_quote(ttai_tt_text_t *t, json_t *v);
static void ttai_tt_reasons(ttai_tt_text_t *t, json_t *error, int after);
static const char *ttai_tt_advice(int status);
static json_t *ttai_tt_unreadable(const char *tool);


json_t *
ttai_tt_number(json_t *v)
{
    char         buf[TTAI_TT_NUMBER_MAX], *end;
    double       d;
    size_t       n;
    const char  *s;

    if (json_is_number(v)) {
        return json_real(json_number_value(v));
    }

    if (!json_is_string(v)) {
        return json_null();
    }

    s = json_string_value(v);
    n = json_string_length(v);

    /* strtod alone would take "nan", "inf", hex and leading blanks */
    if (n == 0 || n >= sizeof(buf)
        || strspn(s, "+-0123456789.eE") != n)
    {
        return json_null();
    }

    memcpy(buf, s, n + 1);

    d = strtod(buf, &end);

    if (end != buf + n || !isfinite(d)) {
        return json_null();
    }

    return json_real(d);
}


json_t *
ttai_tt_signed(json_t *obj, const char *key)
{
    char         effect[128];
    json_t      *n;
    const char  *e;

    n = ttai_tt_number(json_object_get(obj, key));

    if (!json_is_real(n) || json_real_value(n) == 0) {
        /* no "-0": zero has no side */
        return n;
    }

    snprintf(effect, sizeof(effect), "%s-effect", key);
    e = json_string_value(json_object_get(obj, effect));

    if (e != NULL && strcmp(e, "Debit") == 0) {
        json_real_set(n, -json_real_value(n));
    }

    return n;
}


json_t *
ttai_tt_envelope(const char *tool, const ttai_mcp_response_t *resp,
    json_t **error_result)
{
    json_t  *body, *data;

    *error_result = NULL;

    if (resp->status < 200 || resp->status > 299) {
        *error_result = ttai_tt_error_result(tool, resp->status, resp->body,
                                             resp->len);
        return NULL;
    }

    body = (resp->body != NULL) ? json_loadb(resp->body, resp->len, 0, NULL)
                                : NULL;

    data = json_object_get(body, "data");

    if (data == NULL || json_is_null(data)) {
        json_decref(body);
        *error_result = ttai_tt_unreadable(tool);
        return NULL;
    }

    return body;
}


json_t *
ttai_tt_data(const char *tool, const ttai_mcp_response_t *resp,
    json_t **error_result)
{
    json_t  *body, *data;

    body = ttai_tt_envelope(tool, resp, error_result);

    if (body == NULL) {
        return NULL;
    }

    data = json_incref(json_object_get(body, "data"));
    json_decref(body);

    return data;
}


json_t *
ttai_tt_error_result(const char *tool, int status, const char *body,
    size_t len)
{
    char             buf[TTAI_TT_TEXT_MAX];
    json_t          *j, *error, *code, *message;
    ttai_tt_text_t   t;

    t.buf = buf;
    t.size = sizeof(buf);
    t.len = 0;
    buf[0] = '\0';

    if (tool != NULL) {
        ttai_tt_append(&t, "Tool %s failed: ", tool);
    }

    ttai_tt_append(&t, "TastyTrade answered HTTP %d", status);

    j = (body != NULL && len > 0) ? json_loadb(body, len, 0, NULL) : NULL;
    error = json_object_get(j, "error");

    if (json_is_object(error)) {
        code = json_object_get(error, "code");
        message = json_object_get(error, "message");

        ttai_tt_append(&t, " (");

        if (code != NULL) {
            ttai_tt_quote(&t, code);
            ttai_tt_append(&t, "%s", message ? ": " : "");
        }

        ttai_tt_quote(&t, message);
        ttai_tt_reasons(&t, error, code != NULL || message != NULL);

        if (t.len >= 2 && strcmp(t.buf + t.len - 2, " (") == 0) {
            /* an empty error object: nothing to quote */
            t.len -= 2;
            t.buf[t.len] = '\0';

        } else {
            ttai_tt_append(&t, ")");
        }

    } else if (json_is_string(error)) {
        ttai_tt_append(&t, " (");
        ttai_tt_quote(&t, error);
        ttai_tt_append(&t, ")");
    }

    json_decref(j);

    ttai_tt_append(&t, ". %s", ttai_tt_advice(status));

    return ttai_tool_error_result("%s", buf);
}


char *
ttai_tt_escape(const char *s)
{
    char                 *out, *p;
    size_t                n;
    const unsigned char  *c;

    static const char  hex[] = "0123456789ABCDEF";
    static const char  unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "abcdefghijklmnopqrstuvwxyz"
                                      "0123456789-._~";

    n = strlen(s);

    out = malloc(3 * n + 1);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    for (c = (const unsigned char *) s; *c != '\0'; c++) {
        if (strchr(unreserved, *c) != NULL) {
            *p++ = (char) *c;

        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 0x0f];
        }
    }

    *p = '\0';

    return out;
}


int
ttai_tt_account_begin(ttai_tool_ctx_t *ctx, json_t *args,
    const char **account, ttai_mcp_pending_t **pending)
{
    char        *key;
    size_t       n;
    json_t      *given;
    const char  *sub;

    *account = NULL;
    *pending = NULL;

    given = json_object_get(args, "account_number");

    if (json_is_string(given) && json_string_length(given) > 0) {
        if (json_object_set_new(ctx->state, "account",
                                json_string(json_string_value(given)))
            != 0)
        {
            return -1;
        }

        *account = ttai_tt_account(ctx);
        return 0;
    }

    sub = (ctx->call != NULL && ctx->call->sub != NULL) ? ctx->call->sub
                                                        : "";

    n = sizeof("accounts:") + strlen(sub);

    key = malloc(n);
    if (key == NULL) {
        return -1;
    }

    snprintf(key, n, "accounts:%s", sub);

    if (json_object_set_new(ctx->state, "account_step", json_true()) != 0) {
        free(key);
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                     "/customers/me/accounts", NULL, key,
                                     ctx->ttl->account);
    free(key);

    return *pending ? 0 : -1;
}


/*
 * A closed account is listed but never chosen: a user with one open
 * account and an old closed one means the open one.
 */

int
ttai_tt_account_resume(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, const char **account, json_t **result)
{
    char             buf[TTAI_TT_TEXT_MAX];
    size_t           i, open, listed;
    json_t          *data, *items, *item, *acct, *number, *chosen;
    ttai_tt_text_t   t;

    *account = NULL;
    *result = NULL;

    data = ttai_tt_data(NULL, resp, result);

    if (data == NULL) {
        return *result ? 0 : -1;
    }

    items = json_object_get(data, "items");

    if (!json_is_array(items)) {
        json_decref(data);
        *result = ttai_tt_unreadable(NULL);
        return *result ? 0 : -1;
    }

    open = 0;
    chosen = NULL;

    json_array_foreach(items, i, item) {
        acct = json_object_get(item, "account");
        number = json_object_get(acct, "account-number");

        if (json_is_string(number)
            && !json_is_true(json_object_get(acct, "is-closed")))
        {
            open++;
            chosen = number;
        }
    }

    if (open == 1) {
        if (json_object_set(ctx->state, "account", chosen) != 0
            || json_object_del(ctx->state, "account_step") != 0)
        {
            json_decref(data);
            return -1;
        }

        json_decref(data);

        *account = ttai_tt_account(ctx);
        return 0;
    }

    t.buf = buf;
    t.size = sizeof(buf);
    t.len = 0;
    buf[0] = '\0';

    if (open == 0) {
        ttai_tt_append(&t, "TastyTrade lists no open account for this user, "
                       "so there is no account to read");

    } else {
        ttai_tt_append(&t, "This user has %zu open TastyTrade accounts:",
                       open);
    }

    listed = 0;

    json_array_foreach(items, i, item) {
        acct = json_object_get(item, "account");
        number = json_object_get(acct, "account-number");

        if (!json_is_string(number)) {
            continue;
        }

        if (listed == TTAI_TT_ACCOUNTS_MAX) {
            ttai_tt_append(&t, "%s ...", open > 1 ? "," : "");
            break;
        }

        if (open == 0 && listed == 0) {
            ttai_tt_append(&t, " (closed:");
        }

        ttai_tt_append(&t, "%s ", listed ? "," : "");
        ttai_tt_quote(&t, number);

        if (json_is_string(json_object_get(acct, "nickname"))) {
            ttai_tt_append(&t, " (");
            ttai_tt_quote(&t, json_object_get(acct, "nickname"));
            ttai_tt_append(&t, "%s)",
                           (open > 0
                            && json_is_true(json_object_get(acct,
                                                            "is-closed")))
                           ? ", closed" : "");
        }

        listed++;
    }

    if (open == 0) {
        ttai_tt_append(&t, "%s.  If the user has just opened an account, "
                       "try again later.", listed ? ")" : "");

    } else {
        ttai_tt_append(&t, ".  Call the tool again with account_number set "
                       "to one of them (ask the user which one when it is "
                       "not clear).");
    }

    json_decref(data);

    *result = ttai_tool_error_result("%s", buf);

    return *result ? 0 : -1;
}


int
ttai_tt_account_run(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_tt_fetch_pt fetch, json_t **result, ttai_mcp_pending_t **pending)
{
    const char  *account;

    if (ttai_tt_account_begin(ctx, args, &account, pending) != 0) {
        return -1;
    }

    if (*pending != NULL) {
        return 0;
    }

    return fetch(ctx, args, account, result, pending);
}


int
ttai_tt_account_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, ttai_tt_fetch_pt fetch,
    json_t **result, ttai_mcp_pending_t **pending)
{
    const char  *account;

    if (!ttai_tt_account_pending(ctx)) {
        return 0;
    }

    if (ttai_tt_account_resume(ctx, resp, &account, result) != 0) {
        return -1;
    }

    if (*result != NULL) {
        return 1;
    }

    return (fetch(ctx, args, account, result, pending) == 0) ? 1 : -1;
}


const char *
ttai_tt_account(ttai_tool_ctx_t *ctx)
{
    return json_string_value(json_object_get(ctx->state, "account"));
}


int
ttai_tt_account_pending(ttai_tool_ctx_t *ctx)
{
    return json_is_true(json_object_get(ctx->state, "account_step"));
}


ttai_mcp_pending_t *
ttai_tt_account_request(ttai_tool_ctx_t *ctx, const char *method,
    const char *account, const char *rest, const char *body,
    const char *key_prefix, const char *key_suffix, long ttl)
{
    char                *esc, *path, *key;
    const char          *sub;
    ttai_mcp_pending_t  *p;

    esc = ttai_tt_escape(account);
    if (esc == NULL) {
        return NULL;
    }

    sub = (ctx->call != NULL && ctx->call->sub != NULL) ? ctx->call->sub
                                                        : "";

    path = ttai_tt_sprintf("/accounts/%s%s", esc, rest);
    key = NULL;

    if (key_prefix != NULL) {
        key = ttai_tt_sprintf("%s:%s:%s%s", key_prefix, sub, esc,
                              key_suffix ? key_suffix : "");
    }

    p = NULL;

    if (path != NULL && (key_prefix == NULL || key != NULL)) {
        p = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, method, path,
                                  body, key, key ? ttl : 0);
    }

    free(esc);
    free(path);
    free(key);

    return p;
}


int
ttai_tt_account_changed(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, const char *what)
{
    int          rc;
    char        *uri;
    const char  *account;

    if (!resp->changed) {
        return 0;
    }

    uri = ttai_tt_sprintf("ttai://%s", what);
    rc = (uri != NULL) ? ttai_tool_changed(ctx, TTAI_LISTEN_UPDATED, uri, 1)
                       : -1;
    free(uri);

    account = json_string_value(json_object_get(ctx->state, "account"));

    if (rc != 0 || account == NULL) {
        return rc;
    }

    uri = ttai_tt_sprintf("ttai://accounts/%s/%s", account, what);
    rc = (uri != NULL) ? ttai_tool_changed(ctx, TTAI_LISTEN_UPDATED, uri, 1)
                       : -1;
    free(uri);

    return rc;
}


json_t *
ttai_tt_string(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        return json_null();
    }

    return json_stringn(json_string_value(v), json_string_length(v));
}


json_t *
ttai_tt_time(json_t *v)
{
    char        buf[40];
    time_t      t;
    struct tm   tm;
    json_int_t  ms;

    if (json_is_string(v)) {
        return json_stringn(json_string_value(v), json_string_length(v));
    }

    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        return json_null();
    }

    ms = json_integer_value(v);
    t = (time_t) (ms / 1000);

    if (gmtime_r(&t, &tm) == NULL) {
        return json_null();
    }

    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
             (int) (ms % 1000));

    return json_string(buf);
}


void
ttai_tt_date_back(char *buf, size_t size, time_t now, int days)
{
    time_t     t;
    struct tm  tm;

    t = now - (time_t) days * 86400;

    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, size, "1970-01-01");
        return;
    }

    strftime(buf, size, "%Y-%m-%d", &tm);
}


int
ttai_tt_set(int rc, json_t *obj, const char *key, json_t *value)
{
    if (value == NULL) {
        return -1;
    }

    if (json_object_set_new(obj, key, value) != 0) {
        return -1;
    }

    return rc;
}


/* appends, cutting short at the end of the buffer */

static void
ttai_tt_append(ttai_tt_text_t *t, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (t->len + 1 >= t->size) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, args);
    va_end(args);

    if (n < 0) {
        t->buf[t->len] = '\0';
        return;
    }

    t->len += (size_t) n;

    if (t->len >= t->size) {
        t->len = t->size - 1;
    }
}


/* an upstream string or number, bounded and on one line */

static void
ttai_tt_quote(ttai_tt_text_t *t, json_t *v)
{
    char    buf[TTAI_TT_QUOTE_MAX + 4];
    size_t  i, n;

    if (json_is_integer(v)) {
        ttai_tt_append(t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }

    if (!json_is_string(v)) {
        return;
    }

    n = json_string_length(v);

    if (n > TTAI_TT_QUOTE_MAX) {
        memcpy(buf, json_string_value(v), TTAI_TT_QUOTE_MAX);
        memcpy(buf + TTAI_TT_QUOTE_MAX, "...", 4);
        n = TTAI_TT_QUOTE_MAX;

    } else {
        memcpy(buf, json_string_value(v), n + 1);
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) buf[i] < 0x20 || buf[i] == 0x7f) {
            buf[i] = ' ';
        }
    }

    ttai_tt_append(t, "%s", buf);
}


/*
 * The nested errors say why (margin_check_failed, ...); TastyTrade also
 * writes some as {domain, reason}
 */

static void
ttai_tt_reasons(ttai_tt_text_t *t, json_t *error, int after)
{
    size_t   i;
    json_t  *errors, *e, *code, *message;

    errors = json_object_get(error, "errors");

    if (!json_is_array(errors) || json_array_size(errors) == 0) {
        return;
    }

    ttai_tt_append(t, "%sreasons: ", after ? "; " : "");

    json_array_foreach(errors, i, e) {
        if (i == TTAI_TT_REASONS_MAX) {
            ttai_tt_append(t, "; and %zu more",
                           json_array_size(errors) - i);
            break;
        }

        code = json_object_get(e, "code");
        if (code == NULL) {
            code = json_object_get(e, "domain");
        }

        message = json_object_get(e, "message");
        if (message == NULL) {
            message = json_object_get(e, "reason");
        }

        ttai_tt_append(t, "%s", i ? "; " : "");

        if (json_is_string(e)) {
            ttai_tt_quote(t, e);
            continue;
        }

        ttai_tt_quote(t, code);
        ttai_tt_append(t, "%s", (code != NULL && message != NULL) ? ": "
                                                                   : "");
        ttai_tt_quote(t, message);
    }
}


static const char *
ttai_tt_advice(int status)
{
    switch (status) {

    case 400:
        return "TastyTrade found the request malformed: check the "
               "arguments and try again.";

    case 401:
        return "TastyTrade refused the user's token even after refreshing "
               "it: the user should reconnect TastyTrade with "
               "`ttai tastytrade connect`, then try again.";

    case 403:
        return "TastyTrade does not permit this user to do that: the "
               "account may not be the user's own (get_accounts lists the "
               "user's accounts), or the user's authority on it is too "
               "low.";

    case 404:
        return "TastyTrade found no such thing: check the account number, "
               "symbol or id (get_accounts lists the user's accounts).";

    case 406:
        return "TastyTrade no longer supports the API version ttai uses: "
               "ttai needs an update.";

    case 422:
        return "TastyTrade rejected the request for the reasons above: "
               "change what they name and try again.";

    case 429:
        return "TastyTrade is limiting the rate of requests: wait a few "
               "seconds, then try again.";

    default:
        break;
    }

    if (status >= 500 && status <= 599) {
        return "TastyTrade had a problem on its side: try again in a "
               "moment.";
    }

    return "TastyTrade did not accept the request.";
}


static json_t *
ttai_tt_unreadable(const char *tool)
{
    return ttai_tool_error_result("%s%s%sTastyTrade sent a response ttai "
                                  "could not read.  Try again; if it "
                                  "persists, TastyTrade may have changed "
                                  "its API.",
                                  tool ? "Tool " : "", tool ? tool : "",
                                  tool ? " failed: " : "");
}
