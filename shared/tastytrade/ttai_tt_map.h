
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TT_MAP_H_INCLUDED_
#define _TTAI_TT_MAP_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * TastyTrade's objects as the tools show them, from tables: each row
 * names a member of TastyTrade's object (kebab-case; "a.b" is member b
 * of the object a), the tool's name for it (snake_case), and how its
 * value is read.  Whatever TastyTrade sends, a row gives a value of its
 * kind or null, so that structuredContent always has the same members.
 */

typedef enum {
    TTAI_TT_STRING = 1,    /* a string, else null */
    TTAI_TT_NUMBER,        /* a decimal, as a string or a number: null
                              when unreadable (ttai_tt_number) */
    TTAI_TT_SIGNED,        /* a NUMBER negated when "<from>-effect" is
                              "Debit" (ttai_tt_signed) */
    TTAI_TT_SHORT,         /* a NUMBER negated when "<from>-direction" is
                              "Short" */
    TTAI_TT_PERCENT,       /* a fraction (0.427) as a percent (42.7),
                              ttai_market_percent */
    TTAI_TT_WHOLE,         /* a NUMBER cut to an integer */
    TTAI_TT_INTEGER,       /* an integer, else null */
    TTAI_TT_BOOLEAN,       /* a boolean, else null */
    TTAI_TT_FLAG,          /* true when true, false otherwise: never null */
    TTAI_TT_ID,            /* an integer or a string, else null */
    TTAI_TT_TIME,          /* a string, or epoch milliseconds as ISO 8601
                              (ttai_tt_time) */
    TTAI_TT_COUNT,         /* how many items an array has; 0: none */
    TTAI_TT_OBJECT,        /* an object mapped by fields, else null */
    TTAI_TT_GROUP,         /* an object mapped by fields, every member
                              null when TastyTrade sent none */
    TTAI_TT_LIST           /* an array of objects each mapped by fields,
                              at most max of them (0: all); [] when
                              TastyTrade sent none */
} ttai_tt_kind_e;

/* or'ed into a kind: no member at all, rather than null, when null */
#define TTAI_TT_OPTIONAL  0x100


typedef struct ttai_tt_field_s  ttai_tt_field_t;

struct ttai_tt_field_s {
    const char               *from;
    const char               *to;
    unsigned                  kind;
    const ttai_tt_field_t    *fields;    /* OBJECT, GROUP, LIST */
    size_t                    max;       /* LIST */
};


#define ttai_tt_field(from, to, kind)                                        \
    { from, to, kind, NULL, 0 }

#define ttai_tt_nested(from, to, kind, fields, max)                          \
    { from, to, kind, fields, max }

#define ttai_tt_null_field                                                   \
    { NULL, NULL, 0, NULL, 0 }


/*
 * Sets in out, in the order of the table (ended by ttai_tt_null_field),
 * each row's member read from in; in may be NULL or not an object, and
 * every member is then null.  Returns 0, or -1 when out of memory.
 */
int ttai_tt_map(json_t *out, json_t *in, const ttai_tt_field_t *fields);

/* the same in a new object; NULL when out of memory */
json_t *ttai_tt_mapped(json_t *in, const ttai_tt_field_t *fields);


#endif /* _TTAI_TT_MAP_H_INCLUDED_ */
