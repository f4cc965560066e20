
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_llm.h"


/*
 * Embeddings, by the model's prefix: OpenAI's POST /v1/embeddings (the
 * mock's too), Gemini's batchEmbedContents.  The notes' index keeps one
 * model's vectors: the model is part of the index's name (ttai_notes).
 */


int
ttai_llm_choose_embedding(const char *dflt, ttai_llm_lookup_pt lookup,
    void *data, ttai_llm_model_t *m, char *err, size_t errlen)
{
    const char  *spec, *v;

    spec = dflt;

    if (spec == NULL || spec[0] == '\0') {
        v = lookup("OPENAI_API_KEY", data);
        spec = (v != NULL && v[0] != '\0') ? TTAI_LLM_OPENAI_EMBED : NULL;
    }

    if (spec == NULL) {
        v = lookup("GEMINI_API_KEY", data);
        if (v == NULL || v[0] == '\0') {
            v = lookup("GOOGLE_API_KEY", data);
        }

        spec = (v != NULL && v[0] != '\0') ? TTAI_LLM_GEMINI_EMBED
                                           : TTAI_LLM_MOCK_EMBED;
    }

    if (ttai_llm_model(spec, m, err, errlen) != 0) {
        return -1;
    }

    if (m->provider != TTAI_LLM_OPENAI && m->provider != TTAI_LLM_GEMINI
        && m->provider != TTAI_LLM_MOCK)
    {
        snprintf(err, errlen, "%s gives no embeddings: set "
                 "DEFAULT_EMBEDDING_MODEL to %s or %s", spec,
                 TTAI_LLM_OPENAI_EMBED, TTAI_LLM_GEMINI_EMBED);
        return -1;
    }

    /* the same check of the key as a chat model's */
    return ttai_llm_choose(spec, NULL, lookup, data, m, err, errlen);
}


json_t *
ttai_llm_embed_request(const ttai_llm_model_t *m, json_t *texts,
    char **path, char *err, size_t errlen)
{
    char     buf[TTAI_LLM_MODEL_MAX + 64], model[TTAI_LLM_MODEL_MAX + 8];
    size_t   i;
    json_t  *body, *reqs, *t;

    *path = NULL;

    if (!json_is_array(texts) || json_array_size(texts) == 0) {
        snprintf(err, errlen, "nothing to embed");
        return NULL;
    }

    if (m->provider == TTAI_LLM_GEMINI) {
        snprintf(model, sizeof(model), "models/%s", m->name);
        reqs = json_array();

        json_array_foreach(texts, i, t) {
            json_array_append_new(reqs, json_pack("{s:s, s:{s:[{s:O}]}}",
                                                  "model", model, "content",
                                                  "parts", "text", t));
        }

        body = json_pack("{s:o}", "requests", reqs);
        snprintf(buf, sizeof(buf), "/v1beta/models/%s:batchEmbedContents",
                 m->name);

    } else {
        body = json_pack("{s:s, s:O}", "model", m->name, "input", texts);
        snprintf(buf, sizeof(buf), "/v1/embeddings");
    }

    *path = strdup(buf);

    if (body == NULL || *path == NULL) {
        json_decref(body);
        free(*path);
        *path = NULL;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    return body;
}


json_t *
ttai_llm_embed_response(const ttai_llm_model_t *m, size_t n, int status,
    const char *body, size_t len, long long *tokens, json_t **error)
{
    size_t   i;
    json_t  *j, *list, *item, *vec, *out;

    *error = NULL;
    *tokens = 0;

    j = body ? json_loadb(body, len, 0, NULL) : NULL;

    if (status < 200 || status > 299 || !json_is_object(j)) {
        *error = ttai_llm_error(status, j, status >= 200 && status <= 299
                                ? "the provider's answer is not JSON"
                                : NULL);
        json_decref(j);
        return NULL;
    }

    list = json_object_get(j, m->provider == TTAI_LLM_GEMINI ? "embeddings"
                                                             : "data");
    out = json_array();

    json_array_foreach(list, i, item) {
        vec = json_object_get(item, m->provider == TTAI_LLM_GEMINI
                                    ? "values" : "embedding");

        if (!json_is_array(vec) || json_array_size(vec) == 0) {
            break;
        }

        json_array_append(out, vec);
    }

    *tokens = json_integer_value(json_object_get(json_object_get(j, "usage"),
                                                 "prompt_tokens"));
    json_decref(j);

    if (out == NULL || json_array_size(out) != n) {
        json_decref(out);
        *error = ttai_llm_error(status, NULL, "the provider's answer has "
                                "not one vector for each text");
        return NULL;
    }

    return out;
}
