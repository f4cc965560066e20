
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_DXLINK_H_INCLUDED_
#define _TTAI_DXLINK_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * DXLink, the market-data protocol behind GET /api-quote-tokens, without
 * the I/O: the shell hands each text message the websocket received to
 * ttai_dxl_receive() and sends what it is told to send; events come out
 * decoded.  The order (the reference, 2.11): SETUP; AUTH_STATE
 * UNAUTHORIZED -> AUTH with the token; AUTH_STATE AUTHORIZED ->
 * CHANNEL_REQUEST for a FEED; CHANNEL_OPENED -> FEED_SETUP in the COMPACT
 * format with the fields ttai reads; FEED_CONFIG -> the feed is ready and
 * the subscriptions asked for meanwhile go; then FEED_DATA.  A KEEPALIVE
 * goes every keepalive/2 seconds; the shell closes the connection when
 * nothing came for the timeout.
 */

#define TTAI_DXL_CHANNEL        3
#define TTAI_DXL_KEEPALIVE      60      /* seconds, both ways */
#define TTAI_DXL_MAX_SYMBOLS    1000    /* subscribed at once */

typedef enum {
    TTAI_DXL_NEW = 0,
    TTAI_DXL_SETUP,                     /* SETUP sent */
    TTAI_DXL_AUTH,                      /* AUTH sent */
    TTAI_DXL_AUTHORIZED,                /* CHANNEL_REQUEST sent */
    TTAI_DXL_OPEN,                      /* FEED_SETUP sent */
    TTAI_DXL_READY,                     /* FEED_CONFIG came */
    TTAI_DXL_FAILED                     /* an ERROR, or refused: reconnect */
} ttai_dxl_state_e;

typedef struct ttai_dxl_s  ttai_dxl_t;

/*
 * What a message did: texts to send, in order (each free()d by the
 * caller with ttai_dxl_out_free), and events decoded: objects
 * {"type","symbol", fields...}.  error says why the feed failed, once.
 */
typedef struct {
    char              **send;
    size_t              nsend;
    json_t             *events;
    int                 refused;       /* the token was refused */
    char                error[256];
} ttai_dxl_out_t;


ttai_dxl_t *ttai_dxl_create(const char *token);
void ttai_dxl_free(ttai_dxl_t *d);
ttai_dxl_state_e ttai_dxl_state(const ttai_dxl_t *d);

/* the keep-alive timeout SETUP asks for, in seconds (before start) */
void ttai_dxl_set_keepalive(ttai_dxl_t *d, int seconds);

/* the first message: SETUP; NULL when out of memory */
char *ttai_dxl_start(ttai_dxl_t *d);

/* a text message received; -1 when out of memory (out is then unset) */
int ttai_dxl_receive(ttai_dxl_t *d, const char *msg, size_t len,
    ttai_dxl_out_t *out);

/*
 * Symbols to add to or remove from the feed, for the event types ttai
 * reads (arrays of strings, either NULL; a candle symbol, "AAPL{=5m}",
 * is added as {"symbol", "fromTime": epoch ms} for Candle events from
 * then on); the message to send now, or
 * NULL when there is none yet (kept until the feed is ready) or nothing
 * changed; *oom set when out of memory
 */
char *ttai_dxl_subscribe(ttai_dxl_t *d, json_t *add, json_t *remove,
    int *oom);

/* the keep-alive message */
char *ttai_dxl_keepalive(ttai_dxl_t *d);

/*
 * A candle symbol's period in ms ("AAPL{=5m}": 300000, "{=1d}", "{=2h}",
 * "{=1w}"), 0 for any other symbol
 */
long long ttai_dxl_candle_period(const char *symbol);

/* the most bars kept of a candle symbol */
#define TTAI_DXL_CANDLES       500

void ttai_dxl_out_free(ttai_dxl_out_t *out);


#endif /* _TTAI_DXLINK_H_INCLUDED_ */
