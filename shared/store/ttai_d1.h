
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_D1_H_INCLUDED_
#define _TTAI_D1_H_INCLUDED_


#include <pthread.h>
#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>


/*
 * The SQLite store (the seed's D1), shared by the nginx module's thread
 * tasks and by the CLI.  A connection is used by one thread at a time.
 *
 * Results have the shape of a D1 result:
 *
 *     {"results":[{"col":value,...},...],
 *      "meta":{"changes":N,"last_row_id":N,"rows_read":N,
 *              "rows_written":N,"duration_ms":F}}
 *
 * INTEGER, REAL, TEXT and NULL map to JSON numbers, strings and null; a
 * BLOB is a string of standard, padded base64.  Dump results with
 * TTAI_D1_JSON_FLAGS: REALs then have 15 significant digits, as SQLite
 * itself writes them as text.  Parameters are a JSON
 * array bound in order (?, ?NNN): numbers, strings, null, true and false
 * (1 and 0), and {"blob":"<base64>"} for a BLOB.
 */

#define TTAI_D1_ERRLEN          512

#define TTAI_D1_JSON_FLAGS      JSON_REAL_PRECISION(15)

/* how long a statement waits for another connection's lock */
#define TTAI_D1_BUSY_TIMEOUT    5000

/* what the caller gets wrong, as opposed to what the database does */
#define TTAI_D1_ESQL            1
/* the database stayed locked for longer than the busy timeout */
#define TTAI_D1_EBUSY           2
/* the database itself: I/O, permissions, corruption, memory */
#define TTAI_D1_EFAIL           3


typedef struct {
    int          kind;          /* TTAI_D1_E* */
    int          code;          /* SQLite's extended code, 0 if not SQLite */
    unsigned     line;          /* where in a multi-line text, or 0 */
    char         msg[TTAI_D1_ERRLEN];
} ttai_d1_error_t;


typedef struct {
    /* the rows one result may have; 0: no bound */
    size_t             max_rows;

    /*
     * Optional: the writers of one process take this mutex before they
     * reach SQLite's write lock, so that they queue on it and wake as
     * soon as it is free, rather than poll the busy handler.
     */
    pthread_mutex_t   *writers;
} ttai_d1_opts_t;


/* the work of ttai_d1_transaction(): 0 to commit, -1 to roll back */
typedef int (*ttai_d1_txn_pt)(sqlite3 *db, void *data, ttai_d1_error_t *err);


/* ttai_d1_open_flags(): create the file when it is missing */
#define TTAI_D1_CREATE          0x01

/* opens (creating it) and configures: WAL, busy timeout, foreign keys */
int ttai_d1_open(sqlite3 **db, const char *path, ttai_d1_error_t *err);
int ttai_d1_open_flags(sqlite3 **db, const char *path, int flags,
    ttai_d1_error_t *err);
void ttai_d1_close(sqlite3 *db);

/* how long to wait for a lock held by another connection */
void ttai_d1_busy_timeout(sqlite3 *db, unsigned ms);

/* creates the folders above a database file, like mkdir -p */
int ttai_d1_make_dir(const char *path, ttai_d1_error_t *err);

/* exactly one statement; returns its result object; opts may be NULL */
json_t *ttai_d1_query(sqlite3 *db, const char *sql, size_t len,
    json_t *params, const ttai_d1_opts_t *opts, ttai_d1_error_t *err);

/*
 * Every statement of sql, in order, each in its own implicit
 * transaction; returns an array of result objects.  Parameters are only
 * allowed with a single statement.  Stops at the first error.
 */
json_t *ttai_d1_exec(sqlite3 *db, const char *sql, size_t len,
    json_t *params, const ttai_d1_opts_t *opts, ttai_d1_error_t *err);

/*
 * An array of {"sql":"...","params":[...]}, run in one transaction that
 * either commits every statement or none; returns an array of results.
 */
json_t *ttai_d1_batch(sqlite3 *db, json_t *statements,
    const ttai_d1_opts_t *opts, ttai_d1_error_t *err);

/*
 * Building batches: a statement {"sql","params"} (takes params; NULL
 * params, an allocation that failed, gives NULL); a statement appended
 * to a batch (taken; -1 when it is NULL or out of memory); and a batch
 * of the n statements given (each taken; NULL when one is NULL or out
 * of memory)
 */
json_t *ttai_d1_stmt(const char *sql, json_t *params);
int ttai_d1_push(json_t *batch, json_t *st);
json_t *ttai_d1_batch_of(size_t n, ...);

/*
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT, or rolls back when fn fails.
 * While fn runs, statements that would end the transaction (BEGIN,
 * COMMIT, ROLLBACK) are refused when they are prepared.
 */
int ttai_d1_transaction(sqlite3 *db, ttai_d1_txn_pt fn, void *data,
    ttai_d1_error_t *err);

/* sets err from the connection's last error */
void ttai_d1_error(sqlite3 *db, int rc, ttai_d1_error_t *err);
void ttai_d1_error_set(ttai_d1_error_t *err, int kind, int code,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;


#endif /* _TTAI_D1_H_INCLUDED_ */
