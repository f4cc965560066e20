
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_MIGRATE_H_INCLUDED_
#define _TTAI_MIGRATE_H_INCLUDED_


#include <stddef.h>

#include <sqlite3.h>

#include "ttai_d1.h"


/*
 * Migrations are the files NNNN_name.sql of one folder, applied in the
 * order of their numbers.  Each is applied once, in its own transaction,
 * and recorded by file name in the d1_migrations table (the table that
 * wrangler uses, so a database can move between the two).  A migration
 * that fails is rolled back completely and stops the ones after it.
 */

/* a migration file has no reason to be large */
#define TTAI_MIGRATE_MAX_FILE   (16 * 1024 * 1024)


typedef struct {
    char        *name;          /* "0001_initial.sql" */
    unsigned     number;
    int          applied;       /* recorded in d1_migrations */
    int          file;          /* found in the folder */
    char        *applied_at;    /* "YYYY-MM-DD HH:MM:SS" UTC, or NULL */
} ttai_migration_t;


typedef struct {
    ttai_migration_t  *items;
    size_t             n;
} ttai_migration_list_t;


/* called after each migration is committed */
typedef void (*ttai_migrate_pt)(const char *name, void *data);


/* the files of dir and the recorded migrations, files first, in order */
int ttai_migrate_list(sqlite3 *db, const char *dir,
    ttai_migration_list_t *list, ttai_d1_error_t *err);
void ttai_migrate_list_free(ttai_migration_list_t *list);

/*
 * Applies the pending migrations; returns how many were applied, or -1.
 * A NULL or missing dir has none, but the d1_migrations table is made.
 * On failure err->msg reads: migration "0002_x.sql" failed: <SQLite's
 * message>, and the migrations before it stay applied.
 */
int ttai_migrate_apply(sqlite3 *db, const char *dir, ttai_migrate_pt cb,
    void *data, ttai_d1_error_t *err);

/* the number of applied migrations (0 on a new database), or -1 */
long ttai_migrate_count(sqlite3 *db, ttai_d1_error_t *err);

/* the same count as one statement, for a runner of SQL text */
#define TTAI_MIGRATE_COUNT_SQL  "SELECT count(*) AS n FROM d1_migrations"

/*
 * Writes an empty migration numbered after the last one in dir (which is
 * created when missing); path receives its file name.
 */
int ttai_migrate_create(const char *dir, const char *name, char *path,
    size_t size, ttai_d1_error_t *err);


#endif /* _TTAI_MIGRATE_H_INCLUDED_ */
