
/*
 * Copyright (C) ttai contributors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_cli.h"


/*
 * ttai kv key list|get|put|delete: the KV store of a running dev server,
 * through its admin API, with the commands and options of
 * "wrangler kv key".
 */


#define TTAI_CLI_KV_KEYS    "/_ttai/kv/keys"
#define TTAI_CLI_KV_VALUES  "/_ttai/kv/values/"


typedef struct {
    const char   *name;         /* "--prefix" */
    const char  **value;
} ttai_cli_kv_opt_t;


typedef struct {
    const char   *name;
    const char   *summary;
    const char   *usage;
    int         (*run)(int argc, char **argv);
} ttai_cli_kv_verb_t;


static int ttai_cli_kv_key(int argc, char **argv);
static int ttai_cli_kv_list(int argc, char **argv);
static int ttai_cli_kv_get(int argc, char **argv);
static int ttai_cli_kv_put(int argc, char **argv);
static int ttai_cli_kv_delete(int argc, char **argv);
static int ttai_cli_kv_args(int argc, char **argv, ttai_cli_kv_opt_t *opts,
    char **pos, int min, int max);
static int ttai_cli_kv_number(const char *opt, const char *s, long max,
    long *n);
static int ttai_cli_kv_not_found(const char *key, ttai_cli_response_t *res);
static int ttai_cli_kv_value(const char *method, char *key, const char *what,
    ttai_cli_response_t *res);
static char *ttai_cli_kv_value_path(const char *key, const char *args);
static void ttai_cli_kv_usage(FILE *out);
static const ttai_cli_kv_verb_t *ttai_cli_kv_verb(const char *name);
static int ttai_cli_kv_help(const char *arg);


static const ttai_cli_kv_verb_t  ttai_cli_kv_verbs[] = {

    { "list", "list keys, in byte order",
      "Usage: ttai kv key list [--prefix PREFIX] [--limit N] [--cursor KEY]\n"
      "\n"
      "Prints the keys as a JSON array of {\"name\", \"expiration\",\n"
      "\"metadata\"}, at most N of them (1 to 1000, default 1000).  When\n"
      "more follow, the cursor to continue with is printed on stderr.\n"
      "\n"
      "Options:\n"
      "  --prefix PREFIX  only keys that start with PREFIX\n"
      "  --limit N        at most N keys\n"
      "  --cursor KEY     continue after KEY, the cursor of the last page\n",
      ttai_cli_kv_list },

    { "get", "print a value",
      "Usage: ttai kv key get KEY\n"
      "\n"
      "Writes the value to stdout exactly as stored, with no newline\n"
      "added.  A missing or expired key prints nothing and exits 1.\n",
      ttai_cli_kv_get },

    { "put", "store a value",
      "Usage: ttai kv key put KEY VALUE [--ttl SECONDS] [--metadata JSON]\n"
      "       ttai kv key put KEY --path FILE [--ttl SECONDS]"
      " [--metadata JSON]\n"
      "\n"
      "Options:\n"
      "  --path FILE      read the value from FILE, or stdin for \"-\"\n"
      "  --ttl SECONDS    expire the key after SECONDS (at least 1)\n"
      "  --metadata JSON  keep this JSON with the key (at most 1024 bytes)\n",
      ttai_cli_kv_put },

    { "delete", "delete a key",
      "Usage: ttai kv key delete KEY\n",
      ttai_cli_kv_delete },

    { NULL, NULL, NULL, NULL }
};


int
ttai_cli_kv(int argc, char **argv)
{
    if (argc < 2) {
        ttai_cli_kv_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (ttai_cli_kv_help(argv[1])) {
        ttai_cli_kv_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (strcmp(argv[1], "key") == 0) {
        return ttai_cli_kv_key(argc - 1, argv + 1);
    }

    fprintf(stderr, "ttai: unknown kv command \"%s\"; see: ttai kv --help\n",
            argv[1]);

    return TTAI_EXIT_USAGE;
}


static int
ttai_cli_kv_key(int argc, char **argv)
{
    int                        i;
    const ttai_cli_kv_verb_t  *v;

    if (argc < 2) {
        ttai_cli_kv_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (ttai_cli_kv_help(argv[1])) {
        ttai_cli_kv_usage(stdout);
        return TTAI_EXIT_OK;
    }

    v = ttai_cli_kv_verb(argv[1]);

    if (v == NULL) {
        fprintf(stderr, "ttai: unknown command \"kv key %s\"; "
                "see: ttai kv key --help\n", argv[1]);
        return TTAI_EXIT_USAGE;
    }

    /* --help anywhere before "--" wins; "help" may be a key here */
    for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(v->usage, stdout);
            return TTAI_EXIT_OK;
        }
    }

    return v->run(argc - 1, argv + 1);
}


static int
ttai_cli_kv_list(int argc, char **argv)
{
    int                   rc;
    long                  limit;
    char                 *path, *prefix, *cursor, *out;
    size_t                len;
    json_t               *root, *keys, *complete, *next;
    const char           *o_prefix, *o_limit, *o_cursor;
    json_error_t          err;
    ttai_cli_response_t   res;

    ttai_cli_kv_opt_t  opts[] = {
        { "--prefix", &o_prefix },
        { "--limit", &o_limit },
        { "--cursor", &o_cursor },
        { NULL, NULL }
    };

    o_prefix = NULL;
    o_limit = NULL;
    o_cursor = NULL;

    if (ttai_cli_kv_args(argc, argv, opts, NULL, 0, 0) != 0) {
        return TTAI_EXIT_USAGE;
    }

    limit = 0;

    if (o_limit != NULL
        && ttai_cli_kv_number("--limit", o_limit, 1000, &limit) != 0)
    {
        return TTAI_EXIT_USAGE;
    }

    prefix = ttai_cli_escape(o_prefix ? o_prefix : "",
                             o_prefix ? strlen(o_prefix) : 0);
    cursor = ttai_cli_escape(o_cursor ? o_cursor : "",
                             o_cursor ? strlen(o_cursor) : 0);

    len = sizeof(TTAI_CLI_KV_KEYS "?prefix=&limit=&cursor=") + 32
          + (prefix ? strlen(prefix) : 0) + (cursor ? strlen(cursor) : 0);

    path = malloc(len);

    if (prefix == NULL || cursor == NULL || path == NULL) {
        free(prefix);
        free(cursor);
        free(path);
        fprintf(stderr, "ttai: out of memory\n");
        return TTAI_EXIT_FAIL;
    }

    snprintf(path, len, TTAI_CLI_KV_KEYS "?prefix=%s&cursor=%s", prefix,
             cursor);

    if (limit) {
        snprintf(path + strlen(path), len - strlen(path), "&limit=%ld",
                 limit);
    }

    free(prefix);
    free(cursor);

    rc = ttai_cli_request("GET", path, NULL, NULL, 0, &res);
    free(path);

    if (rc != 0) {
        return TTAI_EXIT_FAIL;
    }

    if (res.status != 200) {
        rc = ttai_cli_server_error("listing keys", &res);
        ttai_cli_response_free(&res);
        return rc;
    }

    root = json_loadb(res.body, res.len, 0, &err);
    ttai_cli_response_free(&res);

    keys = root ? json_object_get(root, "keys") : NULL;

    if (!json_is_array(keys)) {
        fprintf(stderr, "ttai: listing keys: the server's answer is not a "
                "key list\n");
        json_decref(root);
        return TTAI_EXIT_FAIL;
    }

    out = json_dumps(keys, JSON_INDENT(2));

    if (out == NULL) {
        json_decref(root);
        fprintf(stderr, "ttai: out of memory\n");
        return TTAI_EXIT_FAIL;
    }

    printf("%s\n", out);
    free(out);

    complete = json_object_get(root, "list_complete");
    next = json_object_get(root, "cursor");

    if (json_is_false(complete) && json_is_string(next)) {
        fprintf(stderr, "ttai: more keys follow; continue with: "
                "--cursor %s\n", json_string_value(next));
    }

    json_decref(root);

    if (fflush(stdout) != 0) {
        fprintf(stderr, "ttai: writing the keys failed: %s\n",
                strerror(errno));
        return TTAI_EXIT_FAIL;
    }

    return TTAI_EXIT_OK;
}


static int
ttai_cli_kv_get(int argc, char **argv)
{
    int                   rc;
    char                 *key;
    ttai_cli_response_t   res;

    if (ttai_cli_kv_args(argc, argv, NULL, &key, 1, 1) != 0) {
        return TTAI_EXIT_USAGE;
    }

    rc = ttai_cli_kv_value("GET", key, "getting the key", &res);
    if (rc != TTAI_EXIT_OK) {
        return rc;
    }

    if (fwrite(res.body, 1, res.len, stdout) != res.len
        || fflush(stdout) != 0)
    {
        fprintf(stderr, "ttai: writing the value failed: %s\n",
                strerror(errno));
        rc = TTAI_EXIT_FAIL;
    }

    ttai_cli_response_free(&res);

    return rc;
}


static int
ttai_cli_kv_put(int argc, char **argv)
{
    int                   rc, n;
    long                  ttl;
    char                 *pos[2], *value, *meta, *compact, *path;
    char                  args[64 + 3 * 1024];
    size_t                len;
    json_t               *json;
    const char           *o_path, *o_ttl, *o_meta;
    json_error_t          err;
    ttai_cli_response_t   res;

    ttai_cli_kv_opt_t  opts[] = {
        { "--path", &o_path },
        { "--ttl", &o_ttl },
        { "--metadata", &o_meta },
        { NULL, NULL }
    };

    o_path = NULL;
    o_ttl = NULL;
    o_meta = NULL;

    if (ttai_cli_kv_args(argc, argv, opts, pos, 1, 2) != 0) {
        return TTAI_EXIT_USAGE;
    }

    n = (pos[1] != NULL) + (o_path != NULL);

    if (n != 1) {
        fprintf(stderr, "ttai: kv key put needs %s VALUE or --path FILE; "
                "see: ttai kv key put --help\n", n ? "either" : "a");
        return TTAI_EXIT_USAGE;
    }

    args[0] = '\0';

    if (o_ttl != NULL) {
        if (ttai_cli_kv_number("--ttl", o_ttl, 315360000, &ttl) != 0) {
            return TTAI_EXIT_USAGE;
        }

        snprintf(args, sizeof(args), "ttl=%ld", ttl);
    }

    if (o_meta != NULL) {
        json = json_loads(o_meta, JSON_DECODE_ANY, &err);

        if (json == NULL) {
            fprintf(stderr, "ttai: --metadata is not JSON: %s\n", err.text);
            return TTAI_EXIT_USAGE;
        }

        /* the server keeps it in this form, and counts its limit so */
        compact = json_dumps(json, JSON_COMPACT|JSON_ENCODE_ANY
                                   |JSON_ENSURE_ASCII);
        json_decref(json);

        if (compact == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            return TTAI_EXIT_FAIL;
        }

        if (strlen(compact) > 1024) {
            fprintf(stderr, "ttai: --metadata has %zu bytes as compact "
                    "JSON; the limit is 1024 bytes\n", strlen(compact));
            free(compact);
            return TTAI_EXIT_USAGE;
        }

        meta = ttai_cli_escape(compact, strlen(compact));
        free(compact);

        if (meta == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            return TTAI_EXIT_FAIL;
        }

        len = strlen(args);
        snprintf(args + len, sizeof(args) - len, "%smetadata=%s",
                 len ? "&" : "", meta);
        free(meta);
    }

    if (o_path != NULL) {
        value = ttai_cli_read_file(o_path, &len);

        if (value == NULL) {
            fprintf(stderr, "ttai: cannot read \"%s\": %s\n", o_path,
                    strerror(errno));
            return TTAI_EXIT_FAIL;
        }

    } else {
        value = pos[1];
        len = strlen(value);
    }

    path = ttai_cli_kv_value_path(pos[0], args);

    if (path == NULL) {
        rc = TTAI_EXIT_FAIL;
        goto done;
    }

    rc = ttai_cli_request("PUT", path, "application/octet-stream", value,
                          len, &res);
    free(path);

    if (rc != 0) {
        rc = TTAI_EXIT_FAIL;
        goto done;
    }

    if (res.status != 200) {
        rc = ttai_cli_server_error("storing the key", &res);

    } else {
        printf("Wrote %zu bytes to key \"%s\".\n", len, pos[0]);
        rc = TTAI_EXIT_OK;
    }

    ttai_cli_response_free(&res);

done:

    if (o_path != NULL) {
        free(value);
    }

    return rc;
}


static int
ttai_cli_kv_delete(int argc, char **argv)
{
    int                   rc;
    char                 *key;
    ttai_cli_response_t   res;

    if (ttai_cli_kv_args(argc, argv, NULL, &key, 1, 1) != 0) {
        return TTAI_EXIT_USAGE;
    }

    rc = ttai_cli_kv_value("DELETE", key, "deleting the key", &res);
    if (rc != TTAI_EXIT_OK) {
        return rc;
    }

    ttai_cli_response_free(&res);

    printf("Deleted key \"%s\".\n", key);

    return TTAI_EXIT_OK;
}


/*
 * One request on a key's value: TTAI_EXIT_OK with the 200 answer in
 * *res, or the exit status after saying what went wrong (a missing key,
 * a server error, no server).
 */

static int
ttai_cli_kv_value(const char *method, char *key, const char *what,
    ttai_cli_response_t *res)
{
    int    rc;
    char  *path;

    path = ttai_cli_kv_value_path(key, NULL);
    if (path == NULL) {
        return TTAI_EXIT_FAIL;
    }

    rc = ttai_cli_request(method, path, NULL, NULL, 0, res);
    free(path);

    if (rc != 0) {
        return TTAI_EXIT_FAIL;
    }

    if (res->status == 404 && strstr(res->body, "\"not_found\"") != NULL) {
        return ttai_cli_kv_not_found(key, res);
    }

    if (res->status != 200) {
        rc = ttai_cli_server_error(what, res);
        ttai_cli_response_free(res);
        return rc;
    }

    return TTAI_EXIT_OK;
}


/*
 * Options as "--name value" or "--name=value", anywhere; "--" ends them.
 * Positional arguments go to pos[], which gets max entries (NULL when
 * not given).  Returns 0, or -1 after printing a usage error.
 */

static int
ttai_cli_kv_args(int argc, char **argv, ttai_cli_kv_opt_t *opts,
    char **pos, int min, int max)
{
    int                 i, n, options;
    char               *arg, *eq;
    size_t              len;
    ttai_cli_kv_opt_t  *o;

    for (n = 0; n < max; n++) {
        pos[n] = NULL;
    }

    n = 0;
    options = 1;

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (options && strcmp(arg, "--") == 0) {
            options = 0;
            continue;
        }

        if (!options || arg[0] != '-' || arg[1] == '\0') {
            if (n == max) {
                fprintf(stderr, "ttai: kv key %s: unexpected argument "
                        "\"%s\"; see: ttai kv key %s --help\n", argv[0], arg,
                        argv[0]);
                return -1;
            }

            pos[n++] = arg;
            continue;
        }

        eq = strchr(arg, '=');
        len = eq ? (size_t) (eq - arg) : strlen(arg);

        for (o = opts; o != NULL && o->name != NULL; o++) {
            if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0) {
                break;
            }
        }

        if (o == NULL || o->name == NULL) {
            fprintf(stderr, "ttai: kv key %s: unknown option \"%.*s\"; "
                    "see: ttai kv key %s --help\n", argv[0], (int) len, arg,
                    argv[0]);
            return -1;
        }

        if (eq != NULL) {
            *o->value = eq + 1;

        } else if (i + 1 < argc) {
            *o->value = argv[++i];

        } else {
            fprintf(stderr, "ttai: kv key %s: %s needs a value\n", argv[0],
                    o->name);
            return -1;
        }
    }

    if (n < min) {
        fprintf(stderr, "ttai: kv key %s: missing KEY; see: ttai kv key %s "
                "--help\n", argv[0], argv[0]);
        return -1;
    }

    return 0;
}


static int
ttai_cli_kv_number(const char *opt, const char *s, long max, long *n)
{
    char  *end;

    errno = 0;
    *n = strtol(s, &end, 10);

    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0
        || *n < 1 || *n > max)
    {
        fprintf(stderr, "ttai: %s must be a whole number from 1 to %ld, "
                "not \"%s\"\n", opt, max, s);
        return -1;
    }

    return 0;
}


static int
ttai_cli_kv_not_found(const char *key, ttai_cli_response_t *res)
{
    ttai_cli_response_free(res);

    fprintf(stderr, "ttai: key \"%s\" not found\n", key);

    return TTAI_EXIT_FAIL;
}


/* /_ttai/kv/values/<escaped key>[?args]; free() it */

static char *
ttai_cli_kv_value_path(const char *key, const char *args)
{
    char    *esc, *path;
    size_t   len;

    esc = ttai_cli_escape(key, strlen(key));
    if (esc == NULL) {
        fprintf(stderr, "ttai: out of memory\n");
        return NULL;
    }

    len = sizeof(TTAI_CLI_KV_VALUES) + strlen(esc) + 1
          + (args ? strlen(args) : 0);

    path = malloc(len);

    if (path == NULL) {
        fprintf(stderr, "ttai: out of memory\n");

    } else {
        snprintf(path, len, TTAI_CLI_KV_VALUES "%s%s%s", esc,
                 (args && *args) ? "?" : "", (args && *args) ? args : "");
    }

    free(esc);

    return path;
}


static void
ttai_cli_kv_usage(FILE *out)
{
    const ttai_cli_kv_verb_t  *v;

    fprintf(out,
            "Usage: ttai kv key <command> [options]\n"
            "\n"
            "The KV store of the running dev server (scripts/dev.sh), as\n"
            "\"wrangler kv key\" does it for Workers KV.\n"
            "\n"
            "Commands:\n");

    for (v = ttai_cli_kv_verbs; v->name != NULL; v++) {
        fprintf(out, "  ttai kv key %-7s %s\n", v->name, v->summary);
    }

    fprintf(out,
            "\n"
            "\"ttai kv key <command> --help\" shows the options of one.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n");
}


static const ttai_cli_kv_verb_t *
ttai_cli_kv_verb(const char *name)
{
    const ttai_cli_kv_verb_t  *v;

    for (v = ttai_cli_kv_verbs; v->name != NULL; v++) {
        if (strcmp(v->name, name) == 0) {
            return v;
        }
    }

    return NULL;
}


static int
ttai_cli_kv_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0
           || strcmp(arg, "help") == 0;
}
