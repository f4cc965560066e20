
/*
 * Copyright (C) ttai contributors
 */


#ifndef _FUZZ_STEPS_H_INCLUDED_
#define _FUZZ_STEPS_H_INCLUDED_


/*
 * The steps of a core that waits for the shell (the MCP core, the
 * worker service): what the shell got for a pending step, read from a
 * piece of the input, and the checks of what the core asks the shell
 * to do.  An answer piece is:
 *
 *   for a request, "STATUS BODY": the status in digits (0: no response,
 *   BODY then being the shell's reason), "c" after them when the body
 *   came from KV, one blank, the body (no digits: a 200);
 *   for KV reads, one value a line, "-" for one that is absent.
 *
 * A step past the last answer gets no response.
 */

#include <jansson.h>

#include "ttai_mcp.h"
#include "fuzz.h"


/* what the answers were copied into, freed once the call is over */
typedef struct {
    char       **bufs;
    size_t       n;
} fuzz_bufs_t;


static FUZZ_UNUSED void
fuzz_bufs_free(fuzz_bufs_t *b)
{
    size_t  i;

    for (i = 0; i < b->n; i++) {
        free(b->bufs[i]);
    }

    free(b->bufs);
    b->bufs = NULL;
    b->n = 0;
}


static void *
fuzz_keep(fuzz_bufs_t *b, void *p)
{
    fuzz_check(p != NULL, "out of memory");

    b->bufs = realloc(b->bufs, (b->n + 1) * sizeof(char *));
    fuzz_check(b->bufs != NULL, "out of memory");
    b->bufs[b->n++] = p;

    return p;
}


/*
 * An exact copy, as the shell's buffers are not NUL-terminated, so that
 * ASan sees a read past the end: NULL for an empty text (the shell has
 * no buffer for an empty body); nul: a C string
 */

static char *
fuzz_copy(fuzz_bufs_t *b, const char *s, size_t len, int nul)
{
    char  *p;

    if (len == 0 && !nul) {
        return NULL;
    }

    p = fuzz_keep(b, malloc(len + nul));
    memcpy(p, s, len);

    if (nul) {
        p[len] = '\0';
    }

    return p;
}


/* what the shell got for the step p; answer NULL: nothing */

static FUZZ_UNUSED void
fuzz_respond(fuzz_bufs_t *b, const ttai_mcp_pending_t *p,
    const fuzz_piece_t *answer, ttai_mcp_response_t *resp)
{
    size_t        i, n;
    size_t       *lens;
    const char   *s, *end, *eol, **values;

    memset(resp, 0, sizeof(ttai_mcp_response_t));

    if (p->kind == TTAI_PENDING_ASK) {
        /* the client's response to each question, a line each; "-": none */
        values = fuzz_keep(b, calloc(p->nasks, sizeof(char *)));
        lens = fuzz_keep(b, calloc(p->nasks, sizeof(size_t)));

        s = answer ? answer->data : NULL;
        end = answer ? answer->data + answer->len : NULL;

        for (i = 0; s != NULL && s <= end && i < p->nasks; i++) {
            eol = memchr(s, '\n', end - s);
            n = (eol ? eol : end) - s;

            if (n == 1 && s[0] == '-') {
                resp->error = "the user did not answer in time";
                return;
            }

            values[i] = fuzz_copy(b, s, n, 1);
            lens[i] = n;
            s += n + 1;
        }

        if (i < p->nasks) {
            resp->error = "the fuzz input has no more answers";
            return;
        }

        resp->answers = values;
        resp->answer_lens = lens;

        return;
    }

    if (p->kind == TTAI_PENDING_CACHE) {
        values = fuzz_keep(b, calloc(p->nkeys, sizeof(char *)));
        lens = fuzz_keep(b, calloc(p->nkeys, sizeof(size_t)));

        s = answer ? answer->data : NULL;
        end = answer ? answer->data + answer->len : NULL;

        for (i = 0; s != NULL && s <= end && i < p->nkeys; i++) {
            eol = memchr(s, '\n', end - s);
            n = (eol ? eol : end) - s;

            if (!(n == 1 && s[0] == '-')) {
                /* a value that is there, if empty */
                values[i] = fuzz_copy(b, s, n, n == 0);
                lens[i] = n;
            }

            s += n + 1;
        }

        resp->values = values;
        resp->lens = lens;

        return;
    }

    if (answer == NULL) {
        resp->status = 0;
        resp->error = "the fuzz input has no more answers";
        return;
    }

    s = answer->data;
    end = s + answer->len;

    for (n = 0; s < end && *s >= '0' && *s <= '9' && n < 3; s++, n++) {
        resp->status = resp->status * 10 + (*s - '0');
    }

    if (n == 0) {
        resp->status = 200;
    }

    if (s < end && *s == 'c') {
        resp->cached = 1;
        s++;
    }

    if (s < end && *s == ' ') {
        s++;
    }

    if (resp->status == 0) {
        /* the shell's reason is a C string */
        resp->error = fuzz_copy(b, s, end - s, 1);
        return;
    }

    resp->body = fuzz_copy(b, s, end - s, 0);
    resp->len = end - s;
}


/*
 * Not empty, and printable ASCII: what a request line takes, without
 * blanks; a KV key may have them, as symbols do ("AAPL  261218C00150000")
 */

static void
fuzz_check_text(const char *what, const char *s, int blank)
{
    const unsigned char  *p;

    fuzz_check(s != NULL && *s != '\0', "%s is empty", what);

    for (p = (const unsigned char *) s; *p; p++) {
        fuzz_check((*p > 0x20 || (blank && *p == ' ')) && *p < 0x7f,
                   "%s has byte 0x%02x: %s", what, *p, s);
    }
}


/* the shell puts these on a request line, in a KV key, as they are */

static FUZZ_UNUSED void
fuzz_check_pending(const ttai_mcp_pending_t *p)
{
    size_t   i;
    json_t  *j;

    if (p->kind == TTAI_PENDING_CACHE) {
        fuzz_check(p->nkeys > 0, "a KV read of no keys");

        for (i = 0; i < p->nkeys; i++) {
            fuzz_check_text("a KV key", p->keys[i], 1);
        }

        return;
    }

    if (p->kind == TTAI_PENDING_ASK) {
        fuzz_check(p->nasks > 0, "a question of no requests");
        fuzz_check(p->ms > 0, "a question waited on for %ld ms", p->ms);

        for (i = 0; i < p->nasks; i++) {
            fuzz_check(strlen(p->ask_ids[i]) == TTAI_MCP_ASK_ID_LEN
                       && strncmp(p->ask_ids[i], TTAI_MCP_ASK_PREFIX,
                                  sizeof(TTAI_MCP_ASK_PREFIX) - 1) == 0,
                       "a question's id %s", p->ask_ids[i]);
        }

        return;
    }

    if (p->kind == TTAI_PENDING_WAIT) {
        fuzz_check(p->ms > 0 && p->ms <= 60000, "a wait of %ld ms", p->ms);
        return;
    }

    fuzz_check(p->kind == TTAI_PENDING_HTTP, "a pending step of kind %d",
               p->kind);
    fuzz_check(p->service == TTAI_SERVICE_TASTYTRADE
               || p->service == TTAI_SERVICE_WORKER,
               "a request to service %d", p->service);
    fuzz_check(strcmp(p->method, "GET") == 0 || strcmp(p->method, "POST") == 0,
               "a request with method %s", p->method);
    fuzz_check(p->path != NULL && p->path[0] == '/', "a request path "
               "without its slash: %s", p->path ? p->path : "(null)");
    fuzz_check_text("a request path", p->path, 0);

    if (p->body != NULL) {
        j = json_loads(p->body, 0, NULL);
        fuzz_check(j != NULL, "a request body that is not JSON: %s", p->body);
        json_decref(j);
    }

    if (p->cache_key != NULL) {
        fuzz_check_text("a cache key", p->cache_key, 1);
        fuzz_check(p->cache_ttl > 0, "a cache key kept %ld s", p->cache_ttl);
    }
}


static FUZZ_UNUSED void
fuzz_check_stores(const ttai_mcp_store_t *stores, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        fuzz_check_text("a KV key written", stores[i].key, 1);
        fuzz_check(stores[i].value != NULL
                   && strlen(stores[i].value) == stores[i].len,
                   "a KV value of another length than it says");
        fuzz_check(stores[i].ttl > 0, "a KV write kept %ld s",
                   stores[i].ttl);
    }
}


#endif /* _FUZZ_STEPS_H_INCLUDED_ */
