
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ttai_d1.h"


typedef struct {
    char        dir[64];
    char        path[128];
    sqlite3    *db;
} fixture_t;


static int
setup(void **state)
{
    fixture_t        *f;
    ttai_d1_error_t   err;

    f = calloc(1, sizeof(fixture_t));
    assert_non_null(f);

    strcpy(f->dir, "/tmp/ttai-test-db-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/d1/ttai/db.sqlite", f->dir);

    assert_int_equal(ttai_d1_make_dir(f->path, &err), 0);
    assert_int_equal(ttai_d1_open(&f->db, f->path, &err), 0);

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f = *state;
    char        cmd[160];

    ttai_d1_close(f->db);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);

    free(f);

    return 0;
}


/* runs one statement that must succeed; returns its result; takes params */
static json_t *
ok(sqlite3 *db, const char *sql, json_t *params)
{
    json_t           *r;
    ttai_d1_error_t   err;

    r = ttai_d1_query(db, sql, strlen(sql), params, NULL, &err);
    json_decref(params);

    if (r == NULL) {
        fail_msg("\"%s\" failed: %s", sql, err.msg);
    }

    return r;
}


static void
fails(sqlite3 *db, const char *sql, json_t *params, int kind,
    const char *msg)
{
    json_t           *r;
    ttai_d1_error_t   err;

    r = ttai_d1_query(db, sql, strlen(sql), params, NULL, &err);
    json_decref(params);

    if (r != NULL) {
        fail_msg("\"%s\" did not fail", sql);
    }

    assert_int_equal(err.kind, kind);

    if (strstr(err.msg, msg) == NULL) {
        fail_msg("\"%s\": \"%s\" does not contain \"%s\"", sql, err.msg,
                 msg);
    }
}


static json_t *
row0(json_t *r)
{
    return json_array_get(json_object_get(r, "results"), 0);
}


static json_int_t
meta(json_t *r, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(r, "meta"),
                                              key));
}


static void
test_open_configures(void **state)
{
    fixture_t    *f = *state;
    json_t       *r;
    struct stat   st;

    assert_int_equal(stat(f->path, &st), 0);

    r = ok(f->db, "PRAGMA journal_mode", NULL);
    assert_string_equal(json_string_value(json_object_get(row0(r),
                                                          "journal_mode")),
                        "wal");
    json_decref(r);

    r = ok(f->db, "PRAGMA foreign_keys", NULL);
    assert_int_equal(json_integer_value(json_object_get(row0(r),
                                                        "foreign_keys")), 1);
    json_decref(r);

}


/*
 * The database, and the -wal and -shm files SQLite makes beside it, are
 * the server's user's whatever the umask; so are the folders above it
 */
static void
test_private_modes(void **state)
{
    fixture_t        *f = *state;
    char              path[192], file[200];
    size_t            i;
    mode_t            mask;
    sqlite3          *db;
    struct stat       st;
    ttai_d1_error_t   err;

    static const char  *suffixes[] = { "", "-wal", "-shm" };

    snprintf(path, sizeof(path), "%s/new/folder/db.sqlite", f->dir);

    mask = umask(022);

    assert_int_equal(ttai_d1_make_dir(path, &err), 0);
    assert_int_equal(ttai_d1_open(&db, path, &err), 0);
    json_decref(ok(db, "CREATE TABLE t (x)", NULL));
    json_decref(ok(db, "INSERT INTO t VALUES (1)", NULL));

    (void) umask(mask);

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        assert_int_equal(stat(file, &st), 0);

        if ((st.st_mode & 07777) != 0600) {
            fail_msg("%s is %04o", file, st.st_mode & 07777);
        }
    }

    ttai_d1_close(db);

    snprintf(file, sizeof(file), "%s/new", f->dir);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    snprintf(file, sizeof(file), "%s/new/folder", f->dir);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    /* a file that is there is opened as it is: the module tightens it */
    snprintf(path, sizeof(path), "%s/new/other.sqlite", f->dir);
    assert_int_equal(close(creat(path, 0640)), 0);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ttai_d1_open(&db, path, &err), 0);
    ttai_d1_close(db);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
}


static void
test_open_not_a_database(void **state)
{
    fixture_t        *f = *state;
    FILE             *fp;
    char              path[160];
    sqlite3          *db;
    ttai_d1_error_t   err;

    snprintf(path, sizeof(path), "%s/junk.sqlite", f->dir);

    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not an SQLite database, not at all, no.\n", fp);
    fclose(fp);

    assert_int_equal(ttai_d1_open(&db, path, &err), -1);
    assert_null(db);
    assert_int_equal(err.kind, TTAI_D1_EFAIL);
    assert_non_null(strstr(err.msg, "junk.sqlite"));
    assert_non_null(strstr(err.msg, "not a database"));
}


static void
test_open_without_create(void **state)
{
    fixture_t        *f = *state;
    char              path[160];
    sqlite3          *db;
    ttai_d1_error_t   err;

    snprintf(path, sizeof(path), "%s/none.sqlite", f->dir);

    assert_int_equal(ttai_d1_open_flags(&db, path, 0, &err), -1);
    assert_int_equal(err.kind, TTAI_D1_EFAIL);
    assert_int_equal(access(path, F_OK), -1);

    assert_int_equal(ttai_d1_open_flags(&db, f->path, 0, &err), 0);
    ttai_d1_close(db);
}


static void
test_round_trip(void **state)
{
    fixture_t  *f = *state;
    json_t     *r;

    json_decref(ok(f->db, "CREATE TABLE users (id TEXT PRIMARY KEY, "
                          "email TEXT)", NULL));

    r = ok(f->db, "INSERT INTO users (id, email) VALUES (?, ?)",
           json_pack("[ss]", "tt-account-123", "test@test.com"));

    assert_int_equal(meta(r, "changes"), 1);
    assert_int_equal(meta(r, "rows_written"), 1);
    assert_int_equal(meta(r, "last_row_id"), 1);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 0);
    assert_true(json_is_real(json_object_get(json_object_get(r, "meta"),
                                             "duration_ms")));
    json_decref(r);

    r = ok(f->db, "SELECT * FROM users WHERE id = ?",
           json_pack("[s]", "tt-account-123"));

    assert_int_equal(json_array_size(json_object_get(r, "results")), 1);
    assert_string_equal(json_string_value(json_object_get(row0(r), "email")),
                        "test@test.com");
    assert_int_equal(meta(r, "changes"), 0);
    assert_int_equal(meta(r, "rows_read"), 1);
    assert_int_equal(meta(r, "last_row_id"), 0);
    json_decref(r);
}


static void
test_types(void **state)
{
    fixture_t  *f = *state;
    char       *s;
    json_t     *r, *row;

    json_decref(ok(f->db, "CREATE TABLE t (i, r, s, n, b, yes, no)", NULL));

    json_decref(ok(f->db, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)",
                   json_pack("[Ifsno bb]", (json_int_t) 9007199254740993LL,
                             2.5, "caf\xc3\xa9", json_pack("{ss}", "blob",
                                                          "AAEC/w=="),
                             1, 0)));

    r = ok(f->db, "SELECT i, r, s, n, b, typeof(b) AS tb, yes, no, "
                  "hex(b) AS hb FROM t", NULL);
    row = row0(r);

    assert_int_equal(json_integer_value(json_object_get(row, "i")),
                     9007199254740993LL);
    assert_true(json_real_value(json_object_get(row, "r")) == 2.5);
    assert_string_equal(json_string_value(json_object_get(row, "s")),
                        "caf\xc3\xa9");
    assert_true(json_is_null(json_object_get(row, "n")));
    assert_string_equal(json_string_value(json_object_get(row, "b")),
                        "AAEC/w==");
    assert_string_equal(json_string_value(json_object_get(row, "tb")),
                        "blob");
    assert_string_equal(json_string_value(json_object_get(row, "hb")),
                        "000102FF");
    assert_int_equal(json_integer_value(json_object_get(row, "yes")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "no")), 0);

    /* columns come out in the order of the statement */
    s = json_dumps(row, JSON_COMPACT);
    assert_non_null(s);
    assert_int_equal(strncmp(s, "{\"i\":", 5), 0);
    free(s);

    json_decref(r);
}


static void
test_text_not_utf8(void **state)
{
    fixture_t  *f = *state;
    json_t     *r;

    r = ok(f->db, "SELECT CAST(x'ff41c3' AS TEXT) AS s, x'' AS e", NULL);

    assert_string_equal(json_string_value(json_object_get(row0(r), "s")),
                        "\xef\xbf\xbd" "A" "\xef\xbf\xbd");
    assert_string_equal(json_string_value(json_object_get(row0(r), "e")),
                        "");
    json_decref(r);
}


static void
test_params_are_data(void **state)
{
    fixture_t   *f = *state;
    json_t      *r;
    const char  *evil = "x'); DROP TABLE users; --";

    json_decref(ok(f->db, "CREATE TABLE users (id TEXT PRIMARY KEY)", NULL));
    json_decref(ok(f->db, "INSERT INTO users VALUES (?)",
                   json_pack("[s]", evil)));

    r = ok(f->db, "SELECT id FROM users", NULL);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 1);
    assert_string_equal(json_string_value(json_object_get(row0(r), "id")),
                        evil);
    json_decref(r);
}


static void
test_bad_params(void **state)
{
    fixture_t  *f = *state;

    fails(f->db, "SELECT ?, ?", json_pack("[i]", 1), TTAI_D1_ESQL,
          "has 2 parameters but 1 was given");
    fails(f->db, "SELECT 1", json_pack("[i]", 1), TTAI_D1_ESQL,
          "has 0 parameters but 1 was given");
    fails(f->db, "SELECT ?", json_pack("{si}", "a", 1), TTAI_D1_ESQL,
          "must be a JSON array");
    fails(f->db, "SELECT ?", json_pack("[[i]]", 1), TTAI_D1_ESQL,
          "parameter 1: an array cannot be bound");
    fails(f->db, "SELECT ?", json_pack("[{si}]", "x", 1), TTAI_D1_ESQL,
          "{\"blob\":\"<base64>\"}");
    fails(f->db, "SELECT ?", json_pack("[{ss}]", "blob", "!!"),
          TTAI_D1_ESQL, "not valid base64");
}


static void
test_sql_errors(void **state)
{
    fixture_t  *f = *state;

    json_decref(ok(f->db, "CREATE TABLE p (id INTEGER PRIMARY KEY)", NULL));
    json_decref(ok(f->db, "CREATE TABLE c (p INTEGER REFERENCES p (id))",
                   NULL));

    fails(f->db, "SELEC 1", NULL, TTAI_D1_ESQL, "near \"SELEC\"");
    fails(f->db, "SELECT * FROM nope", NULL, TTAI_D1_ESQL,
          "no such table: nope");
    fails(f->db, "INSERT INTO c VALUES (7)", NULL, TTAI_D1_ESQL,
          "FOREIGN KEY constraint failed");

    json_decref(ok(f->db, "INSERT INTO p VALUES (1)", NULL));
    fails(f->db, "INSERT INTO p VALUES (1)", NULL, TTAI_D1_ESQL,
          "UNIQUE constraint failed: p.id");
}


static void
test_one_statement(void **state)
{
    fixture_t  *f = *state;

    json_decref(ok(f->db, "  SELECT 1 ;; -- done\n /* really */ ", NULL));

    fails(f->db, "SELECT 1; SELECT 2", NULL, TTAI_D1_ESQL,
          "one statement only");
    fails(f->db, " -- nothing\n", NULL, TTAI_D1_ESQL, "no SQL statement");
}


static void
test_no_open_transaction(void **state)
{
    fixture_t        *f = *state;
    json_t           *r;
    ttai_d1_error_t   err;

    json_decref(ok(f->db, "CREATE TABLE t (x)", NULL));

    fails(f->db, "BEGIN", NULL, TTAI_D1_ESQL, "did not end it");
    assert_true(sqlite3_get_autocommit(f->db));

    r = ttai_d1_exec(f->db, "BEGIN; INSERT INTO t VALUES (1);", 32, NULL,
                     NULL, &err);
    assert_null(r);
    assert_true(sqlite3_get_autocommit(f->db));

    r = ok(f->db, "SELECT count(*) AS n FROM t", NULL);
    assert_int_equal(json_integer_value(json_object_get(row0(r), "n")), 0);
    json_decref(r);
}


static void
test_exec(void **state)
{
    fixture_t        *f = *state;
    json_t           *r, *params;
    const char       *sql;
    ttai_d1_error_t   err;

    sql = "CREATE TABLE t (x);\n"
          "INSERT INTO t VALUES (1), (2);\n"
          "SELECT x FROM t ORDER BY x;\n";

    r = ttai_d1_exec(f->db, sql, strlen(sql), NULL, NULL, &err);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 3);
    assert_int_equal(meta(json_array_get(r, 1), "changes"), 2);
    assert_int_equal(meta(json_array_get(r, 1), "last_row_id"), 2);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 2),
                                                     "results")), 2);
    json_decref(r);

    /* each statement commits by itself; the error names its line */
    sql = "INSERT INTO t VALUES (3);\n"
          "\n"
          "INSERT INTO nope VALUES (4);\n"
          "INSERT INTO t VALUES (5);\n";

    r = ttai_d1_exec(f->db, sql, strlen(sql), NULL, NULL, &err);
    assert_null(r);
    assert_int_equal(err.kind, TTAI_D1_ESQL);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "no such table: nope"));

    r = ok(f->db, "SELECT group_concat(x) AS s FROM t", NULL);
    assert_string_equal(json_string_value(json_object_get(row0(r), "s")),
                        "1,2,3");
    json_decref(r);

    /* a syntax error is placed on its own line */
    sql = "SELECT 1;\nSELECT\n  2 +;\n";
    r = ttai_d1_exec(f->db, sql, strlen(sql), NULL, NULL, &err);
    assert_null(r);
    assert_int_equal(err.line, 3);

    sql = "SELECT ?; SELECT 2";
    params = json_pack("[i]", 1);
    r = ttai_d1_exec(f->db, sql, strlen(sql), params, NULL, &err);
    json_decref(params);
    assert_null(r);
    assert_non_null(strstr(err.msg, "single statement"));

    /* a transaction written in the text is the text's own */
    sql = "BEGIN; INSERT INTO t VALUES (6); COMMIT;";
    r = ttai_d1_exec(f->db, sql, strlen(sql), NULL, NULL, &err);
    assert_non_null(r);
    json_decref(r);

    r = ttai_d1_exec(f->db, "", 0, NULL, NULL, &err);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
}


static void
test_batch(void **state)
{
    fixture_t        *f = *state;
    json_t           *r, *batch;
    ttai_d1_error_t   err;

    json_decref(ok(f->db, "CREATE TABLE t (x PRIMARY KEY)", NULL));

    batch = json_pack("[{ss s[i]}, {ss s[i]}]",
                      "sql", "INSERT INTO t VALUES (?)", "params", 1,
                      "sql", "INSERT INTO t VALUES (?)", "params", 2);
    r = ttai_d1_batch(f->db, batch, NULL, &err);
    assert_non_null(r);
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    json_decref(batch);

    /* the second fails: the first is rolled back with it */
    batch = json_pack("[{ss s[i]}, {ss s[i]}]",
                      "sql", "INSERT INTO t VALUES (?)", "params", 3,
                      "sql", "INSERT INTO t VALUES (?)", "params", 1);
    r = ttai_d1_batch(f->db, batch, NULL, &err);
    assert_null(r);
    assert_non_null(strstr(err.msg, "batch statement 2: UNIQUE"));
    json_decref(batch);

    batch = json_pack("[{ss}, {ss}]", "sql", "INSERT INTO t VALUES (4)",
                      "sql", "COMMIT");
    r = ttai_d1_batch(f->db, batch, NULL, &err);
    assert_null(r);
    assert_non_null(strstr(err.msg, "not allowed"));
    json_decref(batch);

    batch = json_pack("[{si}]", "sql", 1);
    assert_null(ttai_d1_batch(f->db, batch, NULL, &err));
    json_decref(batch);

    assert_true(sqlite3_get_autocommit(f->db));

    r = ok(f->db, "SELECT group_concat(x) AS s FROM t", NULL);
    assert_string_equal(json_string_value(json_object_get(row0(r), "s")),
                        "1,2");
    json_decref(r);
}


static void
test_max_rows(void **state)
{
    fixture_t        *f = *state;
    json_t           *r;
    const char       *sql;
    ttai_d1_opts_t    opts;
    ttai_d1_error_t   err;

    sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
          "WHERE i < 11) SELECT i FROM n";

    opts.max_rows = 11;
    opts.writers = NULL;

    r = ttai_d1_query(f->db, sql, strlen(sql), NULL, &opts, &err);
    assert_non_null(r);
    json_decref(r);

    opts.max_rows = 10;

    r = ttai_d1_query(f->db, sql, strlen(sql), NULL, &opts, &err);
    assert_null(r);
    assert_non_null(strstr(err.msg, "more than 10 rows"));
}


static void
test_two_connections(void **state)
{
    fixture_t        *f = *state;
    json_t           *r;
    sqlite3          *other;
    ttai_d1_error_t   err;

    json_decref(ok(f->db, "CREATE TABLE t (x)", NULL));
    json_decref(ok(f->db, "INSERT INTO t VALUES (1)", NULL));

    assert_int_equal(ttai_d1_open(&other, f->path, &err), 0);

    /* WAL: a reader is not held up by an open write transaction */
    assert_int_equal(sqlite3_exec(f->db, "BEGIN IMMEDIATE; "
                                  "INSERT INTO t VALUES (2)", NULL, NULL,
                                  NULL), SQLITE_OK);

    r = ok(other, "SELECT count(*) AS n FROM t", NULL);
    assert_int_equal(json_integer_value(json_object_get(row0(r), "n")), 1);
    json_decref(r);

    /* a writer waits, then gives up with EBUSY, and is none the worse */
    ttai_d1_busy_timeout(other, 50);
    assert_null(ttai_d1_query(other, "INSERT INTO t VALUES (3)", 24, NULL,
                              NULL, &err));
    assert_int_equal(err.kind, TTAI_D1_EBUSY);
    assert_true(sqlite3_get_autocommit(other));

    assert_int_equal(sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);

    r = ok(other, "SELECT count(*) AS n FROM t", NULL);
    assert_int_equal(json_integer_value(json_object_get(row0(r), "n")), 2);
    json_decref(r);

    ttai_d1_close(other);
}


/*
 * The writers' gate is taken by writes only.  An error-checking mutex
 * held by the test shows it: a lock by the same thread fails at once
 * instead of waiting, and an unlock by the code releases the test's hold,
 * which the test's own unlock then reports.
 */

static void
test_writers_gate(void **state)
{
    fixture_t            *f = *state;
    json_t               *batch;
    ttai_d1_opts_t        opts;
    pthread_mutex_t       m;
    ttai_d1_error_t       err;
    pthread_mutexattr_t   attr;

    json_decref(ok(f->db, "CREATE TABLE t (x)", NULL));

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    assert_int_equal(pthread_mutex_init(&m, &attr), 0);

    opts.max_rows = 0;
    opts.writers = &m;

    /* a read leaves it alone */
    assert_int_equal(pthread_mutex_lock(&m), 0);
    json_decref(ttai_d1_query(f->db, "SELECT * FROM t", 15, NULL, &opts,
                              &err));
    assert_int_equal(pthread_mutex_unlock(&m), 0);

    /* a write takes it and gives it back */
    assert_int_equal(pthread_mutex_lock(&m), 0);
    json_decref(ttai_d1_query(f->db, "INSERT INTO t VALUES (1)", 24, NULL,
                              &opts, &err));
    assert_int_not_equal(pthread_mutex_unlock(&m), 0);

    json_decref(ttai_d1_query(f->db, "INSERT INTO t VALUES (2)", 24, NULL,
                              &opts, &err));
    assert_int_equal(pthread_mutex_trylock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);

    /* so does a batch, once for its whole transaction */
    batch = json_pack("[{ss}, {ss}]", "sql", "INSERT INTO t VALUES (3)",
                      "sql", "INSERT INTO t VALUES (4)");
    assert_int_equal(pthread_mutex_lock(&m), 0);
    json_decref(ttai_d1_batch(f->db, batch, &opts, &err));
    assert_int_not_equal(pthread_mutex_unlock(&m), 0);
    json_decref(batch);

    assert_int_equal(pthread_mutex_trylock(&m), 0);
    assert_int_equal(pthread_mutex_unlock(&m), 0);

    pthread_mutex_destroy(&m);
    pthread_mutexattr_destroy(&attr);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_open_configures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_private_modes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_not_a_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_without_create, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_not_utf8, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_params_are_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_statement, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_open_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writers_gate, setup, teardown),
    };

    return cmocka_run_group_tests_name("ttai_d1", tests, NULL, NULL);
}
