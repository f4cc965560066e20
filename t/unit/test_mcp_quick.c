
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_mcp_core.h"


/*
 * The quick way of the MCP core (ttai_mcp_quick.c), plans of remembered
 * tool calls (ttai_mcp_plan.c) and answers in two parts
 * (ttai_mcp_call_t.split): the same bytes as the general way, for every
 * request either may take.
 */


static ttai_mcp_server_t  *srv;

static int  pair_runs;
static int  pair_resumes;


/*
 * A remembered tool: two KV keys from its arguments, an answer from
 * their values; it counts what it does
 */

static int
pair_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         a[64], b[64];
    const char  *keys[2], *s;

    pair_runs++;

    s = json_string_value(json_object_get(args, "symbol"));

    if (strcmp(s, "BAD") == 0) {
        *result = ttai_tool_error_result("no such symbol");
        return *result ? 0 : -1;
    }

    snprintf(a, sizeof(a), "a:%s", s);
    snprintf(b, sizeof(b), "b:%s", s);
    keys[0] = a;
    keys[1] = b;

    if (json_object_set_new(ctx->state, "seen", json_string(s)) != 0) {
        return -1;
    }

    *pending = ttai_mcp_pending_cache(keys, 2);

    return *pending ? 0 : -1;
}


static int
pair_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  text[256];

    pair_resumes++;

    /* what run kept, which a call from a plan must have too */
    snprintf(text, sizeof(text), "%s: %.*s and %.*s",
             json_string_value(json_object_get(ctx->state, "seen")),
             (int) (resp->values[0] ? resp->lens[0] : 4),
             resp->values[0] ? resp->values[0] : "none",
             (int) (resp->values[1] ? resp->lens[1] : 4),
             resp->values[1] ? resp->values[1] : "none");

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static const ttai_tool_t  pair_tool = {
    "pair", NULL, "Two values from KV, remembered.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":"
    "\"string\",\"maxLength\":8}},\"required\":[\"symbol\"]}",
    NULL, TTAI_TOOL_READ_ONLY | TTAI_TOOL_MEMO, pair_run, pair_resume,
    "market", NULL
};


static int
setup(void **state)
{
    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &pair_tool), 0);

    pair_runs = 0;
    pair_resumes = 0;

    return 0;
}


static int
teardown(void **state)
{
    ttai_mcp_server_free(srv);
    srv = NULL;

    return 0;
}


#define assert_contains(s, part)                                             \
    do {                                                                     \
        if (strstr((s), (part)) == NULL) {                                   \
            fail_msg("\"%s\" lacks \"%s\"", (s), (part));                   \
        }                                                                    \
    } while (0)


static ttai_mcp_call_t
call_of(int kind, int split)
{
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";
    call.split = split;

    switch (kind) {

    case 0:
        /* in a session */
        call.session_id = "sess-0123";
        call.protocol_header = "2025-11-25";
        call.session_version = "2025-11-25";
        call.session_log_level = "";
        break;

    case 1:
        /* a one-shot call, as curl sends it */
        call.stateless = 1;
        break;

    case 2:
        /* a protocol version and no session: refused */
        call.protocol_header = "2025-11-25";
        break;

    default:
        /* a session that is not known */
        call.session_id = "sess-gone";
        call.session_unknown = 1;
        break;
    }

    return call;
}


/* the whole answer, body and tail, as a string; "" for none */

static char *
answer(const ttai_mcp_call_t *call, const char *body, int *status)
{
    char              *text;
    ttai_mcp_reply_t   reply;

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), &reply),
                     0);
    assert_null(reply.pending);

    if (!call->split) {
        assert_null(reply.tail);
    }

    text = malloc(reply.len + reply.tail_len + 1);
    assert_non_null(text);

    if (reply.len) {
        memcpy(text, reply.body, reply.len);
    }

    if (reply.tail_len) {
        memcpy(text + reply.len, reply.tail, reply.tail_len);
    }

    text[reply.len + reply.tail_len] = '\0';
    *status = reply.status;

    ttai_mcp_reply_free(&reply);

    return text;
}


/* 1 when the quick way answers body, checking what it answered */

static int
quick(const ttai_mcp_call_t *call, const char *body)
{
    int               rc;
    size_t            plen;
    const char       *params;
    ttai_mcp_reply_t  reply;

    memset(&reply, 0, sizeof(reply));

    rc = ttai_mcp_quick(srv, call, body, strlen(body), &reply, &params,
                        &plen);
    assert_true(rc == 0 || rc == 1);

    if (rc == 0) {
        assert_null(reply.body);
        assert_null(reply.tail);
        assert_null(reply.pending);
        assert_int_equal(reply.status, 0);
        return 0;
    }

    if (reply.pending != NULL) {
        assert_null(reply.body);
        ttai_mcp_reply_free(&reply);
        return 1;
    }

    assert_int_equal(reply.status, 200);
    assert_non_null(reply.body);
    assert_int_equal(reply.len, strlen(reply.body));
    ttai_mcp_reply_free(&reply);

    return 1;
}


static void
test_quick_takes_plain_requests(void **state)
{
    int              status;
    size_t           i;
    ttai_mcp_call_t  call;

    static const char  *taken[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
        " {\"method\" : \"tools/list\",\r\n\t\"id\":\"a b\", "
            "\"params\":{ }, \"jsonrpc\":\"2.0\"} \n",
        "{\"jsonrpc\":\"2.0\",\"id\":-123456789012345,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\",\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}",
    };

    static const char  *general[] = {
        /* not JSON, or not in the subset the quick way reads */
        "",
        "{",
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}x",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",}",
        "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1e2,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1234567890123456,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"caf\xc3\xa9\",\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\tb\",\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools\\/list\"}",
        "{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":0}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
            "\"params\":{\"_meta\":{}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
            "\"params\":{\"cursor\":\"x\"}}",
        /* methods it does not answer */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
            "\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}",
    };

    call = call_of(0, 0);

    /* tools/list goes the general way until its page is made */
    assert_int_equal(quick(&call, taken[1]), 0);
    free(answer(&call, taken[1], &status));

    for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        if (!quick(&call, taken[i])) {
            fail_msg("not taken: %s", taken[i]);
        }
    }

    for (i = 0; i < sizeof(general) / sizeof(general[0]); i++) {
        if (quick(&call, general[i])) {
            fail_msg("taken: %s", general[i]);
        }
    }

    /* requests the general way refuses are left to it */
    for (i = 2; i < 4; i++) {
        call = call_of((int) i, 0);
        assert_int_equal(quick(&call, taken[0]), 0);
        assert_int_equal(quick(&call, taken[1]), 0);
    }

    call = call_of(1, 0);
    assert_int_equal(quick(&call, taken[0]), 1);
}


/*
 * Each request as written, and again with a member first that only the
 * general way reads (and ignores): both answers are the same bytes
 */

static void
test_quick_answers_as_the_general_way(void **state)
{
    int               s1, s2;
    char              body[512], other[512], *a, *b;
    size_t            i, j, k, kind;
    ttai_mcp_call_t   call;

    static const char  *ids[] = {
        "1", "0", "-7", "42", "123456789012345", "-123456789012345",
        "1234567890123456", "-0", "1.0", "\"abc-1\"", "\"\"", "\"a b/c\"",
        "\"\\u0041\"", "\"caf\xc3\xa9\"", "\"x\\\"y\"", "null", "true",
    };

    static const char  *methods[] = {
        "ping", "tools/list", "tools\\/list", "nope",
    };

    static const char  *params[] = {
        "", ",\"params\":{}", ",\"params\": { } ", ",\"params\":[]",
        ",\"params\":{\"cursor\":\"x\"}", ",\"params\":null",
    };

    for (kind = 0; kind < 4; kind++) {
        for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
            for (j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
                for (k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
                    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\","
                             "\"id\":%s,\"method\":\"%s\"%s}", ids[i],
                             methods[j], params[k]);
                    snprintf(other, sizeof(other), "{\"x\":0,"
                             "\"jsonrpc\":\"2.0\",\"id\":%s,"
                             "\"method\":\"%s\"%s}", ids[i], methods[j],
                             params[k]);

                    call = call_of((int) kind, (int) (i & 1));

                    a = answer(&call, body, &s1);
                    b = answer(&call, other, &s2);

                    if (s1 != s2 || strcmp(a, b) != 0) {
                        fail_msg("%s\n  %d %s\nas against\n  %d %s", body,
                                 s1, a, s2, b);
                    }

                    free(a);
                    free(b);
                }
            }
        }
    }
}


/*
 * In two parts, tools/list's page is the server's own text, not a copy,
 * and body and tail together are the answer in one part
 */

static void
test_split_answers(void **state)
{
    int                status;
    char              *whole;
    ttai_mcp_call_t    call, split;
    ttai_mcp_reply_t   r1, r2;

    static const char  list[] =
        "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"tools/list\"}";
    static const char  batch[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]";

    call = call_of(0, 0);
    split = call_of(0, 1);

    /* the first answer makes the page the general way, the next not */
    whole = answer(&call, list, &status);
    assert_int_equal(status, 200);

    assert_int_equal(ttai_mcp_handle(srv, &split, list, sizeof(list) - 1,
                                     &r1), 0);
    assert_int_equal(ttai_mcp_handle(srv, &split, list, sizeof(list) - 1,
                                     &r2), 0);

    assert_non_null(r1.tail);
    assert_ptr_equal(r1.tail, r2.tail);
    assert_ptr_equal(r1.tail, srv->tools_pages[ttai_mcp_toolsets(&split)]);
    assert_int_equal(r1.tail[r1.tail_len - 1], '}');
    assert_int_equal(r1.len, strlen(r1.body));
    assert_string_equal(r1.body, "{\"jsonrpc\":\"2.0\",\"id\":\"q\","
                        "\"result\":");
    assert_int_equal(r1.len + r1.tail_len, strlen(whole));
    assert_memory_equal(whole + r1.len, r1.tail, r1.tail_len);

    ttai_mcp_reply_free(&r1);
    ttai_mcp_reply_free(&r2);
    free(whole);

    /* the general way splits the same, once the page is made */
    ttai_mcp_server_page_size(srv, 0);
    assert_null(srv->tools_pages[ttai_mcp_toolsets(&split)]);

    assert_int_equal(ttai_mcp_handle(srv, &split, list, sizeof(list) - 1,
                                     &r1), 0);
    assert_non_null(srv->tools_pages[ttai_mcp_toolsets(&split)]);
    assert_ptr_equal(r1.tail, srv->tools_pages[ttai_mcp_toolsets(&split)]);
    ttai_mcp_reply_free(&r1);

    /* a batch, where batches are allowed, is one text */
    split.protocol_header = "2025-03-26";
    split.session_version = "2025-03-26";

    assert_int_equal(ttai_mcp_handle(srv, &split, batch, sizeof(batch) - 1,
                                     &r1), 0);
    assert_int_equal(r1.status, 200);
    assert_null(r1.tail);
    assert_int_equal(r1.tail_len, 0);
    assert_int_equal(r1.body[0], '[');
    ttai_mcp_reply_free(&r1);
}


/*
 * A tools/call of pair, posted and resumed with values: the whole answer,
 * and the keys it read (key0 key1)
 */

static char *
pair_call(const ttai_mcp_call_t *call, const char *body, const char *v0,
    const char *v1, char *keys, size_t size)
{
    char                *text;
    const char          *values[2];
    size_t               lens[2];
    ttai_mcp_reply_t     reply;
    ttai_mcp_response_t  resp;

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), &reply),
                     0);

    if (reply.pending == NULL) {
        snprintf(keys, size, "-");
        text = strndup(reply.body, reply.len);
        ttai_mcp_reply_free(&reply);
        return text;
    }

    assert_int_equal(reply.pending->kind, TTAI_PENDING_CACHE);
    assert_int_equal(reply.pending->nkeys, 2);
    snprintf(keys, size, "%s %s", reply.pending->keys[0],
             reply.pending->keys[1]);

    memset(&resp, 0, sizeof(resp));
    values[0] = v0;
    values[1] = v1;
    lens[0] = v0 ? strlen(v0) : 0;
    lens[1] = v1 ? strlen(v1) : 0;
    resp.values = values;
    resp.lens = lens;

    assert_int_equal(ttai_mcp_resume(srv, call, &reply, &resp), 0);
    assert_null(reply.pending);
    assert_int_equal(reply.status, 200);

    text = strndup(reply.body, reply.len);
    ttai_mcp_reply_free(&reply);

    return text;
}


#define PAIR(id, args)                                                       \
    "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\","       \
    "\"params\":{\"name\":\"pair\",\"arguments\":" args "}}"


static void
test_plans(void **state)
{
    char              k1[128], k2[128], *a, *b;
    ttai_mcp_call_t   call;

    call = call_of(0, 0);

    /* the first call goes the general way, and is planned */
    a = pair_call(&call, PAIR("1", "{\"symbol\":\"X\"}"), "1", "2", k1,
                  sizeof(k1));
    assert_int_equal(pair_runs, 1);
    assert_int_equal(pair_resumes, 1);
    assert_string_equal(k1, "a:X b:X");
    assert_contains(a, "X: 1 and 2");
    free(a);

    assert_int_equal(quick(&call, PAIR("2", "{\"symbol\":\"X\"}")), 1);
    assert_int_equal(quick(&call, PAIR("2", "{\"symbol\": \"X\"}")), 0);

    /* the same text again: the same keys, and the memo's answer */
    a = pair_call(&call, PAIR("\"s\"", "{\"symbol\":\"X\"}"), "1", "2",
                  k2, sizeof(k2));
    assert_int_equal(pair_runs, 1);
    assert_int_equal(pair_resumes, 1);
    assert_string_equal(k2, k1);
    assert_string_equal(a, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":"
                        "{\"content\":[{\"type\":\"text\",\"text\":"
                        "\"X: 1 and 2\"}]}}");
    free(a);

    /* other values: the tool runs after all, with its state */
    a = pair_call(&call, PAIR("3", "{\"symbol\":\"X\"}"), "1", "3", k2,
                  sizeof(k2));
    assert_int_equal(pair_runs, 2);
    assert_int_equal(pair_resumes, 2);
    assert_contains(a, "X: 1 and 3");
    free(a);

    /*
     * a value missing is part of the key: the tool runs once, and the
     * same call on the same absence is the memo's
     */
    a = pair_call(&call, PAIR("4", "{\"symbol\":\"X\"}"), "1", NULL, k2,
                  sizeof(k2));
    b = pair_call(&call, PAIR("4", "{\"symbol\":\"X\"}"), "1", NULL, k2,
                  sizeof(k2));
    assert_int_equal(pair_runs, 3);
    assert_int_equal(pair_resumes, 3);
    assert_contains(a, "X: 1 and none");
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* and once the value is there, the tool runs again */
    a = pair_call(&call, PAIR("4", "{\"symbol\":\"X\"}"), "1", "4", k2,
                  sizeof(k2));
    assert_int_equal(pair_runs, 4);
    assert_contains(a, "X: 1 and 4");
    free(a);

    /*
     * other arguments, or the same ones written otherwise: plans of
     * their own, made the general way
     */
    a = pair_call(&call, PAIR("5", "{\"symbol\":\"Y\"}"), "1", "2", k2,
                  sizeof(k2));
    assert_string_equal(k2, "a:Y b:Y");
    assert_int_equal(pair_runs, 5);
    free(a);

    a = pair_call(&call, PAIR("5", "{\"symbol\":\"\\u0058\"}"), "1", "2",
                  k2, sizeof(k2));
    assert_string_equal(k2, "a:X b:X");
    assert_int_equal(pair_runs, 6);
    assert_int_equal(quick(&call, PAIR("5", "{\"symbol\":\"\\u0058\"}")),
                     1);
    free(a);

    /* a call the tool answers at once, or that fails: never planned */
    a = pair_call(&call, PAIR("6", "{\"symbol\":\"BAD\"}"), NULL, NULL,
                  k2, sizeof(k2));
    assert_string_equal(k2, "-");
    assert_contains(a, "no such symbol");
    free(a);
    assert_int_equal(quick(&call, PAIR("6", "{\"symbol\":\"BAD\"}")), 0);

    a = pair_call(&call, PAIR("7", "{\"symbol\":\"TOOLONGXX\"}"), NULL,
                  NULL, k2, sizeof(k2));
    assert_contains(a, "Invalid arguments");
    free(a);
    assert_int_equal(quick(&call,
                           PAIR("7", "{\"symbol\":\"TOOLONGXX\"}")), 0);

    /* where its toolset is not exposed, a planned call is not answered */
    call.toolsets = ttai_toolset("account", sizeof("account") - 1);
    assert_int_equal(quick(&call, PAIR("8", "{\"symbol\":\"X\"}")), 0);
    a = pair_call(&call, PAIR("8", "{\"symbol\":\"X\"}"), NULL, NULL, k2,
                  sizeof(k2));
    assert_string_equal(k2, "-");
    assert_contains(a, "Unknown tool: pair");
    free(a);

    call.toolsets = ttai_toolset("market", sizeof("market") - 1);
    assert_int_equal(quick(&call, PAIR("8", "{\"symbol\":\"X\"}")), 1);
    call.toolsets = 0;

    /* a planned text in a body that is not JSON is not answered */
    assert_int_equal(quick(&call, PAIR("8", "{\"symbol\":\"X\"}") ","),
                     0);
    a = pair_call(&call, PAIR("8", "{\"symbol\":\"X\"}") "x", NULL, NULL,
                  k2, sizeof(k2));
    assert_contains(a, "Parse error");
    free(a);

    /* far more calls than there are plans: each still right */
    for (int i = 0; i < 3 * TTAI_MCP_PLANS; i++) {
        char  body[256], symbol[16], value[16], expect[64];

        snprintf(symbol, sizeof(symbol), "S%d", i % (2 * TTAI_MCP_PLANS));
        snprintf(value, sizeof(value), "%d", i);
        snprintf(body, sizeof(body), PAIR("9", "{\"symbol\":\"%s\"}"),
                 symbol);
        snprintf(expect, sizeof(expect), "%s: v and %d", symbol, i);

        a = pair_call(&call, body, "v", value, k1, sizeof(k1));
        assert_contains(a, expect);
        free(a);
    }
}


/* every answer from a plan is the general way's, byte for byte */

static void
test_plans_answer_as_the_general_way(void **state)
{
    int               round;
    char              body[256], other[300], k1[128], k2[128], *a, *b;
    size_t            i;
    ttai_mcp_call_t   call;

    static const char  *ids[] = { "1", "-42", "\"abc\"", "\"\"" };
    static const char  *args[] = {
        "{\"symbol\":\"X\"}", "{\"symbol\":\"Q R\"}",
        "{\"symbol\":\"Z\",\"extra\":[1,{\"a\":\"}\"}]}",
    };
    static const char  *values[][2] = {
        { "1", "2" }, { "1", "2" }, { "3", "4" }, { NULL, "2" },
    };

    for (round = 0; round < 4; round++) {
        for (i = 0; i < 12; i++) {
            snprintf(body, sizeof(body), PAIR("%s", "%s"), ids[i % 4],
                     args[i % 3]);
            snprintf(other, sizeof(other), "{\"x\":0,%s", body + 1);

            call = call_of(round & 1, round >> 1);

            a = pair_call(&call, body, values[round][0], values[round][1],
                          k1, sizeof(k1));
            b = pair_call(&call, other, values[round][0], values[round][1],
                          k2, sizeof(k2));

            if (strcmp(a, b) != 0 || strcmp(k1, k2) != 0) {
                fail_msg("%s\n  %s %s\nas against\n  %s %s", body, k1, a,
                         k2, b);
            }

            free(a);
            free(b);
        }
    }

    /* the plans were taken: the tool ran for the general way only */
    assert_true(pair_runs < 4 * 12 * 2);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_quick_takes_plain_requests,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_quick_answers_as_the_general_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_plans_answer_as_the_general_way, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
