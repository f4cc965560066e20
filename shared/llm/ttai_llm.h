
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_LLM_H_INCLUDED_
#define _TTAI_LLM_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * LLM providers, chosen by the model's prefix as the seed's Python worker
 * chose them: "anthropic/<model>" (the Messages API), "openai/<model>"
 * (Chat Completions), "gemini/<model>" (generateContent), "bedrock/<model>"
 * (the Converse API, signed with SigV4: ttai_sigv4.h) and "mock/<name>"
 * (the mock's, which speaks Anthropic's format).  No I/O here: one
 * request and response shape inside ttai, and each provider's format a
 * mapping at the edge.
 *
 * The request:
 *
 *     {"system": "...", "max_tokens": N,
 *      "messages": [{"role": "user"|"assistant", "content": [
 *          {"type": "text", "text": "..."},
 *          {"type": "tool_use", "id": "...", "name": "...", "input": {}},
 *          {"type": "tool_result", "tool_use_id": "...", "content": "...",
 *           "is_error": false}]}],
 *      "tools": [{"name": "...", "description": "...",
 *                 "input_schema": {...}}]}
 *
 * The response:
 *
 *     {"stop": "end"|"tool_use"|"max_tokens"|"refusal",
 *      "content": [text and tool_use blocks, as above],
 *      "usage": {"input": N, "output": N}}
 *
 * An error: {"class": "overloaded"|"rate_limited"|"server"|"auth"|
 * "bad_request"|"unknown", "status": N, "message": "...", "retry": true
 * for the classes worth a retry with backoff (429, 5xx, Anthropic's 529)}.
 */

typedef enum {
    TTAI_LLM_ANTHROPIC = 0,
    TTAI_LLM_OPENAI,
    TTAI_LLM_GEMINI,
    TTAI_LLM_BEDROCK,
    TTAI_LLM_MOCK
} ttai_llm_provider_e;

#define TTAI_LLM_MODEL_MAX  128

typedef struct {
    ttai_llm_provider_e   provider;
    char                  name[TTAI_LLM_MODEL_MAX];   /* past the prefix */

    /* the variables its key is read from, NULL for the mock's */
    const char           *key_env;
    const char           *key_env_alt;
} ttai_llm_model_t;


/* "anthropic", "openai", ...: the prefix without its slash */
const char *ttai_llm_provider_name(ttai_llm_provider_e provider);

/* "anthropic/claude-sonnet-4-20250514" into *m; -1 with err set */
int ttai_llm_model(const char *spec, ttai_llm_model_t *m, char *err,
    size_t errlen);

/*
 * Which model a call uses: asked (a call's "model" argument), else the
 * default (DEFAULT_LLM_MODEL), else the mock's when no provider has a
 * key (a fresh machine runs every agent offline), else refused; and the
 * model's key must be there: lookup(name) gives a variable's value, or
 * NULL.  -1 with err saying which variable to set.
 */

#define TTAI_LLM_MOCK_MODEL  "mock/analyst"

typedef const char *(*ttai_llm_lookup_pt)(const char *name, void *data);

int ttai_llm_choose(const char *asked, const char *dflt,
    ttai_llm_lookup_pt lookup, void *data, ttai_llm_model_t *m, char *err,
    size_t errlen);

/*
 * The provider's request for req: its body (a new object) and its path
 * (malloc'd: "/v1/messages", "/v1beta/models/<m>:generateContent", ...).
 * NULL with err set when req is not a request.
 */
json_t *ttai_llm_request(const ttai_llm_model_t *m, json_t *req, char **path,
    char *err, size_t errlen);

/*
 * The provider's answer (status, body) as the response shape, or NULL
 * with *error an error object (a new reference).  req is the request
 * the answer is to (Gemini names a tool's result by the tool's name: the
 * ids are made here and read back from it).
 */
json_t *ttai_llm_response(const ttai_llm_model_t *m, json_t *req, int status,
    const char *body, size_t len, json_t **error);


/*
 * The error object of a provider's answer of status (body: its JSON, or
 * NULL); fallback says why when the body does not.  Status 0 (no answer)
 * is "unavailable", worth a retry.
 */
json_t *ttai_llm_error(int status, json_t *body, const char *fallback);


/*
 * Embeddings (ttai_llm_embed.c), for the notes' vector index: which
 * model (DEFAULT_EMBEDDING_MODEL, else OpenAI's or Gemini's when their
 * key is set, else the mock's), the provider's request for texts (an
 * array of strings) and its answer as an array of vectors, with the
 * tokens it counted (0 when it says none: Gemini's batch).  Anthropic
 * and Bedrock's models here give no embeddings: refused, saying which
 * models do.
 */
#define TTAI_LLM_MOCK_EMBED       "mock/embed"
#define TTAI_LLM_OPENAI_EMBED     "openai/text-embedding-3-small"
#define TTAI_LLM_GEMINI_EMBED     "gemini/text-embedding-004"

int ttai_llm_choose_embedding(const char *dflt, ttai_llm_lookup_pt lookup,
    void *data, ttai_llm_model_t *m, char *err, size_t errlen);
json_t *ttai_llm_embed_request(const ttai_llm_model_t *m, json_t *texts,
    char **path, char *err, size_t errlen);
json_t *ttai_llm_embed_response(const ttai_llm_model_t *m, size_t n,
    int status, const char *body, size_t len, long long *tokens,
    json_t **error);


#endif /* _TTAI_LLM_H_INCLUDED_ */
