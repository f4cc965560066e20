
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_CLI_H_INCLUDED_
#define _TTAI_CLI_H_INCLUDED_


#include <stddef.h>
#include <stdio.h>

#include <jansson.h>


/* exit codes of every verb */
#define TTAI_EXIT_OK       0
#define TTAI_EXIT_FAIL     1
#define TTAI_EXIT_USAGE    2


/* the development server, unless TTAI_DEV_URL says otherwise */
#define TTAI_CLI_DEFAULT_URL   "http://127.0.0.1:8787"

/* the local state, relative to the repository root (the current folder) */
#define TTAI_CLI_STATE_DIR     ".ttai/state"
#define TTAI_CLI_DB_PATH       ".ttai/state/d1/ttai/db.sqlite"
#define TTAI_CLI_MIGRATIONS    "migrations"


typedef struct {
    long          status;
    char         *body;         /* NUL-terminated; may hold NULs before */
    size_t        len;
    char          content_type[128];
} ttai_cli_response_t;


int ttai_cli_d1(int argc, char **argv);
int ttai_cli_kv(int argc, char **argv);
int ttai_cli_queues(int argc, char **argv);

/*
 * Runs a batch of statements ({"sql","params"}) on db in one
 * transaction; the results, or NULL with the reason printed.  Takes the
 * reference to batch (NULL: out of memory).
 */
struct sqlite3;
json_t *ttai_cli_d1_run(struct sqlite3 *db, json_t *batch);

/* the time, in milliseconds since the epoch */
long long ttai_cli_now_ms(void);
int ttai_cli_orders(int argc, char **argv);
int ttai_cli_vectorize(int argc, char **argv);
int ttai_cli_llm(int argc, char **argv);

/*
 * --since: "2026-12-07", "2026-12-07T15:00:00Z", or an age before now
 * ("30m", "24h", "7d"); epoch ms, or -1 (ttai_cli_orders.c)
 */
long long ttai_cli_since(const char *s);
int ttai_cli_r2(int argc, char **argv);
int ttai_cli_state(int argc, char **argv);
int ttai_cli_tastytrade(int argc, char **argv);
int ttai_cli_token(int argc, char **argv);
int ttai_cli_users(int argc, char **argv);
int ttai_cli_workflows(int argc, char **argv);

/*
 * One request to the development server's admin API.  path is appended
 * to the server URL as it is: escape its parts with ttai_cli_escape().
 * Returns 0 with a response (free it with ttai_cli_response_free()), or
 * -1 after printing why, e.g. that the dev server is not running.
 */
int ttai_cli_request(const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    ttai_cli_response_t *res);
void ttai_cli_response_free(ttai_cli_response_t *res);

/* with 1, a server that is not running is not reported */
void ttai_cli_quiet(int on);

/* prints the server's {"error","message"} or the status; returns 1 */
int ttai_cli_server_error(const char *what, ttai_cli_response_t *res);

/* percent-encodes everything but unreserved characters; free() it */
char *ttai_cli_escape(const char *s, size_t len);

const char *ttai_cli_server_url(void);

/* reads a whole file, or standard input for "-"; free() it */
char *ttai_cli_read_file(const char *path, size_t *len);

/*
 * A secret such as JWT_SECRET, from the environment or else from the env
 * file, checked as nginx checks it.  Returns a NUL-terminated copy, or
 * NULL after printing why (naming the key and file, never the value).
 */
char *ttai_cli_secret(const char *name, const char *env_file, size_t *len);
void ttai_cli_secret_free(char *value, size_t len);


#endif /* _TTAI_CLI_H_INCLUDED_ */
