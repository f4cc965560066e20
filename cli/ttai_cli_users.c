
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ttai_cli.h"


/*
 * ttai users list | revoke ID: who has signed in, and taking it back.
 * Revoking a user revokes every refresh token ttai issued to their
 * clients and deletes their TastyTrade tokens, so that no tool acts for
 * them any more; an access JWT already issued still opens /mcp until it
 * expires (within the hour), but can reach nothing.  Works on the
 * database file.
 */


static int ttai_cli_users_list(const char *db_path);
static int ttai_cli_users_revoke(const char *db_path, const char *user);
static sqlite3 *ttai_cli_users_open(const char *path);
static void ttai_cli_users_usage(FILE *out);


static const char  ttai_cli_users_help[] =
    "Usage: ttai users list [--db PATH]\n"
    "       ttai users revoke ID [--db PATH]\n"
    "\n"
    "  list       the users who signed in or were connected: id, email,\n"
    "             whether TastyTrade tokens are stored, live sign-ins\n"
    "  revoke ID  revoke every refresh token of the user's sign-ins and\n"
    "             delete their TastyTrade tokens; the user must sign in\n"
    "             again (access tokens already issued expire within an\n"
    "             hour and can no longer reach TastyTrade)\n"
    "  --db PATH  default " TTAI_CLI_DB_PATH "\n"
    "\n"
    "Exit status: 0 success, 1 failure (e.g. an unknown user), 2 usage.\n";


int
ttai_cli_users(int argc, char **argv)
{
    int          c;
    const char  *db;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    db = TTAI_CLI_DB_PATH;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'h':
            ttai_cli_users_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind < argc && strcmp(argv[optind], "list") == 0
        && optind + 1 == argc)
    {
        return ttai_cli_users_list(db);
    }

    if (optind + 1 < argc && strcmp(argv[optind], "revoke") == 0
        && optind + 2 == argc)
    {
        return ttai_cli_users_revoke(db, argv[optind + 1]);
    }

    ttai_cli_users_usage(stderr);

    return TTAI_EXIT_USAGE;
}


static int
ttai_cli_users_list(const char *db_path)
{
    int            n;
    char           when[32];
    time_t         t;
    sqlite3       *db;
    struct tm      tm;
    sqlite3_stmt  *stmt;

    db = ttai_cli_users_open(db_path);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    if (sqlite3_prepare_v2(db,
            "SELECT u.id, COALESCE(u.email, ''), u.created_at, "
            "EXISTS (SELECT 1 FROM user_oauth_tokens t "
            "        WHERE t.user_id = u.id), "
            "(SELECT COUNT(DISTINCT family) FROM oauth_refresh_tokens r "
            " WHERE r.user_id = u.id AND r.revoked = 0 AND r.used = 0 "
            " AND r.expires_at > unixepoch()) "
            "FROM users u ORDER BY u.id", -1, &stmt, NULL)
        != SQLITE_OK)
    {
        fprintf(stderr, "ttai: %s (are the migrations applied? "
                "ttai d1 migrations apply)\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return TTAI_EXIT_FAIL;
    }

    printf("%-24s %-28s %-20s %-10s %s\n", "ID", "EMAIL", "CREATED",
           "TASTYTRADE", "SIGN-INS");

    for (n = 0; sqlite3_step(stmt) == SQLITE_ROW; n++) {
        t = (time_t) sqlite3_column_int64(stmt, 2);
        when[0] = '\0';

        if (gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }

        printf("%-24s %-28s %-20s %-10s %d\n",
               (const char *) sqlite3_column_text(stmt, 0),
               (const char *) sqlite3_column_text(stmt, 1), when,
               sqlite3_column_int(stmt, 3) ? "connected" : "-",
               sqlite3_column_int(stmt, 4));
    }

    sqlite3_finalize(stmt);
    sqlite3_close(db);

    printf("(%d user%s)\n", n, n == 1 ? "" : "s");

    return TTAI_EXIT_OK;
}


static int
ttai_cli_users_revoke(const char *db_path, const char *user)
{
    int            found, rc, families;
    sqlite3       *db;
    sqlite3_stmt  *stmt;

    db = ttai_cli_users_open(db_path);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rc = TTAI_EXIT_FAIL;
    stmt = NULL;
    found = 0;
    families = 0;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        goto failed;
    }

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM users WHERE id = ?", -1,
                           &stmt, NULL) != SQLITE_OK
        || sqlite3_bind_text(stmt, 1, user, -1, SQLITE_STATIC) != SQLITE_OK)
    {
        goto failed;
    }

    found = (sqlite3_step(stmt) == SQLITE_ROW);
    sqlite3_finalize(stmt);
    stmt = NULL;

    if (!found) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        fprintf(stderr, "ttai: no user \"%s\" (see ttai users list)\n",
                user);
        sqlite3_close(db);
        return TTAI_EXIT_FAIL;
    }

    if (sqlite3_prepare_v2(db,
            "UPDATE oauth_refresh_tokens SET revoked = 1 "
            "WHERE user_id = ? AND revoked = 0", -1, &stmt, NULL)
        != SQLITE_OK
        || sqlite3_bind_text(stmt, 1, user, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_step(stmt) != SQLITE_DONE)
    {
        goto failed;
    }

    families = sqlite3_changes(db);
    sqlite3_finalize(stmt);

    if (sqlite3_prepare_v2(db,
            "DELETE FROM user_oauth_tokens WHERE user_id = ?", -1, &stmt,
            NULL) != SQLITE_OK
        || sqlite3_bind_text(stmt, 1, user, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_step(stmt) != SQLITE_DONE)
    {
        goto failed;
    }

    sqlite3_finalize(stmt);
    stmt = NULL;

    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        goto failed;
    }

    printf("revoked user %s: %d refresh token%s, TastyTrade tokens "
           "deleted\n", user, families, families == 1 ? "" : "s");
    rc = TTAI_EXIT_OK;

failed:

    if (rc != TTAI_EXIT_OK) {
        fprintf(stderr, "ttai: revoking failed: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }

    sqlite3_close(db);

    return rc;
}


static sqlite3 *
ttai_cli_users_open(const char *path)
{
    sqlite3  *db;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL)
        != SQLITE_OK)
    {
        fprintf(stderr, "ttai: cannot open the database %s: %s (start "
                "scripts/dev.sh once, or pass --db)\n", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }

    sqlite3_busy_timeout(db, 5000);

    return db;
}


static void
ttai_cli_users_usage(FILE *out)
{
    fputs(ttai_cli_users_help, out);
}
