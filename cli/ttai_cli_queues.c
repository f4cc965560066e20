
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_queue.h"


/*
 * ttai queues list | send NAME BODY | peek NAME | purge NAME, in the
 * spirit of wrangler's queues commands, on the database file: a running
 * nginx delivers what is sent at its next look at the queue (within a
 * second), and its workers' claims are seen as in flight.
 */


static int ttai_cli_queues_list(sqlite3 *db);
static int ttai_cli_queues_send(sqlite3 *db, const char *queue,
    const char *body, long delay);
static int ttai_cli_queues_send_lines(sqlite3 *db, const char *queue,
    char *text, long delay);
static int ttai_cli_queues_peek(sqlite3 *db, const char *queue, long n);
static int ttai_cli_queues_purge(sqlite3 *db, const char *queue);


static const char  ttai_cli_queues_help[] =
    "Usage: ttai queues list [--db PATH]\n"
    "       ttai queues send NAME BODY [--delay MS] [--lines] [--db PATH]\n"
    "       ttai queues peek NAME [--limit N] [--db PATH]\n"
    "       ttai queues purge NAME [--db PATH]\n"
    "\n"
    "  list        each queue with messages: ready, in flight (claimed by\n"
    "              a consumer), delayed (a retry's backoff), expired\n"
    "              (claimed, and to be delivered again), dead letters\n"
    "              (moved here after their retries), acked and dropped\n"
    "  send        enqueues BODY (text; \"-\" reads standard input), ready\n"
    "              at once or after --delay milliseconds; with --lines,\n"
    "              each line of BODY is a message, all sent in one\n"
    "              transaction\n"
    "  peek        the first messages of the queue, as they are, without\n"
    "              claiming them (--limit, default 10)\n"
    "  purge       deletes every message of the queue, in flight or not\n"
    "  --db PATH   default " TTAI_CLI_DB_PATH "\n"
    "\n"
    "Queue names are 1 to 63 of a-z, 0-9, - and _.  Declare a queue in\n"
    "nginx's configuration with ttai_queue NAME ...; its consumer is the\n"
    "handler of that name (consumers:";


int
ttai_cli_queues(int argc, char **argv)
{
    int                           c, rc, lines;
    long                          delay, limit;
    char                         *body, *end;
    size_t                        len;
    sqlite3                      *db;
    const char                   *path, *cmd;
    ttai_d1_error_t               err;
    const ttai_queue_consumer_t  *k;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "delay", required_argument, NULL, 'D' },
        { "limit", required_argument, NULL, 'n' },
        { "lines", no_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    path = TTAI_CLI_DB_PATH;
    delay = 0;
    limit = 10;
    lines = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {

        case 'd':
            path = optarg;
            break;

        case 'D':
            delay = strtol(optarg, &end, 10);

            if (*end != '\0' || delay < 0 || delay > 86400000L * 30) {
                fprintf(stderr, "ttai: --delay takes milliseconds, "
                        "at most 30 days\n");
                return TTAI_EXIT_USAGE;
            }

            break;

        case 'n':
            limit = strtol(optarg, &end, 10);

            if (*end != '\0' || limit < 1 || limit > 1000) {
                fprintf(stderr, "ttai: --limit takes 1 to 1000\n");
                return TTAI_EXIT_USAGE;
            }

            break;

        case 'l':
            lines = 1;
            break;

        case 'h':
            fputs(ttai_cli_queues_help, stdout);

            for (k = ttai_queue_consumers(); k->name != NULL; k++) {
                printf(" %s", k->name);
            }

            printf(").\n\nExit status: 0 success, 1 failure, 2 usage.\n");
            return TTAI_EXIT_OK;

        default:
            return TTAI_EXIT_USAGE;
        }
    }

    cmd = (optind < argc) ? argv[optind] : NULL;

    if (cmd == NULL
        || !((strcmp(cmd, "list") == 0 && optind + 1 == argc)
             || (strcmp(cmd, "send") == 0 && optind + 3 == argc)
             || ((strcmp(cmd, "peek") == 0 || strcmp(cmd, "purge") == 0)
                 && optind + 2 == argc)))
    {
        fprintf(stderr, "ttai: usage: ttai queues list | send NAME BODY | "
                "peek NAME | purge NAME (see ttai queues --help)\n");
        return TTAI_EXIT_USAGE;
    }

    if (strcmp(cmd, "list") != 0 && !ttai_queue_name_ok(argv[optind + 1])) {
        fprintf(stderr, "ttai: \"%s\" is not a queue name: 1 to 63 of a-z, "
                "0-9, - and _\n", argv[optind + 1]);
        return TTAI_EXIT_USAGE;
    }

    if (ttai_d1_open_flags(&db, path, 0, &err) != 0) {
        fprintf(stderr, "ttai: cannot open the %s (start scripts/dev.sh "
                "once, or pass --db)\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    ttai_d1_busy_timeout(db, 5000);

    if (strcmp(cmd, "list") == 0) {
        rc = ttai_cli_queues_list(db);

    } else if (strcmp(cmd, "send") == 0) {
        body = argv[optind + 2];
        len = 0;

        if (strcmp(body, "-") == 0) {
            body = ttai_cli_read_file("/dev/stdin", &len);

            if (body == NULL) {
                ttai_d1_close(db);
                return TTAI_EXIT_FAIL;
            }
        }

        if (lines) {
            rc = ttai_cli_queues_send_lines(db, argv[optind + 1], body,
                                            delay);

        } else if (strlen(body) > TTAI_QUEUE_BODY_MAX) {
            fprintf(stderr, "ttai: a message holds at most %d bytes\n",
                    TTAI_QUEUE_BODY_MAX);
            rc = TTAI_EXIT_USAGE;

        } else {
            rc = ttai_cli_queues_send(db, argv[optind + 1], body, delay);
        }

        if (body != argv[optind + 2]) {
            free(body);
        }

    } else if (strcmp(cmd, "peek") == 0) {
        rc = ttai_cli_queues_peek(db, argv[optind + 1], limit);

    } else {
        rc = ttai_cli_queues_purge(db, argv[optind + 1]);
    }

    ttai_d1_close(db);

    return rc;
}


static int
ttai_cli_queues_list(sqlite3 *db)
{
    size_t   i, k, n;
    json_t  *results, *rows, *acks, *row, *a;

    results = ttai_cli_d1_run(db, ttai_queue_stats(ttai_cli_now_ms()));
    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rows = json_object_get(json_array_get(results, 0), "results");
    acks = json_object_get(json_array_get(results, 1), "results");

    printf("%-24s %8s %9s %8s %8s %12s %8s %8s\n", "QUEUE", "READY",
           "IN_FLIGHT", "DELAYED", "EXPIRED", "DEAD_LETTERS", "ACKED",
           "DROPPED");

    n = 0;

    json_array_foreach(rows, i, row) {
        a = NULL;

        json_array_foreach(acks, k, a) {
            if (json_equal(json_object_get(a, "queue"),
                           json_object_get(row, "queue")))
            {
                break;
            }

            a = NULL;
        }

        printf("%-24s %8lld %9lld %8lld %8lld %12lld %8lld %8lld\n",
               json_string_value(json_object_get(row, "queue")),
               (long long) json_integer_value(json_object_get(row, "ready")),
               (long long) json_integer_value(json_object_get(row,
                                                              "in_flight")),
               (long long) json_integer_value(json_object_get(row,
                                                              "delayed")),
               (long long) json_integer_value(json_object_get(row,
                                                              "expired")),
               (long long) json_integer_value(json_object_get(row,
                                                          "dead_letters")),
               (long long) json_integer_value(json_object_get(a, "acked")),
               (long long) json_integer_value(json_object_get(a,
                                                              "dropped")));
        n++;
    }

    /* queues emptied since: their acks only */
    json_array_foreach(acks, k, a) {
        json_array_foreach(rows, i, row) {
            if (json_equal(json_object_get(a, "queue"),
                           json_object_get(row, "queue")))
            {
                break;
            }
        }

        if (i < json_array_size(rows)) {
            continue;
        }

        printf("%-24s %8d %9d %8d %8d %12d %8lld %8lld\n",
               json_string_value(json_object_get(a, "queue")), 0, 0, 0, 0, 0,
               (long long) json_integer_value(json_object_get(a, "acked")),
               (long long) json_integer_value(json_object_get(a,
                                                              "dropped")));
        n++;
    }

    printf("(%zu queue%s)\n", n, n == 1 ? "" : "s");

    json_decref(results);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_queues_send(sqlite3 *db, const char *queue, const char *body,
    long delay)
{
    json_t  *results;

    results = ttai_cli_d1_run(db, ttai_queue_send(queue, body,
                                                      ttai_cli_now_ms(),
                                                      delay));
    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    printf("sent to %s: message %lld\n", queue,
           (long long) json_integer_value(json_object_get(json_object_get(
               json_array_get(results, 0), "meta"), "last_row_id")));

    json_decref(results);

    return TTAI_EXIT_OK;
}


/* each line a message, in one transaction: all of them or none */

static int
ttai_cli_queues_send_lines(sqlite3 *db, const char *queue, char *text,
    long delay)
{
    char       *line, *save;
    size_t      n;
    json_t     *all, *one, *results;
    long long   now;

    all = json_array();
    if (all == NULL) {
        return TTAI_EXIT_FAIL;
    }

    now = ttai_cli_now_ms();
    n = 0;

    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
    {
        if (*line == '\0') {
            continue;
        }

        if (strlen(line) > TTAI_QUEUE_BODY_MAX) {
            fprintf(stderr, "ttai: line %zu is longer than a message may be "
                    "(%d bytes); nothing was sent\n", n + 1,
                    TTAI_QUEUE_BODY_MAX);
            json_decref(all);
            return TTAI_EXIT_USAGE;
        }

        one = ttai_queue_send(queue, line, now, delay);

        if (one == NULL || json_array_extend(all, one) != 0) {
            json_decref(one);
            json_decref(all);
            return TTAI_EXIT_FAIL;
        }

        json_decref(one);
        n++;
    }

    if (n == 0) {
        json_decref(all);
        fprintf(stderr, "ttai: no lines to send\n");
        return TTAI_EXIT_USAGE;
    }

    results = ttai_cli_d1_run(db, all);
    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    json_decref(results);

    printf("sent to %s: %zu message%s\n", queue, n, n == 1 ? "" : "s");

    return TTAI_EXIT_OK;
}


static int
ttai_cli_queues_peek(sqlite3 *db, const char *queue, long n)
{
    char    *text;
    size_t   i;
    json_t  *results, *rows, *row;

    results = ttai_cli_d1_run(db, ttai_queue_peek(queue, n));
    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rows = json_object_get(json_array_get(results, 0), "results");

    json_array_foreach(rows, i, row) {
        text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "?");
        free(text);
    }

    printf("(%zu message%s shown)\n", json_array_size(rows),
           json_array_size(rows) == 1 ? "" : "s");

    json_decref(results);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_queues_purge(sqlite3 *db, const char *queue)
{
    json_t  *results;

    results = ttai_cli_d1_run(db, ttai_queue_purge(queue));
    if (results == NULL) {
        return TTAI_EXIT_FAIL;
    }

    printf("purged %s: %lld message(s) deleted\n", queue,
           (long long) json_integer_value(json_object_get(json_object_get(
               json_array_get(results, 0), "meta"), "changes")));

    json_decref(results);

    return TTAI_EXIT_OK;
}

