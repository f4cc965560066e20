
/*
 * Copyright (C) ttai contributors
 */


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>

#include "ttai_cli.h"
#include "ttai_d1.h"
#include "ttai_vector.h"


/*
 * ttai vectorize create|list|info|insert|query|delete: the vector
 * indexes of the D1 database (migration 0012), with the verbs and the
 * NDJSON of "wrangler vectorize".  It works on the database file, with
 * or without the server running.
 */

#define TTAI_CLI_VEC_BATCH  500


typedef struct {
    const char  *db;
    const char  *metric;
    const char  *description;
    const char  *file;
    const char  *vector;
    const char  *filter;
    const char  *ns;
    long         dims;
    long         top_k;
    int          return_metadata;
} ttai_cli_vec_opts_t;


static int ttai_cli_vec_create(sqlite3 *db, const char *name,
    ttai_cli_vec_opts_t *o);
static int ttai_cli_vec_list(sqlite3 *db);
static int ttai_cli_vec_info(sqlite3 *db, const char *name);
static int ttai_cli_vec_insert(sqlite3 *db, const char *name,
    ttai_cli_vec_opts_t *o);
static int ttai_cli_vec_query(sqlite3 *db, const char *name,
    ttai_cli_vec_opts_t *o);
static int ttai_cli_vec_delete(sqlite3 *db, const char *name);
static json_t *ttai_cli_vec_index(sqlite3 *db, const char *name);
static int ttai_cli_vec_flush(sqlite3 *db, const char *name, json_t *batch,
    size_t line);
static void ttai_cli_vec_print(json_t *j);


static const char  ttai_cli_vec_help[] =
    "Usage: ttai vectorize create NAME --dimensions N [--metric M]\n"
    "                             [--description TEXT]\n"
    "       ttai vectorize list\n"
    "       ttai vectorize info NAME\n"
    "       ttai vectorize insert NAME --file FILE.ndjson\n"
    "       ttai vectorize query NAME (--vector '[...]' | --file FILE)\n"
    "                             [--top-k K] [--filter JSON]\n"
    "                             [--namespace NS] [--return-metadata]\n"
    "       ttai vectorize delete NAME\n"
    "  (each with [--db PATH], default " TTAI_CLI_DB_PATH ")\n"
    "\n"
    "  create      an index of N dimensions (1 to 4096), by the metric\n"
    "              cosine (default), dot-product or euclidean\n"
    "  list, info  the indexes; one, with its count of vectors\n"
    "  insert      the vectors of an NDJSON file, one a line:\n"
    "              {\"id\":\"a\",\"values\":[...],\"metadata\":{...},\n"
    "               \"namespace\":\"...\"}; an id again replaces its vector.\n"
    "              500 a transaction; a line that is wrong stops it there,\n"
    "              with what came before it kept, and says which\n"
    "  query       the top K (default 5, at most 100) nearest vectors of\n"
    "              the index, of one namespace, whose metadata passes the\n"
    "              filter ({\"tag\":\"a\"}, {\"n\":{\"$gte\":2}}; $eq, $ne,\n"
    "              $lt, $lte, $gt, $gte, $in, $nin), as JSON\n"
    "  delete      the index and its vectors\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage.\n";


int
ttai_cli_vectorize(int argc, char **argv)
{
    int                   c, rc;
    char                 *end;
    sqlite3              *db;
    const char           *verb, *name;
    ttai_d1_error_t       err;
    ttai_cli_vec_opts_t   o;

    static struct option  opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "dimensions", required_argument, NULL, 'n' },
        { "metric", required_argument, NULL, 'm' },
        { "description", required_argument, NULL, 'D' },
        { "file", required_argument, NULL, 'f' },
        { "vector", required_argument, NULL, 'v' },
        { "top-k", required_argument, NULL, 'k' },
        { "filter", required_argument, NULL, 'F' },
        { "namespace", required_argument, NULL, 's' },
        { "return-metadata", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&o, 0, sizeof(o));
    o.db = TTAI_CLI_DB_PATH;
    o.metric = "cosine";
    o.top_k = 5;
    optind = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db = optarg; break;
        case 'm': o.metric = optarg; break;
        case 'D': o.description = optarg; break;
        case 'f': o.file = optarg; break;
        case 'v': o.vector = optarg; break;
        case 'F': o.filter = optarg; break;
        case 's': o.ns = optarg; break;
        case 'r': o.return_metadata = 1; break;
        case 'n':
        case 'k':
            (c == 'n' ? &o.dims : &o.top_k)[0] = strtol(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '\0') {
                fprintf(stderr, "ttai: --%s is a number\n",
                        c == 'n' ? "dimensions" : "top-k");
                return TTAI_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(ttai_cli_vec_help, stdout);
            return TTAI_EXIT_OK;
        default:
            return TTAI_EXIT_USAGE;
        }
    }

    verb = (optind < argc) ? argv[optind] : NULL;
    name = (optind + 1 < argc) ? argv[optind + 1] : NULL;

    if (verb == NULL
        || (strcmp(verb, "list") == 0 ? optind + 1 != argc
                                      : optind + 2 != argc))
    {
        fputs(ttai_cli_vec_help, stderr);
        return TTAI_EXIT_USAGE;
    }

    if (ttai_d1_open_flags(&db, o.db, 0, &err) != 0) {
        fprintf(stderr, "ttai: cannot open the %s (pass --db)\n", err.msg);
        return TTAI_EXIT_FAIL;
    }

    if (strcmp(verb, "create") == 0) {
        rc = ttai_cli_vec_create(db, name, &o);

    } else if (strcmp(verb, "list") == 0) {
        rc = ttai_cli_vec_list(db);

    } else if (strcmp(verb, "info") == 0) {
        rc = ttai_cli_vec_info(db, name);

    } else if (strcmp(verb, "insert") == 0 || strcmp(verb, "upsert") == 0) {
        rc = ttai_cli_vec_insert(db, name, &o);

    } else if (strcmp(verb, "query") == 0) {
        rc = ttai_cli_vec_query(db, name, &o);

    } else if (strcmp(verb, "delete") == 0) {
        rc = ttai_cli_vec_delete(db, name);

    } else {
        fprintf(stderr, "ttai: unknown verb \"%s\" (try ttai vectorize "
                "--help)\n", verb);
        rc = TTAI_EXIT_USAGE;
    }

    ttai_d1_close(db);

    return rc;
}


static int
ttai_cli_vec_create(sqlite3 *db, const char *name, ttai_cli_vec_opts_t *o)
{
    char     err[256];
    json_t  *st, *r;

    if (o->dims == 0) {
        fprintf(stderr, "ttai: create needs --dimensions N\n");
        return TTAI_EXIT_USAGE;
    }

    st = ttai_vector_create(name, (int) o->dims, o->metric, o->description,
                            ttai_cli_now_ms() / 1000, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "ttai: %s\n", err);
        return TTAI_EXIT_USAGE;
    }

    r = ttai_cli_d1_run(db, ttai_d1_batch_of(1, st));
    if (r == NULL) {
        return TTAI_EXIT_FAIL;
    }

    json_decref(r);
    printf("created index %s: %ld dimensions, %s\n", name, o->dims,
           o->metric);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_vec_list(sqlite3 *db)
{
    json_t  *r;

    r = ttai_cli_d1_run(db, ttai_d1_batch_of(1, ttai_vector_list()));
    if (r == NULL) {
        return TTAI_EXIT_FAIL;
    }

    ttai_cli_vec_print(json_object_get(json_array_get(r, 0), "results"));
    json_decref(r);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_vec_info(sqlite3 *db, const char *name)
{
    json_t  *index;

    index = ttai_cli_vec_index(db, name);
    if (index == NULL) {
        return TTAI_EXIT_FAIL;
    }

    ttai_cli_vec_print(index);
    json_decref(index);

    return TTAI_EXIT_OK;
}


/* the index's row, or NULL when there is none (said on stderr) */

static json_t *
ttai_cli_vec_index(sqlite3 *db, const char *name)
{
    json_t  *r, *row;

    r = ttai_cli_d1_run(db, ttai_d1_batch_of(1, ttai_vector_info(name)));
    if (r == NULL) {
        return NULL;
    }

    row = json_incref(json_array_get(json_object_get(json_array_get(r, 0),
                                                     "results"), 0));
    json_decref(r);

    if (row == NULL) {
        fprintf(stderr, "ttai: no index \"%s\" (ttai vectorize list)\n",
                name);
    }

    return row;
}


static int
ttai_cli_vec_insert(sqlite3 *db, const char *name, ttai_cli_vec_opts_t *o)
{
    int            rc;
    FILE          *f;
    char          *line;
    size_t         cap, n, total;
    ssize_t        len;
    json_t        *index, *batch, *v;
    json_error_t   jerr;

    if (o->file == NULL) {
        fprintf(stderr, "ttai: insert needs --file FILE.ndjson\n");
        return TTAI_EXIT_USAGE;
    }

    index = ttai_cli_vec_index(db, name);
    if (index == NULL) {
        return TTAI_EXIT_FAIL;
    }

    json_decref(index);

    f = strcmp(o->file, "-") == 0 ? stdin : fopen(o->file, "r");
    if (f == NULL) {
        fprintf(stderr, "ttai: cannot read %s: %m\n", o->file);
        return TTAI_EXIT_FAIL;
    }

    line = NULL;
    cap = 0;
    n = 0;
    total = 0;
    rc = TTAI_EXIT_OK;
    batch = json_array();

    while (batch != NULL && (len = getline(&line, &cap, f)) != -1) {
        n++;

        if (len <= 1) {
            continue;
        }

        v = json_loadb(line, (size_t) len, 0, &jerr);
        if (!json_is_object(v) || json_array_append_new(batch, v) != 0) {
            fprintf(stderr, "ttai: %s:%zu: not a vector: %s\n", o->file, n,
                    v ? "not an object" : jerr.text);
            json_decref(v);
            rc = TTAI_EXIT_FAIL;
            break;
        }

        if (json_array_size(batch) == TTAI_CLI_VEC_BATCH) {
            if (ttai_cli_vec_flush(db, name, batch, n) != 0) {
                rc = TTAI_EXIT_FAIL;
                break;
            }

            total += TTAI_CLI_VEC_BATCH;
            fprintf(stderr, "\r%zu vectors...", total);
            json_array_clear(batch);
        }
    }

    if (rc == TTAI_EXIT_OK && batch != NULL && json_array_size(batch) > 0) {
        total += json_array_size(batch);

        if (ttai_cli_vec_flush(db, name, batch, n) != 0) {
            total -= json_array_size(batch);
            rc = TTAI_EXIT_FAIL;
        }
    }

    if (f != stdin) {
        fclose(f);
    }

    free(line);
    json_decref(batch);

    if (total >= TTAI_CLI_VEC_BATCH) {
        fprintf(stderr, "\n");
    }

    printf("%zu vector%s inserted into %s\n", total, total == 1 ? "" : "s",
           name);

    return rc;
}


/* one transaction of the batch; the last line read is for the message */

static int
ttai_cli_vec_flush(sqlite3 *db, const char *name, json_t *batch,
    size_t line)
{
    char     err[256];
    json_t  *st, *r;

    st = ttai_vector_upsert(name, batch, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "ttai: in the %zu lines up to %zu: %s; they were "
                "not inserted\n", json_array_size(batch), line, err);
        return -1;
    }

    r = ttai_cli_d1_run(db, st);
    if (r == NULL) {
        fprintf(stderr, "ttai: the %zu lines up to %zu were not inserted\n",
                json_array_size(batch), line);
        return -1;
    }

    json_decref(r);

    return 0;
}


static int
ttai_cli_vec_query(sqlite3 *db, const char *name, ttai_cli_vec_opts_t *o)
{
    char           err[256];
    json_t        *index, *values, *filter, *st, *r, *out;
    json_error_t   jerr;

    if ((o->vector == NULL) == (o->file == NULL)) {
        fprintf(stderr, "ttai: query needs --vector '[...]' or --file "
                "FILE, one of them\n");
        return TTAI_EXIT_USAGE;
    }

    values = o->vector ? json_loads(o->vector, 0, &jerr)
                       : json_load_file(o->file, 0, &jerr);
    if (!json_is_array(values)) {
        fprintf(stderr, "ttai: the vector is not a JSON array: %s\n",
                values ? "another value" : jerr.text);
        json_decref(values);
        return TTAI_EXIT_USAGE;
    }

    filter = NULL;

    if (o->filter != NULL) {
        filter = json_loads(o->filter, 0, &jerr);
        if (filter == NULL) {
            fprintf(stderr, "ttai: --filter is not JSON: %s\n", jerr.text);
            json_decref(values);
            return TTAI_EXIT_USAGE;
        }
    }

    index = ttai_cli_vec_index(db, name);
    if (index == NULL) {
        json_decref(values);
        json_decref(filter);
        return TTAI_EXIT_FAIL;
    }

    st = ttai_vector_query(name, values,
                           (int) json_integer_value(json_object_get(index,
                                                             "dimensions")),
                           json_string_value(json_object_get(index,
                                                             "metric")),
                           (size_t) (o->top_k > 0 ? o->top_k : 0), filter,
                           o->ns, err, sizeof(err));
    json_decref(values);
    json_decref(filter);
    json_decref(index);

    if (st == NULL) {
        fprintf(stderr, "ttai: %s\n", err);
        return TTAI_EXIT_USAGE;
    }

    r = ttai_cli_d1_run(db, ttai_d1_batch_of(1, st));
    if (r == NULL) {
        return TTAI_EXIT_FAIL;
    }

    out = ttai_vector_matches(json_object_get(json_array_get(r, 0),
                                              "results"),
                              o->return_metadata);
    json_decref(r);

    if (out == NULL) {
        return TTAI_EXIT_FAIL;
    }

    r = json_pack("{s:I, s:o}", "count", (json_int_t) json_array_size(out),
                  "matches", out);
    ttai_cli_vec_print(r);
    json_decref(r);

    return TTAI_EXIT_OK;
}


static int
ttai_cli_vec_delete(sqlite3 *db, const char *name)
{
    json_t  *r, *index;

    index = ttai_cli_vec_index(db, name);
    if (index == NULL) {
        return TTAI_EXIT_FAIL;
    }

    json_decref(index);

    r = ttai_cli_d1_run(db, ttai_d1_batch_of(1, ttai_vector_drop(name)));
    if (r == NULL) {
        return TTAI_EXIT_FAIL;
    }

    json_decref(r);
    printf("deleted index %s and its vectors\n", name);

    return TTAI_EXIT_OK;
}


static void
ttai_cli_vec_print(json_t *j)
{
    char  *text;

    text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER
                         | JSON_REAL_PRECISION(7));
    if (text != NULL) {
        puts(text);
        free(text);
    }
}
