
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ttai_d1.h"
#include "ttai_vector.h"

#include "db_steps.h"


/*
 * Vectorize on SQLite: indexes, upserts (the dimensions held by the
 * database), exact top-k by each metric, metadata filters, namespaces.
 */

static int
setup(void **state)
{
    static const char *const  migrations[] = {
        "migrations/0012_vectorize.sql",
        NULL
    };

    db_open("vector", migrations);

    return 0;
}


static int
teardown(void **state)
{
    db_close();

    return 0;
}


static void
create(const char *name, int dims, const char *metric)
{
    char  err[256];

    json_decref(db_run(ttai_d1_batch_of(1, ttai_vector_create(name, dims,
                                                              metric, NULL,
                                                              1000, err,
                                                              sizeof(err)))));
}


static void
upsert(const char *index, const char *vectors)
{
    char     err[256];
    json_t  *v, *batch;

    v = json_loads(vectors, 0, NULL);
    assert_non_null(v);

    batch = ttai_vector_upsert(index, v, err, sizeof(err));
    json_decref(v);

    if (batch == NULL) {
        fail_msg("upsert: %s", err);
    }

    json_decref(db_run(batch));
}


/* the ids of a query's matches, "a,b,c" */

static char *
query(const char *index, const char *values, int dims, const char *metric,
    size_t k, const char *filter, const char *ns)
{
    char     err[256], *out;
    size_t   i, len;
    json_t  *v, *f, *st, *r, *rows;

    v = json_loads(values, 0, NULL);
    f = filter ? json_loads(filter, 0, NULL) : NULL;

    st = ttai_vector_query(index, v, dims, metric, k, f, ns, err,
                           sizeof(err));
    json_decref(v);
    json_decref(f);

    if (st == NULL) {
        return strdup(err);
    }

    r = db_run(ttai_d1_batch_of(1, st));
    rows = json_object_get(json_array_get(r, 0), "results");

    out = calloc(1, 1024);
    assert_non_null(out);
    len = 0;

    for (i = 0; i < json_array_size(rows); i++) {
        len += snprintf(out + len, 1024 - len, "%s%s", i ? "," : "",
                        json_string_value(json_object_get(
                            json_array_get(rows, i), "id")));
    }

    json_decref(r);

    return out;
}


#define VECTORS                                                              \
    "[{\"id\":\"east\",\"values\":[1,0,0],\"metadata\":{\"tag\":\"a\","     \
    "\"n\":1}},"                                                             \
    "{\"id\":\"north\",\"values\":[0,2,0],\"metadata\":{\"tag\":\"b\","     \
    "\"n\":2}},"                                                             \
    "{\"id\":\"northeast\",\"values\":[3,3,0],\"metadata\":{\"tag\":\"a\"," \
    "\"n\":3}},"                                                             \
    "{\"id\":\"up\",\"values\":[0,0,0.5],\"metadata\":{\"tag\":\"c\","      \
    "\"n\":4,\"odd.key\":true}}]"


static void
test_metrics(void **state)
{
    char  *ids;

    create("cos", 3, "cosine");
    create("dot", 3, "dot-product");
    create("l2", 3, "euclidean");
    upsert("cos", VECTORS);
    upsert("dot", VECTORS);
    upsert("l2", VECTORS);

    /* cosine: the direction, whatever the length */
    ids = query("cos", "[10,0,0]", 3, "cosine", 3, NULL, NULL);
    assert_string_equal(ids, "east,northeast,north");
    free(ids);

    /* dot-product: length counts */
    ids = query("dot", "[1,0.1,0]", 3, "dot-product", 2, NULL, NULL);
    assert_string_equal(ids, "northeast,east");
    free(ids);

    /* euclidean: the nearest first */
    ids = query("l2", "[0,1.9,0]", 3, "euclidean", 2, NULL, NULL);
    assert_string_equal(ids, "north,up");
    free(ids);
}


static void
test_scores(void **state)
{
    json_t  *r, *rows, *m;
    char     err[256];
    json_t  *v, *st;

    create("cos", 3, "cosine");
    upsert("cos", VECTORS);

    v = json_loads("[1,1,0]", 0, NULL);
    st = ttai_vector_query("cos", v, 3, "cosine", 4, NULL, NULL, err,
                           sizeof(err));
    json_decref(v);
    r = db_run(ttai_d1_batch_of(1, st));
    rows = json_object_get(json_array_get(r, 0), "results");

    m = ttai_vector_matches(rows, 1);
    assert_int_equal(json_array_size(m), 4);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(m, 0), "id")), "northeast");
    assert_true(fabs(json_number_value(json_object_get(json_array_get(m, 0),
                                                       "score")) - 1.0)
                < 1e-6);
    assert_true(fabs(json_number_value(json_object_get(json_array_get(m, 1),
                                                       "score"))
                     - 0.70710678) < 1e-6);
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(m, 0), "metadata"), "tag")), "a");
    json_decref(m);

    m = ttai_vector_matches(rows, 0);
    assert_null(json_object_get(json_array_get(m, 0), "metadata"));
    json_decref(m);

    json_decref(r);
}


static void
test_filters(void **state)
{
    char  *ids;

    create("cos", 3, "cosine");
    upsert("cos", VECTORS);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10, "{\"tag\":\"a\"}", NULL);
    assert_string_equal(ids, "northeast,east");
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10,
                "{\"tag\":{\"$ne\":\"a\"}}", NULL);
    assert_string_equal(ids, "north,up");
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10,
                "{\"n\":{\"$gte\":2,\"$lt\":4}}", NULL);
    assert_string_equal(ids, "northeast,north");
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10,
                "{\"tag\":{\"$in\":[\"b\",\"c\"]}}", NULL);
    assert_string_equal(ids, "north,up");
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10,
                "{\"tag\":{\"$nin\":[\"b\",\"c\"]},\"n\":1}", NULL);
    assert_string_equal(ids, "east");
    free(ids);

    /* a key with a dot is one key */
    ids = query("cos", "[1,1,1]", 3, "cosine", 10, "{\"odd.key\":true}",
                NULL);
    assert_string_equal(ids, "up");
    free(ids);

    /* what is not a filter says why */
    ids = query("cos", "[1,1,1]", 3, "cosine", 10,
                "{\"tag\":{\"$regex\":\"a\"}}", NULL);
    assert_non_null(strstr(ids, "the operators are"));
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10, "{\"x\\\"y\":1}", NULL);
    assert_non_null(strstr(ids, "without quotes"));
    free(ids);

    ids = query("cos", "[1,1,1]", 3, "cosine", 10, "{\"tag\":[1]}", NULL);
    assert_non_null(strstr(ids, "a value is a string"));
    free(ids);
}


static void
test_namespaces_and_upserts(void **state)
{
    char  *ids;

    create("notes", 2, "cosine");
    upsert("notes", "[{\"id\":\"a1\",\"values\":[1,0],"
                    "\"namespace\":\"alice\"},"
                    "{\"id\":\"b1\",\"values\":[1,0.1],"
                    "\"namespace\":\"bob\"}]");

    ids = query("notes", "[1,0]", 2, "cosine", 5, NULL, "alice");
    assert_string_equal(ids, "a1");
    free(ids);

    ids = query("notes", "[1,0]", 2, "cosine", 5, NULL, NULL);
    assert_string_equal(ids, "a1,b1");
    free(ids);

    /* an upsert replaces */
    upsert("notes", "[{\"id\":\"a1\",\"values\":[0,1],"
                    "\"namespace\":\"alice\"}]");
    ids = query("notes", "[1,0]", 2, "cosine", 1, NULL, NULL);
    assert_string_equal(ids, "b1");
    free(ids);
    assert_int_equal(db_scalar("SELECT count(*) FROM vectors"), 2);

    /* the database holds the dimensions: a batch with one wrong fails */
    {
        char              err[256];
        json_t           *v, *batch, *r;
        ttai_d1_error_t   e;

        v = json_loads("[{\"id\":\"c1\",\"values\":[1,0]},"
                       "{\"id\":\"c2\",\"values\":[1,0,0]}]", 0, NULL);
        batch = ttai_vector_upsert("notes", v, err, sizeof(err));
        json_decref(v);
        assert_non_null(batch);

        r = ttai_d1_batch(db, batch, NULL, &e);
        json_decref(batch);
        assert_null(r);
        assert_non_null(strstr(e.msg, "dimensions are not the index's"));
    }

    assert_int_equal(db_scalar("SELECT count(*) FROM vectors"), 2);

    /* a query of other dimensions is refused before any statement */
    ids = query("notes", "[1,0,0]", 2, "cosine", 1, NULL, NULL);
    assert_non_null(strstr(ids, "has 3 values, and the index 2"));
    free(ids);

    ids = query("notes", "[1,0]", 2, "cosine", 0, NULL, NULL);
    assert_non_null(strstr(ids, "topK"));
    free(ids);

    /* dropping the index drops its vectors */
    json_decref(db_run(ttai_d1_batch_of(1, ttai_vector_drop("notes"))));
    assert_int_equal(db_scalar("SELECT count(*) FROM vectors"), 0);
}


static void
test_inputs(void **state)
{
    char     err[256];
    json_t  *v;

    assert_null(ttai_vector_create("Bad Name", 3, "cosine", NULL, 0, err,
                                   sizeof(err)));
    assert_null(ttai_vector_create("ok", 0, "cosine", NULL, 0, err,
                                   sizeof(err)));
    assert_null(ttai_vector_create("ok", 3, "manhattan", NULL, 0, err,
                                   sizeof(err)));
    assert_non_null(strstr(err, "cosine, dot-product or euclidean"));

    v = json_loads("[{\"id\":\"x\",\"values\":[1,\"2\"]}]", 0, NULL);
    assert_null(ttai_vector_upsert("ok", v, err, sizeof(err)));
    assert_non_null(strstr(err, "values[1] is not a finite number"));
    json_decref(v);

    v = json_loads("[{\"values\":[1]}]", 0, NULL);
    assert_null(ttai_vector_upsert("ok", v, err, sizeof(err)));
    assert_non_null(strstr(err, "id is a string"));
    json_decref(v);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespaces_and_upserts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inputs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
