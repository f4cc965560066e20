
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

#include "ttai_llm.h"


/*
 * The providers' formats against answers of the shape each provider's
 * API reference shows: a request with a system prompt, a tool, a tool
 * call and its result mapped out; text, tool calls, stops, usage and
 * every class of error mapped back.
 */

#define REQUEST                                                              \
    "{\"system\":\"You are terse.\",\"max_tokens\":300,"                     \
    "\"messages\":["                                                         \
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\","                    \
    "\"text\":\"What is my delta?\"}]},"                                     \
    "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","           \
    "\"id\":\"call-1\",\"name\":\"get_position_greeks\",\"input\":{}}]},"    \
    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","             \
    "\"tool_use_id\":\"call-1\",\"content\":\"net delta 110\"}]}],"          \
    "\"tools\":[{\"name\":\"get_position_greeks\",\"description\":\"Greeks\"," \
    "\"input_schema\":{\"type\":\"object\"}}]}"


static json_t *
request_for(const char *spec, char **path)
{
    char               err[256];
    json_t            *req, *body;
    ttai_llm_model_t   m;

    assert_int_equal(ttai_llm_model(spec, &m, err, sizeof(err)), 0);

    req = json_loads(REQUEST, 0, NULL);
    assert_non_null(req);

    body = ttai_llm_request(&m, req, path, err, sizeof(err));
    json_decref(req);
    assert_non_null(body);

    return body;
}


static json_t *
response_of(const char *spec, int status, const char *body, json_t **error)
{
    char               err[256];
    json_t            *req, *r;
    ttai_llm_model_t   m;

    assert_int_equal(ttai_llm_model(spec, &m, err, sizeof(err)), 0);
    req = json_loads(REQUEST, 0, NULL);

    r = ttai_llm_response(&m, req, status, body, strlen(body), error);
    json_decref(req);

    return r;
}


static const char *
s(json_t *j, const char *path)
{
    json_t  *v;
    char     key[64];
    const char  *p, *dot;

    v = j;
    p = path;

    while (v != NULL && *p != '\0') {
        dot = strchr(p, '.');
        snprintf(key, sizeof(key), "%.*s",
                 (int) (dot ? (size_t) (dot - p) : strlen(p)), p);

        if (key[0] >= '0' && key[0] <= '9') {
            v = json_array_get(v, (size_t) atoi(key));
        } else {
            v = json_object_get(v, key);
        }

        p = dot ? dot + 1 : p + strlen(p);
    }

    return json_string_value(v);
}


static void
test_models(void **state)
{
    char              err[256];
    ttai_llm_model_t  m;

    assert_int_equal(ttai_llm_model("anthropic/claude-sonnet-4-20250514", &m,
                                    err, sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_ANTHROPIC);
    assert_string_equal(m.name, "claude-sonnet-4-20250514");
    assert_string_equal(m.key_env, "ANTHROPIC_API_KEY");

    assert_int_equal(ttai_llm_model("gemini/gemini-2.0-flash", &m, err,
                                    sizeof(err)), 0);
    assert_string_equal(m.key_env_alt, "GOOGLE_API_KEY");

    assert_int_equal(ttai_llm_model("mock/analyst", &m, err, sizeof(err)), 0);
    assert_null(m.key_env);

    assert_int_equal(ttai_llm_model("claude-3", &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "anthropic/<model>, openai/<model>"));
    assert_int_equal(ttai_llm_model("openai/", &m, err, sizeof(err)), -1);
    assert_int_equal(ttai_llm_model("openai/gpt 4", &m, err, sizeof(err)),
                     -1);
}


/* a variables table: "NAME=value" strings, NULL-ended */

static const char *
lookup(const char *name, void *data)
{
    size_t        n;
    const char  **v;

    n = strlen(name);

    for (v = data; *v != NULL; v++) {
        if (strncmp(*v, name, n) == 0 && (*v)[n] == '=') {
            return *v + n + 1;
        }
    }

    return NULL;
}


static void
test_choose(void **state)
{
    char              err[256];
    ttai_llm_model_t  m;

    static const char  *none[] = { NULL };
    static const char  *anthropic[] = { "ANTHROPIC_API_KEY=sk-x", NULL };
    static const char  *google[] = { "GOOGLE_API_KEY=g", NULL };
    static const char  *aws[] = { "AWS_ACCESS_KEY_ID=a", NULL };

    /* a fresh machine: the mock */
    assert_int_equal(ttai_llm_choose(NULL, NULL, lookup, none, &m, err,
                                     sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_MOCK);
    assert_string_equal(m.name, "analyst");

    /* a key but no model named: say what to set */
    assert_int_equal(ttai_llm_choose(NULL, "", lookup, anthropic, &m, err,
                                     sizeof(err)), -1);
    assert_non_null(strstr(err, "set DEFAULT_LLM_MODEL"));

    /* the default, then a call's own model over it */
    assert_int_equal(ttai_llm_choose(NULL, "anthropic/claude-sonnet-4-"
                                     "20250514", lookup, anthropic, &m, err,
                                     sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_ANTHROPIC);
    assert_int_equal(ttai_llm_choose("mock/fast", "anthropic/x", lookup,
                                     anthropic, &m, err, sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_MOCK);

    /* a missing key names its variable */
    assert_int_equal(ttai_llm_choose("openai/gpt-4o", NULL, lookup,
                                     anthropic, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs OPENAI_API_KEY"));
    assert_int_equal(ttai_llm_choose("gemini/g", NULL, lookup, google, &m,
                                     err, sizeof(err)), 0);
    assert_int_equal(ttai_llm_choose("bedrock/b", NULL, lookup, aws, &m,
                                     err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
}


static void
test_requests(void **state)
{
    char    *path;
    json_t  *b;

    b = request_for("anthropic/claude-sonnet-4-20250514", &path);
    assert_string_equal(path, "/v1/messages");
    assert_string_equal(s(b, "system"), "You are terse.");
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")),
                     300);
    assert_string_equal(s(b, "messages.1.content.0.type"), "tool_use");
    assert_string_equal(s(b, "tools.0.name"), "get_position_greeks");
    free(path);
    json_decref(b);

    b = request_for("openai/gpt-4o", &path);
    assert_string_equal(path, "/v1/chat/completions");
    assert_string_equal(s(b, "messages.0.role"), "system");
    assert_string_equal(s(b, "messages.1.content"), "What is my delta?");
    assert_string_equal(s(b, "messages.2.tool_calls.0.function.name"),
                        "get_position_greeks");
    assert_string_equal(s(b, "messages.2.tool_calls.0.function.arguments"),
                        "{}");
    assert_string_equal(s(b, "messages.3.role"), "tool");
    assert_string_equal(s(b, "messages.3.tool_call_id"), "call-1");
    assert_string_equal(s(b, "tools.0.type"), "function");
    assert_string_equal(s(b, "tools.0.function.parameters.type"), "object");
    free(path);
    json_decref(b);

    b = request_for("gemini/gemini-2.0-flash", &path);
    assert_string_equal(path,
                        "/v1beta/models/gemini-2.0-flash:generateContent");
    assert_string_equal(s(b, "systemInstruction.parts.0.text"),
                        "You are terse.");
    assert_string_equal(s(b, "contents.1.role"), "model");
    assert_string_equal(s(b, "contents.1.parts.0.functionCall.name"),
                        "get_position_greeks");
    /* a result names its tool: Gemini has no ids */
    assert_string_equal(s(b, "contents.2.parts.0.functionResponse.name"),
                        "get_position_greeks");
    assert_string_equal(s(b, "tools.0.functionDeclarations.0.name"),
                        "get_position_greeks");
    free(path);
    json_decref(b);

    b = request_for("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
                    &path);
    assert_string_equal(path, "/model/anthropic.claude-3-5-sonnet-20240620-"
                              "v1%3A0/converse");
    assert_string_equal(s(b, "system.0.text"), "You are terse.");
    assert_string_equal(s(b, "messages.1.content.0.toolUse.toolUseId"),
                        "call-1");
    assert_string_equal(s(b, "messages.2.content.0.toolResult.status"),
                        "success");
    assert_string_equal(s(b, "toolConfig.tools.0.toolSpec.name"),
                        "get_position_greeks");
    free(path);
    json_decref(b);
}


static void
test_responses(void **state)
{
    json_t  *r, *e;

    r = response_of("anthropic/x", 200,
        "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
        "\"content\":[{\"type\":\"text\",\"text\":\"Let me look.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_quotes\","
        "\"input\":{\"symbols\":[\"AAPL\"]}}],\"stop_reason\":\"tool_use\","
        "\"usage\":{\"input_tokens\":12,\"output_tokens\":34}}", &e);
    assert_non_null(r);
    assert_string_equal(s(r, "stop"), "tool_use");
    assert_string_equal(s(r, "content.1.name"), "get_quotes");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r, "usage"), "output")), 34);
    json_decref(r);

    r = response_of("openai/x", 200,
        "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":null,\"tool_calls\":[{\"id\":\"call_9\",\"type\":"
        "\"function\",\"function\":{\"name\":\"get_quotes\",\"arguments\":"
        "\"{\\\"symbols\\\":[\\\"SPY\\\"]}\"}}]},\"finish_reason\":"
        "\"tool_calls\"}],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":7}}", &e);
    assert_string_equal(s(r, "stop"), "tool_use");
    assert_string_equal(s(r, "content.0.id"), "call_9");
    assert_string_equal(s(r, "content.0.input.symbols.0"), "SPY");
    json_decref(r);

    r = response_of("openai/x", 200,
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"refusal\":\"I can't help with that.\"},\"finish_reason\":"
        "\"stop\"}]}", &e);
    assert_string_equal(s(r, "stop"), "refusal");
    assert_string_equal(s(r, "content.0.text"), "I can't help with that.");
    json_decref(r);

    r = response_of("gemini/x", 200,
        "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":["
        "{\"functionCall\":{\"name\":\"get_quotes\",\"args\":{\"symbols\":"
        "[\"QQQ\"]}}}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":"
        "{\"promptTokenCount\":3,\"candidatesTokenCount\":4}}", &e);
    assert_string_equal(s(r, "stop"), "tool_use");
    assert_string_equal(s(r, "content.0.name"), "get_quotes");
    assert_non_null(s(r, "content.0.id"));
    json_decref(r);

    r = response_of("gemini/x", 200,
        "{\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":"
        "\"SAFETY\"}]}", &e);
    assert_string_equal(s(r, "stop"), "refusal");
    json_decref(r);

    r = response_of("bedrock/x", 200,
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
        "{\"text\":\"Done.\"}]}},\"stopReason\":\"end_turn\",\"usage\":"
        "{\"inputTokens\":9,\"outputTokens\":2,\"totalTokens\":11}}", &e);
    assert_string_equal(s(r, "stop"), "end");
    assert_string_equal(s(r, "content.0.text"), "Done.");
    json_decref(r);
}


static void
test_errors(void **state)
{
    json_t  *r, *e;

    static const struct {
        const char  *spec;
        int          status;
        const char  *body;
        const char  *class;
        int          retry;
        const char  *message;
    } cases[] = {
        { "anthropic/x", 529, "{\"type\":\"error\",\"error\":{\"type\":"
          "\"overloaded_error\",\"message\":\"Overloaded\"}}", "overloaded",
          1, "Overloaded" },
        { "openai/x", 429, "{\"error\":{\"message\":\"Rate limit reached\","
          "\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}",
          "rate_limited", 1, "Rate limit reached" },
        { "gemini/x", 503, "{\"error\":{\"code\":503,\"message\":\"The model "
          "is overloaded.\",\"status\":\"UNAVAILABLE\"}}", "overloaded", 1,
          "The model is overloaded." },
        { "bedrock/x", 500, "{\"message\":\"Internal\"}", "server", 1,
          "Internal" },
        { "anthropic/x", 401, "{\"type\":\"error\",\"error\":{\"type\":"
          "\"authentication_error\",\"message\":\"invalid x-api-key\"}}",
          "auth", 0, "invalid x-api-key" },
        { "openai/x", 400, "not json", "bad_request", 0,
          "the provider gave no reason" },
        { "anthropic/x", 200, "not json", "unknown", 0,
          "the provider's answer is not JSON" },
    };

    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = response_of(cases[i].spec, cases[i].status, cases[i].body, &e);
        assert_null(r);
        assert_non_null(e);
        assert_string_equal(s(e, "class"), cases[i].class);
        assert_int_equal(json_is_true(json_object_get(e, "retry")),
                         cases[i].retry);
        assert_string_equal(s(e, "message"), cases[i].message);
        json_decref(e);
    }
}



/* embeddings: which model, the request, the vectors, the errors */

static void
test_embeddings(void **state)
{
    char              err[256], *path;
    json_t           *texts, *b, *v, *e;
    long long         tokens;
    ttai_llm_model_t  m;

    static const char  *none[] = { NULL };
    static const char  *openai[] = { "OPENAI_API_KEY=sk-o", NULL };
    static const char  *google[] = { "GOOGLE_API_KEY=g", NULL };
    static const char  *anthropic[] = { "ANTHROPIC_API_KEY=sk-a", NULL };
    static const char  two[] =
        "{\"data\":[{\"embedding\":[0.6,0.8]},{\"embedding\":[1,0]}],"
        "\"usage\":{\"prompt_tokens\":7,\"total_tokens\":7}}";
    static const char  one[] =
        "{\"data\":[{\"embedding\":[0.6,0.8]}]}";
    static const char  limited[] =
        "{\"error\":{\"message\":\"Rate limit reached\"}}";
    static const char  gemini[] =
        "{\"embeddings\":[{\"values\":[0.1,0.2,0.3]}]}";

    assert_int_equal(ttai_llm_choose_embedding(NULL, lookup, none, &m, err,
                                               sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_MOCK);
    assert_string_equal(m.name, "embed");

    assert_int_equal(ttai_llm_choose_embedding(NULL, lookup, openai, &m, err,
                                               sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_OPENAI);
    assert_string_equal(m.name, "text-embedding-3-small");

    assert_int_equal(ttai_llm_choose_embedding(NULL, lookup, google, &m, err,
                                               sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_GEMINI);

    /* Anthropic's key alone gives no embeddings: the mock's, offline */
    assert_int_equal(ttai_llm_choose_embedding(NULL, lookup, anthropic, &m,
                                               err, sizeof(err)), 0);
    assert_int_equal(m.provider, TTAI_LLM_MOCK);

    /* a chat model named for embeddings, or a key missing, is said */
    assert_int_equal(ttai_llm_choose_embedding("anthropic/claude", lookup,
                                               anthropic, &m, err,
                                               sizeof(err)), -1);
    assert_non_null(strstr(err, "gives no embeddings: set "
                                "DEFAULT_EMBEDDING_MODEL"));
    assert_int_equal(ttai_llm_choose_embedding("openai/text-embedding-3-"
                                               "large", lookup, none, &m,
                                               err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs OPENAI_API_KEY"));

    texts = json_pack("[s, s]", "sold a put", "rolled a call");

    /* OpenAI's (and the mock's) */
    assert_int_equal(ttai_llm_model("openai/text-embedding-3-small", &m, err,
                                    sizeof(err)), 0);
    b = ttai_llm_embed_request(&m, texts, &path, err, sizeof(err));
    assert_non_null(b);
    assert_string_equal(path, "/v1/embeddings");
    assert_string_equal(json_string_value(json_object_get(b, "model")),
                        "text-embedding-3-small");
    assert_true(json_equal(json_object_get(b, "input"), texts));
    free(path);
    json_decref(b);

    v = ttai_llm_embed_response(&m, 2, 200, two,
                                 sizeof(two) - 1, &tokens, &e);
    assert_non_null(v);
    assert_null(e);
    assert_int_equal(json_array_size(v), 2);
    assert_true(json_real_value(json_array_get(json_array_get(v, 0), 1))
                == 0.8);
    assert_int_equal(tokens, 7);
    json_decref(v);

    /* one vector short is an error, not a shorter list */
    v = ttai_llm_embed_response(&m, 2, 200, one,
                                 sizeof(one) - 1, &tokens, &e);
    assert_null(v);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")),
                           "not one vector for each text"));
    json_decref(e);

    /* a rate limit is worth a retry */
    v = ttai_llm_embed_response(&m, 2, 429, limited,
                                 sizeof(limited) - 1, &tokens, &e);
    assert_null(v);
    assert_string_equal(json_string_value(json_object_get(e, "class")),
                        "rate_limited");
    assert_true(json_is_true(json_object_get(e, "retry")));
    json_decref(e);

    /* Gemini's batchEmbedContents */
    assert_int_equal(ttai_llm_model("gemini/text-embedding-004", &m, err,
                                    sizeof(err)), 0);
    b = ttai_llm_embed_request(&m, texts, &path, err, sizeof(err));
    assert_non_null(b);
    assert_string_equal(path, "/v1beta/models/text-embedding-004:"
                              "batchEmbedContents");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(b, "requests"), 1), "model")),
                        "models/text-embedding-004");
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(json_object_get(json_array_get(
                                json_object_get(b, "requests"), 1),
                                "content"), "parts"), 0), "text")),
                        "rolled a call");
    free(path);
    json_decref(b);

    v = ttai_llm_embed_response(&m, 1, 200, gemini,
                                 sizeof(gemini) - 1, &tokens, &e);
    assert_non_null(v);
    assert_int_equal(json_array_size(json_array_get(v, 0)), 3);
    json_decref(v);

    /* no answer at all: unavailable, worth a retry */
    v = ttai_llm_embed_response(&m, 1, 0, NULL, 0, &tokens, &e);
    assert_null(v);
    assert_string_equal(json_string_value(json_object_get(e, "class")),
                        "unavailable");
    assert_true(json_is_true(json_object_get(e, "retry")));
    json_decref(e);

    json_decref(texts);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_embeddings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
