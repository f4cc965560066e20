
/*
 * Copyright (C) ttai contributors
 */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ttai_d1.h"
#include "ttai_vector.h"


typedef struct {
    int          denied;
} ttai_d1_txn_t;


typedef struct {
    json_t          *statements;
    json_t          *results;
    ttai_d1_opts_t   opts;
} ttai_d1_batch_t;


static int ttai_d1_kind(int code);
static int ttai_d1_busy(void *data, int count);
static int ttai_d1_pragma(sqlite3 *db, const char *sql, const char *want,
    const char *path, ttai_d1_error_t *err);
static const char *ttai_d1_skip_blank(const char *p, const char *end);
static unsigned ttai_d1_line(const char *start, const char *at);
static int ttai_d1_prepare(sqlite3 *db, const char *p, const char *end,
    sqlite3_stmt **stmt, const char **tail, ttai_d1_error_t *err);
static int ttai_d1_bind(sqlite3 *db, sqlite3_stmt *stmt, json_t *params,
    ttai_d1_error_t *err);
static int ttai_d1_bind_blob(sqlite3 *db, sqlite3_stmt *stmt, int i,
    json_t *value, ttai_d1_error_t *err);
static json_t *ttai_d1_run(sqlite3 *db, sqlite3_stmt *stmt, size_t max_rows,
    int64_t start, ttai_d1_error_t *err);
static json_t *ttai_d1_row(sqlite3_stmt *stmt, int ncols);
static json_t *ttai_d1_value(sqlite3_stmt *stmt, int i);
static json_t *ttai_d1_text(const unsigned char *s, size_t len);
static size_t ttai_d1_utf8_seq(const unsigned char *p, size_t n);
static int ttai_d1_left_open(sqlite3 *db, int was_autocommit,
    ttai_d1_error_t *err);
static int ttai_d1_authorize(void *data, int action, const char *a,
    const char *b, const char *c, const char *d);
static int ttai_d1_batch_run(sqlite3 *db, void *data, ttai_d1_error_t *err);
static int64_t ttai_d1_now_us(void);
static void ttai_d1_nomem(ttai_d1_error_t *err);


void
ttai_d1_error_set(ttai_d1_error_t *err, int kind, int code,
    const char *fmt, ...)
{
    va_list  args;

    err->kind = kind;
    err->code = code;
    err->line = 0;

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);
}


void
ttai_d1_error(sqlite3 *db, int rc, ttai_d1_error_t *err)
{
    int  code;

    code = (db != NULL) ? sqlite3_extended_errcode(db) : rc;

    /* a step error can leave the connection's code at an older value */
    if ((code & 0xff) != (rc & 0xff)) {
        code = rc;
    }

    ttai_d1_error_set(err, ttai_d1_kind(code), code, "%s",
                      db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}


static int
ttai_d1_kind(int code)
{
    switch (code & 0xff) {

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return TTAI_D1_EBUSY;

    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_INTERNAL:
    case SQLITE_MISUSE:
        return TTAI_D1_EFAIL;

    default:
        return TTAI_D1_ESQL;
    }
}


static void
ttai_d1_nomem(ttai_d1_error_t *err)
{
    ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_NOMEM, "out of memory");
}


int
ttai_d1_make_dir(const char *path, ttai_d1_error_t *err)
{
    char  *dir, *p, *last, c;

    dir = strdup(path);
    if (dir == NULL) {
        ttai_d1_nomem(err);
        return -1;
    }

    last = strrchr(dir, '/');

    if (last != NULL && last != dir) {
        *last = '\0';

        /* each prefix that ends before a '/', then the whole folder */
        for (p = dir + 1; p <= last; p++) {
            if (*p != '/' && *p != '\0') {
                continue;
            }

            c = *p;
            *p = '\0';

            /* the folders of the state are the server's user's only */
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                ttai_d1_error_set(err, TTAI_D1_EFAIL, 0,
                                  "cannot create the folder \"%s\": %s",
                                  dir, strerror(errno));
                free(dir);
                return -1;
            }

            *p = c;
        }
    }

    free(dir);

    return 0;
}


int
ttai_d1_open(sqlite3 **dbp, const char *path, ttai_d1_error_t *err)
{
    return ttai_d1_open_flags(dbp, path, TTAI_D1_CREATE, err);
}


int
ttai_d1_open_flags(sqlite3 **dbp, const char *path, int flags,
    ttai_d1_error_t *err)
{
    int       rc, fd;
    sqlite3  *db;

    *dbp = NULL;

    /*
     * The file holds hashes and sealed tokens: it is made here, 0600,
     * before SQLite would make it 0644 less the umask.  SQLite gives its
     * -wal and -shm files the mode of the database file.  When this
     * fails, SQLite tries in its turn and says why.
     */
    if (flags & TTAI_D1_CREATE) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd != -1) {
            (void) close(fd);
        }
    }

    /*
     * NOMUTEX: a connection is only ever used by one thread at a time,
     * so SQLite's own per-connection mutex would be pure overhead.
     */
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                         | ((flags & TTAI_D1_CREATE) ? SQLITE_OPEN_CREATE
                                                     : 0),
                         NULL);

    if (rc != SQLITE_OK) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, rc, "database \"%s\": %s",
                          path, db != NULL ? sqlite3_errmsg(db)
                                           : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }

    sqlite3_extended_result_codes(db, 1);

    /* set first: switching to WAL may itself wait for a lock */
    ttai_d1_busy_timeout(db, TTAI_D1_BUSY_TIMEOUT);

    /*
     * WAL lets readers in every worker and the CLI go on while one
     * connection writes.  The mode is stored in the file, so this only
     * takes a lock the first time.  SQLite opens files lazily, so a
     * missing permission or a file that is not a database shows here.
     */
    if (ttai_d1_pragma(db, "PRAGMA journal_mode = WAL", "wal", path, err)
        != 0
        || ttai_d1_pragma(db, "PRAGMA foreign_keys = ON", NULL, path, err)
           != 0)
    {
        sqlite3_close(db);
        return -1;
    }

    /* Vectorize's scoring, for any statement of any connection */
    if (ttai_vector_register(db) != 0) {
        ttai_d1_error_set(err, TTAI_D1_EFAIL, SQLITE_ERROR, "database "
                          "\"%s\": vector_score() could not be registered",
                          path);
        sqlite3_close(db);
        return -1;
    }

    *dbp = db;

    return 0;
}


/*
 * SQLite's own busy timeout sleeps up to 100 ms at a time, which is long
 * next to a write that takes well under a millisecond: with several
 * writers (two workers, the CLI) the waiters then sleep long after the
 * lock is free.  This one retries after 50 us, doubling up to 2 ms, and
 * gives up after the timeout.  The total is computed from the count, so
 * the only state is the timeout, carried in the pointer.
 */

void
ttai_d1_busy_timeout(sqlite3 *db, unsigned ms)
{
    sqlite3_busy_handler(db, ttai_d1_busy, (void *) (uintptr_t) ms);
}


static int
ttai_d1_busy(void *data, int count)
{
    long  delay, total;

    if (count < 6) {
        delay = 50L << count;
        total = 50L * ((1L << count) - 1);

    } else {
        delay = 2000;
        total = 3150 + (long) (count - 6) * 2000;
    }

    if (total >= (long) (uintptr_t) data * 1000L) {
        return 0;
    }

    usleep(delay);

    return 1;
}


static int
ttai_d1_pragma(sqlite3 *db, const char *sql, const char *want,
    const char *path, ttai_d1_error_t *err)
{
    int            rc;
    const char    *got;
    sqlite3_stmt  *stmt;

    rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW && want != NULL) {
            got = (const char *) sqlite3_column_text(stmt, 0);

            if (got == NULL || strcmp(got, want) != 0) {
                ttai_d1_error_set(err, TTAI_D1_EFAIL, 0,
                                  "database \"%s\": \"%s\" gave \"%s\"",
                                  path, sql, got ? got : "");
                sqlite3_finalize(stmt);
                return -1;
            }
        }

        if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
            sqlite3_finalize(stmt);
            return 0;
        }
    }

    ttai_d1_error_set(err, ttai_d1_kind(sqlite3_extended_errcode(db)),
                      sqlite3_extended_errcode(db), "database \"%s\": %.400s",
                      path, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);

    return -1;
}


void
ttai_d1_close(sqlite3 *db)
{
    /* v2: an unfinalized statement must not keep the file open forever */
    (void) sqlite3_close_v2(db);
}


/* whitespace, empty statements and comments */

static const char *
ttai_d1_skip_blank(const char *p, const char *end)
{
    while (p < end) {

        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'
            || *p == '\f' || *p == '\v' || *p == ';')
        {
            p++;
            continue;
        }

        if (*p == '-' && p + 1 < end && p[1] == '-') {
            while (p < end && *p != '\n') {
                p++;
            }

            continue;
        }

        if (*p == '/' && p + 1 < end && p[1] == '*') {
            p += 2;

            while (p < end && !(*p == '*' && p + 1 < end && p[1] == '/')) {
                p++;
            }

            p = (p < end) ? p + 2 : end;
            continue;
        }

        break;
    }

    return p;
}


static unsigned
ttai_d1_line(const char *start, const char *at)
{
    unsigned  line;

    for (line = 1; start < at; start++) {
        if (*start == '\n') {
            line++;
        }
    }

    return line;
}


/*
 * Prepares the next statement from p.  *stmt is NULL when only blanks
 * are left.  On error, err->line is the line of the error counted from
 * p; a caller with a longer text adds its own offset.
 */

static int
ttai_d1_prepare(sqlite3 *db, const char *p, const char *end,
    sqlite3_stmt **stmt, const char **tail, ttai_d1_error_t *err)
{
    int  rc, off;

    *stmt = NULL;
    *tail = end;

    if (end - p > INT_MAX) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_TOOBIG,
                          "the SQL text is too long");
        return -1;
    }

    rc = sqlite3_prepare_v2(db, p, (int) (end - p), stmt, tail);

    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);

        off = sqlite3_error_offset(db);
        err->line = ttai_d1_line(p, off >= 0 ? p + off
                                             : ttai_d1_skip_blank(p, end));
        *stmt = NULL;
        return -1;
    }

    return 0;
}


static int
ttai_d1_bind(sqlite3 *db, sqlite3_stmt *stmt, json_t *params,
    ttai_d1_error_t *err)
{
    int      rc, n, i;
    json_t  *v;
    size_t   given;

    if (params != NULL && !json_is_array(params)) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                          "params must be a JSON array");
        return -1;
    }

    n = sqlite3_bind_parameter_count(stmt);
    given = (params != NULL) ? json_array_size(params) : 0;

    if ((size_t) n != given) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_RANGE,
                          "the statement has %d parameter%s but %zu %s "
                          "given", n, n == 1 ? "" : "s", given,
                          given == 1 ? "was" : "were");
        return -1;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(params, i);

        switch (json_typeof(v)) {

        case JSON_INTEGER:
            rc = sqlite3_bind_int64(stmt, i + 1, json_integer_value(v));
            break;

        case JSON_REAL:
            rc = sqlite3_bind_double(stmt, i + 1, json_real_value(v));
            break;

        case JSON_STRING:
            rc = sqlite3_bind_text64(stmt, i + 1, json_string_value(v),
                                     json_string_length(v), SQLITE_STATIC,
                                     SQLITE_UTF8);
            break;

        case JSON_TRUE:
        case JSON_FALSE:
            rc = sqlite3_bind_int(stmt, i + 1, json_is_true(v));
            break;

        case JSON_NULL:
            rc = sqlite3_bind_null(stmt, i + 1);
            break;

        case JSON_OBJECT:
            if (ttai_d1_bind_blob(db, stmt, i, v, err) != 0) {
                return -1;
            }

            rc = SQLITE_OK;
            break;

        default:
            ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                              "parameter %d: an array cannot be bound; "
                              "use a number, a string, true, false, null "
                              "or {\"blob\":\"<base64>\"}", i + 1);
            return -1;
        }

        if (rc != SQLITE_OK) {
            ttai_d1_error(db, rc, err);
            return -1;
        }
    }

    return 0;
}


static int
ttai_d1_bind_blob(sqlite3 *db, sqlite3_stmt *stmt, int i, json_t *value,
    ttai_d1_error_t *err)
{
    int             rc;
    size_t          len, n;
    json_t         *b64;
    const char     *s, *end;
    unsigned char  *bin;

    b64 = json_object_get(value, "blob");

    if (json_object_size(value) != 1 || !json_is_string(b64)) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                          "parameter %d: an object must be "
                          "{\"blob\":\"<base64>\"}", i + 1);
        return -1;
    }

    s = json_string_value(b64);
    len = json_string_length(b64);

    /* one byte more than needed keeps malloc(0) out of the way */
    bin = malloc(len / 4 * 3 + 3);
    if (bin == NULL) {
        ttai_d1_nomem(err);
        return -1;
    }

    if (sodium_base642bin(bin, len / 4 * 3 + 3, s, len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL)
        != 0
        || end != s + len)
    {
        free(bin);
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                          "parameter %d: the blob is not valid base64",
                          i + 1);
        return -1;
    }

    rc = sqlite3_bind_blob64(stmt, i + 1, bin, n, free);

    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    return 0;
}


static json_t *
ttai_d1_run(sqlite3 *db, sqlite3_stmt *stmt, size_t max_rows, int64_t start,
    ttai_d1_error_t *err)
{
    int            rc, ncols;
    json_t        *rows, *row, *meta, *result;
    size_t         nrows;
    int64_t        changes;
    sqlite3_int64  before;

    rows = json_array();
    if (rows == NULL) {
        ttai_d1_nomem(err);
        return NULL;
    }

    /*
     * The connection keeps the last rowid of any earlier statement, maybe
     * another caller's: start from 0 so only this statement's shows.
     */
    sqlite3_set_last_insert_rowid(db, 0);
    before = sqlite3_total_changes64(db);

    ncols = sqlite3_column_count(stmt);
    nrows = 0;

    for ( ;; ) {
        rc = sqlite3_step(stmt);

        if (rc == SQLITE_DONE) {
            break;
        }

        if (rc != SQLITE_ROW) {
            ttai_d1_error(db, rc, err);
            json_decref(rows);
            return NULL;
        }

        if (max_rows && nrows == max_rows) {
            ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_TOOBIG,
                              "the result has more than %zu rows; "
                              "add a LIMIT", max_rows);
            json_decref(rows);
            return NULL;
        }

        row = ttai_d1_row(stmt, ncols);

        if (row == NULL || json_array_append_new(rows, row) != 0) {
            ttai_d1_nomem(err);
            json_decref(rows);
            return NULL;
        }

        nrows++;
    }

    changes = sqlite3_total_changes64(db) - before;

    meta = json_pack("{s:I,s:I,s:I,s:I,s:f}",
                     "changes", (json_int_t) changes,
                     "last_row_id",
                     (json_int_t) sqlite3_last_insert_rowid(db),
                     "rows_read", (json_int_t) nrows,
                     "rows_written", (json_int_t) changes,
                     "duration_ms",
                     (double) (ttai_d1_now_us() - start) / 1000.0);

    result = json_pack("{s:o,s:o}", "results", rows, "meta", meta);

    if (result == NULL) {
        ttai_d1_nomem(err);
        return NULL;
    }

    return result;
}


static json_t *
ttai_d1_row(sqlite3_stmt *stmt, int ncols)
{
    int          i;
    json_t      *row, *v;
    const char  *name;

    row = json_object();
    if (row == NULL) {
        return NULL;
    }

    for (i = 0; i < ncols; i++) {
        name = sqlite3_column_name(stmt, i);
        v = ttai_d1_value(stmt, i);

        if (name == NULL || v == NULL || json_object_set_new(row, name, v)) {
            json_decref(row);
            return NULL;
        }
    }

    return row;
}


static json_t *
ttai_d1_value(sqlite3_stmt *stmt, int i)
{
    int                   n;
    char                 *b64;
    json_t               *v;
    double                d;
    size_t                len;
    const unsigned char  *p;

    switch (sqlite3_column_type(stmt, i)) {

    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(stmt, i));

    case SQLITE_FLOAT:
        d = sqlite3_column_double(stmt, i);
        v = json_real(d);

        /* JSON has no Infinity or NaN */
        return (v != NULL) ? v : json_null();

    case SQLITE_TEXT:
        p = sqlite3_column_text(stmt, i);
        n = sqlite3_column_bytes(stmt, i);
        return (p != NULL) ? ttai_d1_text(p, n) : NULL;

    case SQLITE_BLOB:
        p = sqlite3_column_blob(stmt, i);
        n = sqlite3_column_bytes(stmt, i);

        len = sodium_base64_ENCODED_LEN((size_t) n,
                                        sodium_base64_VARIANT_ORIGINAL);
        b64 = malloc(len);
        if (b64 == NULL) {
            return NULL;
        }

        sodium_bin2base64(b64, len, n ? p : (const unsigned char *) "", n,
                          sodium_base64_VARIANT_ORIGINAL);

        v = json_string(b64);
        free(b64);

        return v;

    default:
        return json_null();
    }
}


/*
 * SQLite does not check that TEXT is UTF-8, and JSON must be: bytes that
 * are not part of a valid sequence become U+FFFD rather than failing the
 * whole result.
 */

static json_t *
ttai_d1_text(const unsigned char *s, size_t len)
{
    char    *out, *o;
    json_t  *v;
    size_t   i, n;

    v = json_stringn((const char *) s, len);
    if (v != NULL) {
        return v;
    }

    out = malloc(len * 3 + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    for (i = 0; i < len; ) {
        n = ttai_d1_utf8_seq(s + i, len - i);

        if (n == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }

        memcpy(o, s + i, n);
        o += n;
        i += n;
    }

    v = json_stringn(out, o - out);
    free(out);

    return v;
}


/* the length of the valid UTF-8 sequence at p, or 0 */

static size_t
ttai_d1_utf8_seq(const unsigned char *p, size_t n)
{
    size_t    len, i;
    uint32_t  c, min;

    if (p[0] < 0x80) {
        return 1;
    }

    if ((p[0] & 0xe0) == 0xc0) {
        len = 2; c = p[0] & 0x1f; min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3; c = p[0] & 0x0f; min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4; c = p[0] & 0x07; min = 0x10000;

    } else {
        return 0;
    }

    if (len > n) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    return len;
}


/*
 * A call must not leave the connection inside a transaction that it
 * began: the next caller on this connection would find itself in it.
 */

static int
ttai_d1_left_open(sqlite3 *db, int was_autocommit, ttai_d1_error_t *err)
{
    if (!was_autocommit || sqlite3_get_autocommit(db)) {
        return 0;
    }

    (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

    ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_ERROR,
                      "the SQL began a transaction and did not end it; "
                      "it was rolled back");

    return -1;
}


json_t *
ttai_d1_query(sqlite3 *db, const char *sql, size_t len, json_t *params,
    const ttai_d1_opts_t *opts, ttai_d1_error_t *err)
{
    int              autocommit, gate;
    json_t          *result;
    int64_t          start;
    const char      *p, *end, *tail;
    sqlite3_stmt    *stmt;
    ttai_d1_error_t  keep;

    start = ttai_d1_now_us();
    autocommit = sqlite3_get_autocommit(db);

    end = sql + len;
    p = ttai_d1_skip_blank(sql, end);

    if (p == end) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_ERROR,
                          "there is no SQL statement");
        return NULL;
    }

    if (ttai_d1_prepare(db, p, end, &stmt, &tail, err) != 0) {
        return NULL;
    }

    if (ttai_d1_skip_blank(tail, end) != end) {
        sqlite3_finalize(stmt);
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_ERROR,
                          "one statement only, please: the text goes on "
                          "after the first \";\"");
        return NULL;
    }

    if (ttai_d1_bind(db, stmt, params, err) != 0) {
        sqlite3_finalize(stmt);
        return NULL;
    }

    /* inside a transaction, its owner holds the gate already */
    gate = opts != NULL && opts->writers != NULL && autocommit
           && !sqlite3_stmt_readonly(stmt);

    if (gate) {
        (void) pthread_mutex_lock(opts->writers);
    }

    result = ttai_d1_run(db, stmt, opts ? opts->max_rows : 0, start, err);

    if (gate) {
        (void) pthread_mutex_unlock(opts->writers);
    }

    sqlite3_finalize(stmt);

    if (result == NULL) {
        keep = *err;
        (void) ttai_d1_left_open(db, autocommit, err);
        *err = keep;
        return NULL;
    }

    if (ttai_d1_left_open(db, autocommit, err) != 0) {
        json_decref(result);
        return NULL;
    }

    return result;
}


json_t *
ttai_d1_exec(sqlite3 *db, const char *sql, size_t len, json_t *params,
    const ttai_d1_opts_t *opts, ttai_d1_error_t *err)
{
    int              autocommit;
    json_t          *results, *result;
    size_t           n;
    int64_t          start;
    const char      *p, *end, *tail;
    sqlite3_stmt    *stmt;
    ttai_d1_error_t  keep;

    autocommit = sqlite3_get_autocommit(db);

    results = json_array();
    if (results == NULL) {
        ttai_d1_nomem(err);
        return NULL;
    }

    end = sql + len;
    p = ttai_d1_skip_blank(sql, end);

    for (n = 0; p < end; n++) {
        start = ttai_d1_now_us();

        if (ttai_d1_prepare(db, p, end, &stmt, &tail, err) != 0) {
            err->line += ttai_d1_line(sql, p) - 1;
            goto failed;
        }

        if (stmt == NULL) {
            break;
        }

        if (n == 0 && json_array_size(params) > 0
            && ttai_d1_skip_blank(tail, end) != end)
        {
            sqlite3_finalize(stmt);
            ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_ERROR,
                              "params need a single statement");
            goto failed;
        }

        if (ttai_d1_bind(db, stmt, n == 0 ? params : NULL, err) != 0) {
            sqlite3_finalize(stmt);
            goto failed;
        }

        result = ttai_d1_run(db, stmt, opts ? opts->max_rows : 0, start,
                             err);

        sqlite3_finalize(stmt);

        if (result == NULL) {
            err->line = ttai_d1_line(sql, p);
            goto failed;
        }

        if (json_array_append_new(results, result) != 0) {
            ttai_d1_nomem(err);
            goto failed;
        }

        p = ttai_d1_skip_blank(tail, end);
    }

    if (ttai_d1_left_open(db, autocommit, err) != 0) {
        json_decref(results);
        return NULL;
    }

    return results;

failed:

    /* the first error is the one to report, not the rollback's */
    keep = *err;
    (void) ttai_d1_left_open(db, autocommit, err);
    *err = keep;

    json_decref(results);

    return NULL;
}


int
ttai_d1_transaction(sqlite3 *db, ttai_d1_txn_pt fn, void *data,
    ttai_d1_error_t *err)
{
    int            rc;
    unsigned       line;
    ttai_d1_txn_t  txn;

    if (!sqlite3_get_autocommit(db)) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_ERROR,
                          "a transaction is already open");
        return -1;
    }

    /* IMMEDIATE takes the write lock now, waiting for it if need be */
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ttai_d1_error(db, rc, err);
        return -1;
    }

    txn.denied = 0;
    sqlite3_set_authorizer(db, ttai_d1_authorize, &txn);

    rc = fn(db, data, err);

    sqlite3_set_authorizer(db, NULL, NULL);

    if (rc != 0 && txn.denied) {
        line = err->line;
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_AUTH,
                          "BEGIN, COMMIT and ROLLBACK are not allowed "
                          "here: the statements already run in one "
                          "transaction");
        err->line = line;
    }

    if (rc == 0) {
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

        if (rc == SQLITE_OK) {
            return 0;
        }

        ttai_d1_error(db, rc, err);
    }

    /* some errors (a full disk, I/O) have rolled back already */
    if (!sqlite3_get_autocommit(db)) {
        (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }

    return -1;
}


static int
ttai_d1_authorize(void *data, int action, const char *a, const char *b,
    const char *c, const char *d)
{
    ttai_d1_txn_t  *txn = data;

    if (action == SQLITE_TRANSACTION) {
        txn->denied = 1;
        return SQLITE_DENY;
    }

    return SQLITE_OK;
}


json_t *
ttai_d1_batch(sqlite3 *db, json_t *statements, const ttai_d1_opts_t *opts,
    ttai_d1_error_t *err)
{
    int              rc;
    size_t           i;
    json_t          *s, *sql, *params;
    ttai_d1_batch_t  batch;

    if (!json_is_array(statements) || json_array_size(statements) == 0) {
        ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                          "a batch is a non-empty array of "
                          "{\"sql\":\"...\",\"params\":[...]}");
        return NULL;
    }

    json_array_foreach(statements, i, s) {
        sql = json_object_get(s, "sql");
        params = json_object_get(s, "params");

        if (!json_is_string(sql)
            || (params != NULL && !json_is_array(params)))
        {
            ttai_d1_error_set(err, TTAI_D1_ESQL, SQLITE_MISMATCH,
                              "batch statement %zu: expected "
                              "{\"sql\":\"...\",\"params\":[...]}", i + 1);
            return NULL;
        }
    }

    batch.statements = statements;
    batch.opts.max_rows = opts ? opts->max_rows : 0;
    batch.opts.writers = NULL;
    batch.results = json_array();

    if (batch.results == NULL) {
        ttai_d1_nomem(err);
        return NULL;
    }

    /* a batch may write: the gate is held for its whole transaction */
    if (opts != NULL && opts->writers != NULL) {
        (void) pthread_mutex_lock(opts->writers);
    }

    rc = ttai_d1_transaction(db, ttai_d1_batch_run, &batch, err);

    if (opts != NULL && opts->writers != NULL) {
        (void) pthread_mutex_unlock(opts->writers);
    }

    if (rc != 0) {
        json_decref(batch.results);
        return NULL;
    }

    return batch.results;
}


static int
ttai_d1_batch_run(sqlite3 *db, void *data, ttai_d1_error_t *err)
{
    ttai_d1_batch_t  *batch = data;

    char        msg[TTAI_D1_ERRLEN];
    size_t      i;
    json_t     *s, *sql, *result;

    json_array_foreach(batch->statements, i, s) {
        sql = json_object_get(s, "sql");

        result = ttai_d1_query(db, json_string_value(sql),
                               json_string_length(sql),
                               json_object_get(s, "params"),
                               &batch->opts, err);

        if (result == NULL) {
            memcpy(msg, err->msg, sizeof(msg));
            snprintf(err->msg, sizeof(err->msg), "batch statement %u: %.460s",
                     (unsigned) (i + 1), msg);
            return -1;
        }

        if (json_array_append_new(batch->results, result) != 0) {
            ttai_d1_nomem(err);
            return -1;
        }
    }

    return 0;
}


static int64_t
ttai_d1_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


json_t *
ttai_d1_stmt(const char *sql, json_t *params)
{
    if (params == NULL) {
        return NULL;
    }

    /* json_pack() takes an "o" value even when it fails */
    return json_pack("{s:s, s:o}", "sql", sql, "params", params);
}


int
ttai_d1_push(json_t *batch, json_t *st)
{
    if (st == NULL) {
        return -1;
    }

    return json_array_append_new(batch, st);
}


json_t *
ttai_d1_batch_of(size_t n, ...)
{
    int       failed;
    size_t    i;
    json_t   *batch, *st;
    va_list   args;

    batch = json_array();
    failed = (batch == NULL);

    va_start(args, n);

    /* every statement is taken, even after a failure */
    for (i = 0; i < n; i++) {
        st = va_arg(args, json_t *);

        if (st == NULL) {
            failed = 1;

        } else if (failed) {
            json_decref(st);

        } else if (json_array_append_new(batch, st) != 0) {
            failed = 1;
        }
    }

    va_end(args);

    if (failed) {
        json_decref(batch);
        return NULL;
    }

    return batch;
}
