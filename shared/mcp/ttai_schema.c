
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tools.h"


/*
 * The JSON Schema subset of ttai_tools.h.  Tool schemas are checked once,
 * at registration, so that every keyword a tool declares is one that is
 * enforced here; arguments are then validated on every call, and each
 * failure names the argument's path ("legs[0].symbol") in words a model
 * can act on.
 */

#define TTAI_SCHEMA_MAX_PATH   192
#define TTAI_SCHEMA_MAX_DEPTH  32

/*
 * Schemas met in one validation at most: "$ref" and the forms that are
 * tried ("anyOf" within "anyOf") could otherwise make the work grow as
 * a power of the depth
 */
#define TTAI_SCHEMA_MAX_STEPS  20000


typedef struct {
    char         path[TTAI_SCHEMA_MAX_PATH];
    size_t       len;
    unsigned     depth;
    const char  *root;          /* "the arguments": the whole value */
    json_t      *top;           /* the whole schema, for "$ref" */
    unsigned    *steps;         /* schemas met so far, trials included */
    unsigned     header_ok;     /* a top-level property: x-mcp-header */
    const char  *item;          /* "argument": one value in it */
    char        *err;
    size_t       errlen;
} ttai_schema_ctx_t;


static int ttai_schema_run(json_t *schema, json_t *value, const char *root,
    const char *item, char *err, size_t errlen);
static int ttai_schema_value(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_type(ttai_schema_ctx_t *ctx, json_t *type,
    json_t *value);
static int ttai_schema_is(const char *type, json_t *value);
static int ttai_schema_choices(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_compose(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_try(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value, char *err, size_t errlen);
static json_t *ttai_schema_ref(json_t *top, const char *ref);
static int ttai_schema_object(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_array(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_string(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_number(ttai_schema_ctx_t *ctx, json_t *schema,
    json_t *value);
static int ttai_schema_equal(json_t *a, json_t *b);
static int ttai_schema_compare(json_t *a, json_t *b);
static size_t ttai_schema_utf8_len(const char *s, size_t len);
static const char *ttai_schema_noun(const char *type);
static const char *ttai_schema_kind(json_t *value);
static void ttai_schema_format_number(char *buf, size_t size, json_t *n);
static size_t ttai_schema_push(ttai_schema_ctx_t *ctx, const char *key,
    size_t index);
static void ttai_schema_pop(ttai_schema_ctx_t *ctx, size_t len);
static int ttai_schema_fail(ttai_schema_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ttai_schema_check_node(ttai_schema_ctx_t *ctx, json_t *schema);
static int ttai_schema_check_type(ttai_schema_ctx_t *ctx, json_t *type);
static int ttai_schema_check_count(json_t *v);
static int ttai_schema_token(json_t *v);
static int ttai_schema_header_type(json_t *type);


/* keywords that only describe, and so need no enforcing */
static const char  *ttai_schema_annotations[] = {
    "title", "description", "default", "examples", "$schema", "$id",
    "$comment", "format", "deprecated", "readOnly", "writeOnly", "$anchor",
    NULL
};

static const char  *ttai_schema_types[] = {
    "object", "array", "string", "integer", "number", "boolean", "null",
    NULL
};


int
ttai_schema_validate(json_t *schema, json_t *value, char *err, size_t errlen)
{
    return ttai_schema_run(schema, value, "the arguments", "argument", err,
                           errlen);
}


int
ttai_schema_validate_output(json_t *schema, json_t *value, char *err,
    size_t errlen)
{
    return ttai_schema_run(schema, value, "structuredContent", "field", err,
                           errlen);
}


int
ttai_schema_check(json_t *schema, char *err, size_t errlen)
{
    ttai_schema_ctx_t  ctx;

    memset(&ctx, 0, sizeof(ttai_schema_ctx_t));
    ctx.root = "the schema";
    ctx.item = "schema";
    ctx.top = schema;
    ctx.err = err;
    ctx.errlen = errlen;

    return ttai_schema_check_node(&ctx, schema);
}


static int
ttai_schema_run(json_t *schema, json_t *value, const char *root,
    const char *item, char *err, size_t errlen)
{
    unsigned           steps;
    ttai_schema_ctx_t  ctx;

    steps = 0;

    memset(&ctx, 0, sizeof(ttai_schema_ctx_t));
    ctx.root = root;
    ctx.item = item;
    ctx.top = schema;
    ctx.steps = &steps;
    ctx.err = err;
    ctx.errlen = errlen;

    if (errlen > 0) {
        err[0] = '\0';
    }

    return ttai_schema_value(&ctx, schema, value);
}


static int
ttai_schema_value(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    json_t  *type;

    if (json_is_true(schema)) {
        return 0;
    }

    if (!json_is_object(schema)) {
        return ttai_schema_fail(ctx, "%s", "is not allowed");
    }

    if (ctx->depth >= TTAI_SCHEMA_MAX_DEPTH) {
        return ttai_schema_fail(ctx, "%s", "is nested too deeply");
    }

    if (++*ctx->steps > TTAI_SCHEMA_MAX_STEPS) {
        return ttai_schema_fail(ctx, "%s", "is too complex to check");
    }

    type = json_object_get(schema, "type");

    if (type != NULL && ttai_schema_type(ctx, type, value) != 0) {
        return -1;
    }

    if (ttai_schema_choices(ctx, schema, value) != 0) {
        return -1;
    }

    if (ttai_schema_compose(ctx, schema, value) != 0) {
        return -1;
    }

    switch (json_typeof(value)) {

    case JSON_OBJECT:
        return ttai_schema_object(ctx, schema, value);

    case JSON_ARRAY:
        return ttai_schema_array(ctx, schema, value);

    case JSON_STRING:
        return ttai_schema_string(ctx, schema, value);

    case JSON_INTEGER:
    case JSON_REAL:
        return ttai_schema_number(ctx, schema, value);

    default:
        return 0;
    }
}


static int
ttai_schema_type(ttai_schema_ctx_t *ctx, json_t *type, json_t *value)
{
    char     want[128];
    size_t   i, n, len;
    json_t  *t;

    if (json_is_string(type)) {
        if (ttai_schema_is(json_string_value(type), value)) {
            return 0;
        }

        return ttai_schema_fail(ctx, "must be %s, not %s",
                                ttai_schema_noun(json_string_value(type)),
                                ttai_schema_kind(value));
    }

    n = json_array_size(type);
    len = 0;
    want[0] = '\0';

    json_array_foreach(type, i, t) {
        if (ttai_schema_is(json_string_value(t), value)) {
            return 0;
        }

        len += snprintf(want + len, sizeof(want) - len, "%s%s",
                        i == 0 ? "" : (i + 1 == n ? " or " : ", "),
                        ttai_schema_noun(json_string_value(t)));

        if (len >= sizeof(want)) {
            len = sizeof(want) - 1;
        }
    }

    return ttai_schema_fail(ctx, "must be %s, not %s", want,
                            ttai_schema_kind(value));
}


/*
 * An integer must be written as one: tools read it with
 * json_integer_value(), which would read 3.0 as 0.
 */

static int
ttai_schema_is(const char *type, json_t *value)
{
    if (strcmp(type, "object") == 0) {
        return json_is_object(value);
    }

    if (strcmp(type, "array") == 0) {
        return json_is_array(value);
    }

    if (strcmp(type, "string") == 0) {
        return json_is_string(value);
    }

    if (strcmp(type, "integer") == 0) {
        return json_is_integer(value);
    }

    if (strcmp(type, "number") == 0) {
        return json_is_number(value);
    }

    if (strcmp(type, "boolean") == 0) {
        return json_is_boolean(value);
    }

    if (strcmp(type, "null") == 0) {
        return json_is_null(value);
    }

    return 0;
}


static int
ttai_schema_choices(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    char     list[256], *text;
    size_t   i, len;
    json_t  *choices, *c;

    c = json_object_get(schema, "const");

    if (c != NULL && !ttai_schema_equal(c, value)) {
        text = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
        ttai_schema_fail(ctx, "must be %.128s", text ? text : "a constant");
        free(text);
        return -1;
    }

    choices = json_object_get(schema, "enum");

    if (choices == NULL) {
        return 0;
    }

    json_array_foreach(choices, i, c) {
        if (ttai_schema_equal(c, value)) {
            return 0;
        }
    }

    len = 0;
    list[0] = '\0';

    json_array_foreach(choices, i, c) {
        text = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text == NULL) {
            break;
        }

        if (len + strlen(text) + 8 >= sizeof(list)) {
            snprintf(list + len, sizeof(list) - len, ", ...");
            free(text);
            break;
        }

        len += snprintf(list + len, sizeof(list) - len, "%s%s",
                        i == 0 ? "" : ", ", text);
        free(text);
    }

    return ttai_schema_fail(ctx, "must be one of: %s", list);
}


/*
 * The keywords that combine schemas (JSON Schema 2020-12): "$ref" to a
 * part of the same schema, "allOf", "anyOf", "oneOf", "not", and "if"
 * with "then" and "else".  A form that is only tried (an anyOf branch,
 * an if) reports into a buffer of its own, so that only the failure that
 * decides is told.
 */

static int
ttai_schema_compose(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    int          rc;
    char         first[256], scratch[256];
    size_t       i, n;
    json_t      *v, *sub, *target;
    const char  *ref;

    ref = json_string_value(json_object_get(schema, "$ref"));

    if (ref != NULL) {
        target = ttai_schema_ref(ctx->top, ref);

        if (target == NULL) {
            return ttai_schema_fail(ctx, "cannot be checked: the schema "
                                    "has no %.64s", ref);
        }

        ctx->depth++;
        rc = ttai_schema_value(ctx, target, value);
        ctx->depth--;

        if (rc != 0) {
            return rc;
        }
    }

    json_array_foreach(json_object_get(schema, "allOf"), i, sub) {
        ctx->depth++;
        rc = ttai_schema_value(ctx, sub, value);
        ctx->depth--;

        if (rc != 0) {
            return rc;
        }
    }

    v = json_object_get(schema, "anyOf");

    if (v != NULL) {
        first[0] = '\0';

        json_array_foreach(v, i, sub) {
            if (ttai_schema_try(ctx, sub, value,
                                i == 0 ? first : scratch,
                                i == 0 ? sizeof(first) : sizeof(scratch))
                == 0)
            {
                break;
            }
        }

        if (i == json_array_size(v)) {
            return ttai_schema_fail(ctx, "must match one of the forms "
                                    "allowed (the first: %s)", first);
        }
    }

    v = json_object_get(schema, "oneOf");

    if (v != NULL) {
        n = 0;
        first[0] = '\0';

        json_array_foreach(v, i, sub) {
            if (ttai_schema_try(ctx, sub, value,
                                i == 0 ? first : scratch,
                                i == 0 ? sizeof(first) : sizeof(scratch))
                == 0)
            {
                n++;
            }
        }

        if (n == 0) {
            return ttai_schema_fail(ctx, "must match one of the forms "
                                    "allowed (the first: %s)", first);
        }

        if (n > 1) {
            return ttai_schema_fail(ctx, "must match exactly one of the "
                                    "forms allowed, not %zu", n);
        }
    }

    v = json_object_get(schema, "not");

    if (v != NULL
        && ttai_schema_try(ctx, v, value, scratch, sizeof(scratch)) == 0)
    {
        return ttai_schema_fail(ctx, "%s", "must not match the form it "
                                "excludes");
    }

    v = json_object_get(schema, "if");

    if (v != NULL) {
        sub = json_object_get(schema,
                              ttai_schema_try(ctx, v, value, scratch,
                                              sizeof(scratch)) == 0
                              ? "then" : "else");

        if (sub != NULL) {
            ctx->depth++;
            rc = ttai_schema_value(ctx, sub, value);
            ctx->depth--;

            if (rc != 0) {
                return rc;
            }
        }
    }

    return 0;
}


/* validates with its own error buffer: 0 when value matches schema */

static int
ttai_schema_try(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value,
    char *err, size_t errlen)
{
    ttai_schema_ctx_t  trial;

    trial = *ctx;
    trial.err = err;
    trial.errlen = errlen;
    trial.depth++;

    err[0] = '\0';

    return ttai_schema_value(&trial, schema, value);
}


/*
 * A "$ref" within the schema: "#", a JSON pointer ("#/$defs/address",
 * with ~0 and ~1 escapes), or a plain-name fragment that a "$defs"
 * entry's "$anchor" names ("#addressDef").  NULL when it points nowhere.
 */

static json_t *
ttai_schema_ref(json_t *top, const char *ref)
{
    char         token[128];
    size_t       n;
    json_t      *node, *def;
    const char  *p, *end, *key;

    if (ref[0] != '#') {
        return NULL;
    }

    if (ref[1] == '\0') {
        return top;
    }

    if (ref[1] != '/') {
        json_object_foreach(json_object_get(top, "$defs"), key, def) {
            p = json_string_value(json_object_get(def, "$anchor"));

            if (p != NULL && strcmp(p, ref + 1) == 0) {
                return def;
            }
        }

        return NULL;
    }

    node = top;
    p = ref + 1;

    while (*p == '/' && node != NULL) {
        p++;
        end = strchr(p, '/');
        end = end ? end : p + strlen(p);

        for (n = 0; p < end && n < sizeof(token) - 1; p++) {
            if (p[0] == '~' && p + 1 < end && (p[1] == '0' || p[1] == '1')) {
                token[n++] = (p[1] == '0') ? '~' : '/';
                p++;

            } else {
                token[n++] = *p;
            }
        }

        token[n] = '\0';
        p = end;

        if (json_is_array(node)) {
            node = json_array_get(node, (size_t) strtoul(token, NULL, 10));

        } else {
            node = json_object_get(node, token);
        }
    }

    return (*p == '\0') ? node : NULL;
}


static int
ttai_schema_object(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    int          rc;
    char         names[256];
    size_t       i, n, len, saved;
    json_t      *props, *required, *extra, *r, *sub, *v;
    const char  *key, *name;

    props = json_object_get(schema, "properties");
    required = json_object_get(schema, "required");
    extra = json_object_get(schema, "additionalProperties");

    json_array_foreach(required, i, r) {
        if (json_object_get(value, json_string_value(r)) == NULL) {
            saved = ttai_schema_push(ctx, json_string_value(r), 0);
            rc = ttai_schema_fail(ctx, "%s", "is required");
            ttai_schema_pop(ctx, saved);
            return rc;
        }
    }

    json_object_foreach(value, key, v) {
        sub = json_object_get(props, key);

        if (sub == NULL) {
            sub = extra;
        }

        saved = ttai_schema_push(ctx, key, 0);
        ctx->depth++;

        if (json_is_false(sub)) {
            /* name what is accepted, so the caller can correct itself */
            len = 0;
            names[0] = '\0';
            n = 0;

            json_object_foreach(props, name, r) {
                if (len + strlen(name) + 8 >= sizeof(names)) {
                    snprintf(names + len, sizeof(names) - len, ", ...");
                    break;
                }

                len += snprintf(names + len, sizeof(names) - len, "%s%s",
                                n++ == 0 ? "" : ", ", name);
            }

            if (n == 0) {
                snprintf(ctx->err, ctx->errlen, "unknown %s \"%s\": none "
                         "are expected here", ctx->item, ctx->path);
            } else {
                snprintf(ctx->err, ctx->errlen, "unknown %s \"%s\"; "
                         "expected only: %s", ctx->item, ctx->path, names);
            }

            rc = -1;

        } else if (sub != NULL) {
            rc = ttai_schema_value(ctx, sub, v);

        } else {
            rc = 0;
        }

        ctx->depth--;
        ttai_schema_pop(ctx, saved);

        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
ttai_schema_array(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    int         rc;
    size_t      i, n, saved;
    json_t     *items, *limit, *v;
    json_int_t  count;

    n = json_array_size(value);

    limit = json_object_get(schema, "minItems");
    count = json_integer_value(limit);

    if (limit != NULL && (json_int_t) n < count) {
        return ttai_schema_fail(ctx, "must be an array of at least %lld "
                                "item%s", (long long) count,
                                count == 1 ? "" : "s");
    }

    limit = json_object_get(schema, "maxItems");
    count = json_integer_value(limit);

    if (limit != NULL && (json_int_t) n > count) {
        return ttai_schema_fail(ctx, "must be an array of at most %lld "
                                "item%s", (long long) count,
                                count == 1 ? "" : "s");
    }

    items = json_object_get(schema, "items");

    if (items == NULL) {
        return 0;
    }

    json_array_foreach(value, i, v) {
        saved = ttai_schema_push(ctx, NULL, i);
        ctx->depth++;

        rc = ttai_schema_value(ctx, items, v);

        ctx->depth--;
        ttai_schema_pop(ctx, saved);

        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
ttai_schema_string(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    size_t      n;
    json_t     *limit;
    json_int_t  count;

    n = ttai_schema_utf8_len(json_string_value(value),
                             json_string_length(value));

    limit = json_object_get(schema, "minLength");
    count = json_integer_value(limit);

    if (limit != NULL && (json_int_t) n < count) {
        return ttai_schema_fail(ctx, "must be at least %lld character%s "
                                "long", (long long) count,
                                count == 1 ? "" : "s");
    }

    limit = json_object_get(schema, "maxLength");
    count = json_integer_value(limit);

    if (limit != NULL && (json_int_t) n > count) {
        return ttai_schema_fail(ctx, "must be at most %lld character%s "
                                "long", (long long) count,
                                count == 1 ? "" : "s");
    }

    return 0;
}


static int
ttai_schema_number(ttai_schema_ctx_t *ctx, json_t *schema, json_t *value)
{
    char     text[64];
    json_t  *limit;

    limit = json_object_get(schema, "minimum");

    if (limit != NULL && ttai_schema_compare(value, limit) < 0) {
        ttai_schema_format_number(text, sizeof(text), limit);
        return ttai_schema_fail(ctx, "must be at least %s", text);
    }

    limit = json_object_get(schema, "maximum");

    if (limit != NULL && ttai_schema_compare(value, limit) > 0) {
        ttai_schema_format_number(text, sizeof(text), limit);
        return ttai_schema_fail(ctx, "must be at most %s", text);
    }

    return 0;
}


/* JSON Schema equality: 1 and 1.0 are the same number, at any depth */

static int
ttai_schema_equal(json_t *a, json_t *b)
{
    size_t       i;
    json_t      *v;
    const char  *key;

    if (json_is_number(a) && json_is_number(b)) {
        return ttai_schema_compare(a, b) == 0;
    }

    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }

    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }

        json_array_foreach(a, i, v) {
            if (!ttai_schema_equal(v, json_array_get(b, i))) {
                return 0;
            }
        }

        return 1;
    }

    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b)) {
            return 0;
        }

        json_object_foreach(a, key, v) {
            if (json_object_get(b, key) == NULL
                || !ttai_schema_equal(v, json_object_get(b, key)))
            {
                return 0;
            }
        }

        return 1;
    }

    return json_equal(a, b);
}


/*
 * -1, 0 or 1 as a is below, equal to or above b: two integers as
 * integers, which a double holds exactly only up to 2^53
 */

static int
ttai_schema_compare(json_t *a, json_t *b)
{
    double      x, y;
    json_int_t  i, j;

    if (json_is_integer(a) && json_is_integer(b)) {
        i = json_integer_value(a);
        j = json_integer_value(b);

        return (i > j) - (i < j);
    }

    x = json_number_value(a);
    y = json_number_value(b);

    return (x > y) - (x < y);
}


/* characters, not bytes: jansson has checked that it is UTF-8 */

static size_t
ttai_schema_utf8_len(const char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


static const char *
ttai_schema_noun(const char *type)
{
    if (strcmp(type, "object") == 0) {
        return "an object";
    }

    if (strcmp(type, "array") == 0) {
        return "an array";
    }

    if (strcmp(type, "string") == 0) {
        return "a string";
    }

    if (strcmp(type, "integer") == 0) {
        return "an integer";
    }

    if (strcmp(type, "number") == 0) {
        return "a number";
    }

    if (strcmp(type, "boolean") == 0) {
        return "true or false";
    }

    return "null";
}


static const char *
ttai_schema_kind(json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}


static void
ttai_schema_format_number(char *buf, size_t size, json_t *n)
{
    if (json_is_integer(n)) {
        snprintf(buf, size, "%lld", (long long) json_integer_value(n));

    } else {
        snprintf(buf, size, "%.15g", json_real_value(n));
    }
}


/* appends ".key", "key" or "[index]"; returns the length to pop back to */

static size_t
ttai_schema_push(ttai_schema_ctx_t *ctx, const char *key, size_t index)
{
    int     n;
    size_t  saved;

    saved = ctx->len;

    if (key != NULL) {
        n = snprintf(ctx->path + ctx->len, sizeof(ctx->path) - ctx->len,
                     "%s%s", ctx->len == 0 ? "" : ".", key);
    } else {
        n = snprintf(ctx->path + ctx->len, sizeof(ctx->path) - ctx->len,
                     "[%zu]", index);
    }

    if (n < 0 || (size_t) n >= sizeof(ctx->path) - ctx->len) {
        ctx->len = sizeof(ctx->path) - 1;
    } else {
        ctx->len += n;
    }

    return saved;
}


static void
ttai_schema_pop(ttai_schema_ctx_t *ctx, size_t len)
{
    ctx->len = len;
    ctx->path[len] = '\0';
}


/* "argument "legs[0].symbol" must be ...", or "the arguments must ..." */

static int
ttai_schema_fail(ttai_schema_ctx_t *ctx, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (ctx->errlen == 0) {
        return -1;
    }

    if (ctx->len == 0) {
        n = snprintf(ctx->err, ctx->errlen, "%s ", ctx->root);
    } else {
        n = snprintf(ctx->err, ctx->errlen, "%s \"%s\" ", ctx->item,
                     ctx->path);
    }

    if (n < 0 || (size_t) n >= ctx->errlen) {
        return -1;
    }

    va_start(args, fmt);
    vsnprintf(ctx->err + n, ctx->errlen - n, fmt, args);
    va_end(args);

    return -1;
}


/*
 * A schema may use only the keywords validated above, each with a value
 * of the right type: a keyword we would silently ignore is a promise to
 * the model that nothing keeps.
 */

static int
ttai_schema_check_node(ttai_schema_ctx_t *ctx, json_t *schema)
{
    int          rc;
    size_t       i, saved;
    json_t      *v, *p;
    unsigned     header_ok;
    const char  *key, *name, **a;

    /* only the node itself, never what it holds */
    header_ok = ctx->header_ok;
    ctx->header_ok = 0;

    if (json_is_boolean(schema)) {
        return 0;
    }

    if (!json_is_object(schema)) {
        return ttai_schema_fail(ctx, "%s", "must be an object");
    }

    if (ctx->depth >= TTAI_SCHEMA_MAX_DEPTH) {
        return ttai_schema_fail(ctx, "%s", "is nested too deeply");
    }

    json_object_foreach(schema, key, v) {

        if (strcmp(key, "type") == 0) {
            rc = ttai_schema_check_type(ctx, v);

        } else if (strcmp(key, "properties") == 0) {
            if (!json_is_object(v)) {
                return ttai_schema_fail(ctx, "%s", "has properties that "
                                        "are not an object");
            }

            json_object_foreach(v, name, p) {
                saved = ttai_schema_push(ctx, name, 0);
                ctx->header_ok = (ctx->depth == 0);
                ctx->depth++;
                rc = ttai_schema_check_node(ctx, p);
                ctx->depth--;
                ttai_schema_pop(ctx, saved);

                if (rc != 0) {
                    return rc;
                }
            }

            rc = 0;

        } else if (strcmp(key, "required") == 0) {
            rc = json_is_array(v) ? 0 : -1;

            json_array_foreach(v, i, p) {
                if (!json_is_string(p)) {
                    rc = -1;
                }
            }

        } else if (strcmp(key, "additionalProperties") == 0
                   || strcmp(key, "items") == 0
                   || strcmp(key, "not") == 0
                   || strcmp(key, "if") == 0
                   || strcmp(key, "then") == 0
                   || strcmp(key, "else") == 0)
        {
            ctx->depth++;
            rc = ttai_schema_check_node(ctx, v);
            ctx->depth--;

            if (rc != 0) {
                return rc;
            }

        } else if (strcmp(key, "enum") == 0) {
            rc = (json_is_array(v) && json_array_size(v) > 0) ? 0 : -1;

        } else if (strcmp(key, "allOf") == 0 || strcmp(key, "anyOf") == 0
                   || strcmp(key, "oneOf") == 0)
        {
            if (!json_is_array(v) || json_array_size(v) == 0) {
                return ttai_schema_fail(ctx, "has a bad \"%s\"", key);
            }

            json_array_foreach(v, i, p) {
                ctx->depth++;
                rc = ttai_schema_check_node(ctx, p);
                ctx->depth--;

                if (rc != 0) {
                    return rc;
                }
            }

        } else if (strcmp(key, "$defs") == 0) {
            if (!json_is_object(v)) {
                return ttai_schema_fail(ctx, "%s", "has $defs that are not "
                                        "an object");
            }

            json_object_foreach(v, name, p) {
                ctx->depth++;
                rc = ttai_schema_check_node(ctx, p);
                ctx->depth--;

                if (rc != 0) {
                    return rc;
                }
            }

        } else if (strcmp(key, "x-mcp-header") == 0) {
            /* SEP-2243: an argument a proxy may read from Mcp-Param-* */
            if (!header_ok) {
                return ttai_schema_fail(ctx, "%s", "has x-mcp-header, which "
                                        "only a top-level property may "
                                        "have");
            }

            rc = (ttai_schema_token(v)
                  && ttai_schema_header_type(json_object_get(schema,
                                                              "type")))
                 ? 0 : -1;

        } else if (strcmp(key, "$ref") == 0) {
            /* only within the schema: nothing is fetched */
            rc = (json_is_string(v)
                  && ttai_schema_ref(ctx->top, json_string_value(v)) != NULL)
                 ? 0 : -1;

        } else if (strcmp(key, "const") == 0) {
            rc = 0;

        } else if (strcmp(key, "minimum") == 0
                   || strcmp(key, "maximum") == 0)
        {
            rc = json_is_number(v) ? 0 : -1;

        } else if (strcmp(key, "minLength") == 0
                   || strcmp(key, "maxLength") == 0
                   || strcmp(key, "minItems") == 0
                   || strcmp(key, "maxItems") == 0)
        {
            rc = ttai_schema_check_count(v);

        } else {
            for (a = ttai_schema_annotations; *a != NULL; a++) {
                if (strcmp(key, *a) == 0) {
                    break;
                }
            }

            if (*a == NULL) {
                return ttai_schema_fail(ctx, "uses \"%s\", which ttai "
                                        "does not enforce", key);
            }

            rc = 0;
        }

        if (rc != 0) {
            return ttai_schema_fail(ctx, "has a bad \"%s\"", key);
        }
    }

    return 0;
}


/* an RFC 9110 token: what may follow "Mcp-Param-" in a header name */

static int
ttai_schema_token(json_t *v)
{
    const char  *p;

    p = json_string_value(v);

    if (p == NULL || *p == '\0') {
        return 0;
    }

    for ( /* void */ ; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || strchr("!#$%&'*+-.^_`|~", *p) != NULL))
        {
            return 0;
        }
    }

    return 1;
}


/* a header carries a string, an integer or a boolean, and nothing else */

static int
ttai_schema_header_type(json_t *type)
{
    const char  *t;

    t = json_string_value(type);

    return t != NULL && (strcmp(t, "string") == 0
                         || strcmp(t, "integer") == 0
                         || strcmp(t, "boolean") == 0);
}


static int
ttai_schema_check_type(ttai_schema_ctx_t *ctx, json_t *type)
{
    size_t        i;
    json_t       *t;
    const char  **name;

    if (json_is_string(type)) {
        for (name = ttai_schema_types; *name != NULL; name++) {
            if (strcmp(json_string_value(type), *name) == 0) {
                return 0;
            }
        }

        return -1;
    }

    if (!json_is_array(type) || json_array_size(type) == 0) {
        return -1;
    }

    json_array_foreach(type, i, t) {
        if (!json_is_string(t) || ttai_schema_check_type(ctx, t) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
ttai_schema_check_count(json_t *v)
{
    return (json_is_integer(v) && json_integer_value(v) >= 0) ? 0 : -1;
}
