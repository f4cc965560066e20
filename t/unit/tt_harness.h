
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TT_HARNESS_H_INCLUDED_
#define _TT_HARNESS_H_INCLUDED_


/*
 * Drives the TastyTrade tools through the MCP core as the shell does:
 * tools/call, then each pending request answered with a status and a
 * body, until the tool's result.  Included by the test_tt_*.c programs
 * after cmocka.h.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


#define TT_UNUSED  __attribute__((unused))

#define TT_TTL_ACCOUNT  7


/* GUIDE-CUST, one account */
#define TT_ACCOUNT(number, nickname, closed)                                 \
    "{\"account\":{\"account-number\":\"" number "\","                      \
    "\"external-id\":\"A0000196557\","                                       \
    "\"opened-at\":\"2019-03-14T15:39:31.265+00:00\","                       \
    "\"nickname\":\"" nickname "\",\"account-type-name\":\"Individual\","    \
    "\"day-trader-status\":false,\"is-closed\":" closed ","                  \
    "\"is-firm-error\":false,\"is-firm-proprietary\":false,"                 \
    "\"is-futures-approved\":true,\"is-test-drive\":false,"                  \
    "\"margin-or-cash\":\"Margin\",\"is-foreign\":false,"                    \
    "\"funding-date\":\"2017-01-02\","                                       \
    "\"investment-objective\":\"SPECULATION\","                              \
    "\"futures-account-purpose\":\"SPECULATING\","                           \
    "\"suitable-options-level\":\"No Restrictions\","                        \
    "\"created-at\":\"2019-03-14T15:39:31.265+00:00\"},"                     \
    "\"authority-level\":\"owner\"}"

#define TT_ACCOUNTS(items)                                                   \
    "{\"data\":{\"items\":[" items "]},"                                     \
    "\"context\":\"/customers/me/accounts\"}"

#define TT_ONE_ACCOUNT                                                       \
    TT_ACCOUNTS(TT_ACCOUNT("5WT00000", "Individual", "false"))


static ttai_mcp_server_t  *srv;


static TT_UNUSED int
setup(void **state)
{
    ttai_cache_ttl_t  ttl = { 5, 60, 600, TT_TTL_ACCOUNT };

    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);
    ttai_mcp_server_cache_ttl(srv, &ttl);

    return 0;
}


static TT_UNUSED int
teardown(void **state)
{
    ttai_mcp_server_free(srv);
    srv = NULL;

    return 0;
}


/* a request from user sub inside an initialized session */

static TT_UNUSED ttai_mcp_call_t
user(const char *sub)
{
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = sub;
    call.email = "test@example.com";
    call.session_id = "sess-0123";
    call.session_version = "2025-11-25";
    call.session_client = "{\"name\":\"test-client\",\"version\":\"1.2\"}";
    call.session_created = 1800000000L;

    return call;
}


static TT_UNUSED void
assert_contains(const char *haystack, const char *needle)
{
    if (haystack == NULL) {
        fail_msg("NULL lacks \"%s\"", needle);
    }

    if (strstr(haystack, needle) == NULL) {
        fail_msg("\"%s\" lacks \"%s\"", haystack, needle);
    }
}


/* tools/call name with arguments (JSON text; NULL: none) */

static TT_UNUSED void
call_tool(const ttai_mcp_call_t *call, const char *name, const char *args,
    ttai_mcp_reply_t *reply)
{
    char  body[4096];

    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
             name, args ? args : "{}");

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), reply),
                     0);
}


/* the pending request is this one (key NULL: not cached) */

static TT_UNUSED void
expect_http(const ttai_mcp_reply_t *reply, const char *method,
    const char *path, const char *key, long ttl)
{
    const ttai_mcp_pending_t  *p;

    p = reply->pending;

    if (p == NULL) {
        fail_msg("no pending request; the reply is %s",
                 reply->body ? reply->body : "(none)");
    }

    assert_int_equal(p->kind, TTAI_PENDING_HTTP);
    assert_int_equal(p->service, TTAI_SERVICE_TASTYTRADE);
    assert_string_equal(p->method, method);
    assert_string_equal(p->path, path);

    if (key == NULL) {
        assert_null(p->cache_key);

    } else {
        assert_non_null(p->cache_key);
        assert_string_equal(p->cache_key, key);
        assert_int_equal(p->cache_ttl, ttl);
    }

    if (strcmp(method, "GET") == 0) {
        assert_null(p->body);
    }
}


/* answers the pending request */

static TT_UNUSED void
answer(const ttai_mcp_call_t *call, ttai_mcp_reply_t *reply, int status,
    const char *body)
{
    ttai_mcp_response_t  resp;

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = body ? strlen(body) : 0;

    assert_int_equal(ttai_mcp_resume(srv, call, reply, &resp), 0);
}


/* the final result (a new reference); frees the reply */

static TT_UNUSED json_t *
result_of(ttai_mcp_reply_t *reply)
{
    json_t  *j, *r;

    if (reply->pending != NULL) {
        fail_msg("still pending: %s %s", reply->pending->method,
                 reply->pending->path ? reply->pending->path : "");
    }

    assert_int_equal(reply->status, 200);
    assert_non_null(reply->body);

    j = json_loads(reply->body, 0, NULL);
    assert_non_null(j);
    ttai_mcp_reply_free(reply);

    r = json_incref(json_object_get(j, "result"));
    assert_non_null(r);
    json_decref(j);

    return r;
}


static TT_UNUSED const char *
text_of(json_t *result)
{
    json_t  *content;

    content = json_array_get(json_object_get(result, "content"), 0);

    return json_string_value(json_object_get(content, "text"));
}


/* a result that is not an error: its structuredContent */

static TT_UNUSED json_t *
structured(json_t *result)
{
    json_t  *sc;

    if (json_is_true(json_object_get(result, "isError"))) {
        fail_msg("an error: %s", text_of(result));
    }

    sc = json_object_get(result, "structuredContent");
    assert_non_null(sc);

    return sc;
}


static TT_UNUSED json_t *
error_of(json_t *result)
{
    assert_true(json_is_true(json_object_get(result, "isError")));
    assert_null(json_object_get(result, "structuredContent"));

    return result;
}


/* call, one answer, the result */

static TT_UNUSED json_t *
one_step(const ttai_mcp_call_t *call, const char *name, const char *args,
    int status, const char *body)
{
    ttai_mcp_reply_t  reply;

    call_tool(call, name, args, &reply);
    assert_non_null(reply.pending);
    answer(call, &reply, status, body);

    return result_of(&reply);
}


/* a call the input schema refuses: an error result, no request */

static TT_UNUSED json_t *
result_of_call_refused(const ttai_mcp_call_t *call, const char *name,
    const char *args)
{
    json_t            *r;
    ttai_mcp_reply_t   reply;

    call_tool(call, name, args, &reply);

    if (reply.pending != NULL) {
        fail_msg("%s %s was not refused", name, args);
    }

    r = error_of(result_of(&reply));
    assert_contains(text_of(r), "Invalid arguments for tool ");

    return r;
}


/* structuredContent's number at key, failing when it is not a number */

static TT_UNUSED double
num(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_number(v)) {
        fail_msg("%s is not a number", key);
    }

    return json_number_value(v);
}


static TT_UNUSED const char *
str(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_string(v)) {
        fail_msg("%s is not a string", key);
    }

    return json_string_value(v);
}


/* the UTC date days ago, as the tools compute it */

static TT_UNUSED void
days_ago(char *buf, size_t size, time_t now, int days)
{
    time_t     t;
    struct tm  tm;

    t = now - (time_t) days * 24 * 60 * 60;
    assert_non_null(gmtime_r(&t, &tm));
    assert_int_equal(strftime(buf, size, "%Y-%m-%d", &tm), 10);
}


#endif /* _TT_HARNESS_H_INCLUDED_ */
