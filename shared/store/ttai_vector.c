
/*
 * Copyright (C) ttai contributors
 */


#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "ttai_d1.h"
#include "ttai_vector.h"


static json_t *ttai_vector_index(const char *name, int dims,
    const char *metric, const char *description, long long now,
    int or_ignore, char *err, size_t errlen);


/*
 * Vectorize on SQLite: see ttai_vector.h.  Vectors are stored as float32
 * little-endian, 4 bytes a dimension, which is what every machine this
 * runs on uses in memory, so that scoring reads the BLOB in place.
 */

#define TTAI_VECTOR_METRIC_COSINE     0
#define TTAI_VECTOR_METRIC_DOT        1
#define TTAI_VECTOR_METRIC_EUCLIDEAN  2

#define TTAI_VECTOR_FILTER_MAX        16     /* keys of a filter */
#define TTAI_VECTOR_IN_MAX            64     /* values of an $in */


static void ttai_vector_score(sqlite3_context *ctx, int argc,
    sqlite3_value **argv);
static int ttai_vector_metric(const char *metric);
static json_t *ttai_vector_blob(json_t *values, int dims, char *err,
    size_t errlen);
static int ttai_vector_filter(json_t *filter, json_t *params, char *sql,
    size_t size, char *err, size_t errlen);
static int ttai_vector_scalar(json_t *v);
static json_t *ttai_vector_path(const char *key);


int
ttai_vector_register(sqlite3 *db)
{
    return sqlite3_create_function_v2(db, "vector_score", 3,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC
                                      | SQLITE_INNOCUOUS,
                                      NULL, ttai_vector_score, NULL, NULL,
                                      NULL) == SQLITE_OK ? 0 : -1;
}


/*
 * vector_score(vec, query, metric): a REAL, or NULL when the two are not
 * vectors of one length.  Four sums at once: the loop the compiler can
 * keep in registers and vectorize without reordering a single sum.
 */

static void
ttai_vector_score(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int           metric;
    size_t        i, n;
    const float  *a, *b;
    float         s0, s1, s2, s3, a0, a1, a2, a3, b0, b1, b2, b3, d;
    double        dot, na, nb;

    n = (size_t) sqlite3_value_bytes(argv[0]);
    a = sqlite3_value_blob(argv[0]);
    b = sqlite3_value_blob(argv[1]);

    if (a == NULL || b == NULL || n == 0 || n % 4 != 0
        || (size_t) sqlite3_value_bytes(argv[1]) != n)
    {
        sqlite3_result_null(ctx);
        return;
    }

    metric = ttai_vector_metric((const char *) sqlite3_value_text(argv[2]));
    n /= 4;

    s0 = s1 = s2 = s3 = 0;
    a0 = a1 = a2 = a3 = 0;
    b0 = b1 = b2 = b3 = 0;

    if (metric == TTAI_VECTOR_METRIC_EUCLIDEAN) {
        for (i = 0; i + 4 <= n; i += 4) {
            d = a[i] - b[i];         s0 += d * d;
            d = a[i + 1] - b[i + 1]; s1 += d * d;
            d = a[i + 2] - b[i + 2]; s2 += d * d;
            d = a[i + 3] - b[i + 3]; s3 += d * d;
        }

        for ( /* void */ ; i < n; i++) {
            d = a[i] - b[i];
            s0 += d * d;
        }

        sqlite3_result_double(ctx, sqrt((double) s0 + s1 + s2 + s3));
        return;
    }

    for (i = 0; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];

        if (metric == TTAI_VECTOR_METRIC_COSINE) {
            a0 += a[i] * a[i];
            a1 += a[i + 1] * a[i + 1];
            a2 += a[i + 2] * a[i + 2];
            a3 += a[i + 3] * a[i + 3];
            b0 += b[i] * b[i];
            b1 += b[i + 1] * b[i + 1];
            b2 += b[i + 2] * b[i + 2];
            b3 += b[i + 3] * b[i + 3];
        }
    }

    for ( /* void */ ; i < n; i++) {
        s0 += a[i] * b[i];
        a0 += a[i] * a[i];
        b0 += b[i] * b[i];
    }

    dot = (double) s0 + s1 + s2 + s3;

    if (metric != TTAI_VECTOR_METRIC_COSINE) {
        sqlite3_result_double(ctx, dot);
        return;
    }

    na = (double) a0 + a1 + a2 + a3;
    nb = (double) b0 + b1 + b2 + b3;

    /* a zero vector points nowhere: it is like nothing */
    sqlite3_result_double(ctx, (na > 0 && nb > 0) ? dot / sqrt(na * nb)
                                                  : 0.0);
}


static int
ttai_vector_metric(const char *metric)
{
    if (metric != NULL && strcmp(metric, "dot-product") == 0) {
        return TTAI_VECTOR_METRIC_DOT;
    }

    if (metric != NULL && strcmp(metric, "euclidean") == 0) {
        return TTAI_VECTOR_METRIC_EUCLIDEAN;
    }

    return TTAI_VECTOR_METRIC_COSINE;
}


int
ttai_vector_name_ok(const char *name)
{
    size_t  n;

    n = name ? strlen(name) : 0;

    return n > 0 && n <= TTAI_VECTOR_NAME_MAX
           && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}


json_t *
ttai_vector_create(const char *name, int dims, const char *metric,
    const char *description, long long now, char *err, size_t errlen)
{
    return ttai_vector_index(name, dims, metric, description, now, 0, err,
                             errlen);
}


json_t *
ttai_vector_ensure(const char *name, int dims, const char *metric,
    const char *description, long long now, char *err, size_t errlen)
{
    return ttai_vector_index(name, dims, metric, description, now, 1, err,
                             errlen);
}


static json_t *
ttai_vector_index(const char *name, int dims, const char *metric,
    const char *description, long long now, int or_ignore, char *err,
    size_t errlen)
{
    if (!ttai_vector_name_ok(name)) {
        snprintf(err, errlen, "an index name is 1 to %d of a-z, 0-9, - and "
                 "_", TTAI_VECTOR_NAME_MAX);
        return NULL;
    }

    if (dims < 1 || dims > TTAI_VECTOR_DIMS_MAX) {
        snprintf(err, errlen, "the dimensions are from 1 to %d",
                 TTAI_VECTOR_DIMS_MAX);
        return NULL;
    }

    if (metric == NULL
        || (strcmp(metric, "cosine") != 0
            && strcmp(metric, "dot-product") != 0
            && strcmp(metric, "euclidean") != 0))
    {
        snprintf(err, errlen, "the metric is cosine, dot-product or "
                 "euclidean");
        return NULL;
    }

    return ttai_d1_stmt(or_ignore
                        ? "INSERT OR IGNORE INTO vector_indexes (name, "
                          "dimensions, metric, description, created_at) "
                          "VALUES (?, ?, ?, ?, ?)"
                        : "INSERT INTO vector_indexes (name, dimensions, "
                          "metric, description, created_at) VALUES "
                          "(?, ?, ?, ?, ?)",
                        json_pack("[s, i, s, s?, I]", name, dims, metric,
                                  description, (json_int_t) now));
}


json_t *
ttai_vector_drop(const char *name)
{
    return ttai_d1_stmt("DELETE FROM vector_indexes WHERE name = ?",
                        json_pack("[s]", name));
}


json_t *
ttai_vector_info(const char *name)
{
    return ttai_d1_stmt("SELECT name, dimensions, metric, description, "
                        "created_at, (SELECT count(*) FROM vectors WHERE "
                        "index_name = ?1) AS vector_count FROM "
                        "vector_indexes WHERE name = ?1",
                        json_pack("[s]", name));
}


json_t *
ttai_vector_list(void)
{
    return ttai_d1_stmt("SELECT name, dimensions, metric, description, "
                        "created_at FROM vector_indexes ORDER BY name",
                        json_array());
}


json_t *
ttai_vector_upsert(const char *index, json_t *vectors, char *err,
    size_t errlen)
{
    char         *meta;
    size_t        i;
    json_t       *batch, *v, *blob, *st, *m;
    const char   *id, *ns;

    batch = json_array();
    if (batch == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    json_array_foreach(vectors, i, v) {
        id = json_string_value(json_object_get(v, "id"));
        ns = json_string_value(json_object_get(v, "namespace"));
        m = json_object_get(v, "metadata");

        if (id == NULL || id[0] == '\0' || strlen(id) > TTAI_VECTOR_ID_MAX) {
            snprintf(err, errlen, "vector %zu: id is a string of 1 to %d "
                     "bytes", i, TTAI_VECTOR_ID_MAX);
            json_decref(batch);
            return NULL;
        }

        if (m != NULL && !json_is_object(m) && !json_is_null(m)) {
            snprintf(err, errlen, "vector \"%s\": metadata is an object",
                     id);
            json_decref(batch);
            return NULL;
        }

        blob = ttai_vector_blob(json_object_get(v, "values"), -1, err,
                                errlen);
        if (blob == NULL) {
            json_decref(batch);
            return NULL;
        }

        meta = json_is_object(m)
               ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

        st = ttai_d1_stmt("INSERT INTO vectors (index_name, id, namespace, "
                          "vec, metadata) VALUES (?, ?, ?, ?, ?) "
                          "ON CONFLICT (index_name, id) DO UPDATE SET "
                          "namespace = excluded.namespace, vec = "
                          "excluded.vec, metadata = excluded.metadata",
                          json_pack("[s, s, s?, o, s?]", index, id, ns, blob,
                                    meta));
        free(meta);

        if (st == NULL || json_array_append_new(batch, st) != 0) {
            snprintf(err, errlen, "out of memory");
            json_decref(batch);
            return NULL;
        }
    }

    return batch;
}


json_t *
ttai_vector_delete_ids(const char *index, json_t *ids)
{
    char  *text;

    text = json_dumps(ids, JSON_COMPACT);
    if (text == NULL) {
        return NULL;
    }

    /* the ids as one JSON parameter: no statement grows with them */
    return ttai_d1_stmt("DELETE FROM vectors WHERE index_name = ? AND id IN "
                        "(SELECT value FROM json_each(?))",
                        json_pack("[s, s%]", index, text, strlen(text)));
}


json_t *
ttai_vector_query(const char *index, json_t *values, int dims,
    const char *metric, size_t top_k, json_t *filter, const char *ns,
    char *err, size_t errlen)
{
    char     sql[4096], where[2048];
    json_t  *params, *blob;

    if (top_k < 1 || top_k > TTAI_VECTOR_TOP_K_MAX) {
        snprintf(err, errlen, "topK is from 1 to %d", TTAI_VECTOR_TOP_K_MAX);
        return NULL;
    }

    blob = ttai_vector_blob(values, dims, err, errlen);
    if (blob == NULL) {
        return NULL;
    }

    params = json_pack("[o, s, s, s?]", blob, metric, index, ns);
    if (params == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    where[0] = '\0';

    if (filter != NULL
        && ttai_vector_filter(filter, params, where, sizeof(where), err,
                              errlen) != 0)
    {
        json_decref(params);
        return NULL;
    }

    snprintf(sql, sizeof(sql),
             "SELECT id, namespace, metadata, vector_score(vec, ?1, ?2) AS "
             "score FROM vectors WHERE index_name = ?3 AND (?4 IS NULL OR "
             "namespace = ?4)%s ORDER BY score %s, id LIMIT %zu",
             where,
             ttai_vector_metric(metric) == TTAI_VECTOR_METRIC_EUCLIDEAN
             ? "ASC" : "DESC",
             top_k);

    return ttai_d1_stmt(sql, params);
}


/*
 * The values as {"blob": base64 of float32}: numbers only, dims of them
 * (dims < 0: any number, checked by the trigger against the index)
 */

static json_t *
ttai_vector_blob(json_t *values, int dims, char *err, size_t errlen)
{
    char    *b64;
    float   *f;
    size_t   i, n, len;
    json_t  *v, *out;

    n = json_array_size(values);

    if (!json_is_array(values) || n == 0 || n > TTAI_VECTOR_DIMS_MAX
        || (dims >= 0 && n != (size_t) dims))
    {
        if (dims >= 0) {
            snprintf(err, errlen, "the vector has %zu values, and the index "
                     "%d dimensions", n, dims);
        } else {
            snprintf(err, errlen, "values is an array of 1 to %d numbers",
                     TTAI_VECTOR_DIMS_MAX);
        }

        return NULL;
    }

    f = malloc(n * sizeof(float));
    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    json_array_foreach(values, i, v) {
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            snprintf(err, errlen, "values[%zu] is not a finite number", i);
            free(f);
            return NULL;
        }

        f[i] = (float) json_number_value(v);
    }

    len = sodium_base64_encoded_len(n * sizeof(float),
                                    sodium_base64_VARIANT_ORIGINAL);
    b64 = malloc(len);

    if (b64 == NULL) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    sodium_bin2base64(b64, len, (const unsigned char *) f, n * sizeof(float),
                      sodium_base64_VARIANT_ORIGINAL);
    free(f);

    out = json_pack("{s:s}", "blob", b64);
    free(b64);

    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
    }

    return out;
}


/*
 * The filter as " AND ..." clauses on json_extract(metadata, path), the
 * paths and the values as parameters: nothing of the filter is SQL text
 */

static int
ttai_vector_filter(json_t *filter, json_t *params, char *sql, size_t size,
    char *err, size_t errlen)
{
    int          n;
    size_t       len, i, k;
    json_t      *cond, *v, *e;
    const char  *key, *op;

    static const struct {
        const char  *op;
        const char  *sql;
    } cmp[] = {
        { "$eq", "=" }, { "$ne", "IS NOT" }, { "$lt", "<" },
        { "$lte", "<=" }, { "$gt", ">" }, { "$gte", ">=" }
    };

    if (!json_is_object(filter)
        || json_object_size(filter) > TTAI_VECTOR_FILTER_MAX)
    {
        snprintf(err, errlen, "filter is an object of at most %d keys",
                 TTAI_VECTOR_FILTER_MAX);
        return -1;
    }

    len = 0;

#define ttai_vector_sql(...)                                                 \
    do {                                                                     \
        n = snprintf(sql + len, size - len, __VA_ARGS__);                    \
        if (n < 0 || (size_t) n >= size - len) {                             \
            snprintf(err, errlen, "the filter is too long");                 \
            return -1;                                                       \
        }                                                                    \
        len += (size_t) n;                                                   \
    } while (0)

    json_object_foreach(filter, key, cond) {
        if (key[0] == '\0' || strlen(key) > 64
            || strpbrk(key, "\"\\") != NULL)
        {
            snprintf(err, errlen, "a filter key is 1 to 64 bytes, without "
                     "quotes or backslashes");
            return -1;
        }

        if (json_array_append_new(params, ttai_vector_path(key)) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        k = json_array_size(params);

        if (!json_is_object(cond)) {
            if (!ttai_vector_scalar(cond)
                || json_array_append(params, cond) != 0)
            {
                snprintf(err, errlen, "filter \"%s\": a value is a string, "
                         "a number or a boolean", key);
                return -1;
            }

            ttai_vector_sql(" AND json_extract(metadata, ?%zu) = ?%zu", k,
                            k + 1);
            continue;
        }

        json_object_foreach(cond, op, v) {
            for (i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
                if (strcmp(op, cmp[i].op) == 0) {
                    break;
                }
            }

            if (i < sizeof(cmp) / sizeof(cmp[0])) {
                if (!ttai_vector_scalar(v)
                    || json_array_append(params, v) != 0)
                {
                    snprintf(err, errlen, "filter \"%s\" %s: a value is a "
                             "string, a number or a boolean", key, op);
                    return -1;
                }

                ttai_vector_sql(" AND json_extract(metadata, ?%zu) %s ?%zu",
                                k, cmp[i].sql, json_array_size(params));
                continue;
            }

            if (strcmp(op, "$in") != 0 && strcmp(op, "$nin") != 0) {
                snprintf(err, errlen, "filter \"%s\": the operators are "
                         "$eq, $ne, $lt, $lte, $gt, $gte, $in and $nin",
                         key);
                return -1;
            }

            if (!json_is_array(v) || json_array_size(v) == 0
                || json_array_size(v) > TTAI_VECTOR_IN_MAX)
            {
                snprintf(err, errlen, "filter \"%s\" %s: an array of 1 to "
                         "%d values", key, op, TTAI_VECTOR_IN_MAX);
                return -1;
            }

            ttai_vector_sql(" AND json_extract(metadata, ?%zu) %s (", k,
                            op[1] == 'n' ? "NOT IN" : "IN");

            for (i = 0; i < json_array_size(v); i++) {
                e = json_array_get(v, i);

                if (!ttai_vector_scalar(e)
                    || json_array_append(params, e) != 0)
                {
                    snprintf(err, errlen, "filter \"%s\" %s: a value is a "
                             "string, a number or a boolean", key, op);
                    return -1;
                }

                ttai_vector_sql("%s?%zu", i ? ", " : "",
                                json_array_size(params));
            }

            ttai_vector_sql(")");
        }
    }

#undef ttai_vector_sql

    return 0;
}


static int
ttai_vector_scalar(json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}


/* '$."key"': the key quoted, so that a dot in it is a dot in the name */

static json_t *
ttai_vector_path(const char *key)
{
    char  buf[80];

    snprintf(buf, sizeof(buf), "$.\"%s\"", key);

    return json_string(buf);
}


json_t *
ttai_vector_matches(json_t *rows, int return_metadata)
{
    size_t       i;
    json_t      *out, *row, *m, *meta;
    const char  *text;

    out = json_array();
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(rows, i, row) {
        m = json_pack("{s:O, s:O}", "id", json_object_get(row, "id"),
                      "score", json_object_get(row, "score"));
        if (m == NULL) {
            json_decref(out);
            return NULL;
        }

        if (json_is_string(json_object_get(row, "namespace"))) {
            json_object_set(m, "namespace", json_object_get(row,
                                                            "namespace"));
        }

        text = json_string_value(json_object_get(row, "metadata"));

        if (return_metadata && text != NULL) {
            meta = json_loads(text, 0, NULL);
            if (meta != NULL) {
                json_object_set_new(m, "metadata", meta);
            }
        }

        if (json_array_append_new(out, m) != 0) {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}
