
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ttai_migrate.h"


#define TTAI_MIGRATE_NAME_MAX   200


typedef struct {
    const char  *name;
    const char  *sql;
    size_t       len;
    int          skipped;
} ttai_migrate_one_t;


static int ttai_migrate_table(sqlite3 *db, ttai_d1_error_t *err);
static int ttai_migrate_number(const char *name, unsigned *number);
static int ttai_migrate_scan(const char *dir, ttai_migration_list_t *list,
    ttai_d1_error_t *err);
static int ttai_migrate_cmp(const void *a, const void *b);
static int ttai_migrate_push(ttai_migration_list_t *list, const char *name,
    unsigned number, ttai_d1_error_t *err);
static int ttai_migrate_read(const char *dir, const char *name, char **sql,
    size_t *len, ttai_d1_error_t *err);
static int ttai_migrate_run(sqlite3 *db, void *data, ttai_d1_error_t *err);
static void ttai_migrate_failed(ttai_d1_error_t *err, const char *name);


static int
ttai_migrate_table(sqlite3 *db, ttai_d1_error_t *err)
{
    int  rc;

    rc = sqlite3_exec(db,
                      "CREATE TABLE IF NOT EXISTS d1_migrations ("
                      "id INTEGER PRIMARY KEY AUTOINCREMENT, "
                      "name TEXT UNIQUE, "
                      "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP "
                      "NOT NULL)",
                      NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    return 0;
}


/* "0001_name.sql": digits, '_', a name, ".sql" */

static int
ttai_migrate_number(const char *name, unsigned *number)
{
    size_t         len;
    const char    *p;
    unsigned long  n;

    len = strlen(name);

    if (len < sizeof("0_.sql") || len > TTAI_MIGRATE_NAME_MAX
        || strcmp(name + len - 4, ".sql") != 0)
    {
        return -1;
    }

    n = 0;

    for (p = name; isdigit((unsigned char) *p); p++) {
        n = n * 10 + (*p - '0');

        if (n > 999999) {
            return -1;
        }
    }

    if (p == name || *p != '_' || p + 1 == name + len - 4) {
        return -1;
    }

    *number = (unsigned) n;

    return 0;
}


static int
ttai_migrate_push(ttai_migration_list_t *list, const char *name,
    unsigned number, ttai_d1_error_t *err)
{
    ttai_migration_t  *items, *m;

    items = realloc(list->items, (list->n + 1) * sizeof(ttai_migration_t));
    if (items == NULL) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM, "out of memory");
        return -1;
    }

    list->items = items;

    m = &items[list->n];
    memset(m, 0, sizeof(ttai_migration_t));

    m->name = strdup(name);
    if (m->name == NULL) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM, "out of memory");
        return -1;
    }

    m->number = number;
    list->n++;

    return 0;
}


static int
ttai_migrate_cmp(const void *a, const void *b)
{
    const ttai_migration_t  *x = a, *y = b;

    if (x->number != y->number) {
        return (x->number < y->number) ? -1 : 1;
    }

    return strcmp(x->name, y->name);
}


/* the migration files of dir, sorted; a missing (or NULL) dir has none */

static int
ttai_migrate_scan(const char *dir, ttai_migration_list_t *list,
    ttai_d1_error_t *err)
{
    DIR            *d;
    char            path[4096];
    size_t          i;
    unsigned        number;
    struct stat     st;
    struct dirent  *de;

    if (dir == NULL) {
        return 0;
    }

    d = opendir(dir);

    if (d == NULL) {
        if (errno == ENOENT) {
            return 0;
        }

        ttai_d1_error_set(err, TTAI_D1_EFAIL, 0,
                          "cannot read the migrations folder \"%s\": %s",
                          dir, strerror(errno));
        return -1;
    }

    while ((de = readdir(d)) != NULL) {
        if (ttai_migrate_number(de->d_name, &number) != 0) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }

        if (ttai_migrate_push(list, de->d_name, number, err) != 0) {
            closedir(d);
            return -1;
        }

        list->items[list->n - 1].file = 1;
    }

    closedir(d);

    if (list->n > 1) {
        qsort(list->items, list->n, sizeof(ttai_migration_t),
              ttai_migrate_cmp);
    }

    /* two files with one number would have no defined order */
    for (i = 1; i < list->n; i++) {
        if (list->items[i].number == list->items[i - 1].number) {
            ttai_d1_error_set(err, TTAI_D1_ESQL, 0,
                              "two migrations have the number %04u: "
                              "\"%s\" and \"%s\"", list->items[i].number,
                              list->items[i - 1].name, list->items[i].name);
            return -1;
        }
    }

    return 0;
}


int
ttai_migrate_list(sqlite3 *db, const char *dir, ttai_migration_list_t *list,
    ttai_d1_error_t *err)
{
    int                rc;
    size_t             i, nfiles;
    unsigned           number;
    const char        *name, *at;
    sqlite3_stmt      *stmt;
    ttai_migration_t  *m;

    list->items = NULL;
    list->n = 0;

    if (ttai_migrate_table(db, err) != 0
        || ttai_migrate_scan(dir, list, err) != 0)
    {
        ttai_migrate_list_free(list);
        return -1;
    }

    nfiles = list->n;

    rc = sqlite3_prepare_v2(db, "SELECT name, applied_at FROM d1_migrations "
                                "ORDER BY id", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        ttai_migrate_list_free(list);
        return -1;
    }

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        name = (const char *) sqlite3_column_text(stmt, 0);
        at = (const char *) sqlite3_column_text(stmt, 1);

        if (name == NULL) {
            continue;
        }

        m = NULL;

        for (i = 0; i < nfiles; i++) {
            if (strcmp(list->items[i].name, name) == 0) {
                m = &list->items[i];
                break;
            }
        }

        if (m == NULL) {
            /* applied once, and its file is gone since */
            if (ttai_migrate_number(name, &number) != 0) {
                number = 0;
            }

            if (ttai_migrate_push(list, name, number, err) != 0) {
                goto failed;
            }

            m = &list->items[list->n - 1];
        }

        m->applied = 1;
        m->applied_at = strdup(at != NULL ? at : "");

        if (m->applied_at == NULL) {
            ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM,
                              "out of memory");
            goto failed;
        }
    }

    if (rc != SQLITE_DONE) {
        ttai_d1_error(db, rc, err);
        goto failed;
    }

    sqlite3_finalize(stmt);

    return 0;

failed:

    sqlite3_finalize(stmt);
    ttai_migrate_list_free(list);

    return -1;
}


void
ttai_migrate_list_free(ttai_migration_list_t *list)
{
    size_t  i;

    for (i = 0; i < list->n; i++) {
        free(list->items[i].name);
        free(list->items[i].applied_at);
    }

    free(list->items);

    list->items = NULL;
    list->n = 0;
}


int
ttai_migrate_apply(sqlite3 *db, const char *dir, ttai_migrate_pt cb,
    void *data, ttai_d1_error_t *err)
{
    int                    applied;
    char                  *sql;
    size_t                 i, len;
    ttai_migration_t      *m;
    ttai_migrate_one_t     one;
    ttai_migration_list_t  list;

    if (ttai_migrate_list(db, dir, &list, err) != 0) {
        return -1;
    }

    applied = 0;

    for (i = 0; i < list.n; i++) {
        m = &list.items[i];

        if (m->applied || !m->file) {
            continue;
        }

        if (ttai_migrate_read(dir, m->name, &sql, &len, err) != 0) {
            ttai_migrate_failed(err, m->name);
            goto failed;
        }

        one.name = m->name;
        one.sql = sql;
        one.len = len;
        one.skipped = 0;

        if (ttai_d1_transaction(db, ttai_migrate_run, &one, err) != 0) {
            free(sql);
            ttai_migrate_failed(err, m->name);
            goto failed;
        }

        free(sql);

        if (one.skipped) {
            continue;
        }

        applied++;

        if (cb != NULL) {
            cb(m->name, data);
        }
    }

    ttai_migrate_list_free(&list);

    return applied;

failed:

    ttai_migrate_list_free(&list);

    return -1;
}


static int
ttai_migrate_run(sqlite3 *db, void *data, ttai_d1_error_t *err)
{
    ttai_migrate_one_t  *one = data;

    int            rc;
    json_t        *results;
    sqlite3_stmt  *stmt;

    /*
     * Another process (a second nginx, the CLI) may have applied it
     * since the list was read; the write lock held now settles that.
     */
    rc = sqlite3_prepare_v2(db, "SELECT 1 FROM d1_migrations WHERE name = ?",
                            -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    sqlite3_bind_text(stmt, 1, one->name, -1, SQLITE_STATIC);

    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);

    if (rc == SQLITE_ROW) {
        one->skipped = 1;
        return 0;
    }

    if (rc != SQLITE_DONE) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    results = ttai_d1_exec(db, one->sql, one->len, NULL, NULL, err);
    if (results == NULL) {
        return -1;
    }

    json_decref(results);

    rc = sqlite3_prepare_v2(db, "INSERT INTO d1_migrations (name) VALUES (?)",
                            -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    sqlite3_bind_text(stmt, 1, one->name, -1, SQLITE_STATIC);

    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);

    if (rc != SQLITE_DONE) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    return 0;
}


static void
ttai_migrate_failed(ttai_d1_error_t *err, const char *name)
{
    char  msg[TTAI_D1_ERRLEN];

    memcpy(msg, err->msg, sizeof(msg));

    if (err->line) {
        snprintf(err->msg, sizeof(err->msg),
                 "migration \"%.100s\" failed: %.360s (line %u)", name,
                 msg, err->line);

    } else {
        snprintf(err->msg, sizeof(err->msg),
                 "migration \"%.100s\" failed: %.380s", name, msg);
    }
}


static int
ttai_migrate_read(const char *dir, const char *name, char **sql,
    size_t *len, ttai_d1_error_t *err)
{
    int          fd;
    char        *buf, path[4096];
    size_t       got;
    ssize_t      n;
    struct stat  st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, 0, "cannot open \"%s\": %s",
                          path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) != 0) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, 0, "cannot stat \"%s\": %s",
                          path, strerror(errno));
        close(fd);
        return -1;
    }

    if (st.st_size > TTAI_MIGRATE_MAX_FILE) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, 0,
                          "the file is larger than %d bytes",
                          TTAI_MIGRATE_MAX_FILE);
        close(fd);
        return -1;
    }

    buf = malloc(st.st_size + 1);
    if (buf == NULL) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM, "out of memory");
        close(fd);
        return -1;
    }

    for (got = 0; got < (size_t) st.st_size; got += n) {
        n = read(fd, buf + got, st.st_size - got);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            ttai_d1_error_set(err, TTAI_D1_EFAIL, 0,
                              "cannot read \"%s\": %s", path,
                              n == 0 ? "the file shrank" : strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
    }

    close(fd);

    buf[got] = '\0';

    *sql = buf;
    *len = got;

    return 0;
}


long
ttai_migrate_count(sqlite3 *db, ttai_d1_error_t *err)
{
    int            rc, i;
    long           n;
    sqlite3_stmt  *stmt;

    static const char  *sql[] = {
        /* reading must not create the table: the reader may not write */
        "SELECT count(*) FROM sqlite_master "
        "WHERE type = 'table' AND name = 'd1_migrations'",
        TTAI_MIGRATE_COUNT_SQL
    };

    n = 0;

    for (i = 0; i < 2; i++) {
        rc = sqlite3_prepare_v2(db, sql[i], -1, &stmt, NULL);

        if (rc == SQLITE_OK) {
            rc = sqlite3_step(stmt);
        }

        if (rc != SQLITE_ROW) {
            ttai_d1_error(db, rc, err);
            sqlite3_finalize(stmt);
            return -1;
        }

        n = (long) sqlite3_column_int64(stmt, 0);

        sqlite3_finalize(stmt);

        if (n == 0) {
            break;
        }
    }

    return n;
}


int
ttai_migrate_create(const char *dir, const char *name, char *path,
    size_t size, ttai_d1_error_t *err)
{
    int                    fd;
    char                   slug[TTAI_MIGRATE_NAME_MAX - 16], *s;
    char                   text[1024];
    size_t                 i, len;
    ssize_t                n;
    unsigned               next;
    ttai_migration_list_t  list;

    len = strlen(name);

    if (len == 0 || len >= sizeof(slug)) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, 0,
                          "a migration name has 1 to %zu characters",
                          sizeof(slug) - 1);
        return -1;
    }

    /* the name becomes part of a file name: keep it plain */
    for (i = 0, s = slug; i < len; i++) {
        *s++ = (isalnum((unsigned char) name[i]) || name[i] == '-')
               ? name[i] : '_';
    }

    *s = '\0';

    snprintf(path, size, "%s/x", dir);

    if (ttai_d1_make_dir(path, err) != 0) {
        return -1;
    }

    list.items = NULL;
    list.n = 0;

    if (ttai_migrate_scan(dir, &list, err) != 0) {
        ttai_migrate_list_free(&list);
        return -1;
    }

    next = list.n ? list.items[list.n - 1].number + 1 : 1;

    ttai_migrate_list_free(&list);

    if ((size_t) snprintf(path, size, "%s/%04u_%s.sql", dir, next, slug)
        >= size)
    {
        ttai_d1_error_set(err, TTAI_D1_ESQL, 0, "the path is too long");
        return -1;
    }

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd == -1) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, 0, "cannot create \"%s\": %s",
                          path, strerror(errno));
        return -1;
    }

    len = snprintf(text, sizeof(text),
        "-- Migration %04u: %s\n"
        "--\n"
        "-- Write the SQL of this change below.  It is applied once, in\n"
        "-- order, inside one transaction: do not write BEGIN or COMMIT.\n"
        "-- If any statement fails, none of it is kept, and nginx (or\n"
        "-- \"ttai d1 migrations apply\") reports this file and SQLite's\n"
        "-- message.  PRAGMA foreign_keys cannot change inside a\n"
        "-- transaction; use PRAGMA defer_foreign_keys = ON to rebuild a\n"
        "-- table.  Never edit a migration once it has been applied:\n"
        "-- create a new one.\n"
        "\n", next, slug);

    n = write(fd, text, len);

    if (close(fd) != 0 || n != (ssize_t) len) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, 0, "cannot write \"%s\": %s",
                          path, strerror(errno));
        unlink(path);
        return -1;
    }

    return 0;
}
