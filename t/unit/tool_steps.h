
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TOOL_STEPS_H_INCLUDED_
#define _TOOL_STEPS_H_INCLUDED_


/*
 * Driving a tool through the MCP core as the shell would: tools/call,
 * then a resume for each pending step, with KV values or an HTTP
 * response.  Included by the tool tests after cmocka.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


static ttai_mcp_server_t  *srv;


static inline int
steps_setup(void **state)
{
    ttai_cache_ttl_t  ttl = { 5, 60, 600, 5 };

    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);
    ttai_mcp_server_cache_ttl(srv, &ttl);

    return 0;
}


static inline int
steps_teardown(void **state)
{
    ttai_mcp_server_free(srv);
    srv = NULL;

    return 0;
}


static inline ttai_mcp_call_t
steps_call(void)
{
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = "tt-account-123";
    call.email = "test@example.com";
    call.session_id = "sess-0123";
    call.session_version = "2025-11-25";
    call.session_created = 1800000000L;

    return call;
}


/* tools/call name with arguments (JSON text) */

static inline void
call_tool(ttai_mcp_reply_t *reply, const char *name, const char *args)
{
    char             body[8192];
    ttai_mcp_call_t  call;

    call = steps_call();

    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"%s\",\"arguments\":%s}}", name, args);

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), reply),
                     0);
}


/* the pending KV read: its keys, checked */

static inline void
expect_kv(ttai_mcp_reply_t *reply, size_t n, const char *const *keys)
{
    size_t  i;

    assert_non_null(reply->pending);
    assert_int_equal(reply->pending->kind, TTAI_PENDING_CACHE);
    assert_int_equal(reply->pending->nkeys, n);

    for (i = 0; i < n; i++) {
        assert_string_equal(reply->pending->keys[i], keys[i]);
    }
}


/* the pending request: service, path and cache key (NULL: none) */

static inline void
expect_http(ttai_mcp_reply_t *reply, int service, const char *path,
    const char *cache_key, long ttl)
{
    assert_non_null(reply->pending);
    assert_int_equal(reply->pending->kind, TTAI_PENDING_HTTP);
    assert_int_equal(reply->pending->service, service);
    assert_string_equal(reply->pending->method, "GET");
    assert_string_equal(reply->pending->path, path);
    assert_null(reply->pending->body);

    if (cache_key == NULL) {
        assert_null(reply->pending->cache_key);

    } else {
        assert_non_null(reply->pending->cache_key);
        assert_string_equal(reply->pending->cache_key, cache_key);
        assert_int_equal(reply->pending->cache_ttl, ttl);
    }
}


static inline void
resume_kv(ttai_mcp_reply_t *reply, const char *const *values)
{
    size_t               i, n;
    size_t               lens[128];
    ttai_mcp_call_t      call;
    ttai_mcp_response_t  resp;

    call = steps_call();
    n = reply->pending->nkeys;
    assert_true(n <= 128);

    for (i = 0; i < n; i++) {
        lens[i] = values[i] ? strlen(values[i]) : 0;
    }

    memset(&resp, 0, sizeof(resp));
    resp.values = (const char **) values;
    resp.lens = lens;

    assert_int_equal(ttai_mcp_resume(srv, &call, reply, &resp), 0);
}


/* every key absent */

static inline void
resume_kv_empty(ttai_mcp_reply_t *reply)
{
    const char  *values[128];

    memset(values, 0, sizeof(values));
    resume_kv(reply, values);
}


static inline void
resume_http(ttai_mcp_reply_t *reply, int status, const char *body)
{
    ttai_mcp_call_t      call;
    ttai_mcp_response_t  resp;

    call = steps_call();

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.body = body;
    resp.len = body ? strlen(body) : 0;

    assert_int_equal(ttai_mcp_resume(srv, &call, reply, &resp), 0);
}


/* the reply is done: its CallToolResult (the JSON-RPC answer: *root) */

static inline json_t *
result_of(ttai_mcp_reply_t *reply, json_t **root)
{
    json_t  *r;

    assert_null(reply->pending);
    assert_int_equal(reply->status, 200);
    assert_non_null(reply->body);

    *root = json_loads(reply->body, 0, NULL);
    assert_non_null(*root);

    r = json_object_get(*root, "result");
    assert_non_null(r);

    return r;
}


static inline const char *
text_of(json_t *result)
{
    const char  *t;

    t = json_string_value(json_object_get(
            json_array_get(json_object_get(result, "content"), 0), "text"));
    assert_non_null(t);

    return t;
}


static inline void
assert_has(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL) {
        fail_msg("\"%s\"\nlacks \"%s\"", haystack, needle);
    }
}


static inline void
assert_lacks(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) != NULL) {
        fail_msg("\"%s\"\nhas \"%s\"", haystack, needle);
    }
}


/* a result without isError: its structuredContent */

static inline json_t *
structured_of(json_t *result)
{
    json_t  *sc;

    if (json_is_true(json_object_get(result, "isError"))) {
        fail_msg("an error: %s", text_of(result));
    }

    sc = json_object_get(result, "structuredContent");
    assert_non_null(sc);

    return sc;
}


/* an isError result whose text has part */

static inline void
assert_tool_error(json_t *result, const char *part)
{
    assert_true(json_is_true(json_object_get(result, "isError")));
    assert_has(text_of(result), part);
}


static inline double
number_at(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (!json_is_number(v)) {
        fail_msg("%s is not a number", key);
    }

    return json_number_value(v);
}


static inline const char *
string_at(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (!json_is_string(v)) {
        fail_msg("%s is not a string", key);
    }

    return json_string_value(v);
}


#endif /* _TOOL_STEPS_H_INCLUDED_ */
