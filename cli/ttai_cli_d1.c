
/*
 * Copyright (C) ttai contributors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <jansson.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_migrate.h"


/*
 * ttai d1: the local SQLite database, opened directly as "wrangler d1
 * ... --local" does, so no server needs to run.  WAL and the busy
 * timeout let it work next to a running nginx.
 */


/* the options a verb takes */
#define TTAI_D1_OPT_DB          0x01
#define TTAI_D1_OPT_MIGRATIONS  0x02
#define TTAI_D1_OPT_SQL         0x04
#define TTAI_D1_OPT_JSON        0x08

#define TTAI_D1_MAX_ARGS        4

/* wide cells are cut in the readable table, never in --json */
#define TTAI_D1_CELL_MAX        60


typedef struct {
    const char   *db;
    const char   *migrations;
    const char   *command;
    const char   *file;
    int           json;
    int           help;
    int           nargs;
    const char   *args[TTAI_D1_MAX_ARGS];
} ttai_cli_d1_opts_t;


static int ttai_cli_d1_parse(int argc, char **argv, unsigned allowed,
    ttai_cli_d1_opts_t *o, void (*usage)(FILE *out));
static int ttai_cli_d1_database(ttai_cli_d1_opts_t *o, int first,
    void (*usage)(FILE *out));
static sqlite3 *ttai_cli_d1_open(ttai_cli_d1_opts_t *o);
static int ttai_cli_d1_execute(int argc, char **argv);
static int ttai_cli_d1_migrations(int argc, char **argv);
static int ttai_cli_d1_list(ttai_cli_d1_opts_t *o);
static int ttai_cli_d1_apply(ttai_cli_d1_opts_t *o);
static int ttai_cli_d1_create(ttai_cli_d1_opts_t *o, const char *name);
static int ttai_cli_d1_folder(ttai_cli_d1_opts_t *o);
static void ttai_cli_d1_applied(const char *name, void *data);
static void ttai_cli_d1_print(json_t *result);
static char *ttai_cli_d1_cell(json_t *v);
static size_t ttai_cli_d1_width(const char *s);
static void ttai_cli_d1_pad(const char *s, size_t width, int last);
static void ttai_cli_d1_usage(FILE *out);
static void ttai_cli_d1_execute_usage(FILE *out);
static void ttai_cli_d1_migrations_usage(FILE *out);


int
ttai_cli_d1(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "ttai: d1 needs a verb: execute or migrations\n");
        ttai_cli_d1_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        ttai_cli_d1_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (strcmp(argv[1], "execute") == 0) {
        return ttai_cli_d1_execute(argc - 1, argv + 1);
    }

    if (strcmp(argv[1], "migrations") == 0) {
        return ttai_cli_d1_migrations(argc - 1, argv + 1);
    }

    fprintf(stderr, "ttai: unknown d1 verb \"%s\"; see: ttai d1 --help\n",
            argv[1]);

    return TTAI_EXIT_USAGE;
}


/*
 * --name VALUE and --name=VALUE.  wrangler's --local is accepted (this is
 * always the local database), and so is its database name, "ttai", as a
 * positional argument: the seed's commands work as they are written.
 */

static int
ttai_cli_d1_parse(int argc, char **argv, unsigned allowed,
    ttai_cli_d1_opts_t *o, void (*usage)(FILE *out))
{
    int           i;
    size_t        n;
    unsigned      opt;
    const char   *arg, *eq, *value, **dst;

    memset(o, 0, sizeof(ttai_cli_d1_opts_t));

    o->db = TTAI_CLI_DB_PATH;
    o->migrations = TTAI_CLI_MIGRATIONS;

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            o->help = 1;
            continue;
        }

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (arg[0] == '-' && arg[1] != '\0') {
                goto unknown;
            }

            if (o->nargs == TTAI_D1_MAX_ARGS) {
                fprintf(stderr, "ttai: too many arguments\n");
                goto failed;
            }

            o->args[o->nargs++] = arg;
            continue;
        }

        if (strcmp(arg, "--local") == 0) {
            continue;
        }

        if (strcmp(arg, "--remote") == 0) {
            fprintf(stderr, "ttai: there is no remote database: ttai d1 "
                            "works on the local file\n");
            goto failed;
        }

        if (strcmp(arg, "--json") == 0) {
            opt = TTAI_D1_OPT_JSON;
            o->json = 1;
            goto check;
        }

        eq = strchr(arg, '=');
        n = eq ? (size_t) (eq - arg) : strlen(arg);

        if (n == 4 && strncmp(arg, "--db", n) == 0) {
            opt = TTAI_D1_OPT_DB;
            dst = &o->db;

        } else if (n == 12 && strncmp(arg, "--migrations", n) == 0) {
            opt = TTAI_D1_OPT_MIGRATIONS;
            dst = &o->migrations;

        } else if (n == 9 && strncmp(arg, "--command", n) == 0) {
            opt = TTAI_D1_OPT_SQL;
            dst = &o->command;

        } else if (n == 6 && strncmp(arg, "--file", n) == 0) {
            opt = TTAI_D1_OPT_SQL;
            dst = &o->file;

        } else {
            goto unknown;
        }

        if (eq != NULL) {
            value = eq + 1;

        } else if (i + 1 < argc) {
            value = argv[++i];

        } else {
            fprintf(stderr, "ttai: %s needs a value\n", arg);
            goto failed;
        }

        *dst = value;

    check:

        if (!(allowed & opt)) {
            goto unknown;
        }
    }

    return 0;

unknown:

    fprintf(stderr, "ttai: unknown option \"%s\"\n", arg);

failed:

    usage(stderr);

    return -1;
}


/* the positional database name, if given, from args[first] on */

static int
ttai_cli_d1_database(ttai_cli_d1_opts_t *o, int first,
    void (*usage)(FILE *out))
{
    if (o->nargs > first && strcmp(o->args[first], "ttai") != 0) {
        fprintf(stderr, "ttai: unknown database \"%s\": the one local "
                        "database is \"ttai\"\n", o->args[first]);
        usage(stderr);
        return -1;
    }

    return 0;
}


static sqlite3 *
ttai_cli_d1_open(ttai_cli_d1_opts_t *o)
{
    sqlite3          *db;
    ttai_d1_error_t   err;

    if (ttai_d1_make_dir(o->db, &err) != 0
        || ttai_d1_open(&db, o->db, &err) != 0)
    {
        fprintf(stderr, "ttai: %s\n", err.msg);
        return NULL;
    }

    return db;
}


static int
ttai_cli_d1_execute(int argc, char **argv)
{
    int               rc;
    char             *sql, *out;
    size_t            len, i;
    json_t           *results;
    sqlite3          *db;
    ttai_d1_error_t   err;
    ttai_cli_d1_opts_t  o;

    if (ttai_cli_d1_parse(argc, argv, TTAI_D1_OPT_DB | TTAI_D1_OPT_SQL
                                      | TTAI_D1_OPT_JSON,
                          &o, ttai_cli_d1_execute_usage)
        != 0)
    {
        return TTAI_EXIT_USAGE;
    }

    if (o.help) {
        ttai_cli_d1_execute_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (o.nargs > 1 || ttai_cli_d1_database(&o, 0,
                                            ttai_cli_d1_execute_usage) != 0)
    {
        if (o.nargs > 1) {
            fprintf(stderr, "ttai: unexpected argument \"%s\"\n",
                    o.args[1]);
            ttai_cli_d1_execute_usage(stderr);
        }

        return TTAI_EXIT_USAGE;
    }

    if ((o.command == NULL) == (o.file == NULL)) {
        fprintf(stderr, "ttai: give either --command SQL or --file FILE\n");
        ttai_cli_d1_execute_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (o.file != NULL) {
        sql = ttai_cli_read_file(o.file, &len);

        if (sql == NULL) {
            fprintf(stderr, "ttai: cannot read \"%s\": %s\n", o.file,
                    errno ? strerror(errno) : "out of memory");
            return TTAI_EXIT_FAIL;
        }

    } else {
        sql = strdup(o.command);

        if (sql == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            return TTAI_EXIT_FAIL;
        }

        len = strlen(sql);
    }

    db = ttai_cli_d1_open(&o);
    if (db == NULL) {
        free(sql);
        return TTAI_EXIT_FAIL;
    }

    results = ttai_d1_exec(db, sql, len, NULL, NULL, &err);

    /* a line number helps in a file, not in a one-line command */
    if (results == NULL && err.line && memchr(sql, '\n', len) != NULL) {
        len = strlen(err.msg);
        snprintf(err.msg + len, sizeof(err.msg) - len, " (line %u)",
                 err.line);
    }

    free(sql);
    ttai_d1_close(db);

    if (results == NULL) {
        fprintf(stderr, "ttai: %s\n", err.msg);

        if (o.json) {
            results = json_pack("{s:s,s:s}", "error",
                                err.kind == TTAI_D1_ESQL ? "sql_error"
                                                         : "db_error",
                                "message", err.msg);
            out = results ? json_dumps(results, JSON_INDENT(2)) : NULL;
            json_decref(results);

            if (out != NULL) {
                printf("%s\n", out);
                free(out);
            }
        }

        return TTAI_EXIT_FAIL;
    }

    rc = TTAI_EXIT_OK;

    if (o.json) {
        out = json_dumps(results, JSON_INDENT(2) | TTAI_D1_JSON_FLAGS);

        if (out == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            rc = TTAI_EXIT_FAIL;

        } else {
            printf("%s\n", out);
            free(out);
        }

    } else {
        for (i = 0; i < json_array_size(results); i++) {
            if (i > 0) {
                printf("\n");
            }

            ttai_cli_d1_print(json_array_get(results, i));
        }

        if (json_array_size(results) == 0) {
            printf("No statement to run.\n");
        }
    }

    json_decref(results);

    return rc;
}


static void
ttai_cli_d1_print(json_t *result)
{
    char         **cells, *cell;
    json_t        *rows, *meta, *first;
    size_t         nrows, ncols, r, c, n, *width;
    long long      changes, rowid;
    const char    *key;
    json_t        *v;

    rows = json_object_get(result, "results");
    meta = json_object_get(result, "meta");

    nrows = json_array_size(rows);
    first = json_array_get(rows, 0);
    ncols = json_object_size(first);

    if (nrows == 0 || ncols == 0) {
        changes = json_integer_value(json_object_get(meta, "changes"));
        rowid = json_integer_value(json_object_get(meta, "last_row_id"));

        if (changes > 0) {
            printf("OK: %lld row%s changed", changes,
                   changes == 1 ? "" : "s");

            if (rowid != 0) {
                printf(", last_row_id %lld", rowid);
            }

        } else {
            printf("OK: no rows");
        }

        printf(" (%.3f ms)\n",
               json_real_value(json_object_get(meta, "duration_ms")));
        return;
    }

    /* row 0 is the header: the columns of the first row, in its order */
    cells = calloc((nrows + 1) * ncols, sizeof(char *));
    width = calloc(ncols, sizeof(size_t));

    if (cells == NULL || width == NULL) {
        fprintf(stderr, "ttai: out of memory\n");
        free(cells);
        free(width);
        return;
    }

    c = 0;
    json_object_foreach(first, key, v) {
        cells[c++] = strdup(key);
    }

    for (r = 1; r <= nrows; r++) {
        for (c = 0; c < ncols; c++) {
            if (cells[c] != NULL) {
                v = json_object_get(json_array_get(rows, r - 1), cells[c]);
                cells[r * ncols + c] = ttai_cli_d1_cell(v);
            }
        }
    }

    for (n = 0; n < (nrows + 1) * ncols; n++) {
        cell = cells[n] ? cells[n] : "";

        if (ttai_cli_d1_width(cell) > width[n % ncols]) {
            width[n % ncols] = ttai_cli_d1_width(cell);
        }
    }

    for (r = 0; r <= nrows; r++) {
        for (c = 0; c < ncols; c++) {
            cell = cells[r * ncols + c];

            printf("%s", c > 0 ? " | " : "");
            ttai_cli_d1_pad(cell ? cell : "", width[c], c + 1 == ncols);
        }

        printf("\n");

        if (r > 0) {
            continue;
        }

        for (c = 0; c < ncols; c++) {
            printf("%s", c > 0 ? "-+-" : "");

            for (n = 0; n < width[c]; n++) {
                printf("-");
            }
        }

        printf("\n");
    }

    printf("(%zu row%s, %.3f ms)\n", nrows, nrows == 1 ? "" : "s",
           json_real_value(json_object_get(meta, "duration_ms")));

    for (n = 0; n < (nrows + 1) * ncols; n++) {
        free(cells[n]);
    }

    free(cells);
    free(width);
}


/* a value as the readable table shows it: one line, cut when too wide */

static char *
ttai_cli_d1_cell(json_t *v)
{
    char    *s, *p;
    size_t   n, w;

    if (v == NULL) {
        return strdup("");
    }

    switch (json_typeof(v)) {

    case JSON_NULL:
        return strdup("NULL");

    case JSON_STRING:
        s = strdup(json_string_value(v));
        break;

    default:
        s = json_dumps(v, JSON_ENCODE_ANY | TTAI_D1_JSON_FLAGS);
        break;
    }

    if (s == NULL) {
        return NULL;
    }

    for (p = s; *p; p++) {
        if ((unsigned char) *p < 0x20) {
            *p = ' ';
        }
    }

    /* cut at a character boundary, and say so */
    for (p = s, w = 0; *p; p++) {
        if (((unsigned char) *p & 0xc0) == 0x80) {
            continue;
        }

        if (w++ == TTAI_D1_CELL_MAX - 1) {
            n = p - s;
            s[n] = '\0';
            p = realloc(s, n + 4);
            if (p != NULL) {
                s = p;
                memcpy(s + n, "\xe2\x80\xa6", 4);
            }

            break;
        }
    }

    return s;
}


/* characters, not bytes: UTF-8 continuation bytes do not count */

static size_t
ttai_cli_d1_width(const char *s)
{
    size_t  w;

    for (w = 0; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            w++;
        }
    }

    return w;
}


static void
ttai_cli_d1_pad(const char *s, size_t width, int last)
{
    size_t  w;

    printf("%s", s);

    if (last) {
        return;
    }

    for (w = ttai_cli_d1_width(s); w < width; w++) {
        printf(" ");
    }
}


static int
ttai_cli_d1_migrations(int argc, char **argv)
{
    const char          *action;
    ttai_cli_d1_opts_t   o;

    if (ttai_cli_d1_parse(argc, argv, TTAI_D1_OPT_DB | TTAI_D1_OPT_MIGRATIONS
                                      | TTAI_D1_OPT_JSON,
                          &o, ttai_cli_d1_migrations_usage)
        != 0)
    {
        return TTAI_EXIT_USAGE;
    }

    if (o.help) {
        ttai_cli_d1_migrations_usage(stdout);
        return TTAI_EXIT_OK;
    }

    if (o.nargs == 0) {
        fprintf(stderr, "ttai: say list, apply or create NAME\n");
        ttai_cli_d1_migrations_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    action = o.args[0];

    if (strcmp(action, "create") == 0) {
        /* create NAME, or wrangler's create ttai NAME */
        if (o.nargs == 3 && ttai_cli_d1_database(&o, 1,
                                ttai_cli_d1_migrations_usage) == 0)
        {
            return ttai_cli_d1_create(&o, o.args[2]);
        }

        if (o.nargs == 2) {
            return ttai_cli_d1_create(&o, o.args[1]);
        }

        if (o.nargs < 3) {
            fprintf(stderr, "ttai: create needs the migration's NAME\n");
            ttai_cli_d1_migrations_usage(stderr);
        }

        return TTAI_EXIT_USAGE;
    }

    if (strcmp(action, "list") != 0 && strcmp(action, "apply") != 0) {
        fprintf(stderr, "ttai: unknown migrations action \"%s\"\n", action);
        ttai_cli_d1_migrations_usage(stderr);
        return TTAI_EXIT_USAGE;
    }

    if (o.nargs > 2 || ttai_cli_d1_database(&o, 1,
                                            ttai_cli_d1_migrations_usage)
                       != 0)
    {
        if (o.nargs > 2) {
            fprintf(stderr, "ttai: unexpected argument \"%s\"\n",
                    o.args[2]);
            ttai_cli_d1_migrations_usage(stderr);
        }

        return TTAI_EXIT_USAGE;
    }

    if (ttai_cli_d1_folder(&o) != 0) {
        return TTAI_EXIT_FAIL;
    }

    return (action[0] == 'l') ? ttai_cli_d1_list(&o) : ttai_cli_d1_apply(&o);
}


/* a folder that is not there is a mistake here, not "no migrations" */

static int
ttai_cli_d1_folder(ttai_cli_d1_opts_t *o)
{
    struct stat  st;

    if (stat(o->migrations, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ttai: no migrations folder \"%s\"; run from the "
                        "repository root or give --migrations DIR\n",
                o->migrations);
        return -1;
    }

    return 0;
}


static int
ttai_cli_d1_list(ttai_cli_d1_opts_t *o)
{
    char                   *out;
    size_t                  i, applied, width;
    json_t                 *arr;
    sqlite3                *db;
    ttai_d1_error_t         err;
    ttai_migration_t       *m;
    ttai_migration_list_t   list;

    db = ttai_cli_d1_open(o);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    if (ttai_migrate_list(db, o->migrations, &list, &err) != 0) {
        fprintf(stderr, "ttai: %s\n", err.msg);
        ttai_d1_close(db);
        return TTAI_EXIT_FAIL;
    }

    ttai_d1_close(db);

    if (o->json) {
        arr = json_array();

        for (i = 0; arr != NULL && i < list.n; i++) {
            m = &list.items[i];

            json_array_append_new(arr,
                json_pack("{s:s,s:s,s:s?,s:b}", "name", m->name,
                          "status", m->applied ? "applied" : "pending",
                          "applied_at", m->applied_at,
                          "file", m->file));
        }

        out = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
        json_decref(arr);

        if (out == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            ttai_migrate_list_free(&list);
            return TTAI_EXIT_FAIL;
        }

        printf("%s\n", out);
        free(out);
        ttai_migrate_list_free(&list);

        return TTAI_EXIT_OK;
    }

    printf("Migrations in \"%s\" for \"%s\":\n", o->migrations, o->db);

    width = 0;

    for (i = 0; i < list.n; i++) {
        if (strlen(list.items[i].name) > width) {
            width = strlen(list.items[i].name);
        }
    }

    applied = 0;

    for (i = 0; i < list.n; i++) {
        m = &list.items[i];

        if (m->applied) {
            applied++;
            printf("  applied  %-*s  %s%s\n", (int) width, m->name,
                   m->applied_at, m->file ? "" : "  (the file is gone)");

        } else {
            printf("  pending  %s\n", m->name);
        }
    }

    if (list.n == 0) {
        printf("  (none)\n");
    }

    printf("%zu applied, %zu pending\n", applied, list.n - applied);

    ttai_migrate_list_free(&list);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_d1_apply(ttai_cli_d1_opts_t *o)
{
    int               n;
    sqlite3          *db;
    ttai_d1_error_t   err;

    db = ttai_cli_d1_open(o);
    if (db == NULL) {
        return TTAI_EXIT_FAIL;
    }

    n = ttai_migrate_apply(db, o->migrations, ttai_cli_d1_applied, NULL,
                           &err);

    ttai_d1_close(db);

    if (n < 0) {
        fprintf(stderr, "ttai: %s\n", err.msg);
        fprintf(stderr, "ttai: the database is as it was before that "
                        "migration; fix it and apply again\n");
        return TTAI_EXIT_FAIL;
    }

    if (n == 0) {
        printf("No migrations to apply.\n");

    } else {
        printf("%d migration%s applied.\n", n, n == 1 ? "" : "s");
    }

    return TTAI_EXIT_OK;
}


static void
ttai_cli_d1_applied(const char *name, void *data)
{
    printf("Applied %s\n", name);
}


static int
ttai_cli_d1_create(ttai_cli_d1_opts_t *o, const char *name)
{
    char              path[4096];
    ttai_d1_error_t   err;

    if (ttai_migrate_create(o->migrations, name, path, sizeof(path), &err)
        != 0)
    {
        fprintf(stderr, "ttai: %s\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    printf("Created %s\n", path);

    return TTAI_EXIT_OK;
}


static void
ttai_cli_d1_usage(FILE *out)
{
    fprintf(out,
        "Usage: ttai d1 <verb> [options]\n"
        "\n"
        "Queries and migrates the local SQLite database (the seed's D1)\n"
        "directly, as \"wrangler d1 ... --local\" does: no server needs to\n"
        "run, and it is safe while nginx runs.\n"
        "\n"
        "Verbs:\n"
        "  execute      run SQL given with --command or --file\n"
        "  migrations   list, apply or create migrations\n"
        "\n"
        "Options of every verb:\n"
        "  --db PATH    the database (default " TTAI_CLI_DB_PATH ");\n"
        "               its folder is created when missing\n"
        "  -h, --help   help on the verb: ttai d1 execute --help\n"
        "\n"
        "The database name \"ttai\" and --local of wrangler's commands are\n"
        "accepted and change nothing.\n"
        "\n"
        "Exit status: 0 success, 1 failure (such as an SQL error), 2 usage "
        "error.\n");
}


static void
ttai_cli_d1_execute_usage(FILE *out)
{
    fprintf(out,
        "Usage: ttai d1 execute [ttai] --command SQL [--json] [--db PATH]\n"
        "       ttai d1 execute [ttai] --file FILE [--json] [--db PATH]\n"
        "\n"
        "Runs every statement of the SQL in order, each committed by\n"
        "itself unless the SQL has its own BEGIN ... COMMIT, and stops at\n"
        "the first error.  FILE \"-\" is standard input.\n"
        "\n"
        "Options:\n"
        "  --command SQL   the SQL to run\n"
        "  --file FILE     the file of SQL to run\n"
        "  --json          print the results as JSON, one object per\n"
        "                  statement: {\"results\":[...],\"meta\":{...}};\n"
        "                  BLOBs are base64\n"
        "  --db PATH       the database (default " TTAI_CLI_DB_PATH ")\n"
        "  -h, --help      show this help\n"
        "\n"
        "Exit status: 0 success, 1 failure (SQLite's message is printed),\n"
        "2 usage error.\n");
}


static void
ttai_cli_d1_migrations_usage(FILE *out)
{
    fprintf(out,
        "Usage: ttai d1 migrations list [--json] [--db PATH] "
        "[--migrations DIR]\n"
        "       ttai d1 migrations apply [--db PATH] [--migrations DIR]\n"
        "       ttai d1 migrations create NAME [--migrations DIR]\n"
        "\n"
        "Migrations are the files NNNN_name.sql of the migrations folder,\n"
        "applied in order, each once and in its own transaction; a failing\n"
        "one leaves the database as it was before it.  nginx applies the\n"
        "pending ones when it loads its configuration, too.\n"
        "\n"
        "  list            each migration, applied (with when) or pending\n"
        "  apply           apply the pending migrations\n"
        "  create NAME     write an empty migration numbered after the\n"
        "                  last one\n"
        "\n"
        "Options:\n"
        "  --migrations DIR  the migrations folder (default "
        TTAI_CLI_MIGRATIONS ")\n"
        "  --db PATH         the database (default " TTAI_CLI_DB_PATH ")\n"
        "  --json            list as JSON\n"
        "  -h, --help        show this help\n"
        "\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n");
}


json_t *
ttai_cli_d1_run(sqlite3 *db, json_t *batch)
{
    json_t           *results;
    ttai_d1_error_t   err;

    results = batch ? ttai_d1_batch(db, batch, NULL, &err) : NULL;

    json_decref(batch);

    if (results == NULL) {
        fprintf(stderr, "ttai: %s (are the migrations applied? "
                "ttai d1 migrations apply)\n",
                batch ? err.msg : "out of memory");
    }

    return results;
}


long long
ttai_cli_now_ms(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
