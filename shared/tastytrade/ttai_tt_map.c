
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * One mapper for every table of the tools: the rows say what to read,
 * this says how.  A member TastyTrade did not send, or sent as another
 * type, is null (the kind decides), never an error: its answers vary
 * from one endpoint and one version to the next.
 */

#define TTAI_TT_MAP_KIND  0xff


static json_t *ttai_tt_map_value(json_t *in, const ttai_tt_field_t *f);
static json_t *ttai_tt_map_list(json_t *v, const ttai_tt_field_t *f);
static json_t *ttai_tt_map_short(json_t *obj, const char *key);


int
ttai_tt_map(json_t *out, json_t *in, const ttai_tt_field_t *fields)
{
    json_t                 *v;
    const ttai_tt_field_t  *f;

    for (f = fields; f->to != NULL; f++) {
        v = ttai_tt_map_value(in, f);

        if (v == NULL) {
            return -1;
        }

        if ((f->kind & TTAI_TT_OPTIONAL) && json_is_null(v)) {
            json_decref(v);
            continue;
        }

        if (json_object_set_new(out, f->to, v) != 0) {
            return -1;
        }
    }

    return 0;
}


json_t *
ttai_tt_mapped(json_t *in, const ttai_tt_field_t *fields)
{
    json_t  *out;

    out = json_object();

    if (out == NULL || ttai_tt_map(out, in, fields) != 0) {
        json_decref(out);
        return NULL;
    }

    return out;
}


/* a new reference; NULL only when out of memory */

static json_t *
ttai_tt_map_value(json_t *in, const ttai_tt_field_t *f)
{
    json_t      *obj, *v, *n;
    const char  *key, *dot;

    /* "account.nickname": the path's objects first */
    obj = in;
    key = f->from;

    while ((dot = strchr(key, '.')) != NULL) {
        obj = json_object_getn(obj, key, (size_t) (dot - key));
        key = dot + 1;
    }

    v = json_object_get(obj, key);

    switch (f->kind & TTAI_TT_MAP_KIND) {

    case TTAI_TT_STRING:
        return ttai_tt_string(obj, key);

    case TTAI_TT_NUMBER:
        return ttai_tt_number(v);

    case TTAI_TT_SIGNED:
        return ttai_tt_signed(obj, key);

    case TTAI_TT_SHORT:
        return ttai_tt_map_short(obj, key);

    case TTAI_TT_PERCENT:
        return ttai_market_percent(v);

    case TTAI_TT_WHOLE:
        n = ttai_tt_number(v);

        if (!json_is_number(n)) {
            return n;
        }

        v = json_integer((json_int_t) json_number_value(n));
        json_decref(n);

        return v;

    case TTAI_TT_INTEGER:
        return json_is_integer(v) ? json_incref(v) : json_null();

    case TTAI_TT_BOOLEAN:
        return json_is_boolean(v) ? json_incref(v) : json_null();

    case TTAI_TT_FLAG:
        return json_boolean(json_is_true(v));

    case TTAI_TT_ID:
        return (json_is_integer(v) || json_is_string(v)) ? json_incref(v)
                                                         : json_null();

    case TTAI_TT_TIME:
        return ttai_tt_time(v);

    case TTAI_TT_COUNT:
        return json_integer((json_int_t) json_array_size(v));

    case TTAI_TT_OBJECT:
        return json_is_object(v) ? ttai_tt_mapped(v, f->fields)
                                 : json_null();

    case TTAI_TT_GROUP:
        return ttai_tt_mapped(v, f->fields);

    case TTAI_TT_LIST:
        return ttai_tt_map_list(v, f);

    default:
        /* a table that names no kind is a mistake the tests show */
        return json_null();
    }
}


static json_t *
ttai_tt_map_list(json_t *v, const ttai_tt_field_t *f)
{
    size_t   i;
    json_t  *list, *item, *o;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    json_array_foreach(v, i, item) {
        if (f->max != 0 && i == f->max) {
            break;
        }

        o = ttai_tt_mapped(item, f->fields);

        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/* a quantity TastyTrade sends unsigned, with a side: a short is negative */

static json_t *
ttai_tt_map_short(json_t *obj, const char *key)
{
    char         direction[128];
    json_t      *n;
    const char  *d;

    n = ttai_tt_number(json_object_get(obj, key));

    if (!json_is_real(n) || json_real_value(n) == 0) {
        /* no "-0": zero has no side */
        return n;
    }

    snprintf(direction, sizeof(direction), "%s-direction", key);
    d = json_string_value(json_object_get(obj, direction));

    if (d != NULL && strcmp(d, "Short") == 0) {
        json_real_set(n, -json_real_value(n));
    }

    return n;
}
