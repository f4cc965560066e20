
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_workflow.h"


/*
 * ttai workflows list | status ID | terminate ID | start NAME [PARAMS] |
 * event ID NAME [PAYLOAD], in the spirit of wrangler's workflows
 * commands, on the database file: a running nginx with ttai_workflows on
 * takes a started instance, or one an event woke, at its next tick.
 */


static void ttai_cli_wf_print_rows(json_t *rows);


static const char  ttai_cli_wf_help[] =
    "Usage: ttai workflows list [--limit N] [--db PATH]\n"
    "       ttai workflows status ID [--db PATH]\n"
    "       ttai workflows terminate ID [--db PATH]\n"
    "       ttai workflows start NAME [PARAMS] [--db PATH]\n"
    "       ttai workflows event ID NAME [PAYLOAD] [--db PATH]\n"
    "\n"
    "  list        the latest instances: id, workflow, status (queued,\n"
    "              running, waiting, complete, errored, terminated), the\n"
    "              steps completed, what a waiting one waits for\n"
    "  status      one instance, its params, output or error, and each\n"
    "              step: status, output, attempts, runs (always 1 once\n"
    "              complete: a completed step never runs again)\n"
    "  terminate   ends a queued, running or waiting instance\n"
    "  start       a new instance of the workflow NAME, with PARAMS (a\n"
    "              JSON object, default {}); prints its id\n"
    "  event       sends the event NAME (PAYLOAD, JSON, default {}) to an\n"
    "              instance, which goes on if it waits for it\n"
    "  --db PATH   default " TTAI_CLI_DB_PATH "\n"
    "\n"
    "nginx runs the turns with ttai_workflows on.  Workflows:";


int
ttai_cli_workflows(int argc, char **argv)
{
    int                     c, rc, n;
    long                    limit;
    char                   *end, id[TTAI_WF_ID_LEN + 1];
    json_t                 *results, *j;
    sqlite3                *db;
    const char             *path, *cmd, *arg;
    ttai_d1_error_t         err;
    const ttai_workflow_t  *w;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    path = TTAI_CLI_DB_PATH;
    limit = 20;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {

        case 'd':
            path = optarg;
            break;

        case 'n':
            limit = strtol(optarg, &end, 10);

            if (*end != '\0' || limit < 1 || limit > 1000) {
                fprintf(stderr, "ttai: --limit takes 1 to 1000\n");
                return TTAI_EXIT_USAGE;
            }

            break;

        case 'h':
            fputs(ttai_cli_wf_help, stdout);

            for (w = ttai_workflows(); w->name != NULL; w++) {
                printf("\n  %-10s %s", w->name, w->description);
            }

            printf("\n\nExit status: 0 success, 1 failure (e.g. an unknown "
                   "instance), 2 usage.\n");
            return TTAI_EXIT_OK;

        default:
            return TTAI_EXIT_USAGE;
        }
    }

    cmd = (optind < argc) ? argv[optind] : "";
    n = argc - optind;

    if (!((strcmp(cmd, "list") == 0 && n == 1)
          || ((strcmp(cmd, "status") == 0 || strcmp(cmd, "terminate") == 0)
              && n == 2)
          || (strcmp(cmd, "start") == 0 && (n == 2 || n == 3))
          || (strcmp(cmd, "event") == 0 && (n == 3 || n == 4))))
    {
        fprintf(stderr, "ttai: usage: ttai workflows list | status ID | "
                "terminate ID | start NAME [PARAMS] | event ID NAME "
                "[PAYLOAD] (see ttai workflows --help)\n");
        return TTAI_EXIT_USAGE;
    }

    /* what is sent is checked before the database is opened */
    arg = NULL;

    if (strcmp(cmd, "start") == 0) {
        if (ttai_workflow_find(argv[optind + 1]) == NULL) {
            fprintf(stderr, "ttai: no workflow named \"%s\" (see ttai "
                    "workflows --help)\n", argv[optind + 1]);
            return TTAI_EXIT_USAGE;
        }

        arg = (n == 3) ? argv[optind + 2] : "{}";

    } else if (strcmp(cmd, "event") == 0) {
        arg = (n == 4) ? argv[optind + 3] : "{}";
    }

    if (arg != NULL) {
        j = json_loads(arg, JSON_DECODE_ANY, NULL);

        if (j == NULL || strlen(arg) > TTAI_WF_PARAMS_MAX
            || (strcmp(cmd, "start") == 0 && !json_is_object(j)))
        {
            json_decref(j);
            fprintf(stderr, "ttai: \"%.60s\" is not %s\n", arg,
                    strcmp(cmd, "start") == 0 ? "a JSON object"
                                              : "JSON");
            return TTAI_EXIT_USAGE;
        }

        json_decref(j);
    }

    if (ttai_d1_open_flags(&db, path, 0, &err) != 0) {
        fprintf(stderr, "ttai: cannot open the %s (start scripts/dev.sh "
                "once, or pass --db)\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    ttai_d1_busy_timeout(db, 5000);
    rc = TTAI_EXIT_OK;

    if (strcmp(cmd, "list") == 0) {
        results = ttai_cli_d1_run(db, ttai_workflow_list(limit));

        if (results == NULL) {
            rc = TTAI_EXIT_FAIL;

        } else {
            ttai_cli_wf_print_rows(json_object_get(json_array_get(results,
                                                                  0),
                                                   "results"));
        }

    } else if (strcmp(cmd, "status") == 0) {
        results = ttai_cli_d1_run(db, ttai_workflow_status(argv[optind + 1]));

        if (results == NULL) {
            rc = TTAI_EXIT_FAIL;

        } else if (json_array_size(json_object_get(json_array_get(results,
                                                                  0),
                                                   "results")) == 0)
        {
            fprintf(stderr, "ttai: no workflow instance %s\n",
                    argv[optind + 1]);
            rc = TTAI_EXIT_FAIL;

        } else {
            ttai_cli_wf_print_rows(json_object_get(json_array_get(results,
                                                                  0),
                                                   "results"));
            printf("steps:\n");
            ttai_cli_wf_print_rows(json_object_get(json_array_get(results,
                                                                  1),
                                                   "results"));
        }

    } else if (strcmp(cmd, "terminate") == 0) {
        results = ttai_cli_d1_run(db, ttai_workflow_terminate(
                                          argv[optind + 1],
                                          ttai_cli_now_ms()));

        if (results == NULL) {
            rc = TTAI_EXIT_FAIL;

        } else if (json_integer_value(json_object_get(json_object_get(
                       json_array_get(results, 0), "meta"), "changes"))
                   == 0)
        {
            fprintf(stderr, "ttai: no queued, running or waiting instance "
                    "%s\n", argv[optind + 1]);
            rc = TTAI_EXIT_FAIL;

        } else {
            printf("terminated %s\n", argv[optind + 1]);
        }

    } else if (strcmp(cmd, "start") == 0) {
        if (sodium_init() < 0) {
            fprintf(stderr, "ttai: libsodium could not start\n");
            ttai_d1_close(db);
            return TTAI_EXIT_FAIL;
        }

        ttai_workflow_id(id);
        results = ttai_cli_d1_run(db, ttai_workflow_create(id,
                                          argv[optind + 1], arg,
                                          ttai_cli_now_ms()));
        if (results == NULL) {
            rc = TTAI_EXIT_FAIL;

        } else {
            printf("%s\n", id);
        }

    } else {
        results = ttai_cli_d1_run(db, ttai_workflow_event(argv[optind + 1],
                                          argv[optind + 2], arg,
                                          ttai_cli_now_ms()));
        if (results == NULL) {
            rc = TTAI_EXIT_FAIL;

        } else {
            printf("sent %s to %s\n", argv[optind + 2], argv[optind + 1]);
        }
    }

    json_decref(results);
    ttai_d1_close(db);

    return rc;
}


static void
ttai_cli_wf_print_rows(json_t *rows)
{
    char    *text;
    size_t   i;
    json_t  *row;

    json_array_foreach(rows, i, row) {
        text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "?");
        free(text);
    }
}

