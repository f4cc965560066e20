
/*
 * Copyright (C) ttai contributors
 */


/*
 * The worker service's quote handler: a request's path and query as
 * the shell hands them to ttai_worker_handle(), then each step answered
 * through ttai_worker_resume() until the answer.  The input is pieces
 * between FUZZ_SEP lines: "PATH" or "PATH?QUERY" first, then the
 * answers, as fuzz_steps.h reads them (KV values of the quotes, then
 * TastyTrade's /market-data/by-type).
 *
 * Checked: the answer is JSON with a status the service sends; a quote
 * answered, or stored in KV, is a quote (ttai_worker_is_quote), under
 * the key of its normalized symbol, which normalizing again leaves as
 * it is; a list answers quotes and missing symbols; the requests made
 * are fit for a request line; and every request ends.
 */

#include <jansson.h>

#include "ttai_worker.h"
#include "fuzz_steps.h"


#define FUZZ_MAX_PIECES  8


static void fuzz_check_answer(const ttai_worker_reply_t *reply,
    int single);
static void fuzz_check_quote(json_t *q);
static void fuzz_check_symbol(const char *symbol);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   single;
    char                 *path, *args;
    size_t                n, steps, i;
    json_t               *q;
    fuzz_bufs_t           bufs;
    fuzz_piece_t          pieces[FUZZ_MAX_PIECES];
    ttai_cache_ttl_t      ttl = { 5, 60, 600, 5 };
    ttai_mcp_response_t   resp;
    ttai_worker_reply_t   reply;

    n = fuzz_split(data, size, pieces, FUZZ_MAX_PIECES);

    /* nginx hands the path and the query apart, without the '?' */
    path = fuzz_strndup(pieces[0].data, pieces[0].len);
    args = strchr(path, '?');

    if (args != NULL) {
        *args++ = '\0';
    }

    single = (strncmp(path, "/quotes/", 8) == 0 && path[8] != '\0');

    fuzz_check(ttai_worker_handle(&ttl, path, args, &reply) == 0,
               "ttai_worker_handle failed");

    memset(&bufs, 0, sizeof(fuzz_bufs_t));

    for (steps = 0; reply.pending != NULL; steps++) {
        fuzz_check(steps < 4, "a request that does not end");

        fuzz_check(reply.pending->kind == TTAI_PENDING_CACHE
                   || reply.pending->service == TTAI_SERVICE_TASTYTRADE,
                   "the worker asks a service but TastyTrade");
        fuzz_check_pending(reply.pending);

        if (reply.pending->kind == TTAI_PENDING_CACHE) {
            for (i = 0; i < reply.pending->nkeys; i++) {
                fuzz_check(strncmp(reply.pending->keys[i], "quote:", 6) == 0,
                           "a KV read of %s", reply.pending->keys[i]);
                fuzz_check_symbol(reply.pending->keys[i] + 6);
            }
        }

        fuzz_respond(&bufs, reply.pending,
                     steps + 1 < n ? &pieces[steps + 1] : NULL, &resp);

        fuzz_check(ttai_worker_resume(&reply, &resp) == 0,
                   "ttai_worker_resume failed");
    }

    fuzz_bufs_free(&bufs);

    fuzz_check_stores(reply.stores, reply.nstores);

    for (i = 0; i < reply.nstores; i++) {
        fuzz_check(strncmp(reply.stores[i].key, "quote:", 6) == 0,
                   "a KV write of %s", reply.stores[i].key);
        fuzz_check_symbol(reply.stores[i].key + 6);

        q = json_loads(reply.stores[i].value, 0, NULL);
        fuzz_check(ttai_worker_is_quote(q), "a KV write of no quote: %s",
                   reply.stores[i].value);
        fuzz_check(strcmp(json_string_value(json_object_get(q, "symbol")),
                          reply.stores[i].key + 6) == 0,
                   "the quote of %s stored as %s",
                   json_string_value(json_object_get(q, "symbol")),
                   reply.stores[i].key);
        json_decref(q);
    }

    fuzz_check_answer(&reply, single);

    ttai_worker_reply_free(&reply);
    free(path);

    return 0;
}


static void
fuzz_check_answer(const ttai_worker_reply_t *reply, int single)
{
    size_t   i;
    json_t  *j, *v;

    fuzz_check(reply->status == 200 || reply->status == 400
               || reply->status == 404 || reply->status == 422
               || reply->status == 502,
               "HTTP status %d", reply->status);
    fuzz_check(reply->body != NULL && strlen(reply->body) == reply->len,
               "an answer without its body");

    j = json_loads(reply->body, 0, NULL);
    fuzz_check(json_is_object(j), "an answer that is no JSON object: %s",
               reply->body);

    if (reply->status != 200) {
        fuzz_check(json_is_string(json_object_get(j, "error")),
                   "an error without its message: %s", reply->body);

    } else if (single) {
        fuzz_check_quote(j);

    } else {
        json_array_foreach(json_object_get(j, "quotes"), i, v) {
            fuzz_check_quote(v);
        }

        fuzz_check(json_is_array(json_object_get(j, "quotes"))
                   && json_is_array(json_object_get(j, "missing")),
                   "a list without quotes and missing: %s", reply->body);

        json_array_foreach(json_object_get(j, "missing"), i, v) {
            fuzz_check(json_is_string(v), "a missing symbol no string");
        }
    }

    json_decref(j);
}


static void
fuzz_check_quote(json_t *q)
{
    char  *text;

    if (!ttai_worker_is_quote(q)) {
        text = json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY);
        fuzz_check(0, "an answer of no quote: %s", text ? text : "?");
    }
}


/* a symbol as keys have it: normalized, which it stays when again so */

static void
fuzz_check_symbol(const char *symbol)
{
    char  again[TTAI_WORKER_SYMBOL_LEN + 1];

    fuzz_check(ttai_worker_symbol(symbol, strlen(symbol), again) == 0
               && strcmp(again, symbol) == 0,
               "symbol \"%s\" normalizes to another", symbol);
    fuzz_check(ttai_worker_kind(again) == ttai_worker_kind(symbol)
               && ttai_worker_kind_param(ttai_worker_kind(symbol)) != NULL,
               "symbol \"%s\" of no kind", symbol);
}
