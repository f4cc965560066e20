
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


#define CREATED  1800000000L      /* 2027-01-15T08:00:00Z */


static ttai_mcp_server_t  *srv;


/* resumes with an HTTP response, or with none when status is 0 */

static int
resume_with(ttai_mcp_call_t *call, ttai_mcp_reply_t *reply, int status,
    const char *body, size_t len, const char *error)
{
    ttai_mcp_response_t  resp;

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = len;
    resp.error = error;

    return ttai_mcp_resume(srv, call, reply, &resp);
}


/* fake tools */

static int quote_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int quote_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int counter_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int broken_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);


static int cached_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int cached_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

static int memo_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int memo_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

static int  memo_resumes;

/* a KV read, then an answer made of the value: one the core may memo */
static const ttai_tool_t  memo_tool = {
    "memo_quote", NULL, "A quote from KV, remembered.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\"}},"
    "\"required\":[\"symbol\"]}",
    NULL, TTAI_TOOL_READ_ONLY | TTAI_TOOL_MEMO, memo_run, memo_resume,
    NULL, NULL
};

/* KV first, then upstream for what KV lacked, then a KV write */
static const ttai_tool_t  cached_tool = {
    "cached_quote", NULL, "A quote from KV, or from upstream.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\"}},"
    "\"required\":[\"symbol\"]}",
    NULL, TTAI_TOOL_READ_ONLY, cached_run, cached_resume, NULL, NULL
};

static const ttai_tool_t  quote_tool = {
    "get_quote", "Quote", "A quote for one symbol, from upstream.",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\","
    "\"minLength\":1,\"maxLength\":12}},\"required\":[\"symbol\"],"
    "\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{\"symbol\":{\"type\":\"string\"},"
    "\"price\":{\"type\":\"number\"}},\"required\":[\"symbol\",\"price\"]}",
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_OPEN_WORLD,
    quote_run, quote_resume, NULL, NULL
};

/* structuredContent per its "mode" argument, to test the output check */
static const ttai_tool_t  counter_tool = {
    "counter", NULL, "Returns what it is told to.",
    "{\"type\":\"object\",\"properties\":{\"mode\":{\"enum\":[\"good\","
    "\"bad\",\"none\",\"error\",\"empty\",\"nocontent\"]}}}",
    "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},"
    "\"required\":[\"n\"]}",
    0, counter_run, NULL, NULL, NULL
};

static const ttai_tool_t  broken_tool = {
    "broken", NULL, "Fails as told.",
    "{\"type\":\"object\",\"properties\":{\"how\":{\"type\":\"string\"}}}",
    NULL, 0, broken_run, NULL, NULL, NULL
};


static int
quote_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         path[64], key[64];
    const char  *symbol;

    symbol = json_string_value(json_object_get(args, "symbol"));

    snprintf(path, sizeof(path), "/market-data/%s", symbol);
    snprintf(key, sizeof(key), "quote:%s", symbol);

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, key, 10);

    return *pending ? 0 : -1;
}


static int
quote_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int          status = resp->status;
    const char  *body = resp->body;
    size_t       len = resp->len;
    const char  *error = resp->error;

    char         text[128];
    double       price;
    json_t      *j;
    const char  *symbol;

    /* the core answers a missing response itself */
    assert_int_not_equal(status, 0);
    assert_null(error);

    symbol = json_string_value(json_object_get(args, "symbol"));

    if (status != 200) {
        *result = ttai_tool_error_result("TastyTrade answered %d", status);
        return *result ? 0 : -1;
    }

    j = json_loadb(body, len, 0, NULL);
    price = json_number_value(json_object_get(j, "price"));
    json_decref(j);

    snprintf(text, sizeof(text), "%s %.2f", symbol, price);

    *result = ttai_tool_text_result(text,
                  json_pack("{s:s, s:f}", "symbol", symbol, "price", price));

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
    char  text[128];

    memo_resumes++;

    if (resp->values[0] == NULL) {
        *result = ttai_tool_error_result("no value");
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text), "value %.*s", (int) resp->lens[0],
             resp->values[0]);

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
cached_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         key[64];
    const char  *keys[1];

    snprintf(key, sizeof(key), "q:%s",
             json_string_value(json_object_get(args, "symbol")));
    keys[0] = key;

    json_object_set_new(ctx->state, "step", json_string("cache"));

    *pending = ttai_mcp_pending_cache(keys, 1);

    return *pending ? 0 : -1;
}


static int
cached_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         text[128];
    const char  *step;

    step = json_string_value(json_object_get(ctx->state, "step"));

    if (strcmp(step, "cache") == 0 && resp->values[0] == NULL) {
        json_object_set_new(ctx->state, "step", json_string("http"));
        *pending = ttai_mcp_pending_http(TTAI_SERVICE_WORKER, "GET",
                                         "/quotes/X", NULL, NULL, 0);
        return *pending ? 0 : -1;
    }

    if (strcmp(step, "http") == 0) {
        if (ttai_tool_store(ctx, "q:X", resp->body, resp->len,
                            ctx->ttl->quote) != 0)
        {
            return -1;
        }

        snprintf(text, sizeof(text), "upstream %.*s", (int) resp->len,
                 resp->body);

    } else {
        snprintf(text, sizeof(text), "cached %.*s", (int) resp->lens[0],
                 resp->values[0]);
    }

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
counter_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *mode;

    mode = json_string_value(json_object_get(args, "mode"));
    if (mode == NULL) {
        mode = "good";
    }

    if (strcmp(mode, "good") == 0) {
        *result = ttai_tool_text_result("1", json_pack("{s:i}", "n", 1));

    } else if (strcmp(mode, "bad") == 0) {
        *result = ttai_tool_text_result("x", json_pack("{s:s}", "n", "x"));

    } else if (strcmp(mode, "none") == 0) {
        *result = ttai_tool_text_result("no structure", NULL);

    } else if (strcmp(mode, "error") == 0) {
        *result = ttai_tool_error_result("counter failed: %d", 42);

    } else if (strcmp(mode, "nocontent") == 0) {
        *result = json_pack("{s:{s:i}}", "structuredContent", "n", 1);

    } else {
        /* "empty": neither a result nor a pending request */
        return 0;
    }

    return *result ? 0 : -1;
}


static int
broken_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *how;

    how = json_string_value(json_object_get(args, "how"));

    if (how != NULL && strcmp(how, "pending") == 0) {
        /* pending, but the tool has no resume */
        *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                         "/x", NULL, NULL, 0);
        return 0;
    }

    /* as if out of memory */
    return -1;
}


/* helpers */

static int
setup(void **state)
{
    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &quote_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &counter_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &broken_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &cached_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(srv, &memo_tool), 0);

    return 0;
}


static int
teardown(void **state)
{
    ttai_mcp_server_free(srv);
    srv = NULL;

    return 0;
}


/* a request inside an initialized 2025-11-25 session */

static ttai_mcp_call_t
in_session(const char *version)
{
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";
    call.email = "test@example.com";
    call.session_id = "sess-0123";
    call.session_version = version;
    call.session_client = "{\"name\":\"test-client\",\"version\":\"1.2\"}";
    call.session_created = CREATED;

    return call;
}


static ttai_mcp_call_t
no_session(void)
{
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";
    call.email = "test@example.com";

    return call;
}


/* posts body, checks the status, returns the body parsed (NULL: none) */

static json_t *
post(const ttai_mcp_call_t *call, const char *body, int status)
{
    json_t            *j;
    ttai_mcp_reply_t   reply;

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), &reply),
                     0);
    assert_int_equal(reply.status, status);
    assert_null(reply.pending);

    if (reply.body == NULL) {
        assert_int_equal(reply.len, 0);
        ttai_mcp_reply_free(&reply);
        return NULL;
    }

    assert_int_equal(reply.len, strlen(reply.body));

    j = json_loads(reply.body, 0, NULL);
    assert_non_null(j);

    ttai_mcp_reply_free(&reply);

    return j;
}


/* checks a JSON-RPC error: code, id (NULL: null), message substring */

static void
assert_error(json_t *j, int code, json_t *id, const char *message)
{
    json_t  *e;

    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "jsonrpc")),
                        "2.0");
    assert_null(json_object_get(j, "result"));

    if (id == NULL) {
        assert_true(json_is_null(json_object_get(j, "id")));
    } else {
        assert_true(json_equal(json_object_get(j, "id"), id));
    }

    e = json_object_get(j, "error");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), code);

    if (strstr(json_string_value(json_object_get(e, "message")), message)
        == NULL)
    {
        fail_msg("message \"%s\" lacks \"%s\"",
                 json_string_value(json_object_get(e, "message")), message);
    }
}


static void
post_error(const ttai_mcp_call_t *call, const char *body, int status,
    int code, const char *message)
{
    json_t  *j;

    j = post(call, body, status);
    assert_error(j, code, NULL, message);
    json_decref(j);
}


/* the result of a request answered 200 */

static json_t *
result_of(const ttai_mcp_call_t *call, const char *body)
{
    json_t  *j, *r;

    j = post(call, body, 200);
    assert_null(json_object_get(j, "error"));

    r = json_incref(json_object_get(j, "result"));
    assert_non_null(r);
    json_decref(j);

    return r;
}


static const char *
text_of(json_t *result)
{
    return json_string_value(json_object_get(
               json_array_get(json_object_get(result, "content"), 0),
               "text"));
}


static void
assert_contains(const char *haystack, const char *needle)
{
    assert_non_null(haystack);

    if (strstr(haystack, needle) == NULL) {
        fail_msg("\"%s\" lacks \"%s\"", haystack, needle);
    }
}


/* tests */

static void
test_versions(void **state)
{
    assert_true(ttai_mcp_version_supported("2025-11-25", 10));
    assert_true(ttai_mcp_version_supported("2025-06-18", 10));
    assert_true(ttai_mcp_version_supported("2025-03-26", 10));
    assert_false(ttai_mcp_version_supported("2024-11-05", 10));
    assert_false(ttai_mcp_version_supported("2025-11-25x", 11));
    assert_false(ttai_mcp_version_supported("2025-11-2", 9));
    assert_false(ttai_mcp_version_supported(NULL, 0));
}


static void
test_initialize(void **state)
{
    json_t            *j, *r, *expect;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
        "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
        "\"clientInfo\":{\"name\":\"claude-code\",\"version\":\"2.0.1\"}}}";

    call = no_session();

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.new_session, 1);
    assert_string_equal(reply.version, "2025-06-18");
    assert_string_equal(reply.client_info,
                        "{\"name\":\"claude-code\",\"version\":\"2.0.1\"}");
    assert_string_equal(reply.log_level, "");

    j = json_loads(reply.body, 0, NULL);
    ttai_mcp_reply_free(&reply);

    assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
    r = json_object_get(j, "result");

    assert_string_equal(json_string_value(json_object_get(r,
                                                         "protocolVersion")),
                        "2025-06-18");

    expect = json_loads("{\"tools\":{\"listChanged\":true},"
                        "\"resources\":{\"subscribe\":true,"
                        "\"listChanged\":true},"
                        "\"prompts\":{\"listChanged\":true},\"logging\":{},"
                        "\"completions\":{}}", 0, NULL);
    assert_true(json_equal(json_object_get(r, "capabilities"), expect));
    json_decref(expect);

    expect = json_loads("{\"name\":\"ttai\",\"title\":\"ttai \xe2\x80\x94 "
                        "TastyTrade for AI assistants\",\"version\":"
                        "\"9.9.9\"}", 0, NULL);
    assert_true(json_equal(json_object_get(r, "serverInfo"), expect));
    json_decref(expect);

    assert_contains(json_string_value(json_object_get(r, "instructions")),
                    "get_session_info");

    json_decref(j);
}


static void
test_negotiation(void **state)
{
    size_t             i;
    char               body[256];
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  *cases[][2] = {
        { "2025-11-25", "2025-11-25" },
        { "2025-06-18", "2025-06-18" },
        { "2025-03-26", "2025-03-26" },
        { "2024-11-05", "2025-11-25" },
        { "2099-01-01", "2025-11-25" },
        { "", "2025-11-25" },
    };

    call = no_session();

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":"
                 "\"initialize\",\"params\":{\"protocolVersion\":\"%s\"}}",
                 cases[i][0]);

        assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body),
                                         &reply), 0);
        assert_int_equal(reply.status, 200);
        assert_int_equal(reply.new_session, 1);
        assert_string_equal(reply.version, cases[i][1]);
        assert_null(reply.client_info);
        assert_contains(reply.body, cases[i][1]);
        assert_contains(reply.body, "\"id\":\"init\"");
        ttai_mcp_reply_free(&reply);
    }
}


static void
test_initialize_bad_params(void **state)
{
    char               big[2048];
    json_t            *j, *id;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  *bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
        "\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
        "\"params\":{\"protocolVersion\":20251125}}",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
        "\"params\":{\"protocolVersion\":\"2025-11-25\",\"clientInfo\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
        "\"params\":[\"2025-11-25\"]}",
    };

    size_t  i;

    call = no_session();
    id = json_integer(7);

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(ttai_mcp_handle(srv, &call, bodies[i],
                                         strlen(bodies[i]), &reply), 0);
        assert_int_equal(reply.status, 200);
        assert_int_equal(reply.new_session, 0);

        j = json_loads(reply.body, 0, NULL);
        assert_error(j, -32602, id, "Invalid params");
        json_decref(j);
        ttai_mcp_reply_free(&reply);
    }

    /* a clientInfo too large to keep with the session */
    snprintf(big, sizeof(big),
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
             "\"params\":{\"protocolVersion\":\"2025-11-25\","
             "\"clientInfo\":{\"name\":\"%0*d\"}}}",
             TTAI_MCP_MAX_CLIENT_INFO, 0);

    j = post(&call, big, 200);
    assert_error(j, -32602, id, "clientInfo is larger than 1024 bytes");
    json_decref(j);

    json_decref(id);
}


static void
test_protocol_header(void **state)
{
    json_t           *j, *supported;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");
    call.protocol_header = "2024-11-05";

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 400);
    assert_error(j, -32000, NULL, "unsupported MCP-Protocol-Version "
                 "\"2024-11-05\"; supported versions: 2025-11-25, "
                 "2025-06-18, 2025-03-26");

    supported = json_loads("[\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"]",
                           0, NULL);
    assert_true(json_equal(json_object_get(json_object_get(
                               json_object_get(j, "error"), "data"),
                               "supported"), supported));
    json_decref(supported);
    json_decref(j);

    /* on initialize too, and before the body is even parsed */
    call = no_session();
    call.protocol_header = "latest";
    post_error(&call, "{not json", 400, -32000, "\"latest\"");

    call.protocol_header = "2025-06-18";
    j = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                  "\"initialize\",\"params\":{\"protocolVersion\":"
                  "\"2025-06-18\"}}");
    json_decref(j);
}


static void
test_body_errors(void **state)
{
    ttai_mcp_call_t  call;

    call = in_session("2025-11-25");

    post_error(&call, "{", 400, -32700, "Parse error");
    post_error(&call, "", 400, -32700, "Parse error");
    post_error(&call, "{\"jsonrpc\":\"2.0\",}", 400, -32700, "Parse error");
    post_error(&call, "{\"a\":\"\\u0000\"}", 400, -32700, "Parse error");

    post_error(&call, "42", 400, -32600, "must be a JSON-RPC message");
    post_error(&call, "\"ping\"", 400, -32600, "must be a JSON-RPC message");
    post_error(&call, "null", 400, -32600, "must be a JSON-RPC message");
    post_error(&call, "[]", 400, -32600, "an empty batch");
}


static void
test_invalid_messages(void **state)
{
    json_t           *j, *id;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");

    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
               400, -32600, "\"id\" must be a string or an integer");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
               400, -32600, "\"id\" must be a string or an integer");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
               400, -32600, "\"id\"");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
               400, -32600, "\"id\"");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"method\":5}", 400, -32600,
               "\"method\" must be a string");
    post_error(&call, "{}", 400, -32600, "\"jsonrpc\" must be \"2.0\"");

    /* an id that can be read is echoed */
    id = json_integer(3);
    j = post(&call, "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"ping\"}", 400);
    assert_error(j, -32600, id, "\"jsonrpc\" must be \"2.0\"");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":3}", 400);
    assert_error(j, -32600, id, "needs a \"method\"");
    json_decref(j);
    json_decref(id);
}


static void
test_notifications_and_responses(void **state)
{
    size_t           i;
    ttai_mcp_call_t  call, none;

    static const char  *bodies[] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
        "\"params\":{\"requestId\":1,\"reason\":\"user\"}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\","
        "\"params\":[1,2]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-1,"
        "\"message\":\"no\"}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"initialize\",\"params\":{}}",
    };

    call = in_session("2025-11-25");
    none = no_session();

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_null(post(&call, bodies[i], 202));
        assert_null(post(&none, bodies[i], 202));
    }
}


static void
test_session_rules(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
        "\"params\":{\"protocolVersion\":\"2025-11-25\"}}";

    /* no session: only initialize */
    call = no_session();
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
               400, -32000, "Mcp-Session-Id header is required");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"tools/list\"}", 400, -32000,
               "Mcp-Session-Id header is required");

    /* a one-shot call without session and version headers is answered */
    call.stateless = 1;
    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
             "\"tools/list\"}", 200);
    assert_non_null(json_object_get(json_object_get(j, "result"), "tools"));
    json_decref(j);
    call.stateless = 0;

    /* an unknown, ended or other user's session: 404, whatever comes */
    call = in_session("2025-11-25");
    call.session_unknown = 1;
    call.session_version = NULL;
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
               404, -32001, "Session not found");
    post_error(&call, init, 404, -32001, "Session not found");
    post_error(&call, "{\"jsonrpc\":\"2.0\",\"method\":"
               "\"notifications/initialized\"}", 404, -32001,
               "Session not found");

    /* a valid session cannot be initialized again */
    call = in_session("2025-11-25");
    j = post(&call, init, 400);
    assert_error(j, -32600, NULL, "already initialized");
    json_decref(j);

    assert_int_equal(ttai_mcp_handle(srv, &call, init, strlen(init), &reply),
                     0);
    assert_int_equal(reply.new_session, 0);
    ttai_mcp_reply_free(&reply);
}


static void
test_ping_and_ids(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  big[] =
        "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"ping\"}";

    call = in_session("2025-11-25");

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":\"abc-1\",\"method\":"
             "\"ping\"}", 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")),
                        "abc-1");
    assert_int_equal(json_object_size(json_object_get(j, "result")), 0);
    assert_true(json_is_object(json_object_get(j, "result")));
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\","
             "\"params\":{}}", 200);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 0);
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":-7,\"method\":\"ping\"}",
             200);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), -7);
    json_decref(j);

    /* beyond a double's precision, still exact */
    assert_int_equal(ttai_mcp_handle(srv, &call, big, strlen(big), &reply),
                     0);
    assert_string_equal(reply.body, "{\"jsonrpc\":\"2.0\","
                        "\"id\":9007199254740993,\"result\":{}}");
    ttai_mcp_reply_free(&reply);
}


static void
test_methods(void **state)
{
    json_t           *j, *r, *id;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");
    id = json_integer(5);

    /* completion/complete is served, and wants its ref and argument */
    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"completion/complete\"}", 200);
    assert_error(j, -32602, id, "ref.type, argument.name and "
                 "argument.value are required");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"unknown/method\"}", 200);
    assert_error(j, -32601, id, "Method not found: unknown/method");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\","
             "\"params\":[]}", 200);
    assert_error(j, -32602, id, "params must be an object");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"tools/list\",\"params\":\"all\"}", 200);
    assert_error(j, -32602, id, "params must be an object");
    json_decref(j);

    r = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
                  "\"resources/list\"}");
    assert_int_equal(json_array_size(json_object_get(r, "resources")), 0);
    assert_true(json_is_array(json_object_get(r, "resources")));
    json_decref(r);

    r = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
                  "\"resources/templates/list\",\"params\":{}}");
    assert_true(json_is_array(json_object_get(r, "resourceTemplates")));
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);

    r = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
                  "\"prompts/list\"}");
    assert_true(json_is_array(json_object_get(r, "prompts")));
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"prompts/list\",\"params\":{\"cursor\":\"abc\"}}", 200);
    assert_error(j, -32602, id, "unknown cursor");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"resources/read\",\"params\":{\"uri\":\"ttai://x\"}}", 200);
    assert_error(j, -32002, id, "Resource not found");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"prompts/get\",\"params\":{\"name\":\"p\"}}", 200);
    assert_error(j, -32602, id, "Unknown prompt: p");
    json_decref(j);

    json_decref(id);
}


static void
test_logging(void **state)
{
    size_t             i;
    char               body[160];
    json_t            *j, *id;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  *levels[] = {
        "debug", "info", "notice", "warning", "error", "critical", "alert",
        "emergency"
    };

    call = in_session("2025-11-25");

    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                 "\"method\":\"logging/setLevel\",\"params\":"
                 "{\"level\":\"%s\"}}", levels[i]);

        assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body),
                                         &reply), 0);
        assert_int_equal(reply.status, 200);
        assert_string_equal(reply.log_level, levels[i]);
        assert_string_equal(reply.body,
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
        ttai_mcp_reply_free(&reply);
    }

    id = json_integer(2);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
             "\"logging/setLevel\",\"params\":{\"level\":\"verbose\"}}", 200);
    assert_error(j, -32602, id, "level must be one of debug");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
             "\"logging/setLevel\"}", 200);
    assert_error(j, -32602, id, "level");
    json_decref(j);

    json_decref(id);
}


static void
test_tools_list_pagination(void **state)
{
    int                    pages;
    char                   name[32], body[256];
    size_t                 i, n, seen, total;
    json_t                *r, *all, *tools, *cursor, *t;
    ttai_tool_t           *extra;
    ttai_mcp_call_t        call;

    /* 8 more tools, whatever ttai ships, in pages of 5 */
    extra = calloc(8, sizeof(ttai_tool_t));
    assert_non_null(extra);

    for (i = 0; i < 8; i++) {
        extra[i] = counter_tool;
        snprintf(name, sizeof(name), "extra_%zu", i);
        extra[i].name = strdup(name);
        assert_int_equal(ttai_mcp_register_tool(srv, &extra[i]), 0);
    }

    call = in_session("2025-11-25");

    /* one page of all, in registration order: the reference */
    ttai_mcp_server_page_size(srv, 1000);
    all = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                    "\"tools/list\"}");
    total = json_array_size(json_object_get(all, "tools"));
    assert_true(total >= 12);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(json_object_get(all, "tools"), total - 1), "name")),
        "extra_7");

    ttai_mcp_server_page_size(srv, 5);

    cursor = NULL;
    seen = 0;
    pages = 0;

    do {
        if (cursor == NULL) {
            snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                     "\"method\":\"tools/list\"}");
        } else {
            snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                     "\"method\":\"tools/list\",\"params\":"
                     "{\"cursor\":\"%s\"}}", json_string_value(cursor));
        }

        json_decref(cursor);

        r = result_of(&call, body);
        tools = json_object_get(r, "tools");
        n = json_array_size(tools);

        assert_int_equal(n, (total - seen < 5) ? total - seen : 5);

        json_array_foreach(tools, i, t) {
            assert_string_equal(
                json_string_value(json_object_get(t, "name")),
                json_string_value(json_object_get(
                    json_array_get(json_object_get(all, "tools"), seen + i),
                    "name")));
        }

        seen += n;
        pages++;

        cursor = json_incref(json_object_get(r, "nextCursor"));
        json_decref(r);

    } while (cursor != NULL);

    assert_int_equal(pages, (int) ((total + 4) / 5));
    assert_int_equal(seen, total);

    ttai_mcp_server_page_size(srv, 0);
    r = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                  "\"tools/list\",\"params\":{}}");
    assert_int_equal(json_array_size(json_object_get(r, "tools")),
                     total < 50 ? total : 50);
    json_decref(r);
    json_decref(all);

    for (i = 0; i < 8; i++) {
        free((char *) extra[i].name);
    }

    free(extra);
}


static void
test_tools_list_bad_cursor(void **state)
{
    char              body[256], cursor[64];
    size_t            i;
    json_t           *j, *id;
    ttai_mcp_call_t   call;

    static const char  *bad[] = {
        "\"garbage!\"", "\"\"", "5", "null", "{}",
        "\"dHRhaS10b29sczow\"",         /* ttai-tools:0 */
        "\"dHRhaS10b29sczo5OQ\"",       /* ttai-tools:99 */
        "\"dHRhaS10b29sczoy\"",         /* ttai-tools:2 */
        "\"dHRhaS10b29sczotMQ\"",       /* ttai-tools:-1 */
        "\"eHh4eC10b29sczox\"",         /* xxxx-tools:1 */
    };

    call = in_session("2025-11-25");
    id = json_integer(1);

    /* 4 tools in pages of 2: only offset 2 exists */
    ttai_mcp_server_page_size(srv, 2);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                 "\"method\":\"tools/list\",\"params\":{\"cursor\":%s}}",
                 bad[i]);

        if (i == 7) {
            /* the one valid cursor: the second page */
            json_decref(result_of(&call, body));
            continue;
        }

        j = post(&call, body, 200);
        assert_error(j, -32602, id, "unknown cursor");
        json_decref(j);
    }

    json_decref(id);

    sodium_bin2base64(cursor, sizeof(cursor),
                      (const unsigned char *) "ttai-tools:3", 12,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
             "\"tools/list\",\"params\":{\"cursor\":\"%s\"}}", cursor);
    json_decref(result_of(&call, body));
}


static void
test_tool_descriptor(void **state)
{
    size_t            i;
    json_t           *r, *t, *a, *expect;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");

    r = result_of(&call, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                  "\"tools/list\"}");
    t = json_array_get(json_object_get(r, "tools"), 0);

    assert_string_equal(json_string_value(json_object_get(t, "name")),
                        "get_session_info");
    assert_non_null(json_string_value(json_object_get(t, "title")));
    assert_contains(json_string_value(json_object_get(t, "description")),
                    "who is signed in");

    expect = json_loads("{\"type\":\"object\","
                        "\"additionalProperties\":false}", 0, NULL);
    assert_true(json_equal(json_object_get(t, "inputSchema"), expect));
    json_decref(expect);

    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(t, "outputSchema"), "type")),
                        "object");

    a = json_object_get(t, "annotations");
    assert_true(json_is_true(json_object_get(a, "readOnlyHint")));
    assert_true(json_is_false(json_object_get(a, "destructiveHint")));
    assert_true(json_is_true(json_object_get(a, "idempotentHint")));
    assert_true(json_is_false(json_object_get(a, "openWorldHint")));

    /* a tool without title or output schema has neither key */
    json_array_foreach(json_object_get(r, "tools"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), "broken")
            == 0)
        {
            break;
        }
    }

    assert_string_equal(json_string_value(json_object_get(t, "name")),
                        "broken");
    assert_null(json_object_get(t, "title"));
    assert_null(json_object_get(t, "outputSchema"));

    json_decref(r);
}


static void
test_tools_call_errors(void **state)
{
    json_t           *j, *id;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");
    id = json_integer(9);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"nope\",\"arguments\":{}}}", 200);
    assert_error(j, -32602, id, "Unknown tool: nope");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
             "\"params\":{\"arguments\":{}}}", 200);
    assert_error(j, -32602, id, "name, the tool to call, is required");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\"}",
             200);
    assert_error(j, -32602, id, "name");
    json_decref(j);

    /* a tool that returns nothing, or waits without a way to resume */
    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"counter\",\"arguments\":"
             "{\"mode\":\"empty\"}}}", 200);
    assert_error(j, -32603, id, "tool counter returned no result");
    json_decref(j);

    j = post(&call, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"broken\",\"arguments\":"
             "{\"how\":\"pending\"}}}", 200);
    assert_error(j, -32603, id, "tool broken asked for data");
    json_decref(j);

    json_decref(id);
}


static void
test_tool_out_of_memory(void **state)
{
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"broken\"}}";

    call = in_session("2025-11-25");

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     -1);
    assert_null(reply.body);
    assert_null(reply.pending);
}


static void
test_validation_is_a_result(void **state)
{
    size_t           i;
    json_t          *r;
    ttai_mcp_call_t  call;

    static const char  *cases[][2] = {
        { "{\"name\":\"get_session_info\",\"arguments\":{\"x\":1}}",
          "Invalid arguments for tool get_session_info: unknown argument "
          "\"x\": none are expected here.  Correct them and call it again." },
        { "{\"name\":\"get_quote\",\"arguments\":{}}",
          "argument \"symbol\" is required" },
        { "{\"name\":\"get_quote\"}",
          "argument \"symbol\" is required" },
        { "{\"name\":\"get_quote\",\"arguments\":null}",
          "argument \"symbol\" is required" },
        { "{\"name\":\"get_quote\",\"arguments\":{\"symbol\":7}}",
          "argument \"symbol\" must be a string, not an integer" },
        { "{\"name\":\"get_quote\",\"arguments\":{\"symbol\":"
          "\"ABCDEFGHIJKLMN\"}}",
          "argument \"symbol\" must be at most 12 characters long" },
        { "{\"name\":\"get_quote\",\"arguments\":[\"AAPL\"]}",
          "the arguments must be an object, not an array" },
        { "{\"name\":\"counter\",\"arguments\":{\"mode\":\"odd\"}}",
          "argument \"mode\" must be one of: \"good\", \"bad\"" },
    };

    char  body[512];

    call = in_session("2025-11-25");

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
                 "\"method\":\"tools/call\",\"params\":%s}", cases[i][0]);

        r = result_of(&call, body);
        assert_true(json_is_true(json_object_get(r, "isError")));
        assert_contains(text_of(r), cases[i][1]);
        assert_null(json_object_get(r, "structuredContent"));
        json_decref(r);
    }
}


static void
test_get_session_info(void **state)
{
    json_t           *r, *expect;
    ttai_mcp_call_t   call;

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"get_session_info\",\"arguments\":{}}}";

    call = in_session("2025-06-18");

    r = result_of(&call, body);
    assert_null(json_object_get(r, "isError"));

    expect = json_loads("{\"user\":{\"sub\":\"tt-account-123\","
                        "\"email\":\"test@example.com\"},"
                        "\"session\":{\"id\":\"sess-0123\","
                        "\"protocolVersion\":\"2025-06-18\","
                        "\"createdAt\":\"2027-01-15T08:00:00Z\","
                        "\"client\":{\"name\":\"test-client\","
                        "\"version\":\"1.2\"}},"
                        "\"server\":{\"name\":\"ttai\","
                        "\"version\":\"9.9.9\"}}", 0, NULL);
    assert_non_null(expect);
    assert_true(json_equal(json_object_get(r, "structuredContent"), expect));
    json_decref(expect);

    assert_string_equal(text_of(r),
                        "Signed in as tt-account-123 (test@example.com).\n"
                        "Session sess-0123, protocol 2025-06-18, started "
                        "2027-01-15T08:00:00Z, client test-client 1.2.\n"
                        "Server ttai 9.9.9.");
    json_decref(r);

    /* no email, no clientInfo (or one that is not JSON) */
    call.email = NULL;
    call.session_client = "not json";

    r = result_of(&call, body);
    assert_true(json_is_null(json_object_get(json_object_get(
        json_object_get(r, "structuredContent"), "user"), "email")));
    assert_true(json_is_null(json_object_get(json_object_get(
        json_object_get(r, "structuredContent"), "session"), "client")));
    assert_contains(text_of(r), "Signed in as tt-account-123.\n");
    assert_contains(text_of(r), "client (unnamed).");
    json_decref(r);
}


static void
test_output_schema_is_enforced(void **state)
{
    char              body[256];
    json_t           *r;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");

#define COUNTER(mode)                                                        \
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"            \
             "\"method\":\"tools/call\",\"params\":{\"name\":\"counter\","   \
             "\"arguments\":{\"mode\":\"%s\"}}}", mode)

    COUNTER("good");
    r = result_of(&call, body);
    assert_null(json_object_get(r, "isError"));
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(r, "structuredContent"), "n")), 1);
    json_decref(r);

    COUNTER("bad");
    r = result_of(&call, body);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_contains(text_of(r), "Tool counter made a result that breaks its "
                    "own output schema (field \"n\" must be an integer, not "
                    "a string)");
    assert_null(json_object_get(r, "structuredContent"));
    json_decref(r);

    COUNTER("none");
    r = result_of(&call, body);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_contains(text_of(r), "it has no structuredContent");
    json_decref(r);

    COUNTER("nocontent");
    r = result_of(&call, body);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_contains(text_of(r), "it has no content");
    json_decref(r);

    /* an error result needs no structure */
    COUNTER("error");
    r = result_of(&call, body);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_string_equal(text_of(r), "counter failed: 42");
    json_decref(r);

#undef COUNTER
}


static void
test_pending_and_resume(void **state)
{
    json_t            *j, *r;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":\"q1\",\"method\":\"tools/call\","
        "\"params\":{\"name\":\"get_quote\",\"arguments\":"
        "{\"symbol\":\"AAPL\"}}}";

    call = in_session("2025-11-25");

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.status, 0);
    assert_null(reply.body);
    assert_string_equal(reply.pending->method, "GET");
    assert_string_equal(reply.pending->path, "/market-data/AAPL");
    assert_null(reply.pending->body);
    assert_string_equal(reply.pending->cache_key, "quote:AAPL");
    assert_int_equal(reply.pending->cache_ttl, 10);
    assert_non_null(reply.pending->state);

    assert_int_equal(resume_with(&call, &reply, 200,
                                     "{\"price\":150.25}", 16, NULL), 0);
    assert_null(reply.pending);
    assert_int_equal(reply.status, 200);

    j = json_loads(reply.body, 0, NULL);
    ttai_mcp_reply_free(&reply);

    assert_string_equal(json_string_value(json_object_get(j, "id")), "q1");
    r = json_object_get(j, "result");
    assert_null(json_object_get(r, "isError"));
    assert_string_equal(text_of(r), "AAPL 150.25");
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(r, "structuredContent"), "symbol")), "AAPL");
    json_decref(j);

    /* an upstream error status goes to the tool */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_int_equal(resume_with(&call, &reply, 502, "", 0, NULL),
                     0);
    assert_contains(reply.body, "TastyTrade answered 502");
    assert_contains(reply.body, "\"isError\":true");
    ttai_mcp_reply_free(&reply);

    /* nothing pending: nothing to resume */
    memset(&reply, 0, sizeof(reply));
    assert_int_equal(resume_with(&call, &reply, 200, "{}", 2, NULL),
                     -1);
}


static void
test_steps_and_stores(void **state)
{
    const char           *values[1];
    size_t                lens[1];
    ttai_mcp_call_t       call;
    ttai_mcp_reply_t      reply;
    ttai_mcp_response_t   resp;
    ttai_cache_ttl_t      ttl = { 7, 60, 600, 5 };

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"cached_quote\",\"arguments\":"
        "{\"symbol\":\"X\"}}}";

    call = in_session("2025-11-25");
    ttai_mcp_server_cache_ttl(srv, &ttl);

    /* 1. KV */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->kind, TTAI_PENDING_CACHE);
    assert_int_equal(reply.pending->nkeys, 1);
    assert_string_equal(reply.pending->keys[0], "q:X");

    /* 2. a miss: upstream, to the worker service */
    memset(&resp, 0, sizeof(resp));
    values[0] = NULL;
    lens[0] = 0;
    resp.values = values;
    resp.lens = lens;

    assert_int_equal(ttai_mcp_resume(srv, &call, &reply, &resp), 0);
    assert_non_null(reply.pending);
    assert_int_equal(reply.pending->kind, TTAI_PENDING_HTTP);
    assert_int_equal(reply.pending->service, TTAI_SERVICE_WORKER);
    assert_string_equal(reply.pending->path, "/quotes/X");
    assert_int_equal(reply.nstores, 0);

    /* 3. the answer, and the KV write with the configured lifetime */
    assert_int_equal(resume_with(&call, &reply, 200, "{\"p\":1}", 7, NULL),
                     0);
    assert_null(reply.pending);
    assert_int_equal(reply.nstores, 1);
    assert_string_equal(reply.stores[0].key, "q:X");
    assert_int_equal(reply.stores[0].len, 7);
    assert_memory_equal(reply.stores[0].value, "{\"p\":1}", 7);
    assert_int_equal(reply.stores[0].ttl, 7);
    assert_contains(reply.body, "upstream {\\\"p\\\":1}");
    ttai_mcp_reply_free(&reply);

    /* a hit: answered from KV, nothing stored */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    values[0] = "{\"p\":2}";
    lens[0] = 7;
    assert_int_equal(ttai_mcp_resume(srv, &call, &reply, &resp), 0);
    assert_null(reply.pending);
    assert_int_equal(reply.nstores, 0);
    assert_contains(reply.body, "cached {\\\"p\\\":2}");
    ttai_mcp_reply_free(&reply);
}


/* resumes the pending KV read with one value (NULL: absent) */
static char *
memo_call(ttai_mcp_call_t *call, const char *symbol, const char *value,
    int id)
{
    char                 body[256], *out;
    const char          *values[1];
    size_t               lens[1];
    ttai_mcp_reply_t     reply;
    ttai_mcp_response_t  resp;

    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%d,"
             "\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"memo_quote\",\"arguments\":{\"symbol\":\"%s\"}}}", id,
             symbol);

    assert_int_equal(ttai_mcp_handle(srv, call, body, strlen(body), &reply),
                     0);
    assert_non_null(reply.pending);

    memset(&resp, 0, sizeof(resp));
    values[0] = value;
    lens[0] = value ? strlen(value) : 0;
    resp.values = values;
    resp.lens = lens;

    assert_int_equal(ttai_mcp_resume(srv, call, &reply, &resp), 0);
    assert_null(reply.pending);

    out = strndup(reply.body, reply.len);
    ttai_mcp_reply_free(&reply);

    return out;
}


static void
test_memo(void **state)
{
    char             *a, *b;
    ttai_mcp_call_t   call;

    call = in_session("2025-11-25");
    memo_resumes = 0;

    a = memo_call(&call, "X", "{\"p\":1}", 1);
    assert_int_equal(memo_resumes, 1);
    assert_contains(a, "value {\\\"p\\\":1}");

    /* the same call on the same value: the same answer, tool not run */
    b = memo_call(&call, "X", "{\"p\":1}", 2);
    assert_int_equal(memo_resumes, 1);
    assert_contains(b, "\"id\":2,");
    assert_string_equal(strstr(a, "\"result\""), strstr(b, "\"result\""));
    free(b);

    /* a new value, or other arguments: the tool runs */
    b = memo_call(&call, "X", "{\"p\":2}", 3);
    assert_int_equal(memo_resumes, 2);
    assert_contains(b, "value {\\\"p\\\":2}");
    free(b);

    b = memo_call(&call, "Y", "{\"p\":1}", 4);
    assert_int_equal(memo_resumes, 3);
    free(b);

    /* an error answer is never remembered */
    b = memo_call(&call, "Z", NULL, 5);
    free(b);
    b = memo_call(&call, "Z", NULL, 6);
    assert_int_equal(memo_resumes, 5);
    free(b);

    /* far more calls than the memo holds: still right */
    for (int i = 0; i < 200; i++) {
        char  v[32];

        snprintf(v, sizeof(v), "[%d]", i);
        b = memo_call(&call, "X", v, 100 + i);
        assert_non_null(strstr(b, v));
        free(b);
    }

    b = memo_call(&call, "X", "{\"p\":1}", 7);
    assert_string_equal(strstr(a, "\"result\""), strstr(b, "\"result\""));
    free(b);
    free(a);
}


static void
test_pending_failures(void **state)
{
    char               error[600];
    json_t            *j, *r;
    const char        *text;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  body[] =
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"get_quote\",\"arguments\":"
        "{\"symbol\":\"SPY\"}}}";

    call = in_session("2025-11-25");

    /* no response at all: the core says why, for any tool */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_int_equal(resume_with(&call, &reply, 0, NULL, 0,
                                     "timeout"), 0);
    assert_int_equal(reply.status, 200);

    j = json_loads(reply.body, 0, NULL);
    ttai_mcp_reply_free(&reply);
    r = json_object_get(j, "result");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 4);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_string_equal(text_of(r), "Tool get_quote failed: timeout");
    json_decref(j);

    /* a long reason with control characters: cut short and cleaned */
    memset(error, 'e', sizeof(error) - 1);
    error[sizeof(error) - 1] = '\0';
    error[3] = '\n';
    error[4] = '\x1b';
    error[5] = '\xff';

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_int_equal(resume_with(&call, &reply, 0, NULL, 0, error),
                     0);

    j = json_loads(reply.body, 0, NULL);
    ttai_mcp_reply_free(&reply);
    r = json_object_get(j, "result");
    text = text_of(r);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_true(strlen(text) < 450);
    assert_contains(text, "failed: eee???eee");
    json_decref(j);

    /* no reason given */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_int_equal(resume_with(&call, &reply, 0, NULL, 0, NULL),
                     0);
    assert_contains(reply.body, "failed: no response\"");
    ttai_mcp_reply_free(&reply);

    /* the shell gives up: freeing the reply frees the continuation */
    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), &reply),
                     0);
    assert_non_null(reply.pending);
    ttai_mcp_reply_free(&reply);
    assert_null(reply.pending);
}


static void
test_batches(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  batch[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"nope\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}},"
        "7]";

    /* a 2025-03-26 session takes batches */
    call = in_session("2025-03-26");

    assert_int_equal(ttai_mcp_handle(srv, &call, batch, strlen(batch),
                                     &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body,
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},"
        "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"error\":{\"code\":-32601,"
        "\"message\":\"Method not found: nope\"}},"
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
        "\"message\":\"Invalid Request: \\\"id\\\" must be a string or an "
        "integer\"}},"
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
        "\"message\":\"Invalid Request: a JSON-RPC message must be an "
        "object\"}}]");
    ttai_mcp_reply_free(&reply);

    /* a batch of one is still answered with an array */
    j = post(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
             200);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);

    /* nothing to answer */
    assert_null(post(&call, "[{\"jsonrpc\":\"2.0\",\"method\":"
                     "\"notifications/initialized\"},{\"jsonrpc\":\"2.0\","
                     "\"id\":1,\"result\":{}}]", 202));

    post_error(&call, "[]", 400, -32600, "an empty batch");

    /* requests in a batch need a session too */
    call = no_session();
    call.protocol_header = "2025-03-26";
    post_error(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
               400, -32000, "Mcp-Session-Id header is required");
    assert_null(post(&call, "[{\"jsonrpc\":\"2.0\",\"method\":"
                     "\"notifications/initialized\"}]", 202));
}


static void
test_batches_refused(void **state)
{
    ttai_mcp_call_t  call;

    static const char  ping[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]";

    call = in_session("2025-11-25");
    post_error(&call, ping, 400, -32600, "batches are not supported in this "
               "protocol version (2025-11-25)");

    call = in_session("2025-06-18");
    post_error(&call, ping, 400, -32600, "batches are not supported");

    /* the session's version wins over the header */
    call.protocol_header = "2025-03-26";
    post_error(&call, ping, 400, -32600, "batches are not supported");

    /* before a session: the header */
    call = no_session();
    call.protocol_header = "2025-06-18";
    post_error(&call, ping, 400, -32600, "batches are not supported");
}


static void
test_batch_initialize(void **state)
{
    json_t            *j;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  init_0326[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
        "\"params\":{\"protocolVersion\":\"2025-03-26\"}}]";

    call = no_session();

    /* the version initialize asks for decides */
    assert_int_equal(ttai_mcp_handle(srv, &call, init_0326,
                                     strlen(init_0326), &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.new_session, 1);
    assert_string_equal(reply.version, "2025-03-26");

    j = json_loads(reply.body, 0, NULL);
    assert_true(json_is_array(j));
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        json_array_get(j, 0), "result"), "protocolVersion")), "2025-03-26");
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    post_error(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"initialize\",\"params\":{\"protocolVersion\":"
               "\"2025-06-18\"}}]", 400, -32600, "batches are not supported");

    /* an unknown version negotiates the latest, which has no batches */
    post_error(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"initialize\",\"params\":{\"protocolVersion\":"
               "\"2024-11-05\"}}]", 400, -32600, "batches are not supported");

    post_error(&call, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
               "\"initialize\",\"params\":{\"protocolVersion\":"
               "\"2025-03-26\"}},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
               "\"ping\"}]", 400, -32600, "initialize must be sent alone");
}


static void
test_batch_with_pending_tools(void **state)
{
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  batch[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"get_quote\",\"arguments\":"
        "{\"symbol\":\"AAPL\"}}},"
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\","
        "\"params\":{\"level\":\"error\"}},"
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"get_quote\",\"arguments\":"
        "{\"symbol\":\"SPY\"}}}]";

    call = in_session("2025-03-26");

    assert_int_equal(ttai_mcp_handle(srv, &call, batch, strlen(batch),
                                     &reply), 0);
    assert_non_null(reply.pending);
    assert_string_equal(reply.pending->path, "/market-data/AAPL");

    /* the rest of the batch runs up to the next waiting tool */
    assert_int_equal(resume_with(&call, &reply, 200,
                                     "{\"price\":1}", 11, NULL), 0);
    assert_non_null(reply.pending);
    assert_string_equal(reply.pending->path, "/market-data/SPY");
    assert_null(reply.body);

    assert_int_equal(resume_with(&call, &reply, 0, NULL, 0,
                                     "connection refused"), 0);
    assert_null(reply.pending);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.log_level, "error");

    assert_contains(reply.body, "[{\"jsonrpc\":\"2.0\",\"id\":1,"
                    "\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":2,");
    assert_contains(reply.body, "AAPL 1.00");
    assert_contains(reply.body, "{\"jsonrpc\":\"2.0\",\"id\":3,"
                    "\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":4,");
    assert_contains(reply.body, "Tool get_quote failed: connection refused");
    ttai_mcp_reply_free(&reply);
}


static void
test_register_errors(void **state)
{
    char          name[130];
    size_t        i;
    ttai_tool_t   t;

    static const char  *cases[][3] = {
        /* name, input schema, expected message */
        { "bad name", "{\"type\":\"object\"}", "tool name \"bad name\"" },
        { "", "{\"type\":\"object\"}", "must be 1 to 128" },
        { "get_quote", "{\"type\":\"object\"}", "registered twice" },
        { "t", NULL, "has no inputSchema" },
        { "t", "{\"type\":", "inputSchema is not JSON" },
        { "t", "{\"type\":\"string\"}", "must have \"type\": \"object\"" },
        { "t", "{\"properties\":{}}", "must have \"type\": \"object\"" },
        { "t", "{\"type\":\"object\",\"properties\":{\"s\":"
               "{\"type\":\"string\",\"pattern\":\"x\"}}}",
          "tool \"t\": inputSchema: schema \"s\" uses \"pattern\"" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = counter_tool;
        t.name = cases[i][0];
        t.input_schema = cases[i][1];

        assert_int_equal(ttai_mcp_register_tool(srv, &t), -1);
        assert_contains(ttai_mcp_server_error(srv), cases[i][2]);
    }

    t = counter_tool;
    t.name = "t";
    t.output_schema = "{\"type\":\"array\"}";
    assert_int_equal(ttai_mcp_register_tool(srv, &t), -1);
    assert_contains(ttai_mcp_server_error(srv), "outputSchema must have");

    t = counter_tool;
    t.name = "t";
    t.description = NULL;
    assert_int_equal(ttai_mcp_register_tool(srv, &t), -1);
    assert_contains(ttai_mcp_server_error(srv), "needs a description");

    t = counter_tool;
    t.name = "t";
    t.run = NULL;
    assert_int_equal(ttai_mcp_register_tool(srv, &t), -1);

    /* 128 characters is the longest name */
    memset(name, 'a', sizeof(name));
    name[128] = '\0';

    t = counter_tool;
    t.name = name;
    assert_int_equal(ttai_mcp_register_tool(srv, &t), 0);
    assert_string_equal(ttai_mcp_server_error(srv), "");

    name[128] = 'b';
    name[129] = '\0';
    assert_int_equal(ttai_mcp_register_tool(srv, &t), -1);

    t.name = "a.b-c_D9";
    assert_int_equal(ttai_mcp_register_tool(srv, &t), 0);
}


static void
test_result_helpers(void **state)
{
    json_t  *r, *expect;

    r = ttai_tool_text_result("hello", json_pack("{s:i}", "a", 1));
    expect = json_loads("{\"content\":[{\"type\":\"text\",\"text\":\"hello\"}],"
                        "\"structuredContent\":{\"a\":1}}", 0, NULL);
    assert_true(json_equal(r, expect));
    json_decref(r);
    json_decref(expect);

    r = ttai_tool_text_result(NULL, NULL);
    expect = json_loads("{\"content\":[{\"type\":\"text\",\"text\":\"\"}]}",
                        0, NULL);
    assert_true(json_equal(r, expect));
    json_decref(r);
    json_decref(expect);

    /* text that is not UTF-8 is cleaned, not lost */
    r = ttai_tool_text_result("caf\xc3", NULL);
    assert_string_equal(text_of(r), "caf?");
    json_decref(r);

    r = ttai_tool_error_result("symbol %s not found (%d)", "XYZ", 404);
    expect = json_loads("{\"content\":[{\"type\":\"text\",\"text\":"
                        "\"symbol XYZ not found (404)\"}],\"isError\":true}",
                        0, NULL);
    assert_true(json_equal(r, expect));
    json_decref(r);
    json_decref(expect);

    r = ttai_tool_error_result("upstream said: %s", "\xff\xfe ok \xe2\x82");
    assert_string_equal(text_of(r), "upstream said: ?? ok ??");
    json_decref(r);

    /* a surrogate, an overlong form, and a valid 4-byte sequence */
    r = ttai_tool_error_result("%s", "\xed\xa0\x80|\xc0\xaf|\xf0\x9f\x98\x80");
    assert_string_equal(text_of(r), "???|??|\xf0\x9f\x98\x80");
    json_decref(r);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test_setup_teardown(test_initialize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initialize_bad_params, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_body_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_messages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notifications_and_responses,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_list_pagination, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tools_list_bad_cursor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tool_descriptor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tools_call_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tool_out_of_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validation_is_a_result, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_session_info, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output_schema_is_enforced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_and_resume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_steps_and_stores, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_memo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_initialize, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_with_pending_tools, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_register_errors, setup,
                                        teardown),
        cmocka_unit_test(test_result_helpers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
