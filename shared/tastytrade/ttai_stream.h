
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_STREAM_H_INCLUDED_
#define _TTAI_STREAM_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"


/*
 * What the tools read of the market-data stream.  The feed worker keeps
 * in KV, for each symbol a tool asked for, dx:<symbol> =
 * {"Quote": {..., "at"}, "Greeks": {...}, ..., "at", "since"}, and the
 * feed's own state in dx:@feed = {"state", "since", "at", "error"}.  A
 * value is live when the feed is ready and the value came on the current
 * connection (its "since" is the feed's): nothing from before a
 * reconnection is presented as fresh.  Reading dx:<symbol> is what asks
 * the feed to carry the symbol, so a symbol new to the feed is read
 * again every TTAI_STREAM_WAIT_MS until its first events arrive, for at
 * most TTAI_STREAM_WAIT_MAX.
 */

#define TTAI_STREAM_FEED_KEY   "dx:@feed"
#define TTAI_STREAM_WAIT_MS    250
#define TTAI_STREAM_WAIT_MAX   2000


/*
 * DXLink's name for a symbol: an OCC option ("AAPL  261218C00150000")
 * becomes ".AAPL261218C150" (the strike without trailing zeros); any
 * other symbol is its own.  0, or -1 when out does not hold it.
 */
int ttai_stream_symbol(const char *symbol, char *out, size_t size);

/*
 * Reads dx:@feed and dx:<s> for each string of streamer (an array the
 * state keeps): the pending read, or NULL when out of memory.  need is
 * the event type each option (".AAPL...") is waited for ("Greeks"); any
 * other symbol, and every one when need is NULL, waits for any event;
 * max_wait (ms, at most TTAI_STREAM_WAIT_MAX; 0: no wait) bounds the wait.
 */
ttai_mcp_pending_t *ttai_stream_begin(ttai_tool_ctx_t *ctx, json_t *streamer,
    const char *need, long max_wait);

/*
 * First in a tool's resume while ctx->state holds a stream read: 1 when
 * the read goes on (*pending set: a wait, or the read again), 0 when
 * resp is its final answer, -1 when out of memory.  After 0 the stream
 * read is over, and the tool reads resp with the functions below.
 */
int ttai_stream_step(ttai_tool_ctx_t *ctx, const ttai_mcp_response_t *resp,
    ttai_mcp_pending_t **pending);

/* 1 while ctx->state holds a stream read (before its final answer) */
int ttai_stream_pending(ttai_tool_ctx_t *ctx);

/* the feed's state from the final read (a new reference), or NULL */
json_t *ttai_stream_feed(const ttai_mcp_response_t *resp);

/* 1 when the feed is ready */
int ttai_stream_ready(json_t *feed);

/*
 * The value of streamer[i] in the final read (a new reference), or NULL;
 * *live says whether it came on the feed's current connection
 */
json_t *ttai_stream_value(json_t *feed, const ttai_mcp_response_t *resp,
    size_t i, int *live);

/* the age of a value or event in seconds, at now (epoch seconds) */
double ttai_stream_age(json_t *v, long long now);

/*
 * Why there is no live data, for a tool's isError text: the feed's state
 * and error, or that no worker keeps the feed.  A static or ctx-owned
 * string: valid while feed is.
 */
const char *ttai_stream_why(json_t *feed, char *buf, size_t size);

/* e[name] as a double, or NAN */
double ttai_stream_num(json_t *e, const char *name);


#endif /* _TTAI_STREAM_H_INCLUDED_ */
