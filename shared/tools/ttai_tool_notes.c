
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_d1.h"
#include "ttai_llm_usage.h"
#include "ttai_tools.h"
#include "ttai_vector.h"


/*
 * The trading journal: save_note and search_notes, on the vector index
 * of ttai_vector.h.  A note's text is embedded by the server's embedding
 * model (the shell's TTAI_SERVICE_LLM requests; ttai_llm_embed.c) and
 * kept in the index of that model, "notes-<provider>-<model>", in the
 * user's namespace, with its text, tags and time as metadata; a search
 * embeds the query with the same model and reads the nearest.  Each
 * embedding call is recorded (llm_usage) in the batch that follows it.
 * Without a query, search_notes gives the newest notes: the resource
 * ttai://journal, where a daily brief shows first.
 */

#define TTAI_NOTES_PREFIX   "notes-"


static int ttai_tool_save(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_save_note_next(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_search(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_search_notes_next(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static ttai_mcp_pending_t *ttai_notes_embed(const char *text);
static json_t *ttai_notes_embedded(ttai_tool_ctx_t *ctx,
    const ttai_mcp_response_t *resp, char *index, size_t len,
    json_t **batch, json_t **result);
static json_t *ttai_notes_found(json_t *rows, json_t *args, size_t top_k);
static int ttai_notes_is_brief(json_t *args);
static long long ttai_notes_now(void);


const ttai_tool_impl_t  ttai_tool_save_note = {
    "save_note", ttai_tool_save, ttai_tool_save_note_next, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_search_notes = {
    "search_notes", ttai_tool_search, ttai_tool_search_notes_next, 0,
    NULL
};


static int
ttai_tool_save(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *pending = ttai_notes_embed(json_string_value(json_object_get(args,
                                                                  "text")));

    return *pending ? 0 : -1;
}


static int
ttai_tool_save_note_next(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         index[TTAI_VECTOR_NAME_MAX + 1], err[160], id[40];
    json_t      *vec, *batch, *st, *vectors, *tags;
    const char  *saved;
    long long    now;
    uint32_t     r;

    saved = json_string_value(json_object_get(ctx->state, "saved"));

    if (saved != NULL) {
        tags = json_object_get(args, "tags");
        *result = ttai_tool_text_result(saved,
                                        json_pack("{s:s, s:O?, s:s}", "id",
                                                  saved, "tags", tags,
                                                  "index",
                                                  json_string_value(
                                                      json_object_get(
                                                          ctx->state,
                                                          "index"))));
        if (*result != NULL) {
            json_object_set_new(json_array_get(json_object_get(*result,
                                                               "content"),
                                               0),
                                "text", json_sprintf("Saved note %s to "
                                                     "the journal.", saved));
        }

        return *result ? 0 : -1;
    }

    if (json_object_get(ctx->state, "failed") != NULL) {
        *result = ttai_tool_error_result("%s", json_string_value(
                                             json_object_get(ctx->state,
                                                             "failed")));
        return *result ? 0 : -1;
    }

    batch = NULL;
    vec = ttai_notes_embedded(ctx, resp, index, sizeof(index), &batch,
                              result);

    if (vec == NULL) {
        if (batch == NULL) {
            return *result ? 0 : -1;
        }

        /* the failed call is recorded, then said */
        *pending = ttai_mcp_pending_d1(batch);
        return *pending ? 0 : -1;
    }

    now = ttai_notes_now();
    r = randombytes_random();
    snprintf(id, sizeof(id), "note-%lld-%08x", now, r);

    vectors = json_pack("[{s:s, s:O, s:s, s:{s:O, s:O, s:I, s:s}}]",
                        "id", id, "values", vec, "namespace",
                        ctx->call->sub, "metadata", "text",
                        json_object_get(args, "text"), "tags",
                        json_is_array(json_object_get(args, "tags"))
                        ? json_object_get(args, "tags") : json_array(),
                        "created_at", (json_int_t) now, "kind",
                        ttai_notes_is_brief(args) ? "brief" : "note");

    st = ttai_vector_ensure(index, (int) json_array_size(vec), "cosine",
                            "the users' trading journals", now, err,
                            sizeof(err));

    if (vectors == NULL || st == NULL || ttai_d1_push(batch, st) != 0) {
        json_decref(vec);
        json_decref(vectors);
        json_decref(batch);
        return -1;
    }

    st = ttai_vector_upsert(index, vectors, err, sizeof(err));
    json_decref(vectors);
    json_decref(vec);

    if (st == NULL) {
        json_decref(batch);
        *result = ttai_tool_error_result("the note could not be saved: %s",
                                         err);
        return *result ? 0 : -1;
    }

    /* the upsert's statements join the batch: one transaction */
    json_array_extend(batch, st);
    json_decref(st);

    json_object_set_new(ctx->state, "saved", json_string(id));
    json_object_set_new(ctx->state, "index", json_string(index));

    *pending = ttai_mcp_pending_d1(batch);

    return *pending ? 0 : -1;
}


static int
ttai_tool_search(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *query;

    query = json_string_value(json_object_get(args, "query"));

    if (query == NULL) {
        /* the newest, of every model's index */
        json_object_set_new(ctx->state, "searched", json_true());
        *pending = ttai_mcp_pending_d1(ttai_d1_batch_of(1, ttai_d1_stmt(
                       "SELECT id, NULL AS score, metadata FROM vectors "
                       "WHERE index_name LIKE '" TTAI_NOTES_PREFIX "%' "
                       "AND namespace = ? ORDER BY json_extract(metadata, "
                       "'$.created_at') DESC LIMIT 100",
                       json_pack("[s]", ctx->call->sub))));
        return *pending ? 0 : -1;
    }

    *pending = ttai_notes_embed(query);

    return *pending ? 0 : -1;
}


static int
ttai_tool_search_notes_next(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char       index[TTAI_VECTOR_NAME_MAX + 1], err[160];
    json_t    *vec, *batch, *st, *res, *filter, *rows;
    size_t     top_k;
    long long  since;
    struct tm  tm;

    top_k = (size_t) json_integer_value(json_object_get(args, "top_k"));
    if (top_k == 0) {
        top_k = 5;
    }

    if (json_is_true(json_object_get(ctx->state, "searched"))) {
        res = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
        rows = json_object_get(json_array_get(res, json_array_size(res) - 1),
                               "results");
        *result = ttai_notes_found(rows, args, top_k);
        json_decref(res);
        return *result ? 0 : -1;
    }

    if (json_object_get(ctx->state, "failed") != NULL) {
        *result = ttai_tool_error_result("%s", json_string_value(
                                             json_object_get(ctx->state,
                                                             "failed")));
        return *result ? 0 : -1;
    }

    batch = NULL;
    vec = ttai_notes_embedded(ctx, resp, index, sizeof(index), &batch,
                              result);

    if (vec == NULL) {
        if (batch == NULL) {
            return *result ? 0 : -1;
        }

        *pending = ttai_mcp_pending_d1(batch);
        return *pending ? 0 : -1;
    }

    filter = NULL;

    if (json_string_value(json_object_get(json_object_get(args, "filters"),
                                          "since")) != NULL)
    {
        memset(&tm, 0, sizeof(tm));

        if (strptime(json_string_value(json_object_get(json_object_get(
                         args, "filters"), "since")), "%Y-%m-%d", &tm)
            == NULL)
        {
            json_decref(vec);
            json_decref(batch);
            *result = ttai_tool_error_result("filters.since is a day, "
                                             "YYYY-MM-DD");
            return *result ? 0 : -1;
        }

        since = (long long) timegm(&tm) * 1000;
        filter = json_pack("{s:{s:I}}", "created_at", "$gte",
                           (json_int_t) since);
    }

    /* more than asked: the tags are matched here, after the scores */
    st = ttai_vector_query(index, vec, (int) json_array_size(vec), "cosine",
                           json_object_get(json_object_get(args, "filters"),
                                           "tags")
                           ? TTAI_VECTOR_TOP_K_MAX : top_k,
                           filter, ctx->call->sub, err, sizeof(err));
    json_decref(vec);
    json_decref(filter);

    if (st == NULL) {
        json_decref(batch);
        *result = ttai_tool_error_result("the search failed: %s", err);
        return *result ? 0 : -1;
    }

    if (ttai_d1_push(batch, st) != 0) {
        json_decref(batch);
        return -1;
    }

    json_object_set_new(ctx->state, "searched", json_true());
    *pending = ttai_mcp_pending_d1(batch);

    return *pending ? 0 : -1;
}


static ttai_mcp_pending_t *
ttai_notes_embed(const char *text)
{
    char                *body;
    json_t              *req;
    ttai_mcp_pending_t  *p;

    req = json_pack("{s:[s]}", "input", text ? text : "");
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);

    if (body == NULL) {
        return NULL;
    }

    p = ttai_mcp_pending_http(TTAI_SERVICE_LLM, "POST", "/embed", body, NULL,
                              0);
    free(body);

    if (p != NULL) {
        /* an embedding that failed is told as the provider told it */
        p->failures = 1;
    }

    return p;
}


/*
 * The embedding the shell brought: its vector (a new reference), the
 * model's index name, and in *batch the statement that records the
 * call.  NULL: no vector; *result then says why when nothing is left to
 * record (else the state keeps the reason for after the record).
 */

static json_t *
ttai_notes_embedded(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    char *index, size_t len, json_t **batch, json_t **result)
{
    char             *p;
    json_t           *body, *call, *vec;
    const char       *model;
    ttai_llm_call_t   c;

    *batch = NULL;
    *result = NULL;

    body = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
    model = json_string_value(json_object_get(body, "model"));
    call = json_object_get(body, "call");

    if (body == NULL || model == NULL) {
        *result = ttai_tool_error_result("the embedding model did not "
                                         "answer: %s",
                                         resp->error ? resp->error
                                                     : "no answer");
        json_decref(body);
        return NULL;
    }

    memset(&c, 0, sizeof(c));
    c.user = ctx->call->sub;
    c.provider = json_string_value(json_object_get(call, "provider"));
    c.model = model;
    c.latency_ms = json_integer_value(json_object_get(call, "latency_ms"));
    c.input_tokens = json_integer_value(json_object_get(call,
                                                        "input_tokens"));
    c.outcome = json_string_value(json_object_get(call, "outcome"));

    *batch = ttai_d1_batch_of(1, ttai_llm_usage_record(&c,
                                                       ttai_notes_now()));
    vec = json_incref(json_array_get(json_object_get(body, "vectors"), 0));

    if (*batch == NULL || vec == NULL) {
        json_object_set_new(ctx->state, "failed", json_sprintf(
            "the embedding model %s could not embed the text: %s", model,
            json_string_value(json_object_get(json_object_get(body,
                                                              "error"),
                                              "message"))));
        json_decref(body);
        json_decref(vec);

        if (*batch == NULL) {
            *result = ttai_tool_error_result("out of memory");
        }

        return NULL;
    }

    snprintf(index, len, TTAI_NOTES_PREFIX "%s", model);

    for (p = index; *p != '\0'; p++) {
        *p = isalnum((unsigned char) *p) ? tolower((unsigned char) *p)
                                         : (*p == '_' ? '_' : '-');
    }

    json_decref(body);

    return vec;
}


/* the matches as a result: each note's text quoted, as data */

static json_t *
ttai_notes_found(json_t *rows, json_t *args, size_t top_k)
{
    char         *text, *quoted, *p;
    size_t        i, k, n, len;
    json_t       *row, *meta, *tags, *want, *t, *matches, *result;
    const char   *note;

    want = json_object_get(json_object_get(args, "filters"), "tags");
    matches = json_array();
    len = 256;
    n = 0;

    json_array_foreach(rows, i, row) {
        if (n == top_k) {
            break;
        }

        meta = json_loads(json_string_value(json_object_get(row,
                                                            "metadata"))
                          ? json_string_value(json_object_get(row,
                                                              "metadata"))
                          : "{}", 0, NULL);
        tags = json_object_get(meta, "tags");

        if (json_array_size(want) > 0) {
            json_array_foreach(want, k, t) {
                size_t  j;
                json_t *have;

                json_array_foreach(tags, j, have) {
                    if (json_equal(have, t)) {
                        break;
                    }
                }

                if (j < json_array_size(tags)) {
                    break;
                }
            }

            if (k == json_array_size(want)) {
                json_decref(meta);
                continue;
            }
        }

        note = json_string_value(json_object_get(meta, "text"));
        len += (note ? strlen(note) * 6 : 0) + 256;

        json_array_append_new(matches, json_pack(
            "{s:O, s:O?, s:s, s:O, s:O?, s:O?}", "id",
            json_object_get(row, "id"), "score",
            json_object_get(row, "score"), "text", note ? note : "",
            "tags", tags ? tags : json_array(), "kind",
            json_object_get(meta, "kind"), "created_at",
            json_object_get(meta, "created_at")));
        json_decref(meta);
        n++;
    }

    text = malloc(len);
    if (text == NULL || matches == NULL) {
        free(text);
        json_decref(matches);
        return NULL;
    }

    p = text;
    p += sprintf(p, n ? "%zu note%s of the journal:\n"
                      : "No note of the journal matches.%.0zu%s\n", n,
                 n == 1 ? "" : "s");

    json_array_foreach(matches, i, row) {
        quoted = ttai_tool_quote(json_string_value(json_object_get(row,
                                                                   "text")));
        if (quoted == NULL) {
            free(text);
            json_decref(matches);
            return NULL;
        }

        if (json_is_number(json_object_get(row, "score"))) {
            p += sprintf(p, "- %s (score %.3f, %s): %s\n",
                         json_string_value(json_object_get(row, "id")),
                         json_number_value(json_object_get(row, "score")),
                         json_string_value(json_object_get(row, "kind"))
                         ? json_string_value(json_object_get(row, "kind"))
                         : "note", quoted);

        } else {
            p += sprintf(p, "- %s (%s): %s\n",
                         json_string_value(json_object_get(row, "id")),
                         json_string_value(json_object_get(row, "kind"))
                         ? json_string_value(json_object_get(row, "kind"))
                         : "note", quoted);
        }

        free(quoted);
    }

    result = ttai_tool_text_result(text, json_pack("{s:o}", "matches",
                                                   matches));
    free(text);

    return n ? ttai_tool_mark_untrusted(result) : result;
}


/* a daily brief is a note tagged so (ttai_agent.c saves it) */

static int
ttai_notes_is_brief(json_t *args)
{
    size_t   i;
    json_t  *t;

    json_array_foreach(json_object_get(args, "tags"), i, t) {
        if (strcmp(json_string_value(t), "daily-brief") == 0) {
            return 1;
        }
    }

    return 0;
}


static long long
ttai_notes_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
