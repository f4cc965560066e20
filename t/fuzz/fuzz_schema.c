
/*
 * Copyright (C) ttai contributors
 */


/*
 * The JSON Schema validator of the tools' arguments.  Two kinds of
 * input:
 *
 *   a JSON value, validated as the arguments of every tool and as the
 *   structuredContent of every tool that declares an output schema;
 *   a schema and a value (FUZZ_SEP between them): the schema is
 *   checked, and when ttai takes it the value is validated against it.
 *
 * Every validation is compared with a second validator of the same
 * subset written here from JSON Schema's text, with ttai's two choices
 * (an integer must be written as one; 32 levels at most): they must
 * agree, and a refusal must say why.
 */

#include <jansson.h>

#include "ttai_tools.h"
#include "fuzz.h"


#define FUZZ_SCHEMA_DEPTH  32

/* past this many schemas met, a validation is given up: see below */
#define FUZZ_SCHEMA_STEPS  20000


typedef struct {
    json_t      *input;
    json_t      *output;
    const char  *name;
} fuzz_tool_t;


static void fuzz_tools(void);
static void fuzz_compare(const char *what, json_t *schema, json_t *value,
    int output);
static int fuzz_valid(json_t *schema, json_t *value, unsigned depth);
static int fuzz_combined(json_t *schema, json_t *value, unsigned depth);
static json_t *fuzz_pointer(json_t *top, const char *ref);
static int fuzz_is(const char *type, json_t *value);
static int fuzz_equal(json_t *a, json_t *b);
static int fuzz_cmp(json_t *a, json_t *b);
static size_t fuzz_chars(const char *s, size_t len);


static unsigned      fuzz_steps;
static json_t       *fuzz_top;         /* the schema "$ref" resolves in */
static fuzz_tool_t  *fuzz_tool_list;
static size_t        fuzz_ntools;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           err[256];
    size_t         i, n;
    json_t        *schema, *value;
    fuzz_piece_t   pieces[2];

    fuzz_tools();

    n = fuzz_split(data, size, pieces, 2);

    if (n == 1) {
        value = json_loadb(pieces[0].data, pieces[0].len, JSON_DECODE_ANY,
                           NULL);
        if (value == NULL) {
            return 0;
        }

        for (i = 0; i < fuzz_ntools; i++) {
            fuzz_compare(fuzz_tool_list[i].name, fuzz_tool_list[i].input,
                         value, 0);

            if (fuzz_tool_list[i].output != NULL) {
                fuzz_compare(fuzz_tool_list[i].name,
                             fuzz_tool_list[i].output, value, 1);
            }
        }

        json_decref(value);
        return 0;
    }

    schema = json_loadb(pieces[0].data, pieces[0].len, JSON_DECODE_ANY, NULL);
    value = json_loadb(pieces[1].data, pieces[1].len, JSON_DECODE_ANY, NULL);

    err[0] = '\0';

    if (schema != NULL && ttai_schema_check(schema, err, sizeof(err)) == 0) {
        if (value != NULL) {
            fuzz_compare("the input's", schema, value, 0);
            fuzz_compare("the input's", schema, value, 1);
        }

    } else if (schema != NULL) {
        fuzz_check(err[0] != '\0', "a schema refused without a reason");
    }

    json_decref(schema);
    json_decref(value);

    return 0;
}


/* the tools' schemas, parsed once: ttai checked them at build time */

static void
fuzz_tools(void)
{
    char     err[256];
    size_t   i, n;

    if (fuzz_tool_list != NULL) {
        return;
    }

    for (n = 0; ttai_tool_decls[n].tool.name != NULL; n++) {
        /* void */
    }

    fuzz_tool_list = calloc(n, sizeof(fuzz_tool_t));
    fuzz_check(fuzz_tool_list != NULL, "out of memory");

    for (i = 0; i < n; i++) {
        fuzz_tool_list[i].name = ttai_tool_decls[i].tool.name;
        fuzz_tool_list[i].input =
            json_loads(ttai_tool_decls[i].tool.input_schema, 0, NULL);

        fuzz_check(fuzz_tool_list[i].input != NULL
                   && ttai_schema_check(fuzz_tool_list[i].input, err,
                                        sizeof(err)) == 0,
                   "the input schema of %s", fuzz_tool_list[i].name);

        if (ttai_tool_decls[i].tool.output_schema != NULL) {
            fuzz_tool_list[i].output =
                json_loads(ttai_tool_decls[i].tool.output_schema, 0, NULL);
            fuzz_check(fuzz_tool_list[i].output != NULL,
                       "the output schema of %s", fuzz_tool_list[i].name);
        }
    }

    fuzz_ntools = n;
}


static void
fuzz_compare(const char *what, json_t *schema, json_t *value, int output)
{
    int    rc, want;
    char   err[256], *text;

    rc = output ? ttai_schema_validate_output(schema, value, err, sizeof(err))
                : ttai_schema_validate(schema, value, err, sizeof(err));

    fuzz_steps = 0;
    fuzz_top = schema;
    want = fuzz_valid(schema, value, 0);

    /*
     * A schema whose "$ref" and tried forms multiply the work is refused
     * by ttai past its budget; this validator counts its own way, so the
     * two are compared only when neither gave up
     */
    if (fuzz_steps > FUZZ_SCHEMA_STEPS
        || (rc != 0 && strstr(err, "too complex to check") != NULL))
    {
        return;
    }

    if ((rc == 0) != want) {
        text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        fuzz_check((rc == 0) == want, "%s %s schema %s a value JSON Schema "
                   "%s: %s (%s)", what, output ? "output" : "input",
                   rc == 0 ? "takes" : "refuses",
                   want ? "takes" : "refuses", text ? text : "?",
                   rc == 0 ? "" : err);
        free(text);
    }

    if (rc != 0) {
        fuzz_check(err[0] != '\0', "a value refused without a reason");
        fuzz_check(strncmp(err, output ? "structuredContent " : "the "
                                        "arguments ",
                           output ? 18 : 14) == 0
                   || strncmp(err, output ? "field \"" : "argument \"",
                              output ? 7 : 10) == 0
                   || strncmp(err, output ? "unknown field \""
                                          : "unknown argument \"",
                              output ? 15 : 18) == 0,
                   "a reason that names nothing: %s", err);

    } else {
        fuzz_check(err[0] == '\0', "a reason for a value taken: %s", err);
    }
}


/* the second validator, from the text of JSON Schema */

static int
fuzz_valid(json_t *schema, json_t *value, unsigned depth)
{
    size_t       i, n;
    json_t      *t, *c, *props, *sub, *v, *limit;
    const char  *key;

    if (json_is_true(schema)) {
        return 1;
    }

    if (!json_is_object(schema) || depth >= FUZZ_SCHEMA_DEPTH
        || ++fuzz_steps > FUZZ_SCHEMA_STEPS)
    {
        return 0;
    }

    if (!fuzz_combined(schema, value, depth)) {
        return 0;
    }

    t = json_object_get(schema, "type");

    if (json_is_string(t) && !fuzz_is(json_string_value(t), value)) {
        return 0;
    }

    if (json_is_array(t)) {
        json_array_foreach(t, i, c) {
            if (fuzz_is(json_string_value(c), value)) {
                break;
            }
        }

        if (i == json_array_size(t)) {
            return 0;
        }
    }

    c = json_object_get(schema, "const");

    if (c != NULL && !fuzz_equal(c, value)) {
        return 0;
    }

    t = json_object_get(schema, "enum");

    if (t != NULL) {
        json_array_foreach(t, i, c) {
            if (fuzz_equal(c, value)) {
                break;
            }
        }

        if (i == json_array_size(t)) {
            return 0;
        }
    }

    if (json_is_object(value)) {
        json_array_foreach(json_object_get(schema, "required"), i, c) {
            if (json_object_get(value, json_string_value(c)) == NULL) {
                return 0;
            }
        }

        props = json_object_get(schema, "properties");

        json_object_foreach(value, key, v) {
            sub = json_object_get(props, key);

            if (sub == NULL) {
                sub = json_object_get(schema, "additionalProperties");
            }

            if (sub != NULL && !fuzz_valid(sub, v, depth + 1)) {
                return 0;
            }
        }
    }

    if (json_is_array(value)) {
        n = json_array_size(value);

        limit = json_object_get(schema, "minItems");
        if (limit != NULL && (json_int_t) n < json_integer_value(limit)) {
            return 0;
        }

        limit = json_object_get(schema, "maxItems");
        if (limit != NULL && (json_int_t) n > json_integer_value(limit)) {
            return 0;
        }

        sub = json_object_get(schema, "items");

        json_array_foreach(value, i, v) {
            if (sub != NULL && !fuzz_valid(sub, v, depth + 1)) {
                return 0;
            }
        }
    }

    if (json_is_string(value)) {
        n = fuzz_chars(json_string_value(value), json_string_length(value));

        limit = json_object_get(schema, "minLength");
        if (limit != NULL && (json_int_t) n < json_integer_value(limit)) {
            return 0;
        }

        limit = json_object_get(schema, "maxLength");
        if (limit != NULL && (json_int_t) n > json_integer_value(limit)) {
            return 0;
        }
    }

    if (json_is_number(value)) {
        limit = json_object_get(schema, "minimum");
        if (limit != NULL && fuzz_cmp(value, limit) < 0) {
            return 0;
        }

        limit = json_object_get(schema, "maximum");
        if (limit != NULL && fuzz_cmp(value, limit) > 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * 2020-12's applicators, from the text again: allOf all, anyOf some,
 * oneOf exactly one, not none, if/then/else, and a "$ref" that the
 * schema at the top of this validation resolves
 */

static int
fuzz_combined(json_t *schema, json_t *value, unsigned depth)
{
    size_t       i, n;
    json_t      *sub, *v;
    const char  *ref;

    ref = json_string_value(json_object_get(schema, "$ref"));

    if (ref != NULL) {
        sub = fuzz_pointer(fuzz_top, ref);

        if (sub == NULL || !fuzz_valid(sub, value, depth + 1)) {
            return 0;
        }
    }

    json_array_foreach(json_object_get(schema, "allOf"), i, sub) {
        if (!fuzz_valid(sub, value, depth + 1)) {
            return 0;
        }
    }

    v = json_object_get(schema, "anyOf");

    if (v != NULL) {
        n = 0;

        json_array_foreach(v, i, sub) {
            n += fuzz_valid(sub, value, depth + 1);
        }

        if (n == 0) {
            return 0;
        }
    }

    v = json_object_get(schema, "oneOf");

    if (v != NULL) {
        n = 0;

        json_array_foreach(v, i, sub) {
            n += fuzz_valid(sub, value, depth + 1);
        }

        if (n != 1) {
            return 0;
        }
    }

    v = json_object_get(schema, "not");

    if (v != NULL && fuzz_valid(v, value, depth + 1)) {
        return 0;
    }

    v = json_object_get(schema, "if");

    if (v != NULL) {
        sub = json_object_get(schema, fuzz_valid(v, value, depth + 1)
                                      ? "then" : "else");

        if (sub != NULL && !fuzz_valid(sub, value, depth + 1)) {
            return 0;
        }
    }

    return 1;
}


/* "#", "#/a/b" (~0 ~1), or "#name" of a $defs entry's $anchor */

static json_t *
fuzz_pointer(json_t *top, const char *ref)
{
    char         *path, *seg, *save, *r, *w;
    json_t       *node, *def;
    const char   *key;

    if (strcmp(ref, "#") == 0) {
        return top;
    }

    if (strncmp(ref, "#/", 2) != 0) {
        json_object_foreach(json_object_get(top, "$defs"), key, def) {
            if (ref[0] == '#' && json_is_string(json_object_get(def,
                                                                "$anchor"))
                && strcmp(json_string_value(json_object_get(def, "$anchor")),
                          ref + 1) == 0)
            {
                return def;
            }
        }

        return NULL;
    }

    path = strdup(ref + 2);
    node = top;

    for (seg = strtok_r(path, "/", &save); seg != NULL && node != NULL;
         seg = strtok_r(NULL, "/", &save))
    {
        for (r = w = seg; *r; r++) {
            if (r[0] == '~' && (r[1] == '0' || r[1] == '1')) {
                *w++ = (r[1] == '0') ? '~' : '/';
                r++;

            } else {
                *w++ = *r;
            }
        }

        *w = '\0';

        node = json_is_array(node) ? json_array_get(node, strtoul(seg, NULL,
                                                                  10))
                                   : json_object_get(node, seg);
    }

    free(path);

    return node;
}


static int
fuzz_is(const char *type, json_t *value)
{
    static const struct {
        const char  *name;
        int          type;
    } types[] = {
        { "object", JSON_OBJECT }, { "array", JSON_ARRAY },
        { "string", JSON_STRING }, { "integer", JSON_INTEGER },
        { "boolean", JSON_TRUE }, { "null", JSON_NULL },
    };

    size_t  i;

    if (type == NULL) {
        return 0;
    }

    if (strcmp(type, "number") == 0) {
        return json_is_integer(value) || json_is_real(value);
    }

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(type, types[i].name) == 0) {
            return (int) json_typeof(value) == types[i].type
                   || (types[i].type == JSON_TRUE && json_is_false(value));
        }
    }

    return 0;
}


/* JSON Schema's equality: 1 and 1.0 are one number, at any depth */

static int
fuzz_equal(json_t *a, json_t *b)
{
    size_t       i;
    json_t      *v;
    const char  *key;

    if (json_is_number(a) && json_is_number(b)) {
        return fuzz_cmp(a, b) == 0;
    }

    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }

    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }

        json_array_foreach(a, i, v) {
            if (!fuzz_equal(v, json_array_get(b, i))) {
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
                || !fuzz_equal(v, json_object_get(b, key)))
            {
                return 0;
            }
        }

        return 1;
    }

    return json_equal(a, b);
}


/* numbers as numbers: two integers exactly, else as doubles */

static int
fuzz_cmp(json_t *a, json_t *b)
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


/* characters: UTF-8 sequences, each counted by its lead byte */

static size_t
fuzz_chars(const char *s, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    for (i = 0, n = 0; i < len; n++) {
        c = (unsigned char) s[i];

        i += (c < 0x80) ? 1 : (c < 0xe0) ? 2 : (c < 0xf0) ? 3 : 4;
    }

    return n;
}
