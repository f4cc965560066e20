
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
#include <sodium.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


/*
 * The 2026-07-28 revision beside the 2025 era: which era a body is, the
 * per-request _meta and the headers that repeat it, and what stateless
 * results carry.  The same server answers both, with the same tools.
 */

#define V2026  "2026-07-28"

#define META  "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":" \
              "\"2026-07-28\",\"io.modelcontextprotocol/" \
              "clientCapabilities\":{}}"


static ttai_mcp_server_t  *srv;


static int quote_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int quote_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int memo_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int memo_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);


static int chatty_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int chatty_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

/* progress and a log line, a wait, then the same and its answer */
static const ttai_tool_t  chatty_tool = {
    "chatty", NULL, "Says how it goes.", "{\"type\":\"object\"}",
    NULL, 0, chatty_run, chatty_resume, NULL, NULL
};


static int
chatty_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    if (ttai_tool_progress(ctx, 1, 2, "half") != 0
        || ttai_tool_log(ctx, "debug", "quiet detail") != 0
        || ttai_tool_log(ctx, "warning", "loud news") != 0)
    {
        return -1;
    }

    *pending = ttai_mcp_pending_wait(10);

    return *pending ? 0 : -1;
}


static int
chatty_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    /* a wait's response is empty, and is no failure */
    assert_int_equal(resp->status, 0);

    if (ttai_tool_progress(ctx, 2, 2, NULL) != 0) {
        return -1;
    }

    *result = ttai_tool_text_result("done", NULL);

    return *result ? 0 : -1;
}


static const ttai_tool_t  quote_tool = {
    "get_quote", "Quote", "A quote for one symbol, from upstream.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\"}},"
    "\"required\":[\"symbol\"]}",
    NULL, TTAI_TOOL_READ_ONLY, quote_run, quote_resume, NULL, NULL
};

static int
route_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_text_result("routed", NULL);

    return *result ? 0 : -1;
}


/* routes by account: x-mcp-header on a string, an integer, a boolean */
static const ttai_tool_t  route_tool = {
    "route", NULL, "Repeats its routing arguments in headers.",
    "{\"type\":\"object\",\"properties\":{"
    "\"account\":{\"type\":\"string\",\"x-mcp-header\":\"Account\"},"
    "\"shard\":{\"type\":\"integer\",\"x-mcp-header\":\"Shard\"},"
    "\"live\":{\"type\":[\"boolean\",\"null\"]},"
    "\"dry\":{\"type\":\"boolean\",\"x-mcp-header\":\"Dry-Run\"}},"
    "\"required\":[\"account\"]}",
    NULL, TTAI_TOOL_READ_ONLY, route_run, NULL, NULL, NULL
};

static const ttai_tool_t  memo_tool = {
    "memo_quote", NULL, "A quote from KV, remembered.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\"}},"
    "\"required\":[\"symbol\"]}",
    NULL, TTAI_TOOL_READ_ONLY | TTAI_TOOL_MEMO, memo_run, memo_resume,
    NULL, NULL
};


static int
quote_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                     "/market-data/X", NULL, NULL, 0);

    return *pending ? 0 : -1;
}


static int
quote_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  text[64];

    snprintf(text, sizeof(text), "X %.*s", (int) resp->len, resp->body);

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
memo_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *keys[1];

    keys[0] = json_string_value(json_object_get(args, "symbol"));

    *pending = ttai_mcp_pending_cache(keys, 1);

    return *pending ? 0 : -1;
}


static int
memo_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  text[64];

    snprintf(text, sizeof(text), "value %.*s", (int) resp->lens[0],
             resp->values[0]);

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
setup(void **state)
{
    srv = ttai_mcp_server_create("9.9.9", "Use get_session_info first.");
    assert_non_null(srv);
    assert_int_equal(ttai_mcp_register_tool(srv, &quote_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &memo_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &chatty_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &route_tool), 0);

    return 0;
}


static int
teardown(void **state)
{
    ttai_mcp_server_free(srv);

    return 0;
}


/* a stateless call with its headers; method and name as the headers say */

static void
modern_call(ttai_mcp_call_t *call, const char *method, const char *name)
{
    memset(call, 0, sizeof(ttai_mcp_call_t));
    call->sub = "tt-account-123";
    call->protocol_header = V2026;
    call->method_header = method;
    call->name_header = name;
}


/* handles body, expects a final reply, and returns it parsed */

static json_t *
answer(ttai_mcp_call_t *call, const char *body, ttai_mcp_reply_t *reply)
{
    json_t  *j;

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), reply),
                     0);
    assert_null(reply->pending);

    if (reply->body == NULL) {
        return NULL;
    }

    j = json_loadb(reply->body, reply->len, 0, NULL);
    assert_non_null(j);

    return j;
}


static int
error_code(json_t *j)
{
    return (int) json_integer_value(json_object_get(json_object_get(j,
                                                                    "error"),
                                                    "code"));
}


static void
expect_error(ttai_mcp_call_t *call, const char *body, int status, int code)
{
    json_t            *j;
    ttai_mcp_reply_t   reply;

    j = answer(call, body, &reply);

    assert_int_equal(reply.status, status);
    assert_int_equal(error_code(j), code);
    assert_true(reply.stateless || status == 400 || status == 404);
    assert_int_equal(reply.new_session, 0);

    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_discover(void **state)
{
    json_t            *j, *r, *info;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    modern_call(&call, "server/discover", NULL);

    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":\"d1\",\"method\":"
               "\"server/discover\",\"params\":{" META "}}", &reply);

    assert_int_equal(reply.status, 200);
    assert_true(reply.stateless);
    assert_int_equal(reply.new_session, 0);

    assert_string_equal(json_string_value(json_object_get(j, "id")), "d1");
    r = json_object_get(j, "result");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(r, "supportedVersions"), 0)),
                        V2026);
    assert_int_equal(json_array_size(json_object_get(r,
                                                     "supportedVersions")),
                     1);
    assert_non_null(json_object_get(json_object_get(r, "capabilities"),
                                    "tools"));
    assert_non_null(json_object_get(json_object_get(r, "capabilities"),
                                    "extensions"));
    assert_null(json_object_get(json_object_get(r, "capabilities"),
                                "logging"));
    assert_string_equal(json_string_value(json_object_get(r, "instructions")),
                        "Use get_session_info first.");
    assert_string_equal(json_string_value(json_object_get(r, "resultType")),
                        "complete");
    assert_true(json_is_integer(json_object_get(r, "ttlMs")));
    assert_string_equal(json_string_value(json_object_get(r, "cacheScope")),
                        "public");

    info = json_object_get(json_object_get(r, "_meta"),
                           "io.modelcontextprotocol/serverInfo");
    assert_string_equal(json_string_value(json_object_get(info, "name")),
                        "ttai");
    assert_string_equal(json_string_value(json_object_get(info, "version")),
                        "9.9.9");

    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* discover is not a method of the 2025 era */
    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";
    call.stateless = 1;

    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"server/discover\"}", &reply);
    assert_int_equal(error_code(j), -32601);
    assert_false(reply.stateless);
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_envelope(void **state)
{
    ttai_mcp_call_t  call;

    /* no clientCapabilities */
    modern_call(&call, "tools/list", NULL);
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"" V2026
                 "\"}}}", 400, -32602);

    /* the version is no string */
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":2026,"
                 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                 400, -32602);

    /* the modern header with no _meta at all */
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\"}", 400, -32602);

    /* clientInfo is optional, but an object when present */
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"" V2026 "\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{},"
                 "\"io.modelcontextprotocol/clientInfo\":\"x\"}}}",
                 400, -32602);

    /* an unknown log level */
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"" V2026 "\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{},"
                 "\"io.modelcontextprotocol/logLevel\":\"loud\"}}}",
                 400, -32602);

    /* a batch that claims the revision */
    expect_error(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"tools/list\",\"params\":{" META "}}]", 400, -32600);
}


static void
test_headers(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  list[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
                                "\"tools/list\",\"params\":{" META "}}";

    static const char  v999[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
        "\"tools/list\",\"params\":{\"_meta\":{"
        "\"io.modelcontextprotocol/protocolVersion\":\"v999.0.0\","
        "\"io.modelcontextprotocol/clientCapabilities\":{}}}}";

    /* no MCP-Protocol-Version header */
    modern_call(&call, "tools/list", NULL);
    call.protocol_header = NULL;
    expect_error(&call, list, 400, -32020);

    /* a 2025 header against a 2026 body */
    call.protocol_header = "2025-11-25";
    expect_error(&call, list, 400, -32020);

    /* no Mcp-Method */
    modern_call(&call, NULL, NULL);
    expect_error(&call, list, 400, -32020);

    /* Mcp-Method compares case and all */
    modern_call(&call, "TOOLS/LIST", NULL);
    expect_error(&call, list, 400, -32020);

    /* a version this server does not serve, header and body agreeing */
    modern_call(&call, "tools/list", NULL);
    call.protocol_header = "v999.0.0";

    j = answer(&call, v999, &reply);
    assert_int_equal(reply.status, 400);
    assert_int_equal(error_code(j), -32022);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_object_get(j, "error"), "data"),
                        "requested")), "v999.0.0");
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                            json_object_get(json_object_get(j, "error"),
                                            "data"), "supported"), 0)),
                        V2026);
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* a 2025 version in _meta: the 2025 era is reached by initialize */
    call.protocol_header = "2025-11-25";
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                 400, -32022);
}


static void
test_name_header(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  call_body[] = "{\"jsonrpc\":\"2.0\",\"id\":3,"
        "\"method\":\"tools/call\",\"params\":{\"name\":\"get_quote\","
        "\"arguments\":{\"symbol\":\"X\"}," META "}}";

    static const char  read_body[] = "{\"jsonrpc\":\"2.0\",\"id\":4,"
        "\"method\":\"resources/read\",\"params\":{\"uri\":"
        "\"ttai://h\\u00e9llo\"," META "}}";

    modern_call(&call, "tools/call", NULL);
    expect_error(&call, call_body, 400, -32020);

    modern_call(&call, "tools/call", "get_quotes");
    expect_error(&call, call_body, 400, -32020);

    modern_call(&call, "tools/call", " get_quote");
    expect_error(&call, call_body, 400, -32020);

    /* base64 of the name's bytes is the same name */
    modern_call(&call, "tools/call", "=?base64?Z2V0X3F1b3Rl?=");
    assert_int_equal(ttai_mcp_handle(srv, &call, call_body,
                                     sizeof(call_body) - 1, &reply), 0);
    assert_non_null(reply.pending);
    ttai_mcp_reply_free(&reply);

    /* a broken base64 value is no match */
    modern_call(&call, "tools/call", "=?base64?Z2V0X3F1b3Rl!?=");
    expect_error(&call, call_body, 400, -32020);

    /* a URI with a non-ASCII character comes base64'd */
    modern_call(&call, "resources/read", "ttai://h\xc3\xa9llo");
    expect_error(&call, read_body, 400, -32020);

    modern_call(&call, "resources/read", "=?base64?dHRhaTovL2jDqWxsbw==?=");
    j = answer(&call, read_body, &reply);

    /* then the resource is unknown: -32602 in this era, not -32002 */
    assert_int_equal(error_code(j), -32602);
    assert_int_equal(reply.status, 200);
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_methods_removed(void **state)
{
    ttai_mcp_call_t  call;

    static const char  *removed[] = {
        "ping", "logging/setLevel", "resources/subscribe",
        "resources/unsubscribe", "unknown/method", NULL
    };

    char          body[512];
    const char  **m;

    for (m = removed; *m != NULL; m++) {
        modern_call(&call, *m, NULL);
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":9,"
                 "\"method\":\"%s\",\"params\":{" META "}}", *m);
        expect_error(&call, body, 404, -32601);
    }

    /* initialize with the revision's _meta is not this era's either */
    modern_call(&call, "initialize", NULL);
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"initialize\",\"params\":{\"protocolVersion\":\"" V2026
                 "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"c\","
                 "\"version\":\"1\"}," META "}}", 404, -32601);

    /* and a plain initialize under the revision's header is a mismatch */
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                 "\"initialize\",\"params\":{\"protocolVersion\":"
                 "\"2025-11-25\",\"capabilities\":{}}}", 400, -32020);
}


static void
test_lists_and_calls(void **state)
{
    int                 i;
    json_t             *j, *r, *first;
    const char         *v[1];
    size_t              lens[1];
    ttai_mcp_call_t     call;
    ttai_mcp_reply_t    reply;
    ttai_mcp_response_t resp;

    static const char  list[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
                                "\"tools/list\",\"params\":{" META "}}";

    static const char  memo[] = "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":"
        "\"tools/call\",\"params\":{\"name\":\"memo_quote\","
        "\"arguments\":{\"symbol\":\"K\"}," META "}}";

    first = NULL;

    /* the same order every time, and the caching hints */
    for (i = 0; i < 3; i++) {
        modern_call(&call, "tools/list", NULL);
        j = answer(&call, list, &reply);
        r = json_object_get(j, "result");

        assert_string_equal(json_string_value(json_object_get(r,
                                                              "resultType")),
                            "complete");
        assert_int_equal(json_integer_value(json_object_get(r, "ttlMs")),
                         300000);
        assert_string_equal(json_string_value(json_object_get(r,
                                                              "cacheScope")),
                            "public");

        if (first == NULL) {
            first = json_incref(json_object_get(r, "tools"));
            assert_int_equal(json_array_size(first), 4);

        } else {
            assert_true(json_equal(first, json_object_get(r, "tools")));
        }

        json_decref(j);
        ttai_mcp_reply_free(&reply);
    }

    json_decref(first);

    /* the kept page echoes each id as sent; an empty cursor is page 1 */
    modern_call(&call, "tools/list", NULL);
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":\"x-9\",\"method\":"
               "\"tools/list\",\"params\":{\"cursor\":\"\"," META "}}",
               &reply);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "x-9");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j,
                                                                "result"),
                                                     "tools")), 4);
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* a tool that waits for upstream data answers in the same era */
    modern_call(&call, "tools/call", "get_quote");
    assert_int_equal(ttai_mcp_handle(srv, &call,
                         "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
                         "\"tools/call\",\"params\":{\"name\":\"get_quote\","
                         "\"arguments\":{\"symbol\":\"X\"}," META "}}",
                         sizeof("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
                         "\"tools/call\",\"params\":{\"name\":\"get_quote\","
                         "\"arguments\":{\"symbol\":\"X\"}," META "}}") - 1,
                         &reply), 0);
    assert_non_null(reply.pending);
    assert_true(reply.stateless);

    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.body = "1.5";
    resp.len = 3;
    assert_int_equal(ttai_mcp_resume(srv, &call, &reply, &resp), 0);
    assert_null(reply.pending);
    assert_true(reply.stateless);

    j = json_loadb(reply.body, reply.len, 0, NULL);
    r = json_object_get(j, "result");
    assert_string_equal(json_string_value(json_object_get(r, "resultType")),
                        "complete");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(r, "content"), 0), "text")),
                        "X 1.5");
    assert_non_null(json_object_get(json_object_get(r, "_meta"),
                                    "io.modelcontextprotocol/serverInfo"));
    /* a call result has no caching hints */
    assert_null(json_object_get(r, "ttlMs"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* a remembered answer, kept as text, is given the same members */
    v[0] = "42";
    lens[0] = 2;

    for (i = 0; i < 2; i++) {
        modern_call(&call, "tools/call", "memo_quote");
        assert_int_equal(ttai_mcp_handle(srv, &call, memo, sizeof(memo) - 1,
                                         &reply), 0);
        assert_non_null(reply.pending);

        memset(&resp, 0, sizeof(resp));
        resp.values = v;
        resp.lens = lens;
        assert_int_equal(ttai_mcp_resume(srv, &call, &reply, &resp), 0);

        j = json_loadb(reply.body, reply.len, 0, NULL);
        assert_non_null(j);
        r = json_object_get(j, "result");
        assert_int_equal(json_integer_value(json_object_get(j, "id")), 8);
        assert_string_equal(json_string_value(json_object_get(r,
                                                              "resultType")),
                            "complete");
        assert_string_equal(json_string_value(json_object_get(json_array_get(
                                json_object_get(r, "content"), 0), "text")),
                            "value 42");
        json_decref(j);
        ttai_mcp_reply_free(&reply);
    }
}


static void
test_legacy_unchanged(void **state)
{
    json_t            *j, *r;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    /* initialize opens a 2025 session, as before */
    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";

    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
               "\"capabilities\":{},\"clientInfo\":{\"name\":\"c\","
               "\"version\":\"1\"}}}", &reply);

    assert_int_equal(reply.status, 200);
    assert_true(reply.new_session);
    assert_false(reply.stateless);
    r = json_object_get(j, "result");
    assert_null(json_object_get(r, "resultType"));
    assert_string_equal(json_string_value(json_object_get(r,
                                                          "protocolVersion")),
                        "2025-11-25");
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* a 2025 session's tools/list has none of the revision's members */
    call.session_id = "s";
    call.session_version = "2025-11-25";
    call.session_log_level = "";
    call.protocol_header = "2025-11-25";

    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
               "\"tools/list\"}", &reply);
    r = json_object_get(j, "result");
    assert_non_null(json_object_get(r, "tools"));
    assert_null(json_object_get(r, "resultType"));
    assert_null(json_object_get(r, "ttlMs"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* and a missing resource keeps its 2025 code */
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
               "\"resources/read\",\"params\":{\"uri\":\"ttai://x\"}}",
               &reply);
    assert_int_equal(error_code(j), -32002);
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* an unknown header version still names every version served */
    call.protocol_header = "1999-01-01";
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
               "\"tools/list\"}", &reply);
    assert_int_equal(reply.status, 400);
    assert_non_null(strstr(json_string_value(json_object_get(
                        json_object_get(j, "error"), "message")), V2026));
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_notifications_and_session_ids(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    /* a notification is accepted with nothing to say */
    modern_call(&call, "notifications/cancelled", NULL);
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"method\":"
               "\"notifications/cancelled\",\"params\":{\"requestId\":1,"
               META "}}", &reply);
    assert_null(j);
    assert_int_equal(reply.status, 202);
    ttai_mcp_reply_free(&reply);

    /* an Mcp-Session-Id nobody knows is ignored, not a 404 */
    modern_call(&call, "tools/list", NULL);
    call.session_id = "gone";
    call.session_unknown = 1;
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"tools/list\",\"params\":{" META "}}", &reply);
    assert_int_equal(reply.status, 200);
    assert_non_null(json_object_get(j, "result"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_traceparent(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;
    char               body[512];

    static const char  good[] =
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    static const char  *bad[] = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        NULL
    };

    const char  **b;

    modern_call(&call, "tools/list", NULL);
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
             "\"tools/list\",\"params\":{\"_meta\":{"
             "\"io.modelcontextprotocol/protocolVersion\":\"" V2026 "\","
             "\"io.modelcontextprotocol/clientCapabilities\":{},"
             "\"traceparent\":\"%s\"}}}", good);

    j = answer(&call, body, &reply);
    assert_string_equal(reply.traceparent, good);
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    for (b = bad; *b != NULL; b++) {
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                 "\"method\":\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"" V2026 "\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{},"
                 "\"traceparent\":\"%s\"}}}", *b);

        j = answer(&call, body, &reply);

        /* ignored, not refused */
        assert_int_equal(reply.status, 200);
        assert_string_equal(reply.traceparent, "");
        json_decref(j);
        ttai_mcp_reply_free(&reply);
    }
}


/* the notifications of one call: in the replies, only when asked for */

static size_t
chatty(ttai_mcp_call_t *call, const char *meta_extra, char ***all)
{
    char                 body[512];
    size_t               n, i;
    ttai_mcp_reply_t     reply;
    ttai_mcp_response_t  resp;

    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
             "\"tools/call\",\"params\":{\"name\":\"chatty\",\"_meta\":{"
             "\"io.modelcontextprotocol/protocolVersion\":\"" V2026 "\","
             "\"io.modelcontextprotocol/clientCapabilities\":{}%s}}}",
             meta_extra);

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), &reply),
                     0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->kind, TTAI_PENDING_WAIT);
    assert_int_equal(reply.pending->ms, 10);

    n = 0;
    *all = NULL;

    for ( ;; ) {
        *all = realloc(*all, (n + reply.nevents + 1) * sizeof(char *));

        for (i = 0; i < reply.nevents; i++) {
            (*all)[n++] = strdup(reply.events[i]);
        }

        ttai_mcp_reply_events_free(&reply);

        if (reply.pending == NULL) {
            break;
        }

        memset(&resp, 0, sizeof(resp));
        assert_int_equal(ttai_mcp_resume(srv, call, &reply, &resp), 0);
    }

    assert_non_null(strstr(reply.body, "\"done\""));
    ttai_mcp_reply_free(&reply);

    return n;
}


static void
test_notifications(void **state)
{
    char             **ev;
    size_t             n, i;
    ttai_mcp_call_t    call;

    modern_call(&call, "tools/call", "chatty");

    /* neither a progressToken nor a log level: nothing */
    n = chatty(&call, "", &ev);
    assert_int_equal(n, 0);
    free(ev);

    /* a progressToken: both progress notifications, in order */
    n = chatty(&call, ",\"progressToken\":\"t-1\"", &ev);
    assert_int_equal(n, 2);
    assert_non_null(strstr(ev[0], "\"progressToken\":\"t-1\""));
    assert_non_null(strstr(ev[0], "\"progress\":1"));
    assert_non_null(strstr(ev[0], "\"message\":\"half\""));
    assert_non_null(strstr(ev[1], "\"progress\":2"));
    assert_null(strstr(ev[1], "message"));

    for (i = 0; i < n; i++) {
        free(ev[i]);
    }

    free(ev);

    /* a log level: the lines at it or above */
    n = chatty(&call, ",\"io.modelcontextprotocol/logLevel\":\"info\"", &ev);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ev[0], "notifications/message"));
    assert_non_null(strstr(ev[0], "loud news"));
    free(ev[0]);
    free(ev);

    n = chatty(&call, ",\"io.modelcontextprotocol/logLevel\":\"debug\"",
               &ev);
    assert_int_equal(n, 2);

    for (i = 0; i < n; i++) {
        free(ev[i]);
    }

    free(ev);
}


/*
 * tools/list again with the same params: answered without a JSON tree,
 * the same text but for the id, and only where the general way would
 */

static void
test_quick_list(void **state)
{
    char              *page;
    size_t             i;
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  body1[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
        "\"method\":\"tools/list\",\"params\":{" META "}}";
    static const char  body2[] = "{\"jsonrpc\":\"2.0\",\"id\":\"two\","
        "\"method\":\"tools/list\",\"params\":{" META "}}";

    page = NULL;

    /* the general way, then (twice) the quick one: the kept page each time */
    for (i = 0; i < 3; i++) {
        modern_call(&call, "tools/list", NULL);
        call.split = 1;

        assert_int_equal(ttai_mcp_handle(srv, &call, i ? body2 : body1,
                                         strlen(i ? body2 : body1), &reply),
                         0);
        assert_int_equal(reply.status, 200);
        assert_true(reply.stateless);
        assert_non_null(reply.tail);
        assert_string_equal(reply.body, i ? "{\"jsonrpc\":\"2.0\",\"id\":"
                                            "\"two\",\"result\":"
                                          : "{\"jsonrpc\":\"2.0\",\"id\":1,"
                                            "\"result\":");

        if (page == NULL) {
            page = strndup(reply.tail, reply.tail_len);
            assert_non_null(strstr(page, "\"resultType\":\"complete\""));

        } else {
            assert_int_equal(reply.tail_len, strlen(page));
            assert_memory_equal(reply.tail, page, reply.tail_len);
        }

        ttai_mcp_reply_free(&reply);
    }

    free(page);

    /* the same params under another Mcp-Method, or none: still refused */
    modern_call(&call, "tools/call", NULL);
    expect_error(&call, body2, 400, -32020);
    modern_call(&call, NULL, NULL);
    expect_error(&call, body2, 400, -32020);

    /* a byte of the params changed: checked again, and refused */
    modern_call(&call, "tools/list", NULL);
    expect_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
                 "\"tools/list\",\"params\":{\"_meta\":{"
                 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-29\","
                 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                 400, -32020);

    /* a notification of the same params is no request */
    j = answer(&call, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\","
               "\"params\":{" META "}}", &reply);
    assert_int_not_equal(reply.status, 200);
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


/* SEP-2243: the arguments a tool marks x-mcp-header, in Mcp-Param-* */

static void
param_call(const char *args, const char *const *names,
    const char *const *values, size_t n, int status, int code)
{
    char               body[512];
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    modern_call(&call, "tools/call", "route");
    call.param_names = names;
    call.param_values = values;
    call.nparams = n;

    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
             "\"method\":\"tools/call\",\"params\":{\"name\":\"route\","
             "\"arguments\":%s," META "}}", args);

    j = answer(&call, body, &reply);

    if (reply.status != status || error_code(j) != code) {
        fail_msg("%s: %d %d", args, reply.status, error_code(j));
    }

    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


static void
test_param_headers(void **state)
{
    static const char *const  names[] = { "Account", "shard", "DRY-RUN" };
    static const char *const  plain[] = { "5WT01", "7", "true" };
    static const char *const  b64[] = { "=?base64?NVdUMDE=?=", "+7",
                                        "=?base64?dHJ1ZQ==?=" };
    static const char *const  other[] = { "5WT02", "7", "true" };
    static const char *const  bad64[] = { "=?base64?NVdUMDE?=", "7",
                                          "true" };
    static const char *const  num[] = { "5WT01", "8", "true" };
    static const char *const  flag[] = { "5WT01", "7", "1" };

    /* the key of each is found by name, case aside; values by value */
    param_call("{\"account\":\"5WT01\",\"shard\":7,\"dry\":true}", names,
               plain, 3, 200, 0);
    param_call("{\"account\":\"5WT01\",\"shard\":7,\"dry\":true}", names,
               b64, 3, 200, 0);

    /* a header that differs, is badly encoded, or is missing */
    param_call("{\"account\":\"5WT01\"}", names, other, 1, 400, -32020);
    param_call("{\"account\":\"5WT01\"}", names, bad64, 1, 400, -32020);
    param_call("{\"account\":\"5WT01\",\"shard\":7}", names, num, 3, 400,
               -32020);
    param_call("{\"account\":\"5WT01\",\"dry\":true}", names, flag, 3, 400,
               -32020);
    param_call("{\"account\":\"5WT01\"}", NULL, NULL, 0, 400, -32020);
    param_call("{\"account\":\"5WT01\",\"shard\":7}", names, plain, 1, 400,
               -32020);

    /* an argument absent or null needs none, and one sent is not read */
    param_call("{\"account\":\"5WT01\",\"live\":null}", names, num, 1, 200,
               0);
    param_call("{\"account\":\"5WT01\",\"shard\":null,\"dry\":null}",
               names, num, 3, 200, 0);
}


static void
test_param_schemas(void **state)
{
    ttai_mcp_server_t  *s;

    static const ttai_tool_t  nested = {
        "nested", NULL, "d", "{\"type\":\"object\",\"properties\":{\"a\":"
        "{\"type\":\"object\",\"properties\":{\"b\":{\"type\":"
        "\"string\",\"x-mcp-header\":\"B\"}}}}}",
        NULL, 0, route_run, NULL, NULL, NULL
    };
    static const ttai_tool_t  number = {
        "number", NULL, "d", "{\"type\":\"object\",\"properties\":{\"a\":"
        "{\"type\":\"number\",\"x-mcp-header\":\"A\"}}}",
        NULL, 0, route_run, NULL, NULL, NULL
    };
    static const ttai_tool_t  token = {
        "token", NULL, "d", "{\"type\":\"object\",\"properties\":{\"a\":"
        "{\"type\":\"string\",\"x-mcp-header\":\"A B\"}}}",
        NULL, 0, route_run, NULL, NULL, NULL
    };
    static const ttai_tool_t  twice = {
        "twice", NULL, "d", "{\"type\":\"object\",\"properties\":{\"a\":"
        "{\"type\":\"string\",\"x-mcp-header\":\"Id\"},\"b\":{\"type\":"
        "\"string\",\"x-mcp-header\":\"ID\"}}}",
        NULL, 0, route_run, NULL, NULL, NULL
    };
    static const ttai_tool_t  composed = {
        "composed", NULL, "d", "{\"type\":\"object\",\"allOf\":[{"
        "\"type\":\"string\",\"x-mcp-header\":\"A\"}]}",
        NULL, 0, route_run, NULL, NULL, NULL
    };

    s = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(s);

    assert_int_equal(ttai_mcp_register_tool(s, &nested), -1);
    assert_non_null(strstr(ttai_mcp_server_error(s), "top-level"));
    assert_int_equal(ttai_mcp_register_tool(s, &number), -1);
    assert_int_equal(ttai_mcp_register_tool(s, &token), -1);
    assert_int_equal(ttai_mcp_register_tool(s, &twice), -1);
    assert_non_null(strstr(ttai_mcp_server_error(s), "two arguments"));
    assert_int_equal(ttai_mcp_register_tool(s, &composed), -1);

    ttai_mcp_server_free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_discover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_calls, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_legacy_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notifications_and_session_ids,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_traceparent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_param_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quick_list, setup, teardown),
        cmocka_unit_test(test_param_schemas),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
