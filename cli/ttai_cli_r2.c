
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


/* ttai r2 object put|get|list|delete, through the admin API */


static int ttai_cli_r2_put(int argc, char **argv);
static int ttai_cli_r2_get(int argc, char **argv);
static int ttai_cli_r2_list(int argc, char **argv);
static int ttai_cli_r2_delete(int argc, char **argv);
static char *ttai_cli_r2_object_path(const char *arg);
static const char *ttai_cli_r2_guess_type(const char *file);
static void ttai_cli_r2_usage(FILE *out);


static const char  ttai_cli_r2_help[] =
    "Usage: ttai r2 object <verb> [options]\n"
    "\n"
    "Objects of the local R2 buckets (.ttai/state/r2/<bucket>/), through\n"
    "the running dev server.\n"
    "\n"
    "  put BUCKET/KEY --file F [--content-type T]\n"
    "                     upload a file (\"-\" for standard input); the\n"
    "                     type is guessed from the file name if not given\n"
    "  get BUCKET/KEY [--file F]\n"
    "                     the object to standard output, or to a file\n"
    "  list BUCKET [--prefix P] [--limit N] [--json]\n"
    "                     the objects, with size, etag and upload time\n"
    "  delete BUCKET/KEY  delete an object\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";


int
ttai_cli_r2(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0))
    {
        ttai_cli_r2_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (argc < 3 || strcmp(argv[1], "object") != 0) {
        if (argc >= 3 && (strcmp(argv[2], "--help") == 0
                          || strcmp(argv[2], "-h") == 0))
        {
            ttai_cli_r2_usage(stdout);
            return TTAI_EXIT_OK;
        }

        ttai_cli_r2_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    argc -= 2;
    argv += 2;

    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        ttai_cli_r2_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (strcmp(argv[0], "put") == 0) {
        return ttai_cli_r2_put(argc, argv);
    }

    if (strcmp(argv[0], "get") == 0) {
        return ttai_cli_r2_get(argc, argv);
    }

    if (strcmp(argv[0], "list") == 0) {
        return ttai_cli_r2_list(argc, argv);
    }

    if (strcmp(argv[0], "delete") == 0) {
        return ttai_cli_r2_delete(argc, argv);
    }

    fprintf(stderr, "ttai: unknown r2 verb \"%s\"; see: ttai r2 --help\n",
            argv[0]);

    return TTAI_EXIT_USAGE;
}


static int
ttai_cli_r2_put(int argc, char **argv)
{
    int                   c, rc;
    char                 *path, *data;
    size_t                len;
    const char           *file, *type;
    ttai_cli_response_t   res;

    static struct option  opts[] = {
        { "file", required_argument, NULL, 'f' },
        { "content-type", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    type = NULL;
    optind = 1;

    while ((c = getopt_long(argc, argv, "f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'h':
            ttai_cli_r2_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc - 1 || file == NULL) {
        fprintf(stderr, "Usage: ttai r2 object put BUCKET/KEY --file F "
                "[--content-type T]\n");
        return TTAI_EXIT_USAGE;
    }

    path = ttai_cli_r2_object_path(argv[optind]);
    if (path == NULL) {
        return TTAI_EXIT_USAGE;
    }

    data = ttai_cli_read_file(file, &len);
    if (data == NULL) {
        fprintf(stderr, "ttai: cannot read \"%s\"\n", file);
        free(path);
        return TTAI_EXIT_FAIL;
    }

    if (type == NULL) {
        type = ttai_cli_r2_guess_type(file);
    }

    rc = TTAI_EXIT_FAIL;

    if (ttai_cli_request("PUT", path, type, data, len, &res) == 0) {
        if (res.status == 200) {
            printf("%s\n", res.body);
            rc = TTAI_EXIT_OK;

        } else {
            rc = ttai_cli_server_error("put", &res);
        }

        ttai_cli_response_free(&res);
    }

    free(data);
    free(path);

    return rc;
}


static int
ttai_cli_r2_get(int argc, char **argv)
{
    int                   c, rc;
    char                 *path;
    FILE                 *out;
    const char           *file;
    ttai_cli_response_t   res;

    static struct option  opts[] = {
        { "file", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    optind = 1;

    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 'h':
            ttai_cli_r2_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc - 1) {
        fprintf(stderr, "Usage: ttai r2 object get BUCKET/KEY [--file F]\n");
        return TTAI_EXIT_USAGE;
    }

    path = ttai_cli_r2_object_path(argv[optind]);
    if (path == NULL) {
        return TTAI_EXIT_USAGE;
    }

    rc = TTAI_EXIT_FAIL;

    if (ttai_cli_request("GET", path, NULL, NULL, 0, &res) == 0) {
        if (res.status == 404) {
            fprintf(stderr, "ttai: object \"%s\" not found\n", argv[optind]);

        } else if (res.status != 200) {
            ttai_cli_server_error("get", &res);

        } else {
            out = (file != NULL) ? fopen(file, "wb") : stdout;

            if (out == NULL) {
                fprintf(stderr, "ttai: cannot write \"%s\"\n", file);

            } else {
                if (fwrite(res.body, 1, res.len, out) == res.len
                    && fflush(out) == 0)
                {
                    rc = TTAI_EXIT_OK;
                }

                if (out != stdout && fclose(out) != 0) {
                    rc = TTAI_EXIT_FAIL;
                }
            }
        }

        ttai_cli_response_free(&res);
    }

    free(path);

    return rc;
}


static int
ttai_cli_r2_list(int argc, char **argv)
{
    int                   c, rc, as_json;
    char                 *bucket, *path, *prefix, when[32];
    size_t                i, n;
    json_t               *root, *objects, *o;
    time_t                uploaded;
    const char           *pfx, *limit;
    ttai_cli_response_t   res;

    static struct option  opts[] = {
        { "prefix", required_argument, NULL, 'p' },
        { "limit", required_argument, NULL, 'l' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    pfx = "";
    limit = NULL;
    as_json = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "p:l:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            pfx = optarg;
            break;
        case 'l':
            limit = optarg;
            if (strspn(limit, "0123456789") != strlen(limit)
                || atoi(limit) < 1 || atoi(limit) > 1000)
            {
                fprintf(stderr, "ttai: --limit takes a number from 1 to "
                        "1000\n");
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'j':
            as_json = 1;
            break;
        case 'h':
            ttai_cli_r2_usage(stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    if (optind != argc - 1 || strchr(argv[optind], '/') != NULL) {
        fprintf(stderr, "Usage: ttai r2 object list BUCKET [--prefix P] "
                "[--limit N] [--json]\n");
        return TTAI_EXIT_USAGE;
    }

    bucket = ttai_cli_escape(argv[optind], strlen(argv[optind]));
    prefix = ttai_cli_escape(pfx, strlen(pfx));
    path = malloc(64 + strlen(bucket ? bucket : "")
                  + strlen(prefix ? prefix : ""));

    if (bucket == NULL || prefix == NULL || path == NULL) {
        free(bucket);
        free(prefix);
        free(path);
        return TTAI_EXIT_FAIL;
    }

    sprintf(path, "/_ttai/r2/%s?prefix=%s%s%s", bucket, prefix,
            limit ? "&limit=" : "", limit ? limit : "");

    free(bucket);
    free(prefix);

    rc = TTAI_EXIT_FAIL;

    if (ttai_cli_request("GET", path, NULL, NULL, 0, &res) != 0) {
        free(path);
        return rc;
    }

    free(path);

    if (res.status != 200) {
        rc = ttai_cli_server_error("list", &res);
        ttai_cli_response_free(&res);
        return rc;
    }

    if (as_json) {
        printf("%s\n", res.body);
        ttai_cli_response_free(&res);
        return TTAI_EXIT_OK;
    }

    root = json_loads(res.body, 0, NULL);
    objects = json_object_get(root, "objects");

    if (!json_is_array(objects)) {
        fprintf(stderr, "ttai: the server's answer is not a listing\n");
        json_decref(root);
        ttai_cli_response_free(&res);
        return TTAI_EXIT_FAIL;
    }

    n = json_array_size(objects);

    printf("%-40s %12s  %-20s  %s\n", "key", "size", "uploaded", "etag");

    for (i = 0; i < n; i++) {
        o = json_array_get(objects, i);
        uploaded = (time_t) json_integer_value(json_object_get(o,
                                                               "uploaded"));
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime(&uploaded));

        printf("%-40s %12lld  %-20s  %s\n",
               json_string_value(json_object_get(o, "key")),
               (long long) json_integer_value(json_object_get(o, "size")),
               when, json_string_value(json_object_get(o, "etag")));
    }

    if (json_is_true(json_object_get(root, "truncated"))) {
        fprintf(stderr, "ttai: more objects follow; narrow with --prefix\n");
    }

    json_decref(root);
    ttai_cli_response_free(&res);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_r2_delete(int argc, char **argv)
{
    int                   rc;
    char                 *path;
    ttai_cli_response_t   res;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0))
    {
        ttai_cli_r2_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "Usage: ttai r2 object delete BUCKET/KEY\n");
        return TTAI_EXIT_USAGE;
    }

    path = ttai_cli_r2_object_path(argv[1]);
    if (path == NULL) {
        return TTAI_EXIT_USAGE;
    }

    rc = TTAI_EXIT_FAIL;

    if (ttai_cli_request("DELETE", path, NULL, NULL, 0, &res) == 0) {
        if (res.status == 200) {
            rc = TTAI_EXIT_OK;

        } else if (res.status == 404) {
            fprintf(stderr, "ttai: object \"%s\" not found\n", argv[1]);

        } else {
            rc = ttai_cli_server_error("delete", &res);
        }

        ttai_cli_response_free(&res);
    }

    free(path);

    return rc;
}


/* "bucket/some/key" → "/_ttai/r2/bucket/some%2Fkey" */

static char *
ttai_cli_r2_object_path(const char *arg)
{
    char        *bucket, *key, *path;
    const char  *slash;

    slash = strchr(arg, '/');

    if (slash == NULL || slash == arg || slash[1] == '\0') {
        fprintf(stderr, "ttai: \"%s\" is not BUCKET/KEY\n", arg);
        return NULL;
    }

    bucket = ttai_cli_escape(arg, slash - arg);
    key = ttai_cli_escape(slash + 1, strlen(slash + 1));
    path = NULL;

    if (bucket != NULL && key != NULL) {
        path = malloc(sizeof("/_ttai/r2//") + strlen(bucket) + strlen(key));
        if (path != NULL) {
            sprintf(path, "/_ttai/r2/%s/%s", bucket, key);
        }
    }

    free(bucket);
    free(key);

    return path;
}


static const char *
ttai_cli_r2_guess_type(const char *file)
{
    size_t       i, n, len;

    static const char  *types[][2] = {
        { ".json", "application/json" },
        { ".txt", "text/plain" },
        { ".csv", "text/csv" },
        { ".html", "text/html" },
        { ".md", "text/markdown" },
        { ".pdf", "application/pdf" },
        { ".png", "image/png" },
        { ".jpg", "image/jpeg" },
        { ".svg", "image/svg+xml" },
    };

    len = strlen(file);

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        n = strlen(types[i][0]);

        if (len > n && strcmp(file + len - n, types[i][0]) == 0) {
            return types[i][1];
        }
    }

    return "application/octet-stream";
}


static void
ttai_cli_r2_usage(FILE *out)
{
    fputs(ttai_cli_r2_help, out);
}
