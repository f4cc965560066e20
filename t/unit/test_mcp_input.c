
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
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


/*
 * Multi round-trip requests: a tool that asks the user, the sealed
 * requestState, and every way a retry can be wrong.
 */

#define V2026  "2026-07-28"


static ttai_mcp_server_t  *srv;
static unsigned char       key[32];


static int confirm_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int confirm_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int link_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);


/* asks to confirm an amount; keeps a secret in its state */
static const ttai_tool_t  confirm_tool = {
    "confirm", NULL, "Asks the user to confirm.",
    "{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":"
    "\"integer\"}},\"required\":[\"amount\"]}",
    NULL, 0, confirm_run, NULL, NULL, confirm_input
};

/* asks the user to open a page: URL mode */
static const ttai_tool_t  link_tool = {
    "link", NULL, "Asks the user to open a page.",
    "{\"type\":\"object\"}",
    NULL, 0, link_run, NULL, NULL, confirm_input
};


static json_t *
confirm_ask(int round)
{
    json_t  *req;

    req = ttai_tool_elicit_form("Place it?",
              json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object",
                        "properties", "ok", "type", "boolean",
                        "required", "ok"));

    return ttai_tool_input_required(json_pack("{s:o}", round == 1
                                                        ? "ok" : "again",
                                              req));
}


static int
confirm_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_object_set_new(ctx->state, "secret", json_string("s3cr3t"));
    json_object_set_new(ctx->state, "round", json_integer(1));

    *result = confirm_ask(1);

    return *result ? 0 : -1;
}


static int
confirm_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char         text[128];
    json_t      *content;
    const char  *action;

    action = ttai_tool_input_action(responses, "ok", &content);

    if (action == NULL) {
        /* not answered: ask again, one round later */
        json_object_set_new(ctx->state, "round", json_integer(2));
        *result = confirm_ask(2);
        return *result ? 0 : -1;
    }

    if (strcmp(action, "accept") != 0) {
        snprintf(text, sizeof(text), "nothing done: the user chose %s",
                 action);
        *result = ttai_tool_text_result(text, NULL);
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text), "done %lld ok=%d secret=%s round=%lld",
             (long long) json_integer_value(json_object_get(args, "amount")),
             json_is_true(json_object_get(content, "ok")),
             json_string_value(json_object_get(ctx->state, "secret")),
             (long long) json_integer_value(json_object_get(ctx->state,
                                                            "round")));

    *result = ttai_tool_text_result(text, NULL);

    return *result ? 0 : -1;
}


static int
link_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "ok",
                  ttai_tool_elicit_url("Sign in at TastyTrade",
                                       "https://example.com/connect")));

    return *result ? 0 : -1;
}


static ttai_mcp_server_t *
server(const unsigned char *k)
{
    ttai_mcp_server_t  *s;

    s = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(s);
    assert_int_equal(ttai_mcp_register_tool(s, &confirm_tool), 0);
    assert_int_equal(ttai_mcp_register_tool(s, &link_tool), 0);

    if (k != NULL) {
        ttai_mcp_server_state_key(s, k, 0);
    }

    return s;
}


static int
setup(void **state)
{
    randombytes_buf(key, sizeof(key));
    srv = server(key);

    return 0;
}


static int
teardown(void **state)
{
    ttai_mcp_server_free(srv);

    return 0;
}


/*
 * A tools/call in the stateless revision by sub, with caps as the
 * client's capabilities and extra params text (",..." or ""); returns
 * the parsed answer and its status
 */

static json_t *
call_tool(ttai_mcp_server_t *s, const char *sub, const char *tool,
    const char *args, const char *caps, const char *extra, time_t now,
    int *status)
{
    char              *body;
    json_t            *j;
    size_t             len;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    memset(&call, 0, sizeof(call));
    call.sub = sub;
    call.now = now;
    call.protocol_header = V2026;
    call.method_header = "tools/call";
    call.name_header = tool;

    len = strlen(tool) + strlen(args) + strlen(caps) + strlen(extra) + 512;
    body = malloc(len);
    assert_non_null(body);

    snprintf(body, len, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
             "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s,"
             "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
             "\"" V2026 "\",\"io.modelcontextprotocol/clientCapabilities\":"
             "%s}%s}}", tool, args, caps, extra);

    assert_int_equal(ttai_mcp_handle(s, &call, body, strlen(body), &reply),
                     0);
    free(body);

    assert_null(reply.pending);
    *status = reply.status;

    j = json_loadb(reply.body, reply.len, 0, NULL);
    assert_non_null(j);
    ttai_mcp_reply_free(&reply);

    return j;
}


/* the first round: the requestState, copied */

static char *
ask(ttai_mcp_server_t *s, const char *sub, const char *args)
{
    int          status;
    char        *state, *text;
    json_t      *j, *r;

    j = call_tool(s, sub, "confirm", args, "{\"elicitation\":{}}", "", 0,
                  &status);
    assert_int_equal(status, 200);

    r = json_object_get(j, "result");
    assert_string_equal(json_string_value(json_object_get(r, "resultType")),
                        "input_required");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_object_get(r, "inputRequests"), "ok"),
                            "method")),
                        "elicitation/create");

    /* an answer that waits for input is never cached */
    assert_null(json_object_get(r, "ttlMs"));

    state = strdup(json_string_value(json_object_get(r, "requestState")));
    assert_non_null(state);

    /* sealed: the tool's secret does not show */
    assert_null(strstr(state, "s3cr3t"));
    text = json_dumps(r, 0);
    assert_null(strstr(text, "s3cr3t"));
    free(text);

    json_decref(j);

    return state;
}


static json_t *
retry(ttai_mcp_server_t *s, const char *sub, const char *args,
    const char *state, const char *responses, time_t now, int *status)
{
    char    extra[4096];

    snprintf(extra, sizeof(extra), ",\"requestState\":\"%s\"%s%s", state,
             responses ? ",\"inputResponses\":" : "",
             responses ? responses : "");

    return call_tool(s, sub, "confirm", args, "{\"elicitation\":{}}", extra,
                     now, status);
}


static const char *
text_of(json_t *j)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(
               json_object_get(j, "result"), "content"), 0), "text"));
}


static void
expect_refused(json_t *j, int status, const char *why)
{
    json_t  *e;

    e = json_object_get(j, "error");

    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(e, "code")), -32602);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            e, "data"), "reason")),
                        "invalid_request_state");
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")),
                           why));
}


static void
test_round_trip(void **state)
{
    int      status;
    char    *st;
    json_t  *j;

    st = ask(srv, "alice", "{\"amount\":3}");

    j = retry(srv, "alice", "{\"amount\":3}", st,
              "{\"ok\":{\"action\":\"accept\",\"content\":{\"ok\":true}}}",
              0, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "result"), "resultType")),
                        "complete");
    assert_string_equal(text_of(j), "done 3 ok=1 secret=s3cr3t round=1");
    json_decref(j);

    /* the same state again: not single-use, by design (see the core) */
    j = retry(srv, "alice", "{\"amount\":3}", st,
              "{\"ok\":{\"action\":\"decline\"}}", 0, &status);
    assert_string_equal(text_of(j), "nothing done: the user chose decline");
    json_decref(j);

    j = retry(srv, "alice", "{\"amount\":3}", st,
              "{\"ok\":{\"action\":\"cancel\"}}", 0, &status);
    assert_string_equal(text_of(j), "nothing done: the user chose cancel");
    json_decref(j);

    free(st);
}


static void
test_multi_round(void **state)
{
    int          status;
    char        *st, *st2;
    json_t      *j, *r;

    st = ask(srv, "alice", "{\"amount\":3}");

    /* no answer: asked again, with a new state */
    j = retry(srv, "alice", "{\"amount\":3}", st, "{}", 0, &status);
    r = json_object_get(j, "result");
    assert_string_equal(json_string_value(json_object_get(r, "resultType")),
                        "input_required");
    assert_non_null(json_object_get(json_object_get(r, "inputRequests"),
                                    "again"));
    st2 = strdup(json_string_value(json_object_get(r, "requestState")));
    assert_string_not_equal(st, st2);
    json_decref(j);

    j = retry(srv, "alice", "{\"amount\":3}", st2,
              "{\"ok\":{\"action\":\"accept\",\"content\":{\"ok\":false}}}",
              0, &status);
    assert_string_equal(text_of(j), "done 3 ok=0 secret=s3cr3t round=2");
    json_decref(j);

    free(st);
    free(st2);
}


static void
test_refusals(void **state)
{
    int                 status;
    char               *st, *bad;
    size_t              n;
    json_t             *j;
    unsigned char       other[32];
    ttai_mcp_server_t  *s2;

    static const char   yes[] = "{\"ok\":{\"action\":\"accept\","
                                "\"content\":{\"ok\":true}}}";

    st = ask(srv, "alice", "{\"amount\":3}");

    /* tampered: one character changed, and a tail added */
    bad = strdup(st);
    n = strlen(bad);
    bad[n / 2] = (bad[n / 2] == 'A') ? 'B' : 'A';
    j = retry(srv, "alice", "{\"amount\":3}", bad, yes, 0, &status);
    expect_refused(j, status, "changed");
    json_decref(j);
    free(bad);

    bad = malloc(strlen(st) + 16);
    sprintf(bad, "%s-TAMPERED", st);
    j = retry(srv, "alice", "{\"amount\":3}", bad, yes, 0, &status);
    expect_refused(j, status, "requestState");
    json_decref(j);
    free(bad);

    /* made up */
    j = retry(srv, "alice", "{\"amount\":3}", "v1.AAAA", yes, 0, &status);
    expect_refused(j, status, "not made by this server");
    json_decref(j);

    /* another user's */
    j = retry(srv, "bob", "{\"amount\":3}", st, yes, 0, &status);
    expect_refused(j, status, "another user");
    json_decref(j);

    /* the arguments changed */
    j = retry(srv, "alice", "{\"amount\":300}", st, yes, 0, &status);
    expect_refused(j, status, "arguments");
    json_decref(j);

    /* the same arguments in another order and spacing are the same */
    free(st);
    st = ask(srv, "alice", "{\"amount\":3,\"note\":{\"b\":1,\"a\":2}}");
    j = retry(srv, "alice", "{ \"note\" : {\"a\":2,\"b\":1}, \"amount\":3 }",
              st, yes, 0, &status);
    assert_non_null(json_object_get(j, "result"));
    json_decref(j);

    /* expired: ten minutes and a second later */
    j = retry(srv, "alice", "{\"amount\":3,\"note\":{\"b\":1,\"a\":2}}", st,
              yes, time(NULL) + 601, &status);
    expect_refused(j, status, "expired");
    json_decref(j);

    /* another tool's call with this state */
    bad = malloc(strlen(st) + 64);
    sprintf(bad, ",\"requestState\":\"%s\",\"inputResponses\":{}", st);
    j = call_tool(srv, "alice", "link", "{\"amount\":3,\"note\":{\"b\":1,"
                  "\"a\":2}}", "{\"elicitation\":{\"url\":{}}}", bad, 0,
                  &status);
    expect_refused(j, status, "another tool");
    json_decref(j);
    free(bad);

    /* responses without a state */
    j = call_tool(srv, "alice", "confirm", "{\"amount\":3}",
                  "{\"elicitation\":{}}", ",\"inputResponses\":{}", 0,
                  &status);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
                                                                "error"),
                                                        "code")), -32602);
    json_decref(j);

    /* another server with the same key continues; with another, not */
    s2 = server(key);
    j = retry(s2, "alice", "{\"amount\":3,\"note\":{\"b\":1,\"a\":2}}", st,
              yes, 0, &status);
    assert_string_equal(text_of(j), "done 3 ok=1 secret=s3cr3t round=1");
    json_decref(j);
    ttai_mcp_server_free(s2);

    randombytes_buf(other, sizeof(other));
    s2 = server(other);
    j = retry(s2, "alice", "{\"amount\":3,\"note\":{\"b\":1,\"a\":2}}", st,
              yes, 0, &status);
    expect_refused(j, status, "another key");
    json_decref(j);
    ttai_mcp_server_free(s2);

    free(st);
}


static void
test_capabilities(void **state)
{
    int      status;
    json_t  *j, *e, *r;

    /* no elicitation at all */
    j = call_tool(srv, "alice", "confirm", "{\"amount\":3}", "{}", "", 0,
                  &status);
    e = json_object_get(j, "error");
    assert_int_equal(status, 400);
    assert_int_equal(json_integer_value(json_object_get(e, "code")), -32021);
    assert_true(json_is_object(json_object_get(json_object_get(json_object_get(
                    e, "data"), "requiredCapabilities"), "elicitation")));
    json_decref(j);

    /* form only, for a URL request */
    j = call_tool(srv, "alice", "link", "{}", "{\"elicitation\":{}}", "", 0,
                  &status);
    e = json_object_get(j, "error");
    assert_int_equal(status, 400);
    assert_non_null(json_object_get(json_object_get(json_object_get(
                        json_object_get(e, "data"), "requiredCapabilities"),
                        "elicitation"), "url"));
    json_decref(j);

    /* URL only, for a form request */
    j = call_tool(srv, "alice", "confirm", "{\"amount\":3}",
                  "{\"elicitation\":{\"url\":{}}}", "", 0, &status);
    assert_int_equal(status, 400);
    json_decref(j);

    j = call_tool(srv, "alice", "link", "{}",
                  "{\"elicitation\":{\"url\":{}}}", "", 0, &status);
    assert_int_equal(status, 200);
    r = json_object_get(json_object_get(json_object_get(j, "result"),
                                        "inputRequests"), "ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            r, "params"), "mode")), "url");
    json_decref(j);
}


static void
test_legacy_and_no_key(void **state)
{
    json_t             *j, *r;
    ttai_mcp_call_t     call;
    ttai_mcp_reply_t    reply;
    ttai_mcp_server_t  *s2;
    int                 status;

    static const char  body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
        "\"tools/call\",\"params\":{\"name\":\"confirm\",\"arguments\":"
        "{\"amount\":3}}}";

    /* a 2025 session is told what to do, not asked */
    memset(&call, 0, sizeof(call));
    call.sub = "alice";
    call.session_id = "s";
    call.session_version = "2025-11-25";
    call.session_log_level = "";

    assert_int_equal(ttai_mcp_handle(srv, &call, body, sizeof(body) - 1,
                                     &reply), 0);
    j = json_loadb(reply.body, reply.len, 0, NULL);
    r = json_object_get(j, "result");
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_null(json_object_get(r, "requestState"));
    assert_non_null(strstr(text_of(j), "elicitation capability"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* a server with no key cannot ask */
    s2 = server(NULL);
    j = call_tool(s2, "alice", "confirm", "{\"amount\":3}",
                  "{\"elicitation\":{}}", "", 0, &status);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
                                                                "error"),
                                                        "code")), -32603);
    json_decref(j);
    ttai_mcp_server_free(s2);
}


/* a 2025 session's call to confirm, whose client declared caps */

static void
legacy_call(ttai_mcp_reply_t *reply, const char *caps, const char *tool)
{
    char             body[256];
    ttai_mcp_call_t  call;

    memset(&call, 0, sizeof(call));
    call.sub = "alice";
    call.session_id = "s";
    call.session_version = "2025-11-25";
    call.session_log_level = "";
    call.session_caps = caps;

    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":7,"
             "\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":{\"amount\":3}}}", tool);

    assert_int_equal(ttai_mcp_handle(srv, &call, body, strlen(body), reply),
                     0);
}


/* the question the reply asks: its id, checked against its event */

static const char *
legacy_question(ttai_mcp_reply_t *reply, const char *key_field)
{
    json_t      *ev;
    const char  *id;

    assert_non_null(reply->pending);
    assert_int_equal(reply->pending->kind, TTAI_PENDING_ASK);
    assert_int_equal(reply->pending->nasks, 1);
    assert_true(reply->pending->ms > 0);
    assert_null(reply->body);

    id = reply->pending->ask_ids[0];
    assert_int_equal(strlen(id), TTAI_MCP_ASK_ID_LEN);
    assert_int_equal(strncmp(id, TTAI_MCP_ASK_PREFIX,
                             strlen(TTAI_MCP_ASK_PREFIX)), 0);

    /* the request to the client is the stream's event */
    assert_int_equal(reply->nevents, 1);
    ev = json_loads(reply->events[0], 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "id")), id);
    assert_string_equal(json_string_value(json_object_get(ev, "method")),
                        "elicitation/create");
    assert_non_null(json_object_get(json_object_get(json_object_get(
                        json_object_get(ev, "params"), "requestedSchema"),
                        "properties"), key_field));
    json_decref(ev);

    return id;
}


/* resumes with one answer (NULL: none came, for why) */

static json_t *
legacy_resume(ttai_mcp_reply_t *reply, const char *answer, const char *why)
{
    size_t               len;
    json_t              *j;
    const char          *answers[1];
    ttai_mcp_call_t      call;
    ttai_mcp_response_t  resp;

    memset(&call, 0, sizeof(call));
    call.sub = "alice";
    call.session_id = "s";
    call.session_version = "2025-11-25";
    call.session_log_level = "";

    memset(&resp, 0, sizeof(resp));
    answers[0] = answer;
    len = answer ? strlen(answer) : 0;
    resp.answers = answer ? answers : NULL;
    resp.answer_lens = &len;
    resp.error = why;

    assert_int_equal(ttai_mcp_resume(srv, &call, reply, &resp), 0);

    if (reply->pending != NULL) {
        return NULL;
    }

    j = json_loadb(reply->body, reply->len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);

    return j;
}


static void
test_legacy_asks(void **state)
{
    char              answer[256];
    json_t           *j, *caps;
    const char       *id;
    ttai_mcp_call_t   call;
    ttai_mcp_reply_t  reply;

    static const char  init[] = "{\"jsonrpc\":\"2.0\",\"id\":0,"
        "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"2025-11-25\",\"capabilities\":{\"elicitation\":{\"url\":{},"
        "\"huge\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},"
        "\"sampling\":{}},\"clientInfo\":{\"name\":\"c\",\"version\":"
        "\"1\"}}}";

    /* initialize keeps the capabilities ttai uses, and only those */
    memset(&call, 0, sizeof(call));
    call.sub = "alice";
    assert_int_equal(ttai_mcp_handle(srv, &call, init, sizeof(init) - 1,
                                     &reply), 0);
    assert_true(reply.new_session);
    assert_non_null(reply.client_caps);
    caps = json_loads(reply.client_caps, 0, NULL);
    assert_non_null(json_object_get(json_object_get(caps, "elicitation"),
                                    "url"));
    assert_null(json_object_get(json_object_get(caps, "elicitation"),
                                "huge"));
    assert_null(json_object_get(caps, "sampling"));
    json_decref(caps);
    ttai_mcp_reply_free(&reply);

    /* accepted: the call goes on in memory, its state never sealed */
    legacy_call(&reply, "{\"elicitation\":{\"form\":{}}}", "confirm");
    id = legacy_question(&reply, "ok");
    snprintf(answer, sizeof(answer), "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
             "\"result\":{\"action\":\"accept\",\"content\":{\"ok\":"
             "true}}}", id);
    j = legacy_resume(&reply, answer, NULL);
    assert_string_equal(text_of(j), "done 3 ok=1 secret=s3cr3t round=1");
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* declined */
    legacy_call(&reply, "{\"elicitation\":{}}", "confirm");
    id = legacy_question(&reply, "ok");
    snprintf(answer, sizeof(answer), "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
             "\"result\":{\"action\":\"decline\"}}", id);
    j = legacy_resume(&reply, answer, NULL);
    assert_string_equal(text_of(j), "nothing done: the user chose decline");
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* an answer that answers nothing: asked again, a round later */
    legacy_call(&reply, "{\"elicitation\":{}}", "confirm");
    id = legacy_question(&reply, "ok");
    snprintf(answer, sizeof(answer), "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
             "\"result\":{}}", id);
    assert_null(legacy_resume(&reply, answer, NULL));
    id = legacy_question(&reply, "ok");
    ttai_mcp_reply_free(&reply);

    /* the client's error, and no answer in time: a clear end */
    legacy_call(&reply, "{\"elicitation\":{}}", "confirm");
    id = legacy_question(&reply, "ok");
    snprintf(answer, sizeof(answer), "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
             "\"error\":{\"code\":-32602,\"message\":\"user closed it\"}}",
             id);
    j = legacy_resume(&reply, answer, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(j, "result"),
                                             "isError")));
    assert_non_null(strstr(text_of(j), "user closed it"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    legacy_call(&reply, "{\"elicitation\":{}}", "confirm");
    (void) legacy_question(&reply, "ok");
    j = legacy_resume(&reply, NULL, "the user did not answer in time");
    assert_non_null(strstr(text_of(j), "did not answer in time"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);

    /* URL mode needs the url capability: without it, told, not asked */
    legacy_call(&reply, "{\"elicitation\":{\"form\":{}}}", "link");
    assert_null(reply.pending);
    j = json_loadb(reply.body, reply.len, 0, NULL);
    assert_non_null(strstr(text_of(j), "elicitation capability"));
    json_decref(j);
    ttai_mcp_reply_free(&reply);
}


/* the client's answers come in a POST of their own, for the shell */

static void
test_legacy_answers(void **state)
{
    ttai_mcp_call_t   call;
    ttai_mcp_reply_t  reply;

    static const char  body[] = "[{\"jsonrpc\":\"2.0\",\"id\":"
        "\"ttai-ask-0123456789abcdef0123456789abcdef\",\"result\":"
        "{\"action\":\"cancel\"}},{\"jsonrpc\":\"2.0\",\"id\":9,"
        "\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":\"ttai-ask-x\","
        "\"result\":{}}]";

    memset(&call, 0, sizeof(call));
    call.sub = "alice";
    call.session_id = "s";
    call.session_version = "2025-03-26";
    call.session_log_level = "";

    assert_int_equal(ttai_mcp_handle(srv, &call, body, sizeof(body) - 1,
                                     &reply), 0);
    assert_int_equal(reply.status, 202);
    assert_int_equal(reply.nanswers, 1);
    assert_string_equal(reply.answers[0].id,
                        "ttai-ask-0123456789abcdef0123456789abcdef");
    assert_non_null(strstr(reply.answers[0].text, "\"cancel\""));
    ttai_mcp_reply_free(&reply);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_round, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_and_no_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_legacy_asks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_answers, setup,
                                        teardown),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
