
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_VECTOR_H_INCLUDED_
#define _TTAI_VECTOR_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>


/*
 * Vectorize (migration 0012): vector indexes in the D1 database, with
 * Cloudflare Vectorize's shapes.  A vector is its id, its values (float
 * numbers), an optional namespace and metadata (a JSON object).  A query
 * gives the top-k of an index (of one namespace) by the index's metric:
 * cosine (1 is the same direction), dot-product (larger is nearer) or
 * euclidean (a distance: smaller is nearer), whose metadata passes a
 * filter.
 *
 * Everything is a D1 statement the core builds (ttai_d1.h), so the
 * module runs them on its thread pool and the CLI on the file, as any
 * other.  The search is exact: vector_score(), registered on every
 * connection, scores each candidate row in C and SQLite keeps the best
 * k.  An approximate index would replace ttai_vector_query() and keep
 * its shape.
 */

#define TTAI_VECTOR_DIMS_MAX     4096
#define TTAI_VECTOR_TOP_K_MAX    100
#define TTAI_VECTOR_ID_MAX       64
#define TTAI_VECTOR_NAME_MAX     64

/* vector_score(vec, query, metric) on the connection; -1 on failure */
int ttai_vector_register(sqlite3 *db);

/* 1 when name is an index name: [a-z0-9-_], 1 to 64 */
int ttai_vector_name_ok(const char *name);

/* the statements; NULL with err set (a sentence) when an input is bad */
json_t *ttai_vector_create(const char *name, int dims, const char *metric,
    const char *description, long long now, char *err, size_t errlen);
/* the same, unless the index exists already (then as it is) */
json_t *ttai_vector_ensure(const char *name, int dims, const char *metric,
    const char *description, long long now, char *err, size_t errlen);

json_t *ttai_vector_drop(const char *name);
json_t *ttai_vector_info(const char *name);
json_t *ttai_vector_list(void);

/*
 * An upsert of vectors ([{id, values, namespace?, metadata?}]) into the
 * index: a batch, one statement a vector; a vector whose values are not
 * the index's dimensions fails the batch (the trigger), all of it
 */
json_t *ttai_vector_upsert(const char *index, json_t *vectors, char *err,
    size_t errlen);

/* the ids given deleted from the index */
json_t *ttai_vector_delete_ids(const char *index, json_t *ids);

/*
 * A query: values is the query vector (a JSON array of dims numbers),
 * metric the index's, filter NULL or an object: {"key": value} or
 * {"key": {"$eq"|"$ne"|"$lt"|"$lte"|"$gt"|"$gte": value, "$in"|"$nin":
 * [values]}}, all of them to hold; namespace NULL for all.  The rows
 * have id, score, namespace and metadata (JSON text).
 */
json_t *ttai_vector_query(const char *index, json_t *values, int dims,
    const char *metric, size_t top_k, json_t *filter, const char *ns,
    char *err, size_t errlen);

/* the rows of a query's result as Vectorize's matches: [{id, score, ...}] */
json_t *ttai_vector_matches(json_t *rows, int return_metadata);


#endif /* _TTAI_VECTOR_H_INCLUDED_ */
