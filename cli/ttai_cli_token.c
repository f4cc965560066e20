
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttai_cli.h"
#include "ttai_jwt.h"


/*
 * ttai token: a development JWT for /mcp, as the seed's jose one-liner
 * made it: HS256 under the bytes of JWT_SECRET, with sub, email, iat and
 * exp.  Only the token is printed, so that it can be used as
 *
 *     curl -H "Authorization: Bearer $(build/ttai token)" ...
 */


#define TTAI_CLI_TTL_MAX  (365L * 86400)


static long ttai_cli_token_ttl(const char *s);
static void ttai_cli_token_usage(FILE *out);


static const char  ttai_cli_token_help[] =
    "Usage: ttai token [options]\n"
    "\n"
    "Mints a development JWT for /mcp, signed (HS256) with JWT_SECRET,\n"
    "and prints it alone on one line:\n"
    "\n"
    "  curl -H \"Authorization: Bearer $(build/ttai token)\" ...\n"
    "\n"
    "  --sub ID        the subject: the TastyTrade account id\n"
    "                  (default tt-account-123)\n"
    "  --email E       the email claim (default test@example.com;\n"
    "                  \"\" for none)\n"
    "  --ttl T         how long it is valid: 3600, 90s, 30m, 24h or 7d\n"
    "                  (default 24h, at most 365d)\n"
    "  --iss URL       an iss claim (default none)\n"
    "  --aud URL       an aud claim (default none)\n"
    "  --env-file F    where JWT_SECRET is (default .dev.vars; the\n"
    "                  environment variable wins)\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";


int
ttai_cli_token(int argc, char **argv)
{
    int          c;
    long         ttl;
    char        *secret, *token;
    size_t       len;
    const char  *sub, *email, *iss, *aud, *env_file;

    static struct option  opts[] = {
        { "sub", required_argument, NULL, 's' },
        { "email", required_argument, NULL, 'e' },
        { "ttl", required_argument, NULL, 't' },
        { "iss", required_argument, NULL, 'i' },
        { "aud", required_argument, NULL, 'a' },
        { "env-file", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    sub = "tt-account-123";
    email = "test@example.com";
    iss = NULL;
    aud = NULL;
    ttl = 86400;
    env_file = ".dev.vars";
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sub = optarg;
            break;
        case 'e':
            email = optarg;
            break;
        case 't':
            ttl = ttai_cli_token_ttl(optarg);
            if (ttl <= 0) {
                fprintf(stderr, "ttai: --ttl takes seconds, or a number "
                        "with s, m, h or d (e.g. 90s, 30m, 24h, 7d), up "
                        "to 365d\n");
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'i':
            iss = optarg;
            break;
        case 'a':
            aud = optarg;
            break;
        case 'f':
            env_file = optarg;
            break;
        case 'h':
            ttai_cli_token_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            fprintf(stderr, "Usage: ttai token [options]; see --help\n");
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc) {
        fprintf(stderr, "ttai: unexpected argument \"%s\"; "
                "see: ttai token --help\n", argv[optind]);
        return TTAI_EXIT_USAGE;
    }

    /* the server refuses what it could not verify: say so here */
    if (*sub == '\0' || strlen(sub) > TTAI_JWT_MAX_CLAIM
        || strlen(email) > TTAI_JWT_MAX_CLAIM)
    {
        fprintf(stderr, "ttai: --sub must be 1 to %d bytes, and --email at "
                "most %d\n", TTAI_JWT_MAX_CLAIM, TTAI_JWT_MAX_CLAIM);
        return TTAI_EXIT_USAGE;
    }

    if ((iss != NULL && *iss == '\0') || (aud != NULL && *aud == '\0')) {
        fprintf(stderr, "ttai: --iss and --aud must not be empty\n");
        return TTAI_EXIT_USAGE;
    }

    secret = ttai_cli_secret("JWT_SECRET", env_file, &len);
    if (secret == NULL) {
        return TTAI_EXIT_FAIL;
    }

    /* the key is the secret's characters, as jose's TextEncoder has it */
    token = ttai_jwt_mint((const unsigned char *) secret, len, sub,
                          *email ? email : NULL, iss, aud, NULL, NULL, ttl,
                          time(NULL));

    ttai_cli_secret_free(secret, len);

    if (token == NULL) {
        fprintf(stderr, "ttai: the token could not be made\n");
        return TTAI_EXIT_FAIL;
    }

    printf("%s\n", token);
    free(token);

    return TTAI_EXIT_OK;
}


/* seconds, or a number followed by s, m, h or d; 0 when not valid */

static long
ttai_cli_token_ttl(const char *s)
{
    long   n, unit;
    char  *end;

    if (*s < '0' || *s > '9') {
        return 0;
    }

    n = strtol(s, &end, 10);

    switch (*end) {
    case '\0':
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return 0;
    }

    if (*end != '\0' && end[1] != '\0') {
        return 0;
    }

    if (n <= 0 || n > TTAI_CLI_TTL_MAX / unit) {
        return 0;
    }

    return n * unit;
}


static void
ttai_cli_token_usage(FILE *out)
{
    fputs(ttai_cli_token_help, out);
}
