
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_llm_usage.h"


/*
 * ttai llm usage: the calls to LLM providers (migration 0013), by user,
 * provider and model: requests, tokens in and out, errors, latency.
 */

static const char  ttai_cli_llm_help[] =
    "Usage: ttai llm usage [--user ID] [--since WHEN] [--db PATH]\n"
    "\n"
    "  usage         the calls to LLM providers by user, provider and\n"
    "                model: requests, tokens in and out, errors and the\n"
    "                mean latency; it only reads\n"
    "  --user ID     one user's\n"
    "  --since WHEN  a date (2026-12-07), a time (2026-12-07T15:00:00Z)\n"
    "                or an age (30m, 24h, 7d); default: today (UTC)\n"
    "  --db PATH     default " TTAI_CLI_DB_PATH "\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage.\n";


int
ttai_cli_llm(int argc, char **argv)
{
    int               c;
    size_t            i;
    json_t           *results, *rows, *r;
    sqlite3          *db;
    long long         since, now;
    const char       *path, *user;
    ttai_d1_error_t   err;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'u' },
        { "since", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    path = TTAI_CLI_DB_PATH;
    user = NULL;
    now = ttai_cli_now_ms();
    since = now - now % 86400000;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            path = optarg;
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
        case 'h':
            fputs(ttai_cli_llm_help, stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind + 1 != argc || strcmp(argv[optind], "usage") != 0) {
        fputs(ttai_cli_llm_help, stderr);
        return TTAI_EXIT_USAGE;
    }

    if (ttai_d1_open_flags(&db, path, 0, &err) != 0) {
        fprintf(stderr, "ttai: cannot open the %s (pass --db)\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    results = ttai_cli_d1_run(db, ttai_d1_batch_of(1,
                                  ttai_llm_usage_totals(user, since)));
    ttai_d1_close(db);

    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rows = json_object_get(json_array_get(results, 0), "results");

    printf("%-16s %-10s %-32s %8s %10s %10s %6s %8s\n", "USER", "PROVIDER",
           "MODEL", "REQUESTS", "TOKENS_IN", "TOKENS_OUT", "ERRORS",
           "MEAN_MS");

    json_array_foreach(rows, i, r) {
        printf("%-16s %-10s %-32s %8lld %10lld %10lld %6lld %8lld\n",
               json_string_value(json_object_get(r, "user_id")),
               json_string_value(json_object_get(r, "provider")),
               json_string_value(json_object_get(r, "model")),
               (long long) json_integer_value(json_object_get(r,
                                                              "requests")),
               (long long) json_integer_value(json_object_get(r,
                                                          "input_tokens")),
               (long long) json_integer_value(json_object_get(r,
                                                         "output_tokens")),
               (long long) json_integer_value(json_object_get(r, "errors")),
               (long long) json_integer_value(json_object_get(r,
                                                            "latency_ms")));
    }

    printf("(%zu line%s)\n", json_array_size(rows),
           json_array_size(rows) == 1 ? "" : "s");

    json_decref(results);

    return TTAI_EXIT_OK;
}
