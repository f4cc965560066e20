
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_order_store.h"


/*
 * ttai orders audit: every attempt to trade, as order_audit keeps it
 * (migrations/0009_trading.sql).  It reads; nothing here can trade.
 */

static int ttai_cli_orders_audit(const char *db_path, const char *user,
    long long since, long long limit);


static const char  ttai_cli_orders_help[] =
    "Usage: ttai orders audit [--user ID] [--since WHEN] [--limit N]\n"
    "                         [--db PATH]\n"
    "\n"
    "  audit         every attempt to place, replace or cancel an order,\n"
    "                newest first: when, who, which account and tool, the\n"
    "                decision and why, TastyTrade's status and order id,\n"
    "                the client order id; it only reads\n"
    "  --user ID     one user's attempts\n"
    "  --since WHEN  a date (2026-12-07), a time (2026-12-07T15:00:00Z),\n"
    "                or an age (30m, 24h, 7d); default: all\n"
    "  --limit N     at most N (default 100)\n"
    "  --db PATH     default " TTAI_CLI_DB_PATH "\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage.\n";


int
ttai_cli_orders(int argc, char **argv)
{
    int          c;
    char        *end;
    long long    since, limit;
    const char  *db, *user;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'u' },
        { "since", required_argument, NULL, 's' },
        { "limit", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    db = TTAI_CLI_DB_PATH;
    user = NULL;
    since = 0;
    limit = 100;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 's':
            since = ttai_cli_since(optarg);
            if (since < 0) {
                fprintf(stderr, "ttai: --since \"%s\" is not a date, a "
                        "time or an age (30m, 24h, 7d)\n", optarg);
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'l':
            limit = strtoll(optarg, &end, 10);
            if (*end != '\0' || limit < 1) {
                fprintf(stderr, "ttai: --limit is a number above 0\n");
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(ttai_cli_orders_help, stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind + 1 == argc && strcmp(argv[optind], "audit") == 0) {
        return ttai_cli_orders_audit(db, user, since, limit);
    }

    fputs(ttai_cli_orders_help, stderr);

    return TTAI_EXIT_USAGE;
}


static int
ttai_cli_orders_audit(const char *db_path, const char *user,
    long long since, long long limit)
{
    char              when[32], status[16];
    size_t            i;
    json_t           *results, *rows, *r;
    time_t            t;
    sqlite3          *db;
    struct tm         tm;
    ttai_d1_error_t   err;

    if (ttai_d1_open_flags(&db, db_path, 0, &err) != 0) {
        fprintf(stderr, "ttai: cannot open the %s (pass --db)\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    results = ttai_cli_d1_run(db, ttai_d1_batch_of(1,
                                  ttai_order_audit_list(user, since, limit)));
    ttai_d1_close(db);

    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rows = json_object_get(json_array_get(results, 0), "results");

    printf("%-20s %-16s %-10s %-14s %-9s %-6s %-12s %s\n", "WHEN", "USER",
           "ACCOUNT", "TOOL", "DECISION", "STATUS", "ORDER", "REASON");

    json_array_foreach(rows, i, r) {
        t = (time_t) (json_integer_value(json_object_get(r, "at")) / 1000);
        when[0] = '\0';

        if (gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }

        snprintf(status, sizeof(status), "%lld", (long long)
                 json_integer_value(json_object_get(r, "status")));

#define ttai_cli_orders_s(name)                                              \
        (json_is_string(json_object_get(r, name))                            \
         ? json_string_value(json_object_get(r, name)) : "-")

        printf("%-20s %-16s %-10s %-14s %-9s %-6s %-12s %s\n", when,
               ttai_cli_orders_s("user_id"), ttai_cli_orders_s("account"),
               ttai_cli_orders_s("tool"), ttai_cli_orders_s("decision"),
               json_is_integer(json_object_get(r, "status")) ? status : "-",
               ttai_cli_orders_s("order_id"), ttai_cli_orders_s("reason"));

#undef ttai_cli_orders_s
    }

    printf("(%zu attempt%s)\n", json_array_size(rows),
           json_array_size(rows) == 1 ? "" : "s");

    json_decref(results);

    return TTAI_EXIT_OK;
}


/*
 * --since: "2026-12-07", "2026-12-07T15:00:00Z", or an age before now
 * ("30m", "24h", "7d"); epoch ms, or -1
 */

long long
ttai_cli_since(const char *s)
{
    char       *end;
    long long   n;
    struct tm   tm;

    memset(&tm, 0, sizeof(tm));

    if (strlen(s) == 10
        && sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday)
           == 3)
    {
        tm.tm_year -= 1900;
        tm.tm_mon--;
        return (long long) timegm(&tm) * 1000;
    }

    if (strlen(s) == 20
        && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6)
    {
        tm.tm_year -= 1900;
        tm.tm_mon--;
        return (long long) timegm(&tm) * 1000;
    }

    n = strtoll(s, &end, 10);

    if (end == s || n < 0 || end[0] == '\0' || end[1] != '\0') {
        return -1;
    }

    switch (end[0]) {
    case 'm': return ttai_cli_now_ms() - n * 60000;
    case 'h': return ttai_cli_now_ms() - n * 3600000;
    case 'd': return ttai_cli_now_ms() - n * 86400000;
    default: return -1;
    }
}
