
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_MARKET_H_INCLUDED_
#define _TTAI_MARKET_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * What the market-data tools share: symbol lists as arguments and in
 * query strings, numbers for their text, and the text itself, which
 * for an option chain runs to many lines.
 */


typedef struct {
    char                *data;       /* NUL-terminated; NULL until used */
    size_t               len;
    size_t               size;
    int                  failed;     /* out of memory on the way */
    int                  untrusted;  /* ttai_market_data() wrote to it */
} ttai_market_text_t;

/* text from TastyTrade or a user, quoted: see ttai_tool_quote() */
void ttai_market_data(ttai_market_text_t *t, const char *s);


/*
 * A list argument of symbols, normalized as the worker does
 * (ttai_worker_symbol), each once, in the order given: a new array of
 * strings.  NULL with *result set to an isError result that names the
 * bad symbol, or NULL with *result NULL when out of memory.
 */
json_t *ttai_market_symbols(const char *tool, json_t *list, json_t **result);

/*
 * An underlying's symbol argument (a stock, ETF or index) normalized into
 * out (TTAI_WORKER_SYMBOL_LEN + 1 bytes): 0; or -1 with *result an isError
 * of tool that says what to give instead (NULL: out of memory)
 */
int ttai_market_underlying(const char *tool, json_t *arg, char *out,
    json_t **result);

/* "A,B,%2FESZ5": each percent-encoded, comma-joined; malloc'd or NULL */
char *ttai_market_join(json_t *symbols);

/* the JSON object text holds, or NULL (absent, not JSON, not an object) */
json_t *ttai_market_object(const char *text, size_t len);

/* v to places decimals, half away from zero */
double ttai_market_round(double v, int places);

/*
 * A fraction TastyTrade sends as 0..1 ("0.427330631", a string), as a
 * percent rounded to two decimals (42.73); null when it is not a
 * number.  A new reference, NULL when out of memory.
 */
json_t *ttai_market_percent(json_t *v);

/*
 * A number for text, with at least min and at most max decimals
 * (trailing zeros cut): 150 -> "150.00", 312.0151 -> "312.0151" with
 * min 2, max 4.  "-" when v is not a number.  Returns buf.
 */
const char *ttai_market_num(char *buf, size_t size, json_t *v, int min,
    int max);

/* appends to the text; a failure is remembered in t->failed */
void ttai_market_printf(ttai_market_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The text result with structured (whose reference it takes), and the
 * text freed.  NULL when out of memory, now or on the way.
 */
json_t *ttai_market_result(ttai_market_text_t *t, json_t *structured);


#endif /* _TTAI_MARKET_H_INCLUDED_ */
