
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_oauth_store.h"
#include "ttai_secrets.h"


/*
 * ttai tastytrade connect: stores a user's TastyTrade tokens, sealed
 * under TOKEN_ENCRYPTION_KEY, in the local database.  A personal-grant
 * refresh token is how every TastyTrade API client connects an account.
 */


#define TTAI_CLI_TOKEN_MAX  8192


typedef struct {
    const char  *user;
    const char  *email;
    const char  *refresh;
    const char  *access;
    const char  *scope;
    long         expires_in;
    const char  *db;
    const char  *env_file;
} ttai_cli_connect_t;


static int ttai_cli_tastytrade_connect(int argc, char **argv);
static int ttai_cli_token_key(const char *env_file,
    unsigned char key[TTAI_SECRET_KEY_LEN]);
static int ttai_cli_store_tokens(ttai_cli_connect_t *cc,
    const unsigned char key[TTAI_SECRET_KEY_LEN]);
static void ttai_cli_tastytrade_usage(FILE *out);


static const char  ttai_cli_tastytrade_help[] =
    "Usage: ttai tastytrade connect --user ID --refresh-token T [options]\n"
    "\n"
    "Connects a TastyTrade account: stores its tokens in the local\n"
    "database, encrypted under TOKEN_ENCRYPTION_KEY.  Running it again\n"
    "replaces them.\n"
    "\n"
    "  --user ID             the TastyTrade account id (users.id)\n"
    "  --refresh-token T     the refresh token of a personal grant\n"
    "  --refresh-token-env V the same, read from environment variable V\n"
    "                        (keeps it off command lines others can see)\n"
    "  --access-token A      an access token too (optional)\n"
    "  --expires-in S        seconds the access token lives (default 900)\n"
    "  --email E             the user's email, for a new user\n"
    "  --scope S             the granted scope (default \"read\")\n"
    "  --db PATH             default " TTAI_CLI_DB_PATH "\n"
    "  --env-file F          where TOKEN_ENCRYPTION_KEY is (default\n"
    "                        .dev.vars; the environment variable wins)\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";


int
ttai_cli_tastytrade(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0))
    {
        ttai_cli_tastytrade_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (argc < 2 || strcmp(argv[1], "connect") != 0) {
        ttai_cli_tastytrade_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    return ttai_cli_tastytrade_connect(argc - 1, argv + 1);
}


static int
ttai_cli_tastytrade_connect(int argc, char **argv)
{
    int                  c, rc;
    char                *end;
    unsigned char        key[TTAI_SECRET_KEY_LEN];
    ttai_cli_connect_t   cc;

    static struct option  opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "refresh-token", required_argument, NULL, 'r' },
        { "refresh-token-env", required_argument, NULL, 'R' },
        { "access-token", required_argument, NULL, 'a' },
        { "expires-in", required_argument, NULL, 'x' },
        { "email", required_argument, NULL, 'e' },
        { "scope", required_argument, NULL, 's' },
        { "db", required_argument, NULL, 'd' },
        { "env-file", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&cc, 0, sizeof(cc));
    cc.expires_in = 900;
    cc.scope = "read";
    cc.db = TTAI_CLI_DB_PATH;
    cc.env_file = ".dev.vars";
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            cc.user = optarg;
            break;
        case 'r':
            cc.refresh = optarg;
            break;
        case 'R':
            cc.refresh = getenv(optarg);
            if (cc.refresh == NULL) {
                fprintf(stderr, "ttai: the environment variable %s is not "
                        "set\n", optarg);
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'a':
            cc.access = optarg;
            break;
        case 'x':
            cc.expires_in = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || cc.expires_in < 1) {
                fprintf(stderr, "ttai: --expires-in takes a number of "
                        "seconds\n");
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'e':
            cc.email = optarg;
            break;
        case 's':
            cc.scope = optarg;
            break;
        case 'd':
            cc.db = optarg;
            break;
        case 'f':
            cc.env_file = optarg;
            break;
        case 'h':
            ttai_cli_tastytrade_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc || cc.user == NULL || cc.refresh == NULL
        || *cc.user == '\0' || *cc.refresh == '\0')
    {
        fprintf(stderr, "Usage: ttai tastytrade connect --user ID "
                "--refresh-token T [options]; see --help\n");
        return TTAI_EXIT_USAGE;
    }

    if (strlen(cc.refresh) > TTAI_CLI_TOKEN_MAX
        || (cc.access && strlen(cc.access) > TTAI_CLI_TOKEN_MAX))
    {
        fprintf(stderr, "ttai: tokens are limited to %d bytes\n",
                TTAI_CLI_TOKEN_MAX);
        return TTAI_EXIT_USAGE;
    }

    if (sodium_init() < 0) {
        fprintf(stderr, "ttai: libsodium could not be initialised\n");
        return TTAI_EXIT_FAIL;
    }

    if (ttai_cli_token_key(cc.env_file, key) != 0) {
        return TTAI_EXIT_FAIL;
    }

    rc = ttai_cli_store_tokens(&cc, key);

    sodium_memzero(key, sizeof(key));

    if (rc == 0) {
        printf("connected TastyTrade for user %s\n", cc.user);
    }

    return rc == 0 ? TTAI_EXIT_OK : TTAI_EXIT_FAIL;
}


/* the environment wins over the env file, as in nginx's "env" */

static int
ttai_cli_token_key(const char *env_file, unsigned char key[TTAI_SECRET_KEY_LEN])
{
    int     rc;
    char   *value;
    size_t  len;

    value = ttai_cli_secret("TOKEN_ENCRYPTION_KEY", env_file, &len);
    if (value == NULL) {
        return -1;
    }

    rc = ttai_secret_hex32(value, len, key);

    ttai_cli_secret_free(value, len);

    return rc;
}


static int
ttai_cli_store_tokens(ttai_cli_connect_t *cc,
    const unsigned char key[TTAI_SECRET_KEY_LEN])
{
    time_t                   now;
    json_t                  *batch, *results;
    sqlite3                 *db;
    ttai_d1_error_t          err;
    ttai_oauth_tt_tokens_t   t;

    if (access(cc->db, F_OK) != 0) {
        fprintf(stderr, "ttai: no database at %s; start scripts/dev.sh or "
                "run: ttai d1 migrations apply\n", cc->db);
        return -1;
    }

    if (ttai_d1_open_flags(&db, cc->db, 0, &err) != 0) {
        fprintf(stderr, "ttai: %s\n", err.msg);
        return -1;
    }

    now = time(NULL);

    memset(&t, 0, sizeof(ttai_oauth_tt_tokens_t));

    t.user = cc->user;
    t.email = cc->email;
    t.key = key;
    t.access = cc->access;
    t.access_len = cc->access ? strlen(cc->access) : 0;
    t.refresh = cc->refresh;
    t.refresh_len = strlen(cc->refresh);
    t.expires_at = cc->access ? (long long) now + cc->expires_in : 0;
    t.scope = cc->scope;

    /* the user (made when new) and the sealed tokens, or neither */
    batch = ttai_oauth_store_connect(&t, (long long) now);
    results = batch ? ttai_d1_batch(db, batch, NULL, &err) : NULL;

    json_decref(batch);
    ttai_d1_close(db);

    if (results == NULL) {
        fprintf(stderr, "ttai: storing the tokens failed: %s\n",
                batch ? err.msg : "out of memory");
        return -1;
    }

    json_decref(results);

    return 0;
}


static void
ttai_cli_tastytrade_usage(FILE *out)
{
    fputs(ttai_cli_tastytrade_help, out);
}
