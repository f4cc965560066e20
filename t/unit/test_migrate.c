
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
#include <sys/stat.h>

#include <cmocka.h>

#include "ttai_migrate.h"


typedef struct {
    char        dir[64];
    char        migrations[96];
    char        path[128];
    sqlite3    *db;
    char        applied[512];       /* names given to the callback */
} fixture_t;


static int
setup(void **state)
{
    fixture_t        *f;
    ttai_d1_error_t   err;

    f = calloc(1, sizeof(fixture_t));
    assert_non_null(f);

    strcpy(f->dir, "/tmp/ttai-test-migrate-XXXXXX");
    assert_non_null(mkdtemp(f->dir));

    snprintf(f->migrations, sizeof(f->migrations), "%s/migrations", f->dir);
    assert_int_equal(mkdir(f->migrations, 0755), 0);

    snprintf(f->path, sizeof(f->path), "%s/db.sqlite", f->dir);
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


static void
put(fixture_t *f, const char *name, const char *text)
{
    FILE  *fp;
    char   path[256];

    snprintf(path, sizeof(path), "%s/%s", f->migrations, name);

    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}


static void
record(const char *name, void *data)
{
    fixture_t  *f = data;

    strcat(f->applied, name);
    strcat(f->applied, " ");
}


static int
apply(fixture_t *f, ttai_d1_error_t *err)
{
    f->applied[0] = '\0';

    return ttai_migrate_apply(f->db, f->migrations, record, f, err);
}


/* everything in the database, as text: schema and rows */
static char *
dump(sqlite3 *db)
{
    char          *out, *s;
    size_t         len;
    json_t        *r, *all;
    ttai_d1_error_t  err;

    static const char  *sql =
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "ORDER BY name;"
        "SELECT name FROM d1_migrations ORDER BY id;"
        "SELECT * FROM a ORDER BY rowid;";

    all = ttai_d1_exec(db, sql, strlen(sql), NULL, NULL, &err);
    if (all == NULL) {
        fail_msg("dump: %s", err.msg);
    }

    r = json_array();
    assert_non_null(r);

    for (len = 0; len < json_array_size(all); len++) {
        json_array_append(r, json_object_get(json_array_get(all, len),
                                             "results"));
    }

    s = json_dumps(r, JSON_COMPACT);
    assert_non_null(s);

    out = strdup(s);
    free(s);
    json_decref(r);
    json_decref(all);

    return out;
}


static long
scalar(sqlite3 *db, const char *sql)
{
    long           n;
    sqlite3_stmt  *stmt;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    n = (long) sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);

    return n;
}


static void
test_apply_in_order(void **state)
{
    fixture_t        *f = *state;
    ttai_d1_error_t   err;

    put(f, "0002_b.sql", "INSERT INTO a VALUES (2);\n");
    put(f, "0001_a.sql", "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n");
    put(f, "0010_c.sql", "INSERT INTO a VALUES (10);\n");
    put(f, "README.md", "not a migration\n");
    put(f, "0003_d.txt", "not a migration either\n");
    put(f, "notes.sql", "nor this\n");

    assert_int_equal(apply(f, &err), 3);
    assert_string_equal(f->applied, "0001_a.sql 0002_b.sql 0010_c.sql ");

    assert_int_equal(scalar(f->db, "SELECT sum(x) FROM a"), 13);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM d1_migrations "
                                   "WHERE applied_at IS NOT NULL"), 3);
    assert_int_equal(scalar(f->db, "SELECT id FROM d1_migrations "
                                   "WHERE name = '0010_c.sql'"), 3);
    assert_int_equal(ttai_migrate_count(f->db, &err), 3);

    /* a second run has nothing to do */
    assert_int_equal(apply(f, &err), 0);
    assert_string_equal(f->applied, "");
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM a"), 3);
}


static void
test_failure_changes_nothing(void **state)
{
    fixture_t        *f = *state;
    char             *before, *after;
    ttai_d1_error_t   err;

    put(f, "0001_ok.sql", "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n");

    assert_int_equal(apply(f, &err), 1);

    before = dump(f->db);

    /* statements that work, then one that does not */
    put(f, "0002_broken.sql",
        "CREATE TABLE b (y);\n"
        "INSERT INTO a VALUES (2);\n"
        "DROP TABLE a;\n"
        "CREATE TABL c (z);\n");
    put(f, "0003_later.sql", "INSERT INTO a VALUES (3);\n");

    assert_int_equal(apply(f, &err), -1);
    assert_string_equal(f->applied, "");
    assert_string_equal(err.msg, "migration \"0002_broken.sql\" failed: "
                                 "near \"TABL\": syntax error (line 4)");

    after = dump(f->db);
    assert_string_equal(before, after);
    free(after);

    assert_int_equal(ttai_migrate_count(f->db, &err), 1);

    /* a runtime error, after a change, is rolled back as well */
    put(f, "0002_broken.sql",
        "INSERT INTO a VALUES (2);\n"
        "INSERT INTO nope VALUES (2);\n");

    assert_int_equal(apply(f, &err), -1);
    assert_string_equal(err.msg, "migration \"0002_broken.sql\" failed: "
                                 "no such table: nope (line 2)");
    after = dump(f->db);
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* fixed, it applies, and so does the one after it */
    put(f, "0002_broken.sql", "CREATE TABLE b (y);\n");

    assert_int_equal(apply(f, &err), 2);
    assert_string_equal(f->applied, "0002_broken.sql 0003_later.sql ");
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM b"), 0);
    assert_int_equal(scalar(f->db, "SELECT sum(x) FROM a"), 4);
}


static void
test_transaction_statements_refused(void **state)
{
    fixture_t        *f = *state;
    ttai_d1_error_t   err;

    put(f, "0001_txn.sql",
        "CREATE TABLE a (x);\n"
        "COMMIT;\n"
        "INSERT INTO a VALUES (1);\n");

    assert_int_equal(apply(f, &err), -1);
    assert_non_null(strstr(err.msg, "migration \"0001_txn.sql\" failed: "
                                    "BEGIN, COMMIT and ROLLBACK are not "
                                    "allowed"));
    assert_non_null(strstr(err.msg, "(line 2)"));

    assert_int_equal(scalar(f->db, "SELECT count(*) FROM sqlite_master "
                                   "WHERE name = 'a'"), 0);
    assert_true(sqlite3_get_autocommit(f->db));
}


static void
test_list(void **state)
{
    fixture_t              *f = *state;
    char                    path[256];
    ttai_d1_error_t         err;
    ttai_migration_list_t   list;

    put(f, "0001_a.sql", "CREATE TABLE a (x);\n");
    put(f, "0002_b.sql", "CREATE TABLE b (x);\n");

    assert_int_equal(ttai_migrate_list(f->db, f->migrations, &list, &err), 0);
    assert_int_equal(list.n, 2);
    assert_false(list.items[0].applied);
    assert_false(list.items[1].applied);
    assert_null(list.items[0].applied_at);
    ttai_migrate_list_free(&list);

    assert_int_equal(apply(f, &err), 2);

    put(f, "0003_c.sql", "CREATE TABLE c (x);\n");
    snprintf(path, sizeof(path), "%s/0001_a.sql", f->migrations);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(ttai_migrate_list(f->db, f->migrations, &list, &err), 0);
    assert_int_equal(list.n, 3);

    assert_string_equal(list.items[0].name, "0002_b.sql");
    assert_true(list.items[0].applied);
    assert_true(list.items[0].file);
    assert_int_equal(strlen(list.items[0].applied_at), 19);

    assert_string_equal(list.items[1].name, "0003_c.sql");
    assert_false(list.items[1].applied);
    assert_true(list.items[1].file);

    /* applied, and its file is gone */
    assert_string_equal(list.items[2].name, "0001_a.sql");
    assert_true(list.items[2].applied);
    assert_false(list.items[2].file);

    ttai_migrate_list_free(&list);
}


static void
test_same_number(void **state)
{
    fixture_t        *f = *state;
    ttai_d1_error_t   err;

    put(f, "0001_a.sql", "CREATE TABLE a (x);\n");
    put(f, "1_b.sql", "CREATE TABLE b (x);\n");

    assert_int_equal(apply(f, &err), -1);
    assert_non_null(strstr(err.msg, "two migrations have the number 0001"));
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM sqlite_master "
                                   "WHERE name IN ('a', 'b')"), 0);
}


static void
test_missing_folder(void **state)
{
    fixture_t        *f = *state;
    char              dir[160];
    ttai_d1_error_t   err;

    snprintf(dir, sizeof(dir), "%s/none", f->dir);

    assert_int_equal(ttai_migrate_apply(f->db, dir, NULL, NULL, &err), 0);
    assert_int_equal(ttai_migrate_count(f->db, &err), 0);
}


static void
test_count_does_not_write(void **state)
{
    fixture_t        *f = *state;
    ttai_d1_error_t   err;

    assert_int_equal(ttai_migrate_count(f->db, &err), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM sqlite_master"), 0);
}


static void
test_create(void **state)
{
    fixture_t        *f = *state;
    FILE             *fp;
    char              path[256], dir[160], text[2048];
    size_t            n;
    ttai_d1_error_t   err;

    /* the folder is created when missing */
    snprintf(dir, sizeof(dir), "%s/new/migrations", f->dir);

    assert_int_equal(ttai_migrate_create(dir, "add users", path,
                                         sizeof(path), &err), 0);
    assert_non_null(strstr(path, "/new/migrations/0001_add_users.sql"));

    fp = fopen(path, "r");
    assert_non_null(fp);
    n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';

    assert_int_equal(strncmp(text, "-- Migration 0001: add_users\n", 29), 0);
    assert_non_null(strstr(text, "do not write BEGIN or COMMIT"));

    assert_int_equal(ttai_migrate_create(dir, "x/../y", path, sizeof(path),
                                         &err), 0);
    assert_non_null(strstr(path, "/0002_x____y.sql"));

    put(f, "0007_seven.sql", "-- nothing\n");
    assert_int_equal(ttai_migrate_create(f->migrations, "eight", path,
                                         sizeof(path), &err), 0);
    assert_non_null(strstr(path, "/migrations/0008_eight.sql"));

    assert_int_equal(ttai_migrate_create(f->migrations, "", path,
                                         sizeof(path), &err), -1);

    /* a comment-only migration applies, and records itself */
    assert_int_equal(apply(f, &err), 2);
}


static void
test_initial_schema(void **state)
{
    fixture_t        *f = *state;
    json_t           *r;
    const char       *sql;
    ttai_d1_error_t   err;

    /* the repository's own migrations, run from the repository root */
    assert_true(ttai_migrate_apply(f->db, "migrations", NULL, NULL, &err)
                >= 1);

    sql = "INSERT INTO users (id, email) "
          "VALUES ('tt-account-123', 'test@test.com');"
          "INSERT INTO user_oauth_tokens (user_id, provider, access_token, "
          "refresh_token, expires_at) VALUES ('tt-account-123', "
          "'tastytrade', x'01', x'02', unixepoch() + 3600);";

    r = ttai_d1_exec(f->db, sql, strlen(sql), NULL, NULL, &err);
    if (r == NULL) {
        fail_msg("%s", err.msg);
    }
    json_decref(r);

    assert_true(scalar(f->db, "SELECT created_at FROM users") > 1700000000);

    /* a token cannot outlive its user, nor exist without one */
    sql = "INSERT INTO user_oauth_tokens (user_id, provider) "
          "VALUES ('nobody', 'tastytrade')";
    assert_null(ttai_d1_query(f->db, sql, strlen(sql), NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));

    sql = "DELETE FROM users WHERE id = 'tt-account-123'";
    r = ttai_d1_query(f->db, sql, strlen(sql), NULL, NULL, &err);
    assert_non_null(r);
    json_decref(r);

    assert_int_equal(scalar(f->db, "SELECT count(*) FROM user_oauth_tokens"),
                     0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failure_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_transaction_statements_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_folder, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_count_does_not_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_schema, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("ttai_migrate", tests, NULL, NULL);
}
