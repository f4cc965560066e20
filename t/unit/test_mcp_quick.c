
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
 * The quick way of the MCP core (ttai_mcp_quick.c) and answers in two
 * parts (ttai_mcp_call_t.split): the same bytes as the general way, for
 * every request either may take.
 */


static ttai_mcp_server_t  *srv;


static int
setup(void **state)
{
    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);

    return 0;
}


static int
teardown(void **state)
{
    ttai_mcp_server_free(srv);
    srv = NULL;

    return 0;
}


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
    ttai_mcp_reply_t  reply;

    memset(&reply, 0, sizeof(reply));

    rc = ttai_mcp_quick(srv, call, body, strlen(body), &reply);
    assert_true(rc == 0 || rc == 1);

    if (rc == 0) {
        assert_null(reply.body);
        assert_null(reply.tail);
        assert_int_equal(reply.status, 0);
        return 0;
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
    assert_ptr_equal(r1.tail, srv->tools_page);
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
    assert_null(srv->tools_page);

    assert_int_equal(ttai_mcp_handle(srv, &split, list, sizeof(list) - 1,
                                     &r1), 0);
    assert_non_null(srv->tools_page);
    assert_ptr_equal(r1.tail, srv->tools_page);
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


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_quick_takes_plain_requests,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_quick_answers_as_the_general_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_answers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
