
/*
 * Copyright (C) ttai contributors
 */


/*
 * Vectorize's figures, for scripts/bench.sh vector-query: an index of N
 * random vectors of D dimensions in a fresh database (the D1 store and
 * migration 0012, as the module and the CLI use them), filled a batch of
 * 1,000 a transaction (vectors/s), then Q top-10 queries of random
 * vectors, unfiltered and with a metadata filter (p50 and p99 in ms).
 *
 *   build/tools/vector-bench --db PATH --vectors N --dims D --queries Q
 */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "ttai_d1.h"
#include "ttai_migrate.h"
#include "ttai_vector.h"


#define VECTOR_BENCH_BATCH  1000


static uint64_t  bench_state = 0x9e3779b97f4a7c15ULL;


/* xorshift64*: the same vectors every run */

static double
bench_random(void)
{
    bench_state ^= bench_state >> 12;
    bench_state ^= bench_state << 25;
    bench_state ^= bench_state >> 27;

    return (double) ((bench_state * 0x2545f4914f6cdd1dULL) >> 11)
           / 9007199254740992.0 * 2 - 1;
}


static json_t *
bench_values(int dims)
{
    int      i;
    json_t  *a;

    a = json_array();

    for (i = 0; a != NULL && i < dims; i++) {
        if (json_array_append_new(a, json_real(bench_random())) != 0) {
            json_decref(a);
            return NULL;
        }
    }

    return a;
}


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
bench_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static int
bench_queries(sqlite3 *db, int dims, int queries, const char *filter_text,
    const char *what)
{
    int               q;
    char              err[256];
    double            t, *ms;
    json_t           *values, *filter, *st, *r;
    ttai_d1_error_t   e;

    ms = calloc(queries, sizeof(double));
    if (ms == NULL) {
        return -1;
    }

    for (q = 0; q < queries; q++) {
        values = bench_values(dims);
        filter = filter_text ? json_loads(filter_text, 0, NULL) : NULL;

        st = ttai_vector_query("bench", values, dims, "cosine", 10, filter,
                               NULL, err, sizeof(err));
        json_decref(values);
        json_decref(filter);

        if (st == NULL) {
            fprintf(stderr, "vector-bench: %s\n", err);
            free(ms);
            return -1;
        }

        t = bench_now();
        r = ttai_d1_batch(db, ttai_d1_batch_of(1, st), NULL, &e);
        ms[q] = (bench_now() - t) * 1000;

        if (r == NULL) {
            fprintf(stderr, "vector-bench: %s\n", e.msg);
            free(ms);
            return -1;
        }

        json_decref(r);
    }

    qsort(ms, queries, sizeof(double), bench_cmp);

    printf("  top-10 %-22s p50 %8.2f ms  p99 %8.2f ms  (%d queries)\n", what,
           ms[queries / 2], ms[(queries * 99) / 100 < queries
                               ? (queries * 99) / 100 : queries - 1],
           queries);

    free(ms);

    return 0;
}


int
main(int argc, char **argv)
{
    int               c, dims, queries, i;
    long              n, done;
    char              err[256], id[32];
    double            t;
    json_t           *batch, *vectors, *v, *r;
    sqlite3          *db;
    const char       *path;
    ttai_d1_error_t   e;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "vectors", required_argument, NULL, 'n' },
        { "dims", required_argument, NULL, 'D' },
        { "queries", required_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 }
    };

    path = NULL;
    n = 10000;
    dims = 1536;
    queries = 50;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': path = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'D': dims = atoi(optarg); break;
        case 'q': queries = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: vector-bench --db PATH [--vectors N] "
                    "[--dims D] [--queries Q]\n");
            return 2;
        }
    }

    if (path == NULL || n < 1 || dims < 1 || queries < 1
        || sodium_init() < 0)
    {
        fprintf(stderr, "usage: vector-bench --db PATH [--vectors N] "
                "[--dims D] [--queries Q]\n");
        return 2;
    }

    unlink(path);

    if (ttai_d1_open(&db, path, &e) != 0
        || ttai_migrate_apply(db, "migrations", NULL, NULL, &e) < 0)
    {
        fprintf(stderr, "vector-bench: %s\n", e.msg);
        return 1;
    }

    r = ttai_d1_batch(db, ttai_d1_batch_of(1,
                          ttai_vector_create("bench", dims, "cosine", NULL,
                                             0, err, sizeof(err))),
                      NULL, &e);
    json_decref(r);

    t = bench_now();

    for (done = 0; done < n; done += VECTOR_BENCH_BATCH) {
        vectors = json_array();

        for (i = 0; i < VECTOR_BENCH_BATCH && done + i < n; i++) {
            snprintf(id, sizeof(id), "v%ld", done + i);
            v = json_pack("{s:s, s:o, s:{s:i}}", "id", id, "values",
                          bench_values(dims), "metadata", "bucket",
                          (int) ((done + i) % 10));
            json_array_append_new(vectors, v);
        }

        batch = ttai_vector_upsert("bench", vectors, err, sizeof(err));
        json_decref(vectors);

        r = batch ? ttai_d1_batch(db, batch, NULL, &e) : NULL;
        json_decref(batch);

        if (r == NULL) {
            fprintf(stderr, "vector-bench: %s\n", batch ? e.msg : err);
            return 1;
        }

        json_decref(r);
    }

    t = bench_now() - t;

    printf("vector-query: %ld vectors of %d dimensions (cosine)\n", n, dims);
    printf("  insert: %.0f vectors/s (%.1f s, %d a transaction)\n", n / t, t,
           VECTOR_BENCH_BATCH);

    /* the first query reads the table into the page cache */
    if (bench_queries(db, dims, 1, NULL, "(cold, one)") != 0
        || bench_queries(db, dims, queries, NULL, "of all") != 0
        || bench_queries(db, dims, queries, "{\"bucket\":3}",
                         "with a filter (1/10)") != 0)
    {
        return 1;
    }

    ttai_d1_close(db);
    unlink(path);

    return 0;
}
