
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tt.h"
#include "ttai_tt_map.h"
#include "ttai_json.h"
#include "ttai_worker.h"


/*
 * The worker service's quote handler.  A job lives across the steps:
 * the symbols asked for, normalized, and the quote of each once known
 * (from KV, or shaped from TastyTrade's answer).  The step is told by
 * the kind of the pending request it resumes from.
 */

#define TTAI_WORKER_ERROR_MAX  1024
#define TTAI_WORKER_KEY_LEN    (sizeof("quote:") + TTAI_WORKER_SYMBOL_LEN)


typedef struct {
    int                  single;      /* /quotes/<SYMBOL> */
    long                 ttl;         /* for the quotes it stores */
    size_t               n;
    char                 symbols[TTAI_WORKER_MAX_SYMBOLS]
                                [TTAI_WORKER_SYMBOL_LEN + 1];
    json_t              *quotes[TTAI_WORKER_MAX_SYMBOLS];
} ttai_worker_job_t;


static int ttai_worker_parse(ttai_worker_job_t *job, const char *path,
    const char *args, char *err, size_t errlen);
static int ttai_worker_add(ttai_worker_job_t *job, const char *text,
    size_t len, int plus, char *err, size_t errlen);
static int ttai_worker_decode(const char *in, size_t len, int plus,
    char *out, size_t size);
static int ttai_worker_from_kv(ttai_worker_reply_t *reply,
    ttai_worker_job_t *job, const ttai_mcp_response_t *resp);
static int ttai_worker_from_tastytrade(ttai_worker_reply_t *reply,
    ttai_worker_job_t *job, const ttai_mcp_response_t *resp);
static int ttai_worker_store(ttai_worker_reply_t *reply,
    ttai_worker_job_t *job, size_t i, json_t *quote);
static int ttai_worker_finish(ttai_worker_reply_t *reply,
    ttai_worker_job_t *job);
static int ttai_worker_upstream_error(ttai_worker_reply_t *reply,
    const ttai_mcp_response_t *resp);
static int ttai_worker_answer(ttai_worker_reply_t *reply, int status,
    json_t *json);
static int ttai_worker_error(ttai_worker_reply_t *reply, int status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ttai_worker_job_free(ttai_worker_job_t *job);
static int ttai_worker_is_occ(const char *s, size_t len);
static int ttai_worker_member_ok(const char *key, json_t *v);


static const char  *ttai_worker_params[TTAI_WORKER_NKINDS] = {
    "equity", "index", "future", "future-option", "equity-option",
    "cryptocurrency"
};

/* the indices /market-data/by-type wants as index=, not equity= */
static const char  *ttai_worker_indices[] = {
    "SPX", "VIX", "NDX", "RUT", "DJX", "XSP", "VIX9D", NULL
};

/* a quote: after symbol and price, then change and change_percent */
static const ttai_tt_field_t  ttai_worker_prices[] = {
    ttai_tt_field("bid", "bid", TTAI_TT_NUMBER),
    ttai_tt_field("ask", "ask", TTAI_TT_NUMBER),
    ttai_tt_field("last", "last", TTAI_TT_NUMBER),
    ttai_tt_field("mark", "mark", TTAI_TT_NUMBER),
    ttai_tt_field("mid", "mid", TTAI_TT_NUMBER),
    ttai_tt_field("open", "open", TTAI_TT_NUMBER),
    ttai_tt_field("day-high-price", "high", TTAI_TT_NUMBER),
    ttai_tt_field("day-low-price", "low", TTAI_TT_NUMBER),
    ttai_tt_field("close", "close", TTAI_TT_NUMBER),
    ttai_tt_field("prev-close", "prev_close", TTAI_TT_NUMBER),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_worker_rest[] = {
    ttai_tt_field("volume", "volume", TTAI_TT_NUMBER),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("updated-at", "updated_at", TTAI_TT_STRING),
    ttai_tt_null_field
};


int
ttai_worker_handle(const ttai_cache_ttl_t *ttl, const char *path,
    const char *args, ttai_worker_reply_t *reply)
{
    int                  rc;
    char                 err[TTAI_WORKER_ERROR_MAX];
    char                 keys[TTAI_WORKER_MAX_SYMBOLS][TTAI_WORKER_KEY_LEN];
    size_t               i;
    const char          *k[TTAI_WORKER_MAX_SYMBOLS];
    ttai_worker_job_t   *job;

    memset(reply, 0, sizeof(ttai_worker_reply_t));

    job = calloc(1, sizeof(ttai_worker_job_t));
    if (job == NULL) {
        return -1;
    }

    job->ttl = ttl ? ttl->quote : 5;

    rc = ttai_worker_parse(job, path, args, err, sizeof(err));

    if (rc != 0) {
        ttai_worker_job_free(job);
        return ttai_worker_error(reply, rc, "%s", err);
    }

    for (i = 0; i < job->n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "quote:%s", job->symbols[i]);
        k[i] = keys[i];
    }

    reply->pending = ttai_mcp_pending_cache(k, job->n);

    if (reply->pending == NULL) {
        ttai_worker_job_free(job);
        return -1;
    }

    reply->job = job;

    return 0;
}


int
ttai_worker_resume(ttai_worker_reply_t *reply,
    const ttai_mcp_response_t *resp)
{
    int                 kind;
    ttai_worker_job_t  *job;

    job = reply->job;

    if (reply->pending == NULL || job == NULL) {
        return -1;
    }

    kind = reply->pending->kind;

    ttai_mcp_pending_free(reply->pending);
    reply->pending = NULL;

    ttai_mcp_stores_free(reply->stores, reply->nstores);
    reply->stores = NULL;
    reply->nstores = 0;

    if (kind == TTAI_PENDING_CACHE) {
        return ttai_worker_from_kv(reply, job, resp);
    }

    return ttai_worker_from_tastytrade(reply, job, resp);
}


void
ttai_worker_reply_free(ttai_worker_reply_t *reply)
{
    free(reply->body);
    ttai_mcp_stores_free(reply->stores, reply->nstores);
    ttai_mcp_pending_free(reply->pending);
    ttai_worker_job_free(reply->job);

    memset(reply, 0, sizeof(ttai_worker_reply_t));
}


/* fills the job from the request; returns 0 or the HTTP status to answer */

static int
ttai_worker_parse(ttai_worker_job_t *job, const char *path, const char *args,
    char *err, size_t errlen)
{
    size_t       n;
    const char  *rest, *p, *end, *comma;

    if (path == NULL || strncmp(path, "/quotes", 7) != 0
        || (path[7] != '\0' && path[7] != '/'))
    {
        snprintf(err, errlen, "Not found: the worker serves "
                 "/quotes/<symbol> and /quotes?symbols=A,B");
        return 404;
    }

    rest = path + 7;

    if (rest[0] == '/' && rest[1] != '\0') {
        /* the rest is the symbol, even with a "/" left unencoded */
        job->single = 1;

        if (ttai_worker_add(job, rest + 1, strlen(rest + 1), 0, err, errlen)
            != 0)
        {
            return 400;
        }

        return 0;
    }

    /* the batch form: symbols=A,B among the arguments */
    p = args;

    while (p != NULL && *p != '\0') {
        end = strchr(p, '&');
        n = end ? (size_t) (end - p) : strlen(p);

        if (n > 8 && strncmp(p, "symbols=", 8) == 0) {
            break;
        }

        p = end ? end + 1 : NULL;
    }

    if (p == NULL || *p == '\0') {
        snprintf(err, errlen, "symbols is required: /quotes?symbols=A,B "
                 "(at most %d)", TTAI_WORKER_MAX_SYMBOLS);
        return 400;
    }

    end = p + n;
    p += 8;

    while (p < end) {
        comma = memchr(p, ',', end - p);
        n = comma ? (size_t) (comma - p) : (size_t) (end - p);

        if (n > 0 && ttai_worker_add(job, p, n, 1, err, errlen) != 0) {
            return 400;
        }

        p += n + 1;
    }

    if (job->n == 0) {
        snprintf(err, errlen, "symbols is empty: /quotes?symbols=A,B");
        return 400;
    }

    return 0;
}


/* one symbol, percent-encoded: decoded, normalized, added once */

static int
ttai_worker_add(ttai_worker_job_t *job, const char *text, size_t len,
    int plus, char *err, size_t errlen)
{
    char    raw[3 * TTAI_WORKER_SYMBOL_LEN + 1];
    char    symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t  i;

    if (ttai_worker_decode(text, len, plus, raw, sizeof(raw)) != 0
        || ttai_worker_symbol(raw, strlen(raw), symbol) != 0)
    {
        snprintf(err, errlen, "\"%.*s\" is not a symbol",
                 (int) (len > 64 ? 64 : len), text);
        return -1;
    }

    for (i = 0; i < job->n; i++) {
        if (strcmp(job->symbols[i], symbol) == 0) {
            return 0;
        }
    }

    if (job->n == TTAI_WORKER_MAX_SYMBOLS) {
        snprintf(err, errlen, "too many symbols: at most %d at a time",
                 TTAI_WORKER_MAX_SYMBOLS);
        return -1;
    }

    strcpy(job->symbols[job->n++], symbol);

    return 0;
}


/* percent-decoding; plus: "+" is a space, as in a query */

static int
ttai_worker_decode(const char *in, size_t len, int plus, char *out,
    size_t size)
{
    int     hi, lo;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++) {
        if (o + 1 >= size) {
            return -1;
        }

        if (in[i] == '%') {
            if (i + 2 >= len) {
                return -1;
            }

            hi = isxdigit((unsigned char) in[i + 1])
                 ? (isdigit((unsigned char) in[i + 1])
                    ? in[i + 1] - '0' : (tolower(in[i + 1]) - 'a' + 10))
                 : -1;
            lo = isxdigit((unsigned char) in[i + 2])
                 ? (isdigit((unsigned char) in[i + 2])
                    ? in[i + 2] - '0' : (tolower(in[i + 2]) - 'a' + 10))
                 : -1;

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }

            out[o++] = (char) (hi * 16 + lo);
            i += 2;

        } else if (plus && in[i] == '+') {
            out[o++] = ' ';

        } else {
            out[o++] = in[i];
        }
    }

    out[o] = '\0';

    return 0;
}


int
ttai_worker_symbol(const char *in, size_t len, char *out)
{
    char    packed[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t  i, n, root;

    while (len > 0 && isspace((unsigned char) in[0])) {
        in++;
        len--;
    }

    while (len > 0 && isspace((unsigned char) in[len - 1])) {
        len--;
    }

    if (len == 0 || len > TTAI_WORKER_SYMBOL_LEN) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!isalnum((unsigned char) in[i])
            && strchr(" ./-_:^$", in[i]) == NULL)
        {
            return -1;
        }

        out[i] = (char) toupper((unsigned char) in[i]);
    }

    out[len] = '\0';

    /*
     * An OCC option symbol written without its padding: the root, then
     * yymmdd, C or P, and the strike in eight digits.  Futures options
     * ("./...") keep their own spacing.
     */
    if (out[0] == '.' || out[0] == '/' || ttai_worker_is_occ(out, len)) {
        return 0;
    }

    for (i = 0, n = 0; i < len; i++) {
        if (out[i] != ' ') {
            packed[n++] = out[i];
        }
    }

    if (n < 16 || n > 21 || !ttai_worker_is_occ(packed + n - 15, 15)) {
        return 0;
    }

    root = n - 15;

    for (i = 0; i < root; i++) {
        if (!isalnum((unsigned char) packed[i])) {
            return 0;
        }
    }

    memcpy(out, packed, root);
    memset(out + root, ' ', 6 - root);
    memcpy(out + 6, packed + root, 15);
    out[21] = '\0';

    return 0;
}


int
ttai_worker_kind(const char *symbol)
{
    size_t        len;
    const char  **index;

    len = strlen(symbol);

    if (strncmp(symbol, "./", 2) == 0 && strchr(symbol, ' ') != NULL) {
        return TTAI_WORKER_FUTURE_OPTION;
    }

    if (symbol[0] == '/') {
        return TTAI_WORKER_FUTURE;
    }

    if (ttai_worker_is_occ(symbol, len)) {
        return TTAI_WORKER_EQUITY_OPTION;
    }

    if (len > 4 && strcmp(symbol + len - 4, "/USD") == 0
        && strspn(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == len - 4)
    {
        return TTAI_WORKER_CRYPTOCURRENCY;
    }

    for (index = ttai_worker_indices; *index != NULL; index++) {
        if (strcmp(symbol, *index) == 0) {
            return TTAI_WORKER_INDEX;
        }
    }

    return TTAI_WORKER_EQUITY;
}


const char *
ttai_worker_kind_param(int kind)
{
    if (kind < 0 || kind >= TTAI_WORKER_NKINDS) {
        return NULL;
    }

    return ttai_worker_params[kind];
}


/*
 * An OCC symbol (len 21: a root of 1 to 6 characters padded with
 * spaces, yymmdd, C or P, eight digits), or its last 15 characters
 * alone (len 15)
 */

static int
ttai_worker_is_occ(const char *s, size_t len)
{
    size_t  i;

    if (len == 21) {
        if (s[0] == ' ') {
            return 0;
        }

        for (i = 1; i < 6; i++) {
            if (s[i] == ' ') {
                break;
            }
        }

        for ( /* void */ ; i < 6; i++) {
            if (s[i] != ' ') {
                return 0;
            }
        }

        for (i = 0; i < 6 && s[i] != ' '; i++) {
            if (!isalnum((unsigned char) s[i])) {
                return 0;
            }
        }

        s += 6;

    } else if (len != 15) {
        return 0;
    }

    for (i = 0; i < 15; i++) {
        if (i == 6) {
            if (s[i] != 'C' && s[i] != 'P') {
                return 0;
            }

        } else if (!isdigit((unsigned char) s[i])) {
            return 0;
        }
    }

    return 1;
}


char *
ttai_worker_by_type_path(const char *const *symbols, size_t n)
{
    int      kind, first, query;
    char    *path, *v;
    size_t   i, size, len;

    /* each character percent-encoded at worst, a comma, and the names */
    size = sizeof("/market-data/by-type?") + 1;

    for (i = 0; i < n; i++) {
        size += 3 * strlen(symbols[i]) + 1;
    }

    for (kind = 0; kind < TTAI_WORKER_NKINDS; kind++) {
        size += strlen(ttai_worker_params[kind]) + 2;
    }

    path = malloc(size);
    if (path == NULL) {
        return NULL;
    }

    len = (size_t) snprintf(path, size, "/market-data/by-type");
    query = 0;

    for (kind = 0; kind < TTAI_WORKER_NKINDS; kind++) {
        first = 1;

        for (i = 0; i < n; i++) {
            if (ttai_worker_kind(symbols[i]) != kind) {
                continue;
            }

            v = ttai_tt_escape(symbols[i]);
            if (v == NULL) {
                free(path);
                return NULL;
            }

            if (first) {
                len += (size_t) snprintf(path + len, size - len, "%c%s=%s",
                                         query ? '&' : '?',
                                         ttai_worker_params[kind], v);
                first = 0;
                query = 1;

            } else {
                len += (size_t) snprintf(path + len, size - len, ",%s", v);
            }

            free(v);
        }
    }

    return path;
}


json_t *
ttai_worker_quote(json_t *item)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    double       price, prev;
    json_t      *q, *p, *pc;
    const char  *s;

    s = json_string_value(json_object_get(item, "symbol"));

    if (s == NULL) {
        return NULL;
    }

    if (ttai_worker_symbol(s, strlen(s), symbol) != 0) {
        snprintf(symbol, sizeof(symbol), "%s", s);
    }

    q = json_pack("{s:s}", "symbol", symbol);
    if (q == NULL) {
        return NULL;
    }

    /* price: the last trade, else the mark, else the mid */
    p = ttai_tt_number(json_object_get(item, "last"));

    if (json_is_null(p)) {
        json_decref(p);
        p = ttai_tt_number(json_object_get(item, "mark"));
    }

    if (json_is_null(p)) {
        json_decref(p);
        p = ttai_tt_number(json_object_get(item, "mid"));
    }

    if (p == NULL || json_object_set_new(q, "price", p) != 0) {
        json_decref(q);
        return NULL;
    }

    if (ttai_tt_map(q, item, ttai_worker_prices) != 0) {
        json_decref(q);
        return NULL;
    }

    pc = json_object_get(q, "prev_close");
    p = json_object_get(q, "price");

    if (json_is_number(p) && json_is_number(pc)) {
        price = json_number_value(p);
        prev = json_number_value(pc);

        json_object_set_new(q, "change",
                            json_real(ttai_market_round(price - prev, 6)));
        json_object_set_new(q, "change_percent",
                            prev != 0.0
                            ? json_real(ttai_market_round(
                                            (price - prev) / prev * 100.0, 2))
                            : json_null());

    } else {
        json_object_set_new(q, "change", json_null());
        json_object_set_new(q, "change_percent", json_null());
    }

    if (ttai_tt_map(q, item, ttai_worker_rest) != 0) {
        json_decref(q);
        return NULL;
    }

    /* every member, or out of memory on the way */
    if (json_object_size(q) != 17) {
        json_decref(q);
        return NULL;
    }

    return q;
}


/*
 * A symbol and a price, and no member that ttai_worker_quote() would not
 * make as it is: a KV value written by another version of ttai, or by
 * hand, would otherwise reach a tool's structuredContent as it is
 */

int
ttai_worker_is_quote(json_t *q)
{
    json_t      *v;
    const char  *key;

    if (!json_is_string(json_object_get(q, "symbol"))
        || json_object_get(q, "price") == NULL)
    {
        return 0;
    }

    json_object_foreach(q, key, v) {
        if (strcmp(key, "symbol") != 0 && !ttai_worker_member_ok(key, v)) {
            return 0;
        }
    }

    return 1;
}


/* a member of a quote, other than symbol: a number or null, or a text */

static int
ttai_worker_member_ok(const char *key, json_t *v)
{
    const ttai_tt_field_t  *f;

    if (strcmp(key, "price") == 0 || strcmp(key, "change") == 0
        || strcmp(key, "change_percent") == 0)
    {
        return json_is_number(v) || json_is_null(v);
    }

    for (f = ttai_worker_prices; f->to != NULL; f++) {
        if (strcmp(key, f->to) == 0) {
            return json_is_number(v) || json_is_null(v);
        }
    }

    for (f = ttai_worker_rest; f->to != NULL; f++) {
        if (strcmp(key, f->to) == 0) {
            return json_is_null(v)
                   || (f->kind == TTAI_TT_STRING ? json_is_string(v)
                                                 : json_is_number(v));
        }
    }

    return 0;
}


char *
ttai_worker_dump(json_t *json)
{
    size_t  len;

    /* 15 digits: "149.95" stays 149.95, not 149.94999999999999 */
    return ttai_json_dumps(json, &len);
}


/* the KV values: a quote for each hit, one request for the misses */

static int
ttai_worker_from_kv(ttai_worker_reply_t *reply, ttai_worker_job_t *job,
    const ttai_mcp_response_t *resp)
{
    char        *path;
    size_t       i, n;
    json_t      *q;
    const char  *misses[TTAI_WORKER_MAX_SYMBOLS];

    n = 0;

    for (i = 0; i < job->n; i++) {
        q = NULL;

        if (resp->values != NULL && resp->values[i] != NULL) {
            q = json_loadb(resp->values[i], resp->lens[i], 0, NULL);

            /* a value that is not a quote is a miss, and is replaced */
            if (!ttai_worker_is_quote(q)) {
                json_decref(q);
                q = NULL;
            }
        }

        job->quotes[i] = q;

        if (q == NULL) {
            misses[n++] = job->symbols[i];
        }
    }

    if (n == 0) {
        return ttai_worker_finish(reply, job);
    }

    path = ttai_worker_by_type_path(misses, n);
    if (path == NULL) {
        return -1;
    }

    reply->pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                           path, NULL, NULL, 0);
    free(path);

    return reply->pending ? 0 : -1;
}


/* TastyTrade's answer: each item shaped, stored and kept */

static int
ttai_worker_from_tastytrade(ttai_worker_reply_t *reply,
    ttai_worker_job_t *job, const ttai_mcp_response_t *resp)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t       i, k;
    json_t      *body, *items, *item, *q;
    const char  *s;

    if (resp->status == 0) {
        return ttai_worker_error(reply, 502, "TastyTrade could not be "
                                 "reached: %s",
                                 resp->error ? resp->error : "no response");
    }

    if (resp->status < 200 || resp->status > 299) {
        return ttai_worker_upstream_error(reply, resp);
    }

    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    items = json_object_get(json_object_get(body, "data"), "items");

    if (!json_is_array(items)) {
        json_decref(body);
        return ttai_worker_error(reply, 502, "TastyTrade sent a response "
                                 "ttai could not read");
    }

    json_array_foreach(items, k, item) {
        s = json_string_value(json_object_get(item, "symbol"));

        if (s == NULL || ttai_worker_symbol(s, strlen(s), symbol) != 0) {
            continue;
        }

        for (i = 0; i < job->n; i++) {
            if (job->quotes[i] == NULL
                && strcmp(job->symbols[i], symbol) == 0)
            {
                break;
            }
        }

        if (i == job->n) {
            /* not asked for, or already known */
            continue;
        }

        q = ttai_worker_quote(item);

        if (q == NULL || ttai_worker_store(reply, job, i, q) != 0) {
            json_decref(q);
            json_decref(body);
            return -1;
        }

        job->quotes[i] = q;
    }

    json_decref(body);

    return ttai_worker_finish(reply, job);
}


static int
ttai_worker_store(ttai_worker_reply_t *reply, ttai_worker_job_t *job,
    size_t i, json_t *quote)
{
    char              *value, *key;
    ttai_mcp_store_t  *st;

    if (job->ttl <= 0) {
        /* a lifetime of 0 is "do not cache" */
        return 0;
    }

    if (reply->stores == NULL) {
        reply->stores = calloc(job->n, sizeof(ttai_mcp_store_t));
        if (reply->stores == NULL) {
            return -1;
        }
    }

    value = ttai_worker_dump(quote);
    key = malloc(TTAI_WORKER_KEY_LEN);

    if (value == NULL || key == NULL) {
        free(value);
        free(key);
        return -1;
    }

    snprintf(key, TTAI_WORKER_KEY_LEN, "quote:%s", job->symbols[i]);

    st = &reply->stores[reply->nstores++];
    st->key = key;
    st->value = value;
    st->len = strlen(value);
    st->ttl = job->ttl;

    return 0;
}


/* the answer: one quote or 404, or the quotes and the missing symbols */

static int
ttai_worker_finish(ttai_worker_reply_t *reply, ttai_worker_job_t *job)
{
    size_t   i;
    json_t  *quotes, *missing, *answer, *v;

    if (job->single) {
        if (job->quotes[0] == NULL) {
            return ttai_worker_error(reply, 404, "TastyTrade has no quote "
                                     "for %s: check the symbol",
                                     job->symbols[0]);
        }

        return ttai_worker_answer(reply, 200, json_incref(job->quotes[0]));
    }

    answer = json_pack("{s:[], s:[]}", "quotes", "missing");
    if (answer == NULL) {
        return -1;
    }

    quotes = json_object_get(answer, "quotes");
    missing = json_object_get(answer, "missing");

    for (i = 0; i < job->n; i++) {
        v = job->quotes[i];

        if ((v != NULL ? json_array_append(quotes, v)
                       : json_array_append_new(missing,
                                               json_string(job->symbols[i])))
            != 0)
        {
            json_decref(answer);
            return -1;
        }
    }

    return ttai_worker_answer(reply, 200, answer);
}


/*
 * TastyTrade said no: its status, code and message.  A symbol it does
 * not know is the caller's to correct (404, 422); the rest is a bad
 * gateway, with what to do about it.
 */

static int
ttai_worker_upstream_error(ttai_worker_reply_t *reply,
    const ttai_mcp_response_t *resp)
{
    int           status, rc;
    char          detail[TTAI_WORKER_ERROR_MAX / 2];
    size_t        i, len;
    json_t       *body, *error, *code, *errors, *e;
    const char   *message, *advice;

    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    error = json_object_get(body, "error");
    code = json_object_get(error, "code");
    message = json_string_value(json_object_get(error, "message"));

    len = 0;
    detail[0] = '\0';

    if (json_is_string(code)) {
        len += snprintf(detail + len, sizeof(detail) - len, ": %s",
                        json_string_value(code));

    } else if (json_is_integer(code)) {
        len += snprintf(detail + len, sizeof(detail) - len, ": %lld",
                        (long long) json_integer_value(code));
    }

    if (message != NULL && len < sizeof(detail)) {
        len += snprintf(detail + len, sizeof(detail) - len, ": %s", message);
    }

    errors = json_object_get(error, "errors");

    json_array_foreach(errors, i, e) {
        message = json_string_value(json_object_get(e, "message"));

        if (message != NULL && len < sizeof(detail)) {
            len += snprintf(detail + len, sizeof(detail) - len, "%s%s",
                            i == 0 ? " (" : "; ", message);
        }

        if (i + 1 == json_array_size(errors) && len < sizeof(detail)) {
            len += snprintf(detail + len, sizeof(detail) - len, ")");
        }
    }

    if (len == 0) {
        snprintf(detail, sizeof(detail), ": no error details");
    }

    switch (resp->status) {
    case 401:
        advice = "  The TastyTrade connection was refused: reconnect with "
                 "`ttai tastytrade connect`.";
        break;
    case 403:
        advice = "  TastyTrade serves market data to funded accounts only.";
        break;
    case 429:
        advice = "  TastyTrade is limiting the request rate: try again in "
                 "a few seconds.";
        break;
    default:
        advice = resp->status >= 500 ? "  TastyTrade had a problem: try "
                                       "again shortly."
                                     : "";
    }

    status = (resp->status == 404 || resp->status == 422) ? resp->status
                                                          : 502;

    rc = ttai_worker_error(reply, status, "TastyTrade answered %d%s.%s",
                           resp->status, detail, advice);

    json_decref(body);

    return rc;
}


/* takes the reference to json */

static int
ttai_worker_answer(ttai_worker_reply_t *reply, int status, json_t *json)
{
    if (json == NULL) {
        return -1;
    }

    reply->body = ttai_worker_dump(json);
    json_decref(json);

    if (reply->body == NULL) {
        return -1;
    }

    reply->status = status;
    reply->len = strlen(reply->body);

    ttai_worker_job_free(reply->job);
    reply->job = NULL;

    return 0;
}


static int
ttai_worker_error(ttai_worker_reply_t *reply, int status, const char *fmt,
    ...)
{
    char     text[TTAI_WORKER_ERROR_MAX];
    size_t   len;
    json_t  *s;
    va_list  args;

    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    /* cut short inside a UTF-8 sequence, or not UTF-8 at all */
    len = strlen(text);

    while ((s = json_stringn(text, len)) == NULL && len > 0) {
        len--;
    }

    if (s == NULL) {
        return -1;
    }

    return ttai_worker_answer(reply, status, json_pack("{s:o}", "error", s));
}


static void
ttai_worker_job_free(ttai_worker_job_t *job)
{
    size_t  i;

    if (job == NULL) {
        return;
    }

    for (i = 0; i < job->n; i++) {
        json_decref(job->quotes[i]);
    }

    free(job);
}
