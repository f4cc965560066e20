
/*
 * Copyright (C) ttai contributors
 */


#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ttai_cli.h"


/*
 * ttai state reset: the seed's "reset local state".  Each store is a
 * folder under .ttai/state/; resetting one empties its folder and keeps
 * the folder itself, which nginx owns.
 */


#define TTAI_CLI_STORE_D1   0x01
#define TTAI_CLI_STORE_KV   0x02
#define TTAI_CLI_STORE_R2   0x04
#define TTAI_CLI_STORE_DO   0x08
#define TTAI_CLI_STORE_ALL  0x0f


static int ttai_cli_state_empty(const char *dir);
static int ttai_cli_state_remove(const char *path, const struct stat *st,
    int flag, struct FTW *ftw);
static int ttai_cli_state_flush_kv(void);
static void ttai_cli_state_usage(FILE *out);


static const char  ttai_cli_state_help[] =
    "Usage: ttai state reset [--d1] [--kv] [--r2] [--do] [--all]\n"
    "\n"
    "Empties the local state of the named stores in .ttai/state/ (run it\n"
    "from the repository root):\n"
    "\n"
    "  --d1    the SQLite database; migrations apply again when the dev\n"
    "          server restarts, or with: ttai d1 migrations apply\n"
    "  --kv    the KV snapshot, and the keys of a running dev server\n"
    "  --r2    every R2 bucket\n"
    "  --do    the durable objects (MCP sessions)\n"
    "  --all   all of them\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";


int
ttai_cli_state(int argc, char **argv)
{
    int          c, rc;
    char         dir[256];
    unsigned     stores, i;

    static const char  *names[] = { "d1", "kv", "r2", "do" };

    static struct option  opts[] = {
        { "d1", no_argument, NULL, '1' },
        { "kv", no_argument, NULL, 'k' },
        { "r2", no_argument, NULL, 'r' },
        { "do", no_argument, NULL, 'o' },
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0))
    {
        ttai_cli_state_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (argc < 2 || strcmp(argv[1], "reset") != 0) {
        ttai_cli_state_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    argc--;
    argv++;

    stores = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case '1':
            stores |= TTAI_CLI_STORE_D1;
            break;
        case 'k':
            stores |= TTAI_CLI_STORE_KV;
            break;
        case 'r':
            stores |= TTAI_CLI_STORE_R2;
            break;
        case 'o':
            stores |= TTAI_CLI_STORE_DO;
            break;
        case 'a':
            stores |= TTAI_CLI_STORE_ALL;
            break;
        case 'h':
            ttai_cli_state_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc || stores == 0) {
        fprintf(stderr, "ttai: name what to reset: --d1, --kv, --r2, --do "
                "or --all\n");
        return TTAI_EXIT_USAGE;
    }

    if (access(TTAI_CLI_STATE_DIR, F_OK) != 0) {
        fprintf(stderr, "ttai: no %s here; run ttai from the repository "
                "root\n", TTAI_CLI_STATE_DIR);
        return TTAI_EXIT_FAIL;
    }

    rc = TTAI_EXIT_OK;

    for (i = 0; i < 4; i++) {
        if (!(stores & (1u << i))) {
            continue;
        }

        snprintf(dir, sizeof(dir), "%s/%s", TTAI_CLI_STATE_DIR, names[i]);

        if (ttai_cli_state_empty(dir) != 0) {
            fprintf(stderr, "ttai: cannot empty %s: %s\n", dir,
                    strerror(errno));
            rc = TTAI_EXIT_FAIL;
            continue;
        }

        if ((1u << i) == TTAI_CLI_STORE_KV && ttai_cli_state_flush_kv() != 0)
        {
            rc = TTAI_EXIT_FAIL;
            continue;
        }

        printf("reset %s\n", dir);
    }

    if ((stores & TTAI_CLI_STORE_D1) && rc == TTAI_EXIT_OK) {
        printf("restart scripts/dev.sh, or run: ttai d1 migrations apply\n");
    }

    return rc;
}


static int
ttai_cli_state_empty(const char *dir)
{
    struct stat  st;

    if (lstat(dir, &st) != 0) {
        return (errno == ENOENT) ? 0 : -1;
    }

    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }

    /* FTW_PHYS: a symlink inside is removed, never followed */
    return nftw(dir, ttai_cli_state_remove, 16, FTW_DEPTH | FTW_PHYS);
}


static int
ttai_cli_state_remove(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
    if (ftw->level == 0) {
        return 0;
    }

    return remove(path);
}


/* a running dev server holds KV in memory: empty it there too */

static int
ttai_cli_state_flush_kv(void)
{
    int                   rc;
    ttai_cli_response_t   res;

    ttai_cli_quiet(1);
    rc = ttai_cli_request("DELETE", "/_ttai/kv/keys", NULL, NULL, 0, &res);
    ttai_cli_quiet(0);

    if (rc != 0) {
        /* a stopped server holds nothing in memory */
        return 0;
    }

    rc = 0;

    if (res.status != 200) {
        ttai_cli_server_error("emptying the dev server's KV", &res);
        rc = -1;
    }

    ttai_cli_response_free(&res);

    return rc;
}


static void
ttai_cli_state_usage(FILE *out)
{
    fputs(ttai_cli_state_help, out);
}
