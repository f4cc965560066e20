
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_tt.h"


/* GUIDE-CUST, one account */
#define ACCOUNT(number, nickname, closed)                                    \
    "{\"account\":{\"account-number\":\"" number "\","                      \
    "\"external-id\":\"A0000196557\","                                       \
    "\"opened-at\":\"2019-03-14T15:39:31.265+00:00\","                       \
    "\"nickname\":\"" nickname "\",\"account-type-name\":\"Individual\","    \
    "\"day-trader-status\":false,\"is-closed\":" closed ","                  \
    "\"is-firm-error\":false,\"margin-or-cash\":\"Margin\","                 \
    "\"suitable-options-level\":\"No Restrictions\","                        \
    "\"created-at\":\"2019-03-14T15:39:31.265+00:00\"},"                     \
    "\"authority-level\":\"owner\"}"

#define ACCOUNTS(items)                                                      \
    "{\"data\":{\"items\":[" items "]},\"context\":\"/customers/me/accounts\"}"


static const char  preflight[] =
    "{\"error\":{\"code\":\"preflight_check_failure\","
    "\"message\":\"One or more preflight checks failed\","
    "\"errors\":[{\"code\":\"margin_check_failed\",\"message\":\"Account "
    "does not have sufficient buying power available for this order.\"},"
    "{\"domain\":\"order\",\"reason\":\"cant_buy_for_credit\"}]}}";


static const char *
text_of(json_t *result)
{
    json_t  *content;

    content = json_array_get(json_object_get(result, "content"), 0);

    return json_string_value(json_object_get(content, "text"));
}


static void
assert_contains(const char *haystack, const char *needle)
{
    assert_non_null(haystack);

    if (strstr(haystack, needle) == NULL) {
        fail_msg("\"%s\" lacks \"%s\"", haystack, needle);
    }
}


/* parses v as JSON, runs ttai_tt_number on it, returns the real or 999 */

static double
number_of(const char *v, int *is_null)
{
    double   d;
    json_t  *j, *n;

    j = json_loads(v, JSON_DECODE_ANY, NULL);
    assert_non_null(j);

    n = ttai_tt_number(j);
    assert_non_null(n);

    *is_null = json_is_null(n);
    d = json_is_real(n) ? json_real_value(n) : 999;

    if (!*is_null) {
        assert_true(json_is_real(n));
    }

    json_decref(n);
    json_decref(j);

    return d;
}


static void
assert_number(const char *v, double expected)
{
    int  is_null;

    assert_float_equal(number_of(v, &is_null), expected, 1e-9);
    assert_false(is_null);
}


static void
assert_not_number(const char *v)
{
    int  is_null;

    number_of(v, &is_null);

    if (!is_null) {
        fail_msg("%s read as a number", v);
    }
}


static void
test_number(void **state)
{
    json_t  *n;

    assert_number("\"7218.997\"", 7218.997);
    assert_number("\"0.0\"", 0);
    assert_number("\"-12.5\"", -12.5);
    assert_number("\"1e3\"", 1000);
    assert_number("\"100\"", 100);
    assert_number("1.5", 1.5);
    assert_number("100", 100);

    assert_not_number("\"\"");
    assert_not_number("\"abc\"");
    assert_not_number("\"1.5x\"");
    assert_not_number("\" 1.5\"");
    assert_not_number("\"nan\"");
    assert_not_number("\"inf\"");
    assert_not_number("\"0x10\"");
    assert_not_number("\"1e999\"");
    assert_not_number("\"--1\"");
    assert_not_number("null");
    assert_not_number("true");
    assert_not_number("{}");
    assert_not_number("[\"1\"]");

    /* absent */
    n = ttai_tt_number(NULL);
    assert_true(json_is_null(n));
    json_decref(n);
}


static void
test_signed(void **state)
{
    json_t  *obj, *n;

    obj = json_loads("{\"value\":\"75.0\",\"value-effect\":\"Debit\","
                     "\"net-value\":\"100000.0\","
                     "\"net-value-effect\":\"Credit\","
                     "\"pending-cash\":\"0.0\","
                     "\"pending-cash-effect\":\"None\","
                     "\"fees\":\"0.0\",\"fees-effect\":\"Debit\","
                     "\"plain\":\"3.25\","
                     "\"bad\":\"x\",\"bad-effect\":\"Debit\","
                     "\"odd\":\"2\",\"odd-effect\":\"debit\"}", 0, NULL);
    assert_non_null(obj);

    n = ttai_tt_signed(obj, "value");
    assert_float_equal(json_real_value(n), -75.0, 1e-9);
    json_decref(n);

    n = ttai_tt_signed(obj, "net-value");
    assert_float_equal(json_real_value(n), 100000.0, 1e-9);
    json_decref(n);

    n = ttai_tt_signed(obj, "pending-cash");
    assert_true(json_is_real(n));
    assert_float_equal(json_real_value(n), 0, 0);
    json_decref(n);

    /* a Debit of zero is 0, not -0 */
    n = ttai_tt_signed(obj, "fees");
    assert_false(signbit(json_real_value(n)));
    json_decref(n);

    /* no effect: as sent */
    n = ttai_tt_signed(obj, "plain");
    assert_float_equal(json_real_value(n), 3.25, 1e-9);
    json_decref(n);

    /* the effect is matched exactly */
    n = ttai_tt_signed(obj, "odd");
    assert_float_equal(json_real_value(n), 2, 1e-9);
    json_decref(n);

    n = ttai_tt_signed(obj, "bad");
    assert_true(json_is_null(n));
    json_decref(n);

    n = ttai_tt_signed(obj, "absent");
    assert_true(json_is_null(n));
    json_decref(n);

    json_decref(obj);
}


/* ttai_tt_data on a response; returns data, or NULL with *err set */

static json_t *
data_of(const char *tool, int status, const char *body, json_t **err)
{
    json_t               *data;
    ttai_mcp_response_t   resp;

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = body ? strlen(body) : 0;

    data = ttai_tt_data(tool, &resp, err);

    if (data != NULL) {
        assert_null(*err);
    } else {
        assert_non_null(*err);
        assert_true(json_is_true(json_object_get(*err, "isError")));
    }

    return data;
}


static void
test_data(void **state)
{
    json_t               *data, *err, *body;
    ttai_mcp_response_t   resp;

    /* an object, and a list */
    data = data_of("get_balances", 200,
                   "{\"data\":{\"cash-balance\":\"7218.997\"},"
                   "\"context\":\"/accounts/5WT00000/balances\"}", &err);
    assert_string_equal(json_string_value(json_object_get(data,
                                                          "cash-balance")),
                        "7218.997");
    json_decref(data);

    data = data_of("x", 201, "{\"data\":{\"items\":[]}}", &err);
    assert_true(json_is_array(json_object_get(data, "items")));
    json_decref(data);

    /* 2xx without data */
    assert_null(data_of("get_balances", 200, "{\"context\":\"/x\"}", &err));
    assert_string_equal(text_of(err), "Tool get_balances failed: TastyTrade "
                        "sent a response ttai could not read.  Try again; "
                        "if it persists, TastyTrade may have changed its "
                        "API.");
    json_decref(err);

    assert_null(data_of("t", 200, "{\"data\":null}", &err));
    assert_contains(text_of(err), "could not read");
    json_decref(err);

    assert_null(data_of("t", 200, "<html>", &err));
    assert_contains(text_of(err), "could not read");
    json_decref(err);

    assert_null(data_of("t", 200, "[1]", &err));
    assert_contains(text_of(err), "could not read");
    json_decref(err);

    assert_null(data_of("t", 204, NULL, &err));
    assert_contains(text_of(err), "could not read");
    json_decref(err);

    /* without a tool name */
    assert_null(data_of(NULL, 200, "{}", &err));
    assert_string_equal(text_of(err), "TastyTrade sent a response ttai "
                        "could not read.  Try again; if it persists, "
                        "TastyTrade may have changed its API.");
    json_decref(err);

    /* an error status */
    assert_null(data_of("get_positions", 404,
                        "{\"error\":{\"code\":\"record_not_found\","
                        "\"message\":\"Couldn't find .\"}}", &err));
    assert_contains(text_of(err), "Tool get_positions failed: TastyTrade "
                    "answered HTTP 404 (record_not_found: Couldn't find .)");
    json_decref(err);

    /* the envelope keeps what is next to data */
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.body = "{\"data\":{\"items\":[]},\"pagination\":{\"total-pages\":3}}";
    resp.len = strlen(resp.body);

    body = ttai_tt_envelope("t", &resp, &err);
    assert_non_null(body);
    assert_null(err);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(body, "pagination"),
                         "total-pages")), 3);
    json_decref(body);

    resp.status = 500;
    assert_null(ttai_tt_envelope("t", &resp, &err));
    assert_contains(text_of(err), "HTTP 500");
    json_decref(err);
}


static void
assert_error_text(int status, const char *body, const char *a,
    const char *b)
{
    json_t  *r;

    r = ttai_tt_error_result("preview_order", status, body,
                             body ? strlen(body) : 0);
    assert_non_null(r);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_contains(text_of(r), a);
    if (b != NULL) {
        assert_contains(text_of(r), b);
    }
    json_decref(r);
}


static void
test_error_result(void **state)
{
    int      i;
    char     big[6000];
    size_t   n;
    json_t  *r;

    assert_error_text(401, "{\"error\":{\"code\":\"unauthorized\","
                      "\"message\":\"Token is invalid or expired\"}}",
                      "TastyTrade answered HTTP 401 (unauthorized: Token is "
                      "invalid or expired)",
                      "reconnect TastyTrade with `ttai tastytrade connect`");

    assert_error_text(403, "{\"error\":{\"code\":\"not_permitted\","
                      "\"message\":\"User not permitted access\"}}",
                      "HTTP 403 (not_permitted: User not permitted access)",
                      "not be the user's own");

    assert_error_text(404, NULL, "HTTP 404. TastyTrade found no such thing",
                      NULL);

    /* 422: every reason, including the {domain, reason} kind */
    assert_error_text(422, preflight,
                      "HTTP 422 (preflight_check_failure: One or more "
                      "preflight checks failed; reasons: "
                      "margin_check_failed: Account does not have sufficient "
                      "buying power available for this order.; "
                      "order: cant_buy_for_credit)",
                      "rejected the request");

    assert_error_text(429, "", "HTTP 429", "wait a few seconds");
    assert_error_text(500, "{\"error\":{\"code\":\"internal\","
                      "\"message\":\"support id 1234\"}}",
                      "(internal: support id 1234)", "problem on its side");
    assert_error_text(503, "<html>Service Unavailable</html>",
                      "HTTP 503. TastyTrade had a problem", NULL);
    assert_error_text(400, "{\"error\":{\"message\":\"bad json\"}}",
                      "HTTP 400 (bad json)", "malformed");

    /* a numeric code, as 406 sends it */
    assert_error_text(406, "{\"error\":{\"code\":406,\"message\":\"The "
                      "requested version is not supported.\"}}",
                      "(406: The requested version is not supported.)",
                      "needs an update");

    assert_error_text(418, "{\"error\":\"teapot\"}", "HTTP 418 (teapot)",
                      "did not accept");
    assert_error_text(409, "{\"error\":{}}", "HTTP 409. TastyTrade did "
                      "not accept", NULL);
    assert_error_text(422, "{\"error\":{\"errors\":[{\"code\":\"x\"}]}}",
                      "HTTP 422 (reasons: x). ", NULL);

    /* upstream text on one line, and bounded */
    assert_error_text(422, "{\"error\":{\"code\":\"a\\nb\",\"message\":"
                      "\"c\\td\"}}", "(a b: c d)", NULL);

    n = snprintf(big, sizeof(big), "{\"error\":{\"code\":\"x\",\"errors\":[");
    for (i = 0; i < 40; i++) {
        n += snprintf(big + n, sizeof(big) - n, "%s{\"code\":\"c%d\","
                      "\"message\":\"reason number %d\"}", i ? "," : "", i,
                      i);
    }
    snprintf(big + n, sizeof(big) - n, "]}}");

    r = ttai_tt_error_result("t", 422, big, strlen(big));
    assert_contains(text_of(r), "c5: reason number 5; and 34 more");
    assert_null(strstr(text_of(r), "c6:"));
    json_decref(r);

    /* no tool name */
    r = ttai_tt_error_result(NULL, 500, NULL, 0);
    assert_string_equal(text_of(r), "TastyTrade answered HTTP 500. "
                        "TastyTrade had a problem on its side: try again in "
                        "a moment.");
    json_decref(r);
}


static void
test_escape(void **state)
{
    char  *s;

    s = ttai_tt_escape("SPY   230731C00393000");
    assert_string_equal(s, "SPY%20%20%20230731C00393000");
    free(s);

    s = ttai_tt_escape("/ESU3");
    assert_string_equal(s, "%2FESU3");
    free(s);

    s = ttai_tt_escape("aZ09-._~");
    assert_string_equal(s, "aZ09-._~");
    free(s);

    s = ttai_tt_escape("a&b=c?d#e+f%\xc3\xa9");
    assert_string_equal(s, "a%26b%3Dc%3Fd%23e%2Bf%25%C3%A9");
    free(s);

    s = ttai_tt_escape("");
    assert_string_equal(s, "");
    free(s);
}


static void
test_shaping(void **state)
{
    char     date[16];
    json_t  *obj, *v;

    obj = json_loads("{\"s\":\"x\",\"n\":1,\"ms\":1781292831405,"
                     "\"iso\":\"2026-06-12T19:33:51.327+00:00\","
                     "\"zero\":0}", 0, NULL);
    assert_non_null(obj);

    v = ttai_tt_string(obj, "s");
    assert_string_equal(json_string_value(v), "x");
    assert_ptr_not_equal(v, json_object_get(obj, "s"));
    json_decref(v);

    v = ttai_tt_string(obj, "n");
    assert_true(json_is_null(v));
    json_decref(v);

    v = ttai_tt_string(obj, "absent");
    assert_true(json_is_null(v));
    json_decref(v);

    /* epoch milliseconds, as orders' updated-at */
    v = ttai_tt_time(json_object_get(obj, "ms"));
    assert_string_equal(json_string_value(v), "2026-06-12T19:33:51.405Z");
    json_decref(v);

    v = ttai_tt_time(json_object_get(obj, "iso"));
    assert_string_equal(json_string_value(v),
                        "2026-06-12T19:33:51.327+00:00");
    json_decref(v);

    v = ttai_tt_time(json_object_get(obj, "zero"));
    assert_true(json_is_null(v));
    json_decref(v);

    v = ttai_tt_time(NULL);
    assert_true(json_is_null(v));
    json_decref(v);

    /* 2027-01-15T08:00:00Z */
    ttai_tt_date_back(date, sizeof(date), 1800000000L, 0);
    assert_string_equal(date, "2027-01-15");
    ttai_tt_date_back(date, sizeof(date), 1800000000L, 30);
    assert_string_equal(date, "2026-12-16");
    ttai_tt_date_back(date, sizeof(date), 1800000000L, 365);
    assert_string_equal(date, "2026-01-15");

    /* set: the value's reference is taken, a failure remembered */
    assert_int_equal(ttai_tt_set(0, obj, "new", json_string("y")), 0);
    assert_string_equal(json_string_value(json_object_get(obj, "new")),
                        "y");
    assert_int_equal(ttai_tt_set(-1, obj, "other", json_integer(2)), -1);
    assert_int_equal(ttai_tt_set(0, obj, "none", NULL), -1);
    assert_null(json_object_get(obj, "none"));

    json_decref(obj);
}


static void
test_text(void **state)
{
    int             i;
    char           *s;
    json_t         *n, *r;
    ttai_tt_buf_t   b;

    static const struct {
        double       d;
        const char  *text;
    } numbers[] = {
        { 32520.734, "32520.734" }, { -75, "-75" }, { 0.75, "0.75" },
        { 0, "0" }, { -0.00001, "0" }, { 1.23456, "1.2346" },
        { 100000, "100000" }, { -76.12, "-76.12" }
    };

    memset(&b, 0, sizeof(b));

    for (i = 0; i < (int) (sizeof(numbers) / sizeof(numbers[0])); i++) {
        b.len = 0;
        if (b.data != NULL) {
            b.data[0] = '\0';
        }

        n = json_real(numbers[i].d);
        ttai_tt_buf_number(&b, n);
        json_decref(n);

        assert_string_equal(b.data, numbers[i].text);
    }

    b.len = 0;
    ttai_tt_buf_number(&b, NULL);
    assert_string_equal(b.data, "n/a");

    /* integers too */
    b.len = 0;
    n = json_integer(42);
    ttai_tt_buf_number(&b, n);
    json_decref(n);
    assert_string_equal(b.data, "42");

    free(b.data);

    /* it grows */
    memset(&b, 0, sizeof(b));

    for (i = 0; i < 1000; i++) {
        ttai_tt_buf_printf(&b, "%04d|", i);
    }

    assert_int_equal(b.len, 5000);
    assert_int_equal(strlen(b.data), 5000);
    assert_memory_equal(b.data + 4995, "0999|", 5);

    r = ttai_tt_buf_result(&b, json_pack("{s:i}", "n", 1));
    assert_null(b.data);
    assert_int_equal(strlen(text_of(r)), 5000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
                         "structuredContent"), "n")), 1);
    json_decref(r);

    /* nothing written: an empty text */
    memset(&b, 0, sizeof(b));
    r = ttai_tt_buf_result(&b, NULL);
    assert_string_equal(text_of(r), "");
    json_decref(r);

    /* a failed buffer makes no result */
    memset(&b, 0, sizeof(b));
    b.failed = 1;
    ttai_tt_buf_printf(&b, "x");
    assert_null(b.data);
    assert_null(ttai_tt_buf_result(&b, json_object()));

    s = ttai_tt_sprintf("%s:%d", "a", 7);
    assert_string_equal(s, "a:7");
    free(s);
}


/* the account steps, on a bare context */

typedef struct {
    ttai_mcp_call_t    call;
    ttai_cache_ttl_t   ttl;
    ttai_tool_ctx_t    ctx;
} account_fixture_t;


static void
fixture_init(account_fixture_t *f)
{
    memset(f, 0, sizeof(*f));
    f->call.sub = "user-7";
    f->ttl.quote = 5;
    f->ttl.metrics = 60;
    f->ttl.chain = 600;
    f->ttl.account = 9;
    f->ctx.call = &f->call;
    f->ctx.ttl = &f->ttl;
    f->ctx.state = json_object();
    f->ctx.stores = json_array();
}


static void
fixture_free(account_fixture_t *f)
{
    json_decref(f->ctx.state);
    json_decref(f->ctx.stores);
}


/* begin without account_number, then resume with the accounts list */

static json_t *
resolve(account_fixture_t *f, int status, const char *body,
    const char **account)
{
    json_t               *args, *result;
    ttai_mcp_pending_t   *p;
    ttai_mcp_response_t   resp;

    args = json_object();

    assert_int_equal(ttai_tt_account_begin(&f->ctx, args, account, &p), 0);
    assert_null(*account);
    assert_non_null(p);
    assert_int_equal(p->kind, TTAI_PENDING_HTTP);
    assert_int_equal(p->service, TTAI_SERVICE_TASTYTRADE);
    assert_string_equal(p->method, "GET");
    assert_string_equal(p->path, "/customers/me/accounts");
    assert_null(p->body);
    assert_string_equal(p->cache_key, "accounts:user-7");
    assert_int_equal(p->cache_ttl, 9);
    assert_true(ttai_tt_account_pending(&f->ctx));
    assert_null(ttai_tt_account(&f->ctx));
    ttai_mcp_pending_free(p);
    json_decref(args);

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = strlen(body);

    assert_int_equal(ttai_tt_account_resume(&f->ctx, &resp, account,
                                            &result), 0);

    if (result == NULL) {
        assert_non_null(*account);
        assert_false(ttai_tt_account_pending(&f->ctx));
        assert_string_equal(ttai_tt_account(&f->ctx), *account);

    } else {
        assert_null(*account);
        assert_true(json_is_true(json_object_get(result, "isError")));
    }

    return result;
}


static void
test_account_given(void **state)
{
    json_t              *args;
    const char          *account;
    account_fixture_t    f;
    ttai_mcp_pending_t  *p;

    fixture_init(&f);

    args = json_pack("{s:s}", "account_number", "5WT00001");

    assert_int_equal(ttai_tt_account_begin(&f.ctx, args, &account, &p), 0);
    assert_null(p);
    assert_string_equal(account, "5WT00001");
    assert_string_equal(ttai_tt_account(&f.ctx), "5WT00001");
    assert_false(ttai_tt_account_pending(&f.ctx));

    /* kept in the state, not in the arguments */
    json_decref(args);
    assert_string_equal(ttai_tt_account(&f.ctx), "5WT00001");

    /* an empty one is no account: the list is read */
    args = json_pack("{s:s}", "account_number", "");
    assert_int_equal(ttai_tt_account_begin(&f.ctx, args, &account, &p), 0);
    assert_non_null(p);
    assert_null(account);
    ttai_mcp_pending_free(p);
    json_decref(args);

    fixture_free(&f);
}


static void
test_account_one(void **state)
{
    json_t             *r;
    const char         *account;
    account_fixture_t   f;

    fixture_init(&f);
    r = resolve(&f, 200,
                ACCOUNTS(ACCOUNT("5WT00001", "Individual", "false")),
                &account);
    assert_null(r);
    assert_string_equal(account, "5WT00001");
    fixture_free(&f);

    /* one open account and a closed one: the open one */
    fixture_init(&f);
    r = resolve(&f, 200,
                ACCOUNTS(ACCOUNT("5WT00009", "Old", "true") ","
                         ACCOUNT("5WT00002", "Roth IRA", "false")),
                &account);
    assert_null(r);
    assert_string_equal(account, "5WT00002");
    fixture_free(&f);
}


static void
test_account_two(void **state)
{
    json_t             *r;
    const char         *account;
    account_fixture_t   f;

    fixture_init(&f);
    r = resolve(&f, 200,
                ACCOUNTS(ACCOUNT("5WT00001", "Individual", "false") ","
                         ACCOUNT("5WT00002", "Roth IRA", "false") ","
                         ACCOUNT("5WT00003", "Gone", "true")),
                &account);
    assert_string_equal(text_of(r), "This user has 2 open TastyTrade "
                        "accounts: 5WT00001 (Individual), 5WT00002 (Roth "
                        "IRA), 5WT00003 (Gone, closed).  Call the tool again "
                        "with account_number set to one of them (ask the "
                        "user which one when it is not clear).");
    json_decref(r);

    /* still waiting for an account */
    assert_true(ttai_tt_account_pending(&f.ctx));
    fixture_free(&f);
}


static void
test_account_none(void **state)
{
    json_t             *r;
    const char         *account;
    account_fixture_t   f;

    fixture_init(&f);
    r = resolve(&f, 200, ACCOUNTS(""), &account);
    assert_string_equal(text_of(r), "TastyTrade lists no open account for "
                        "this user, so there is no account to read.  If the "
                        "user has just opened an account, try again later.");
    json_decref(r);
    fixture_free(&f);

    fixture_init(&f);
    r = resolve(&f, 200,
                ACCOUNTS(ACCOUNT("5WT00003", "Gone", "true")), &account);
    assert_contains(text_of(r), "no account to read (closed: 5WT00003 "
                    "(Gone)).");
    json_decref(r);
    fixture_free(&f);
}


static void
test_account_errors(void **state)
{
    json_t             *r;
    const char         *account;
    account_fixture_t   f;

    fixture_init(&f);
    r = resolve(&f, 401, "{\"error\":{\"code\":\"unauthorized\"}}",
                &account);
    assert_contains(text_of(r), "HTTP 401 (unauthorized)");
    assert_contains(text_of(r), "ttai tastytrade connect");
    json_decref(r);
    fixture_free(&f);

    fixture_init(&f);
    r = resolve(&f, 200, "{\"data\":{}}", &account);
    assert_contains(text_of(r), "could not read");
    json_decref(r);
    fixture_free(&f);

    fixture_init(&f);
    r = resolve(&f, 200, "{\"data\":{\"items\":[{\"account\":{}},7]}}",
                &account);
    assert_contains(text_of(r), "no open account");
    json_decref(r);
    fixture_free(&f);
}


static void
test_account_request(void **state)
{
    account_fixture_t    f;
    ttai_mcp_pending_t  *p;

    fixture_init(&f);

    p = ttai_tt_account_request(&f.ctx, "GET", "5WT00001", "/balances",
                                NULL, "balances", NULL, 9);
    assert_string_equal(p->method, "GET");
    assert_string_equal(p->path, "/accounts/5WT00001/balances");
    assert_null(p->body);
    assert_string_equal(p->cache_key, "balances:user-7:5WT00001");
    assert_int_equal(p->cache_ttl, 9);
    ttai_mcp_pending_free(p);

    p = ttai_tt_account_request(&f.ctx, "GET", "a b/c", "/orders/live",
                                NULL, "orders", ":live", 3);
    assert_string_equal(p->path, "/accounts/a%20b%2Fc/orders/live");
    assert_string_equal(p->cache_key, "orders:user-7:a%20b%2Fc:live");
    ttai_mcp_pending_free(p);

    /* not cached */
    p = ttai_tt_account_request(&f.ctx, "POST", "5WT00001",
                                "/orders/dry-run", "{}", NULL, NULL, 9);
    assert_string_equal(p->method, "POST");
    assert_string_equal(p->body, "{}");
    assert_null(p->cache_key);
    assert_int_equal(p->cache_ttl, 0);
    ttai_mcp_pending_free(p);

    fixture_free(&f);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_error_result),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_shaping),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_account_given),
        cmocka_unit_test(test_account_one),
        cmocka_unit_test(test_account_two),
        cmocka_unit_test(test_account_none),
        cmocka_unit_test(test_account_errors),
        cmocka_unit_test(test_account_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
