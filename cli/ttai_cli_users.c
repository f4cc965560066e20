
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_order_store.h"
#include "ttai_oauth_store.h"


/*
 * ttai users list | revoke ID: who has signed in, and taking it back.
 * Revoking a user revokes every refresh token ttai issued to their
 * clients, deletes their TastyTrade tokens, and records the revocation,
 * so that a running nginx refuses every access token issued to them
 * until now (its workers read the new rows within a second).  Works on
 * the database file.
 */


static int ttai_cli_users_list(const char *db_path);
static int ttai_cli_users_revoke(const char *db_path, const char *user);
static int ttai_cli_users_trading(const char *db_path, const char *user,
    int on);
static sqlite3 *ttai_cli_users_open(const char *path);
static void ttai_cli_users_usage(FILE *out);


static const char  ttai_cli_users_help[] =
    "Usage: ttai users list [--db PATH]\n"
    "       ttai users revoke ID [--db PATH]\n"
    "       ttai users trading enable|disable ID [--db PATH]\n"
    "\n"
    "  list       the users who signed in or were connected: id, email,\n"
    "             whether TastyTrade tokens are stored, live sign-ins\n"
    "  revoke ID  revoke every refresh token of the user's sign-ins, and\n"
    "             every access token issued to them until now (a running\n"
    "             nginx refuses them within a second), and delete their\n"
    "             TastyTrade tokens; the user must sign in again\n"
    "  trading enable|disable ID\n"
    "             the user's own permission to trade, for access tokens\n"
    "             made by hand (ttai token); off until enabled\n"
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

    if (optind + 2 < argc && strcmp(argv[optind], "trading") == 0
        && optind + 3 == argc
        && (strcmp(argv[optind + 1], "enable") == 0
            || strcmp(argv[optind + 1], "disable") == 0))
    {
        return ttai_cli_users_trading(db, argv[optind + 2],
                                      argv[optind + 1][0] == 'e');
    }

    ttai_cli_users_usage(stderr);

    return TTAI_EXIT_USAGE;
}


static int
ttai_cli_users_trading(const char *db_path, const char *user, int on)
{
    json_t      *results;
    sqlite3     *db;
    json_int_t   changes;

    db = ttai_cli_users_open(db_path);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    results = ttai_cli_d1_run(db, ttai_d1_batch_of(1,
                                  ttai_order_trading_grant(user, on)));
    ttai_d1_close(db);

    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    changes = json_integer_value(json_object_get(json_object_get(
                  json_array_get(results, 0), "meta"), "changes"));
    json_decref(results);

    if (changes == 0) {
        fprintf(stderr, "ttai: no user \"%s\" (see ttai users list)\n",
                user);
        return TTAI_EXIT_FAIL;
    }

    printf("trading %s for user %s\n", on ? "enabled" : "disabled", user);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_users_list(const char *db_path)
{
    char                    when[32];
    size_t                  n;
    json_t                 *results;
    time_t                  t;
    sqlite3                *db;
    struct tm               tm;
    ttai_oauth_user_row_t   u;

    db = ttai_cli_users_open(db_path);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    results = ttai_cli_d1_run(db, ttai_oauth_store_users((long long)
                                                        time(NULL)));
    ttai_d1_close(db);

    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    printf("%-24s %-28s %-20s %-10s %s\n", "ID", "EMAIL", "CREATED",
           "TASTYTRADE", "SIGN-INS");

    for (n = 0; ttai_oauth_store_user_at(results, n, &u); n++) {
        t = (time_t) u.created_at;
        when[0] = '\0';

        if (gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }

        printf("%-24s %-28s %-20s %-10s %lld\n", u.id, u.email, when,
               u.connected ? "connected" : "-", u.sign_ins);
    }

    json_decref(results);

    printf("(%zu user%s)\n", n, n == 1 ? "" : "s");

    return TTAI_EXIT_OK;
}


static int
ttai_cli_users_revoke(const char *db_path, const char *user)
{
    int               found;
    json_t           *batch, *results;
    sqlite3          *db;
    long long         tokens;
    ttai_d1_error_t   err;

    db = ttai_cli_users_open(db_path);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    /* in one transaction: an unknown user has nothing to change */
    batch = ttai_oauth_store_user_revoke(user, (long long) time(NULL));
    results = batch ? ttai_d1_batch(db, batch, NULL, &err) : NULL;

    json_decref(batch);
    ttai_d1_close(db);

    if (results == NULL) {
        fprintf(stderr, "ttai: revoking failed: %s\n",
                batch ? err.msg : "out of memory");
        return TTAI_EXIT_FAIL;
    }

    found = ttai_oauth_store_user_revoked(results, &tokens);
    json_decref(results);

    if (!found) {
        fprintf(stderr, "ttai: no user \"%s\" (see ttai users list)\n",
                user);
        return TTAI_EXIT_FAIL;
    }

    printf("revoked user %s: %lld refresh token%s, TastyTrade tokens "
           "deleted\n", user, tokens, tokens == 1 ? "" : "s");

    return TTAI_EXIT_OK;
}


/* the database must exist: these commands never make one */

static sqlite3 *
ttai_cli_users_open(const char *path)
{
    sqlite3          *db;
    ttai_d1_error_t   err;

    if (ttai_d1_open_flags(&db, path, 0, &err) != 0) {
        /* err.msg reads: database "PATH": why */
        fprintf(stderr, "ttai: cannot open the %s (start scripts/dev.sh "
                "once, or pass --db)\n", err.msg);
        return NULL;
    }

    return db;
}


static void
ttai_cli_users_usage(FILE *out)
{
    fputs(ttai_cli_users_help, out);
}
