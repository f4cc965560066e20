
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_JSON_H_INCLUDED_
#define _TTAI_JSON_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * Compact JSON text of a value, as json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(15)) writes it, only faster where answers spend
 * their time: a real with a short decimal form (a price, a percent) is
 * written from integers, not through printf's arbitrary-precision %g.
 * Object members keep their insertion order.  Returns malloc'd text and
 * its length, or NULL when out of memory.
 */
char *ttai_json_dumps(const json_t *json, size_t *len);

/* the text of one real, as above, into buf (at least 40 bytes), not
 * NUL-terminated: returns its length */
size_t ttai_json_real(double v, char *buf);


#endif /* _TTAI_JSON_H_INCLUDED_ */
