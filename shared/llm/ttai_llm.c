
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_llm.h"


/*
 * The providers' formats, each a mapping to and from ttai's one request
 * and response (ttai_llm.h).  What the providers say is from their API
 * references: Anthropic's Messages, OpenAI's Chat Completions, Gemini's
 * generateContent and Bedrock's Converse.
 */

static const struct {
    const char           *prefix;
    ttai_llm_provider_e   provider;
    const char           *key_env;
    const char           *key_env_alt;
} ttai_llm_prefixes[] = {
    { "anthropic/", TTAI_LLM_ANTHROPIC, "ANTHROPIC_API_KEY", NULL },
    { "openai/", TTAI_LLM_OPENAI, "OPENAI_API_KEY", NULL },
    { "gemini/", TTAI_LLM_GEMINI, "GEMINI_API_KEY", "GOOGLE_API_KEY" },
    { "bedrock/", TTAI_LLM_BEDROCK, "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY" },
    { "mock/", TTAI_LLM_MOCK, NULL, NULL }
};


static json_t *ttai_llm_anthropic(json_t *req, const char *model);
static json_int_t ttai_llm_max_tokens(json_t *req);
static json_t *ttai_llm_openai(json_t *req, const char *model);
static json_t *ttai_llm_gemini(json_t *req);
static json_t *ttai_llm_bedrock(json_t *req);
static json_t *ttai_llm_from_anthropic(json_t *a);
static json_t *ttai_llm_from_openai(json_t *o);
static json_t *ttai_llm_from_gemini(json_t *g);
static json_t *ttai_llm_from_bedrock(json_t *b);
static const char *ttai_llm_tool_name(json_t *req, const char *id);
static json_t *ttai_llm_usage(json_t *in, json_t *out);
static json_t *ttai_llm_text_of(json_t *content);


int
ttai_llm_model(const char *spec, ttai_llm_model_t *m, char *err,
    size_t errlen)
{
    size_t  i, n, len;

    memset(m, 0, sizeof(ttai_llm_model_t));

    for (i = 0; spec != NULL
                && i < sizeof(ttai_llm_prefixes) / sizeof(ttai_llm_prefixes[0]);
         i++)
    {
        n = strlen(ttai_llm_prefixes[i].prefix);

        if (strncmp(spec, ttai_llm_prefixes[i].prefix, n) != 0) {
            continue;
        }

        len = strlen(spec + n);

        if (len == 0 || len >= TTAI_LLM_MODEL_MAX
            || strspn(spec + n, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                ".-_:@") != len)
        {
            snprintf(err, errlen, "the model after \"%s\" is 1 to %d of "
                     "letters, digits and . - _ : @",
                     ttai_llm_prefixes[i].prefix, TTAI_LLM_MODEL_MAX - 1);
            return -1;
        }

        memcpy(m->name, spec + n, len + 1);
        m->provider = ttai_llm_prefixes[i].provider;
        m->key_env = ttai_llm_prefixes[i].key_env;
        m->key_env_alt = ttai_llm_prefixes[i].key_env_alt;

        return 0;
    }

    snprintf(err, errlen, "\"%.64s\" names no provider: a model is "
             "anthropic/<model>, openai/<model>, gemini/<model>, "
             "bedrock/<model> or mock/<name>", spec ? spec : "");

    return -1;
}


const char *
ttai_llm_provider_name(ttai_llm_provider_e provider)
{
    static const char *const  names[] = {
        "anthropic", "openai", "gemini", "bedrock", "mock"
    };

    return (unsigned) provider < sizeof(names) / sizeof(names[0])
           ? names[provider] : "unknown";
}


int
ttai_llm_choose(const char *asked, const char *dflt,
    ttai_llm_lookup_pt lookup, void *data, ttai_llm_model_t *m, char *err,
    size_t errlen)
{
    size_t       i;
    const char  *spec, *v;

    spec = (asked != NULL && asked[0] != '\0') ? asked
           : (dflt != NULL && dflt[0] != '\0') ? dflt : NULL;

    if (spec == NULL) {
        /* no model named: the mock, unless a provider has a key */
        for (i = 0;
             i < sizeof(ttai_llm_prefixes) / sizeof(ttai_llm_prefixes[0]);
             i++)
        {
            v = ttai_llm_prefixes[i].key_env
                ? lookup(ttai_llm_prefixes[i].key_env, data) : NULL;

            if (v != NULL && v[0] != '\0') {
                snprintf(err, errlen, "no model is named, and %s is set: "
                         "set DEFAULT_LLM_MODEL (e.g. %sclaude-sonnet-4-"
                         "20250514) or pass model", ttai_llm_prefixes[i]
                         .key_env, ttai_llm_prefixes[i].prefix);
                return -1;
            }
        }

        spec = TTAI_LLM_MOCK_MODEL;
    }

    if (ttai_llm_model(spec, m, err, errlen) != 0) {
        return -1;
    }

    if (m->key_env == NULL) {
        return 0;
    }

    v = lookup(m->key_env, data);

    if (m->provider == TTAI_LLM_GEMINI && (v == NULL || v[0] == '\0')) {
        v = lookup(m->key_env_alt, data);
    }

    if (v == NULL || v[0] == '\0') {
        snprintf(err, errlen, "the model %s needs %s: set it in .dev.vars "
                 "(or the environment)%s", spec, m->key_env,
                 m->provider == TTAI_LLM_GEMINI ? ", or GOOGLE_API_KEY" : "");
        return -1;
    }

    if (m->provider == TTAI_LLM_BEDROCK) {
        v = lookup(m->key_env_alt, data);

        if (v == NULL || v[0] == '\0') {
            snprintf(err, errlen, "the model %s needs AWS_SECRET_ACCESS_KEY "
                     "too (and AWS_REGION): set them in .dev.vars", spec);
            return -1;
        }
    }

    return 0;
}


json_t *
ttai_llm_request(const ttai_llm_model_t *m, json_t *req, char **path,
    char *err, size_t errlen)
{
    char    buf[TTAI_LLM_MODEL_MAX + 64];
    json_t  *body;

    *path = NULL;

    if (!json_is_array(json_object_get(req, "messages"))
        || json_array_size(json_object_get(req, "messages")) == 0)
    {
        snprintf(err, errlen, "a request needs messages");
        return NULL;
    }

    switch (m->provider) {

    case TTAI_LLM_OPENAI:
        body = ttai_llm_openai(req, m->name);
        snprintf(buf, sizeof(buf), "/v1/chat/completions");
        break;

    case TTAI_LLM_GEMINI:
        body = ttai_llm_gemini(req);
        snprintf(buf, sizeof(buf), "/v1beta/models/%s:generateContent",
                 m->name);
        break;

    case TTAI_LLM_BEDROCK:
        body = ttai_llm_bedrock(req);

        /* the model id's ":" goes percent-encoded (SigV4 encodes again) */
        {
            size_t       o;
            const char  *p;

            o = (size_t) snprintf(buf, sizeof(buf), "/model/");

            for (p = m->name; *p != '\0' && o + 4 < sizeof(buf); p++) {
                o += (size_t) snprintf(buf + o, sizeof(buf) - o,
                                       *p == ':' ? "%%3A" : "%c", *p);
            }

            snprintf(buf + o, sizeof(buf) - o, "/converse");
        }

        break;

    default:
        body = ttai_llm_anthropic(req, m->name);
        snprintf(buf, sizeof(buf), "/v1/messages");
    }

    if (body == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    *path = strdup(buf);
    if (*path == NULL) {
        json_decref(body);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    return body;
}


json_t *
ttai_llm_response(const ttai_llm_model_t *m, json_t *req, int status,
    const char *body, size_t len, json_t **error)
{
    json_t  *j, *r;

    *error = NULL;

    j = body ? json_loadb(body, len, 0, NULL) : NULL;

    if (status < 200 || status > 299 || !json_is_object(j)) {
        *error = ttai_llm_error(status, j, status >= 200 && status <= 299
                                ? "the provider's answer is not JSON"
                                : NULL);
        json_decref(j);
        return NULL;
    }

    switch (m->provider) {

    case TTAI_LLM_OPENAI:
        r = ttai_llm_from_openai(j);
        break;

    case TTAI_LLM_GEMINI:
        r = ttai_llm_from_gemini(j);
        break;

    case TTAI_LLM_BEDROCK:
        r = ttai_llm_from_bedrock(j);
        break;

    default:
        r = ttai_llm_from_anthropic(j);
    }

    json_decref(j);

    if (r == NULL) {
        *error = ttai_llm_error(status, NULL, "the provider's answer has "
                                "no content ttai can read");
    }

    return r;
}


/* -- Anthropic (and the mock): ttai's shape is close to the Messages API */

static json_t *
ttai_llm_anthropic(json_t *req, const char *model)
{
    json_t  *body;

    body = json_pack("{s:s, s:I, s:O}", "model", model, "max_tokens",
                     ttai_llm_max_tokens(req),
                     "messages", json_object_get(req, "messages"));
    if (body == NULL) {
        return NULL;
    }

    if (json_object_get(req, "system") != NULL) {
        json_object_set(body, "system", json_object_get(req, "system"));
    }

    if (json_array_size(json_object_get(req, "tools")) > 0) {
        json_object_set(body, "tools", json_object_get(req, "tools"));
    }

    return body;
}


static json_t *
ttai_llm_from_anthropic(json_t *a)
{
    size_t       i;
    json_t      *content, *c, *out, *u;
    const char  *stop, *type;

    content = json_array();
    if (content == NULL) {
        return NULL;
    }

    json_array_foreach(json_object_get(a, "content"), i, c) {
        type = json_string_value(json_object_get(c, "type"));

        if (type != NULL
            && (strcmp(type, "text") == 0 || strcmp(type, "tool_use") == 0))
        {
            json_array_append(content, c);
        }
    }

    stop = json_string_value(json_object_get(a, "stop_reason"));
    u = json_object_get(a, "usage");

    out = json_pack("{s:s, s:o, s:o}", "stop",
                    stop == NULL ? "end"
                    : strcmp(stop, "tool_use") == 0 ? "tool_use"
                    : strcmp(stop, "max_tokens") == 0 ? "max_tokens"
                    : strcmp(stop, "refusal") == 0 ? "refusal" : "end",
                    "content", content,
                    "usage", ttai_llm_usage(json_object_get(u, "input_tokens"),
                                            json_object_get(u,
                                                            "output_tokens")));
    return out;
}


/* -- OpenAI: a system message first, tools as functions --------------- */

static json_t *
ttai_llm_openai(json_t *req, const char *model)
{
    size_t       i, k;
    json_t      *body, *msgs, *m, *c, *calls, *om, *tools, *t, *text;
    const char  *role, *type;
    char        *args;

    msgs = json_array();
    body = json_pack("{s:s, s:I, s:o}", "model", model,
                     "max_completion_tokens",
                     ttai_llm_max_tokens(req), "messages", msgs);
    if (body == NULL) {
        return NULL;
    }

    if (json_is_string(json_object_get(req, "system"))) {
        json_array_append_new(msgs, json_pack("{s:s, s:O}", "role", "system",
                                              "content",
                                              json_object_get(req,
                                                              "system")));
    }

    json_array_foreach(json_object_get(req, "messages"), i, m) {
        role = json_string_value(json_object_get(m, "role"));
        calls = NULL;
        text = ttai_llm_text_of(json_object_get(m, "content"));

        json_array_foreach(json_object_get(m, "content"), k, c) {
            type = json_string_value(json_object_get(c, "type"));

            if (type != NULL && strcmp(type, "tool_use") == 0) {
                args = json_dumps(json_object_get(c, "input"),
                                  JSON_COMPACT | JSON_ENCODE_ANY);
                calls = calls ? calls : json_array();
                json_array_append_new(calls,
                    json_pack("{s:O, s:s, s:{s:O, s:s}}", "id",
                              json_object_get(c, "id"), "type", "function",
                              "function", "name", json_object_get(c, "name"),
                              "arguments", args ? args : "{}"));
                free(args);

            } else if (type != NULL && strcmp(type, "tool_result") == 0) {
                /* each result is a message of its own */
                json_array_append_new(msgs,
                    json_pack("{s:s, s:O, s:O}", "role", "tool",
                              "tool_call_id", json_object_get(c,
                                                              "tool_use_id"),
                              "content", json_object_get(c, "content")));
            }
        }

        if (json_string_length(text) > 0 || calls != NULL) {
            om = json_pack("{s:s, s:o}", "role", role ? role : "user",
                           "content", text);
            text = NULL;

            if (om != NULL && calls != NULL) {
                json_object_set_new(om, "tool_calls", calls);
                calls = NULL;
            }

            json_array_append_new(msgs, om);
        }

        json_decref(text);
        json_decref(calls);
    }

    tools = json_array();

    json_array_foreach(json_object_get(req, "tools"), i, t) {
        json_array_append_new(tools,
            json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "function",
                      "function", "name", json_object_get(t, "name"),
                      "description", json_object_get(t, "description"),
                      "parameters", json_object_get(t, "input_schema")));
    }

    if (json_array_size(tools) > 0) {
        json_object_set_new(body, "tools", tools);
    } else {
        json_decref(tools);
    }

    return body;
}


static json_t *
ttai_llm_from_openai(json_t *o)
{
    size_t       i;
    json_t      *choice, *msg, *content, *tc, *input, *u;
    const char  *finish, *text, *refusal;

    choice = json_array_get(json_object_get(o, "choices"), 0);
    msg = json_object_get(choice, "message");

    if (!json_is_object(msg)) {
        return NULL;
    }

    content = json_array();
    text = json_string_value(json_object_get(msg, "content"));
    refusal = json_string_value(json_object_get(msg, "refusal"));

    if (refusal != NULL) {
        json_array_append_new(content, json_pack("{s:s, s:s}", "type",
                                                  "text", "text", refusal));
    } else if (text != NULL && text[0] != '\0') {
        json_array_append_new(content, json_pack("{s:s, s:s}", "type",
                                                  "text", "text", text));
    }

    json_array_foreach(json_object_get(msg, "tool_calls"), i, tc) {
        input = json_loads(json_string_value(json_object_get(
                    json_object_get(tc, "function"), "arguments")), 0, NULL);

        json_array_append_new(content,
            json_pack("{s:s, s:O, s:O, s:o}", "type", "tool_use",
                      "id", json_object_get(tc, "id"),
                      "name", json_object_get(json_object_get(tc,
                                                              "function"),
                                              "name"),
                      "input", input ? input : json_object()));
    }

    finish = json_string_value(json_object_get(choice, "finish_reason"));
    u = json_object_get(o, "usage");

    return json_pack("{s:s, s:o, s:o}", "stop",
                     refusal != NULL ? "refusal"
                     : finish == NULL ? "end"
                     : strcmp(finish, "tool_calls") == 0 ? "tool_use"
                     : strcmp(finish, "length") == 0 ? "max_tokens"
                     : strcmp(finish, "content_filter") == 0 ? "refusal"
                     : "end",
                     "content", content,
                     "usage", ttai_llm_usage(json_object_get(u,
                                                             "prompt_tokens"),
                                             json_object_get(u,
                                                   "completion_tokens")));
}


/* -- Gemini: "model" for the assistant, calls and results by name ----- */

static json_t *
ttai_llm_gemini(json_t *req)
{
    size_t       i, k;
    json_t      *body, *contents, *m, *c, *parts, *decls, *t, *res;
    const char  *role, *type;

    contents = json_array();
    body = json_pack("{s:o, s:{s:I}}", "contents", contents,
                     "generationConfig", "maxOutputTokens",
                     ttai_llm_max_tokens(req));
    if (body == NULL) {
        return NULL;
    }

    if (json_is_string(json_object_get(req, "system"))) {
        json_object_set_new(body, "systemInstruction",
                            json_pack("{s:[{s:O}]}", "parts", "text",
                                      json_object_get(req, "system")));
    }

    json_array_foreach(json_object_get(req, "messages"), i, m) {
        role = json_string_value(json_object_get(m, "role"));
        parts = json_array();

        json_array_foreach(json_object_get(m, "content"), k, c) {
            type = json_string_value(json_object_get(c, "type"));

            if (type == NULL) {
                continue;
            }

            if (strcmp(type, "text") == 0) {
                json_array_append_new(parts, json_pack("{s:O}", "text",
                                          json_object_get(c, "text")));

            } else if (strcmp(type, "tool_use") == 0) {
                json_array_append_new(parts,
                    json_pack("{s:{s:O, s:O}}", "functionCall", "name",
                              json_object_get(c, "name"), "args",
                              json_object_get(c, "input")));

            } else if (strcmp(type, "tool_result") == 0) {
                res = json_pack("{s:O}", "content",
                                json_object_get(c, "content"));
                json_array_append_new(parts,
                    json_pack("{s:{s:s, s:o}}", "functionResponse", "name",
                              ttai_llm_tool_name(req,
                                  json_string_value(json_object_get(
                                      c, "tool_use_id"))),
                              "response", res));
            }
        }

        json_array_append_new(contents,
            json_pack("{s:s, s:o}", "role",
                      role && strcmp(role, "assistant") == 0 ? "model"
                                                             : "user",
                      "parts", parts));
    }

    decls = json_array();

    json_array_foreach(json_object_get(req, "tools"), i, t) {
        json_array_append_new(decls,
            json_pack("{s:O, s:O, s:O}", "name", json_object_get(t, "name"),
                      "description", json_object_get(t, "description"),
                      "parameters", json_object_get(t, "input_schema")));
    }

    if (json_array_size(decls) > 0) {
        json_object_set_new(body, "tools",
                            json_pack("[{s:o}]", "functionDeclarations",
                                      decls));
    } else {
        json_decref(decls);
    }

    return body;
}


static json_t *
ttai_llm_from_gemini(json_t *g)
{
    char         id[96];
    size_t       i;
    json_t      *cand, *content, *p, *fc, *u;
    const char  *finish;

    cand = json_array_get(json_object_get(g, "candidates"), 0);

    if (!json_is_object(cand)) {
        return NULL;
    }

    content = json_array();

    json_array_foreach(json_object_get(json_object_get(cand, "content"),
                                       "parts"), i, p)
    {
        fc = json_object_get(p, "functionCall");

        if (json_is_string(json_object_get(p, "text"))) {
            json_array_append_new(content, json_pack("{s:s, s:O}", "type",
                                      "text", "text",
                                      json_object_get(p, "text")));

        } else if (json_is_object(fc)) {
            /* no ids in Gemini: the call's name and place make one */
            snprintf(id, sizeof(id), "gemini-%zu-%.64s", i,
                     json_string_value(json_object_get(fc, "name")));
            json_array_append_new(content,
                json_pack("{s:s, s:s, s:O, s:O}", "type", "tool_use",
                          "id", id, "name", json_object_get(fc, "name"),
                          "input", json_object_get(fc, "args")
                                   ? json_object_get(fc, "args")
                                   : json_object()));
        }
    }

    finish = json_string_value(json_object_get(cand, "finishReason"));
    u = json_object_get(g, "usageMetadata");

    return json_pack("{s:s, s:o, s:o}", "stop",
                     finish != NULL && (strcmp(finish, "SAFETY") == 0
                                        || strcmp(finish, "RECITATION") == 0
                                        || strcmp(finish, "PROHIBITED_CONTENT")
                                           == 0)
                     ? "refusal"
                     : finish != NULL && strcmp(finish, "MAX_TOKENS") == 0
                     ? "max_tokens"
                     : json_array_size(content) > 0
                       && json_object_get(json_array_get(content,
                                              json_array_size(content) - 1),
                                          "input") != NULL
                     ? "tool_use" : "end",
                     "content", content,
                     "usage", ttai_llm_usage(json_object_get(u,
                                                 "promptTokenCount"),
                                             json_object_get(u,
                                                 "candidatesTokenCount")));
}


/* -- Bedrock's Converse ---------------------------------------------- */

static json_t *
ttai_llm_bedrock(json_t *req)
{
    size_t       i, k;
    json_t      *body, *msgs, *m, *c, *content, *tools, *t;
    const char  *type;

    msgs = json_array();
    body = json_pack("{s:o, s:{s:I}}", "messages", msgs, "inferenceConfig",
                     "maxTokens", ttai_llm_max_tokens(req));
    if (body == NULL) {
        return NULL;
    }

    if (json_is_string(json_object_get(req, "system"))) {
        json_object_set_new(body, "system",
                            json_pack("[{s:O}]", "text",
                                      json_object_get(req, "system")));
    }

    json_array_foreach(json_object_get(req, "messages"), i, m) {
        content = json_array();

        json_array_foreach(json_object_get(m, "content"), k, c) {
            type = json_string_value(json_object_get(c, "type"));

            if (type == NULL) {
                continue;
            }

            if (strcmp(type, "text") == 0) {
                json_array_append_new(content, json_pack("{s:O}", "text",
                                          json_object_get(c, "text")));

            } else if (strcmp(type, "tool_use") == 0) {
                json_array_append_new(content,
                    json_pack("{s:{s:O, s:O, s:O}}", "toolUse",
                              "toolUseId", json_object_get(c, "id"),
                              "name", json_object_get(c, "name"),
                              "input", json_object_get(c, "input")));

            } else if (strcmp(type, "tool_result") == 0) {
                json_array_append_new(content,
                    json_pack("{s:{s:O, s:[{s:O}], s:s}}", "toolResult",
                              "toolUseId", json_object_get(c, "tool_use_id"),
                              "content", "text", json_object_get(c,
                                                                 "content"),
                              "status",
                              json_is_true(json_object_get(c, "is_error"))
                              ? "error" : "success"));
            }
        }

        json_array_append_new(msgs, json_pack("{s:O, s:o}", "role",
                                              json_object_get(m, "role"),
                                              "content", content));
    }

    tools = json_array();

    json_array_foreach(json_object_get(req, "tools"), i, t) {
        json_array_append_new(tools,
            json_pack("{s:{s:O, s:O, s:{s:O}}}", "toolSpec",
                      "name", json_object_get(t, "name"),
                      "description", json_object_get(t, "description"),
                      "inputSchema", "json", json_object_get(t,
                                                             "input_schema")));
    }

    if (json_array_size(tools) > 0) {
        json_object_set_new(body, "toolConfig",
                            json_pack("{s:o}", "tools", tools));
    } else {
        json_decref(tools);
    }

    return body;
}


static json_t *
ttai_llm_from_bedrock(json_t *b)
{
    size_t       i;
    json_t      *msg, *content, *c, *tu, *u;
    const char  *stop;

    msg = json_object_get(json_object_get(b, "output"), "message");

    if (!json_is_object(msg)) {
        return NULL;
    }

    content = json_array();

    json_array_foreach(json_object_get(msg, "content"), i, c) {
        tu = json_object_get(c, "toolUse");

        if (json_is_string(json_object_get(c, "text"))) {
            json_array_append_new(content, json_pack("{s:s, s:O}", "type",
                                      "text", "text",
                                      json_object_get(c, "text")));

        } else if (json_is_object(tu)) {
            json_array_append_new(content,
                json_pack("{s:s, s:O, s:O, s:O}", "type", "tool_use",
                          "id", json_object_get(tu, "toolUseId"),
                          "name", json_object_get(tu, "name"),
                          "input", json_object_get(tu, "input")));
        }
    }

    stop = json_string_value(json_object_get(b, "stopReason"));
    u = json_object_get(b, "usage");

    return json_pack("{s:s, s:o, s:o}", "stop",
                     stop == NULL ? "end"
                     : strcmp(stop, "tool_use") == 0 ? "tool_use"
                     : strcmp(stop, "max_tokens") == 0 ? "max_tokens"
                     : strcmp(stop, "guardrail_intervened") == 0
                       || strcmp(stop, "content_filtered") == 0 ? "refusal"
                     : "end",
                     "content", content,
                     "usage", ttai_llm_usage(json_object_get(u,
                                                             "inputTokens"),
                                             json_object_get(u,
                                                             "outputTokens")));
}


/*
 * An error object from a status and the provider's body: each provider
 * puts its message somewhere else ({"error":{"message"}} for Anthropic,
 * OpenAI and Gemini, {"message"} for Bedrock)
 */

json_t *
ttai_llm_error(int status, json_t *body, const char *fallback)
{
    const char  *class, *msg;

    msg = json_string_value(json_object_get(json_object_get(body, "error"),
                                            "message"));
    if (msg == NULL) {
        msg = json_string_value(json_object_get(body, "message"));
    }

    if (msg == NULL) {
        msg = fallback ? fallback : "the provider gave no reason";
    }

    class = (status == 0) ? "unavailable"
            : (status == 529 || status == 503) ? "overloaded"
            : status == 429 ? "rate_limited"
            : status >= 500 ? "server"
            : (status == 401 || status == 403) ? "auth"
            : (status >= 400 && status < 500) ? "bad_request"
            : "unknown";

    return json_pack("{s:s, s:i, s:s, s:b}", "class", class, "status",
                     status, "message", msg, "retry",
                     strcmp(class, "overloaded") == 0
                     || strcmp(class, "unavailable") == 0
                     || strcmp(class, "rate_limited") == 0
                     || strcmp(class, "server") == 0);
}


/* the name of the tool the request called with id (Gemini's results) */

static const char *
ttai_llm_tool_name(json_t *req, const char *id)
{
    size_t       i, k;
    json_t      *m, *c;
    const char  *cid;

    json_array_foreach(json_object_get(req, "messages"), i, m) {
        json_array_foreach(json_object_get(m, "content"), k, c) {
            cid = json_string_value(json_object_get(c, "id"));

            if (cid != NULL && id != NULL && strcmp(cid, id) == 0) {
                return json_string_value(json_object_get(c, "name"));
            }
        }
    }

    return "unknown";
}


static json_int_t
ttai_llm_max_tokens(json_t *req)
{
    json_int_t  n;

    n = json_integer_value(json_object_get(req, "max_tokens"));

    return n > 0 ? n : 1024;
}


static json_t *
ttai_llm_usage(json_t *in, json_t *out)
{
    return json_pack("{s:I, s:I}", "input",
                     (json_int_t) json_integer_value(in), "output",
                     (json_int_t) json_integer_value(out));
}


/* a message's text blocks as one string (OpenAI's content) */

static json_t *
ttai_llm_text_of(json_t *content)
{
    size_t       i, len, n;
    char        *s, *p;
    json_t      *c, *out;
    const char  *t;

    len = 0;

    json_array_foreach(content, i, c) {
        t = json_string_value(json_object_get(c, "text"));
        len += t ? strlen(t) + 1 : 0;
    }

    s = calloc(1, len + 1);
    if (s == NULL) {
        return NULL;
    }

    p = s;

    json_array_foreach(content, i, c) {
        t = json_string_value(json_object_get(c, "text"));

        if (t != NULL) {
            n = strlen(t);
            if (p != s) {
                *p++ = '\n';
            }
            memcpy(p, t, n);
            p += n;
        }
    }

    out = json_string(s);
    free(s);

    return out;
}
