
/*
 * Copyright (C) ttai contributors
 */


#ifndef _DB_STEPS_H_INCLUDED_
#define _DB_STEPS_H_INCLUDED_


/*
 * A real SQLite for the store tests, opened as nginx opens it (WAL,
 * foreign keys) and migrated with the project's own migration files;
 * batches run as the shell runs them.  Included after cmocka.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ttai_d1.h"


static sqlite3  *db;
static char      db_path[64];


/* a fresh database named for the test, with the migrations given */

static inline void
db_open(const char *name, const char *const *migrations)
{
    char             *sql;
    FILE             *f;
    long              n;
    ttai_d1_error_t   err;

    snprintf(db_path, sizeof(db_path), "/tmp/ttai-test-%s-%d.sqlite", name,
             (int) getpid());
    unlink(db_path);
    assert_int_equal(ttai_d1_open(&db, db_path, &err), 0);

    for ( ; *migrations != NULL; migrations++) {
        f = fopen(*migrations, "r");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        sql = calloc(1, n + 1);
        assert_non_null(sql);
        assert_int_equal(fread(sql, 1, n, f), (size_t) n);
        fclose(f);

        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        free(sql);
    }
}


static inline void
db_close(void)
{
    ttai_d1_close(db);
    unlink(db_path);
}


/* runs a batch (taken); its results, or the test fails with the reason */

static inline json_t *
db_run(json_t *batch)
{
    json_t           *r;
    ttai_d1_error_t   err;

    assert_non_null(batch);
    r = ttai_d1_batch(db, batch, NULL, &err);

    if (r == NULL) {
        fail_msg("batch failed: %s", err.msg);
    }

    json_decref(batch);

    return r;
}


/* the first column of the first row, as an integer or as text */

static inline long long
db_scalar(const char *sql)
{
    long long      v;
    sqlite3_stmt  *st;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    return v;
}


static inline char *
db_text(const char *sql)
{
    char          *v;
    sqlite3_stmt  *st;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = strdup(sqlite3_column_text(st, 0)
               ? (const char *) sqlite3_column_text(st, 0) : "NULL");
    sqlite3_finalize(st);

    return v;
}


#endif /* _DB_STEPS_H_INCLUDED_ */
