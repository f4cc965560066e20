
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_WORKER_H_INCLUDED_
#define _TTAI_WORKER_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>

#include "ttai_mcp.h"


/*
 * The worker service: the original design's quote worker, without the
 * I/O.  It answers
 *
 *   GET /quotes/<SYMBOL>          one quote object, or 404
 *   GET /quotes?symbols=A,B       {"quotes":[...],"missing":[...]}
 *
 * from KV (quote:<SYMBOL>) where it can, and from one TastyTrade
 * request (/market-data/by-type) for the rest, which it stores in KV.
 * The shell runs the steps: each reply is either an answer (status,
 * body) or a pending KV read or TastyTrade request, which the shell
 * performs and hands to ttai_worker_resume().  KV writes (stores) come
 * with the answer and are made before it is sent.
 *
 * The symbol helpers are shared with the market tools, so that a tool
 * and the worker agree on every cache key.
 */

#define TTAI_WORKER_MAX_SYMBOLS   100     /* /market-data/by-type's limit */
#define TTAI_WORKER_SYMBOL_LEN    48      /* the longest symbol, without
                                             the NUL */

/* instrument kinds, as the /market-data/by-type parameters name them */
#define TTAI_WORKER_EQUITY         0
#define TTAI_WORKER_INDEX          1
#define TTAI_WORKER_FUTURE         2
#define TTAI_WORKER_FUTURE_OPTION  3
#define TTAI_WORKER_EQUITY_OPTION  4
#define TTAI_WORKER_CRYPTOCURRENCY 5
#define TTAI_WORKER_NKINDS         6


typedef struct {
    /* the HTTP answer, once done: a JSON body */
    int                  status;
    char                *body;
    size_t               len;

    /* KV writes to make before answering */
    ttai_mcp_store_t    *stores;
    size_t               nstores;

    /* what the worker waits for; its state field is left NULL */
    ttai_mcp_pending_t  *pending;

    /* the worker's own continuation */
    void                *job;
} ttai_worker_reply_t;


/*
 * One request to the worker service.  path: "/quotes/<SYMBOL>" (the
 * symbol percent-encoded) or "/quotes"; args: the query string without
 * "?", "symbols=A,B" (a comma list of percent-encoded symbols, at most
 * 100), or NULL.  Other paths are answered 404, bad symbols 400.
 * Returns 0 with an answer or a pending KV read, -1 when out of memory.
 */
int ttai_worker_handle(const ttai_cache_ttl_t *ttl, const char *path,
    const char *args, ttai_worker_reply_t *reply);

/*
 * Goes on with what the shell got for reply->pending, which it consumes
 * (and the stores of an earlier step): the reply becomes the next
 * pending request or the answer.  A response without a status (the
 * request failed) is answered 502 with resp->error.  Returns -1 when
 * out of memory or when nothing was pending.
 */
int ttai_worker_resume(ttai_worker_reply_t *reply,
    const ttai_mcp_response_t *resp);

void ttai_worker_reply_free(ttai_worker_reply_t *reply);


/*
 * A symbol as keys and requests use it: surrounding blanks dropped,
 * upper case, and an OCC option symbol's root padded to six characters
 * ("aapl 261218C00150000" -> "AAPL  261218C00150000").  Writes it to
 * out (at least TTAI_WORKER_SYMBOL_LEN + 1 bytes) and returns 0, or -1
 * when it is empty, too long, or has a character no symbol has.
 */
int ttai_worker_symbol(const char *in, size_t len, char *out);

/*
 * The kind of a normalized symbol: "/ESZ5" future, "./ESZ5 EW1Z5
 * 251121C6000" future option, "AAPL  261218C00150000" equity option,
 * "BTC/USD" cryptocurrency, SPX VIX NDX RUT DJX XSP VIX9D index, any
 * other equity (ETFs included).
 */
int ttai_worker_kind(const char *symbol);

/* the /market-data/by-type parameter of a kind: "equity", "index", ... */
const char *ttai_worker_kind_param(int kind);

/*
 * "/market-data/by-type?equity=A,B&index=SPX&future=%2FESZ5..." for up
 * to 100 normalized symbols, each value percent-encoded.  malloc'd;
 * NULL when out of memory.
 */
char *ttai_worker_by_type_path(const char *const *symbols, size_t n);

/*
 * A /market-data/by-type item as a quote object: symbol, price (last,
 * else mark, else mid), bid, ask, last, mark, mid, open, high, low,
 * close, prev_close, change (price - prev_close), change_percent,
 * volume, instrument_type, updated_at; numbers as numbers, null when
 * TastyTrade sent none.  A new reference; NULL when out of memory or
 * when item has no symbol.
 */
json_t *ttai_worker_quote(json_t *item);

/*
 * 1 when q is a quote object as ttai_worker_quote() makes them: a KV
 * value that is not is a miss
 */
int ttai_worker_is_quote(json_t *q);

/* JSON text as the worker stores and sends it; malloc'd, or NULL */
char *ttai_worker_dump(json_t *json);


#endif /* _TTAI_WORKER_H_INCLUDED_ */
