
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "ttai_cli.h"
#include "ttai_version.h"


/*
 * The ttai command line.  Exit codes: 0 success, 1 failure, 2 usage.
 */


typedef struct {
    const char  *name;
    const char  *summary;
    int        (*run)(int argc, char **argv);
} ttai_cli_command_t;


static void ttai_cli_usage(FILE *out);


static const ttai_cli_command_t  ttai_cli_commands[] = {
    { "d1", "query and migrate the local SQLite database", ttai_cli_d1 },
    { "kv", "list, get, put and delete KV keys", ttai_cli_kv },
    { "llm", "show what the calls to LLM providers cost", ttai_cli_llm },
    { "orders", "show the audit of every attempt to trade", ttai_cli_orders },
    { "queues", "list, send to, peek at and purge queues",
      ttai_cli_queues },
    { "r2", "put, get, list and delete R2 objects", ttai_cli_r2 },
    { "state", "reset the local state", ttai_cli_state },
    { "tastytrade", "connect a TastyTrade account", ttai_cli_tastytrade },
    { "token", "mint a development JWT for /mcp", ttai_cli_token },
    { "users", "list the users who signed in, revoke one, let one trade",
      ttai_cli_users },
    { "vectorize", "create, fill and query vector indexes",
      ttai_cli_vectorize },
    { "workflows", "list, start, inspect and end workflow instances",
      ttai_cli_workflows },
    { NULL, NULL, NULL }
};


int
main(int argc, char **argv)
{
    int                        rc;
    const ttai_cli_command_t  *c;

    if (argc < 2) {
        ttai_cli_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        ttai_cli_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf(TTAI_NAME " " TTAI_VERSION "\n");
        return TTAI_EXIT_OK;
    }

    for (c = ttai_cli_commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            rc = c->run(argc - 1, argv + 1);
            curl_global_cleanup();
            return rc;
        }
    }

    fprintf(stderr, "ttai: unknown command \"%s\"; see: ttai --help\n",
            argv[1]);

    return TTAI_EXIT_USAGE;
}


static void
ttai_cli_usage(FILE *out)
{
    const ttai_cli_command_t  *c;

    fprintf(out,
            "Usage: ttai <command> [options]\n"
            "       ttai --help | --version\n"
            "\n"
            "ttai is the command line of the ttai MCP server: it inspects\n"
            "and changes the local state of a development server.  Run it\n"
            "from the repository root; \"ttai <command> --help\" tells more.\n"
            "\n");

    if (ttai_cli_commands[0].name != NULL) {
        fprintf(out, "Commands:\n");

        for (c = ttai_cli_commands; c->name != NULL; c++) {
            fprintf(out, "  %-10s %s\n", c->name, c->summary);
        }

        fprintf(out, "\n");
    }

    fprintf(out,
            "Options:\n"
            "  -h, --help     show this help\n"
            "  -V, --version  print the version\n"
            "\n"
            "Environment:\n"
            "  TTAI_DEV_URL   the dev server (default " TTAI_CLI_DEFAULT_URL
            ")\n"
            "\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n");
}
