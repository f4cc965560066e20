
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_d1.h"
#include "ttai_migrate.h"


/*
 * The database's configuration and life cycle: the directives, the
 * migrations applied by the master at load (and what else the master
 * reads there), the connections of each worker, and the /health check.
 * The queries themselves go through the bridge in
 * ngx_http_ttai_d1_query.c.
 */


#define NGX_HTTP_TTAI_D1_DEFAULT_PATH  "/d1/ttai/db.sqlite"


static ngx_http_ttai_d1_t *ngx_http_ttai_d1_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
static ngx_int_t ngx_http_ttai_d1_default_path(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_d1_t *db);
static ngx_int_t ngx_http_ttai_d1_folder(ngx_conf_t *cf,
    ngx_http_ttai_d1_t *db, ngx_uint_t always);
static ngx_int_t ngx_http_ttai_d1_default_migrations(ngx_conf_t *cf,
    ngx_http_ttai_d1_t *db);
static char *ngx_http_ttai_d1_migrate(ngx_conf_t *cf, ngx_http_ttai_d1_t *db);
static void ngx_http_ttai_d1_applied(const char *name, void *data);
static void ngx_http_ttai_d1_set_error(ngx_http_ttai_d1_t *db,
    const char *msg);
static ngx_int_t ngx_http_ttai_d1_refreshed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


char *
ngx_http_ttai_d1_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_str_t           *value;
    ngx_http_ttai_d1_t  *db;

    db = ngx_http_ttai_d1_conf(cf, tmcf);
    if (db == NULL) {
        return NGX_CONF_ERROR;
    }

    if (db->path.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a path";
    }

    db->path = value[1];

    if (ngx_conf_full_name(cf->cycle, &db->path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_ttai_d1_migrations(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_str_t           *value;
    ngx_http_ttai_d1_t  *db;

    db = ngx_http_ttai_d1_conf(cf, tmcf);
    if (db == NULL) {
        return NGX_CONF_ERROR;
    }

    if (db->migrate != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        db->migrate = 0;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0) {
        return "needs a folder";
    }

    db->migrate = 1;
    db->migrations = value[1];

    if (ngx_conf_full_name(cf->cycle, &db->migrations, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_ttai_d1_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_str_t           *value;
    ngx_http_ttai_d1_t  *db;

    db = ngx_http_ttai_d1_conf(cf, tmcf);
    if (db == NULL) {
        return NGX_CONF_ERROR;
    }

    if (db->pool_name.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs the name of a thread_pool";
    }

    db->pool_name = value[1];

    return NGX_CONF_OK;
}


static ngx_http_ttai_d1_t *
ngx_http_ttai_d1_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_d1_t  *db;

    tmcf->enabled = 1;

    if (tmcf->db != NULL) {
        return tmcf->db;
    }

    db = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_d1_t));
    if (db == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     db->path = { 0, NULL };
     *     db->migrations = { 0, NULL };
     *     db->pool_name = { 0, NULL };
     *     db->idle = NULL;
     *     db->worker = 0;
     *     db->failed = 0;
     */

    db->migrate = NGX_CONF_UNSET;
    db->schema_version = -1;

    tmcf->db = db;

    return db;
}


/*
 * Runs in the master (and in "nginx -t"), where blocking is fine: the
 * database is created when missing, and the pending migrations are
 * applied before any worker opens it.  A failure stops the load, so a
 * reload with a broken migration keeps the old workers serving.
 */

char *
ngx_http_ttai_d1_init_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_d1_t  *db;

    db = tmcf->db;

    if (db == NULL) {
        if (tmcf->state_dir.len == 0) {
            return NGX_CONF_OK;
        }

        db = ngx_http_ttai_d1_conf(cf, tmcf);
        if (db == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (db->path.len == 0) {
        if (tmcf->state_dir.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: \"ttai_migrations\" and "
                          "\"ttai_thread_pool\" need a database: set "
                          "\"ttai_db\" or \"ttai_state_dir\"");
            return NGX_CONF_ERROR;
        }

        if (ngx_http_ttai_d1_default_path(cf, tmcf, db) != NGX_OK
            || ngx_http_ttai_d1_folder(cf, db, 1) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (ngx_http_ttai_d1_folder(cf, db, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)

    /* nginx's "default" pool has 32 threads unless configured */
    db->thread_pool = ngx_thread_pool_add(cf, db->pool_name.len
                                              ? &db->pool_name : NULL);
    if (db->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

#else

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "ttai: the database needs an nginx built with thread "
                  "pools (--with-threads), and a module built with the "
                  "same flags");
    return NGX_CONF_ERROR;

#endif

    if (db->migrate == NGX_CONF_UNSET) {
        if (ngx_http_ttai_d1_default_migrations(cf, db) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_ttai_d1_migrate(cf, db);
}


/* <ttai_state_dir>/d1/ttai/db.sqlite */

static ngx_int_t
ngx_http_ttai_d1_default_path(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf,
    ngx_http_ttai_d1_t *db)
{
    u_char  *p;

    db->path.len = tmcf->state_dir.len
                   + sizeof(NGX_HTTP_TTAI_D1_DEFAULT_PATH) - 1;
    db->path.data = ngx_pnalloc(cf->pool, db->path.len + 1);
    if (db->path.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(db->path.data, tmcf->state_dir.data, tmcf->state_dir.len);
    ngx_memcpy(p, NGX_HTTP_TTAI_D1_DEFAULT_PATH,
               sizeof(NGX_HTTP_TTAI_D1_DEFAULT_PATH));

    return NGX_OK;
}


/*
 * The database's folder is registered as an nginx path, so that nginx
 * gives it to the worker user as it does the state folder: SQLite
 * creates its -wal and -shm files there.  That is done for the default
 * folder, and for a ttai_db folder only when nginx is about to create
 * it: an existing folder of the administrator's is left as it is.
 */

static ngx_int_t
ngx_http_ttai_d1_folder(ngx_conf_t *cf, ngx_http_ttai_d1_t *db,
    ngx_uint_t always)
{
    u_char           *last;
    ngx_path_t       *path;
    ngx_file_info_t   fi;

    last = db->path.data + db->path.len;

    while (last > db->path.data && last[-1] != '/') {
        last--;
    }

    if (last - db->path.data < 2) {
        return NGX_OK;
    }

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_ERROR;
    }

    path->name.len = last - 1 - db->path.data;
    path->name.data = ngx_pnalloc(cf->pool, path->name.len + 1);
    if (path->name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(path->name.data, db->path.data, path->name.len);
    path->name.data[path->name.len] = '\0';

    if (!always && ngx_file_info(path->name.data, &fi) != NGX_FILE_ERROR) {
        return NGX_OK;
    }

    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    return ngx_add_path(cf, &path);
}


/* "migrations" under the prefix, the repository root in development */

static ngx_int_t
ngx_http_ttai_d1_default_migrations(ngx_conf_t *cf, ngx_http_ttai_d1_t *db)
{
    ngx_str_t        dir;
    ngx_file_info_t  fi;

    ngx_str_set(&dir, "migrations");

    if (ngx_conf_full_name(cf->cycle, &dir, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_file_info(dir.data, &fi) == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
        db->migrate = 0;
        return NGX_OK;
    }

    db->migrate = 1;
    db->migrations = dir;

    return NGX_OK;
}


static char *
ngx_http_ttai_d1_migrate(ngx_conf_t *cf, ngx_http_ttai_d1_t *db)
{
    int               n;
    sqlite3          *sqlite;
    ngx_str_t         file;
    ngx_uint_t        i;
    ngx_file_info_t   fi;
    ttai_d1_error_t   err;

    static char  *suffixes[] = { "", "-wal", "-shm" };

    if (db->migrate
        && (ngx_file_info(db->migrations.data, &fi) == NGX_FILE_ERROR
            || !ngx_is_dir(&fi)))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      "ttai: the migrations folder \"%V\" cannot be read",
                      &db->migrations);
        return NGX_CONF_ERROR;
    }

    /* a database outside the state folder is as private as one in it */
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        file.len = db->path.len + ngx_strlen(suffixes[i]);
        file.data = ngx_pnalloc(cf->temp_pool, file.len);
        if (file.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(file.data, db->path.data, db->path.len),
                   suffixes[i], ngx_strlen(suffixes[i]));

        if (ngx_http_ttai_private(cf, &file) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ttai_d1_make_dir((char *) db->path.data, &err) != 0
        || ttai_d1_open(&sqlite, (char *) db->path.data, &err) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "ttai: %s", err.msg);
        return NGX_CONF_ERROR;
    }

    /* without migrations, this still makes d1_migrations for /health */
    n = ttai_migrate_apply(sqlite, db->migrate ? (char *) db->migrations.data
                                               : NULL,
                           ngx_http_ttai_d1_applied, cf->log, &err);

    ttai_d1_close(sqlite);

    if (n < 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "ttai: %s", err.msg);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


json_t *
ngx_http_ttai_d1_load(ngx_http_ttai_d1_t *db, json_t *batch,
    ttai_d1_error_t *err)
{
    json_t   *results;
    sqlite3  *sqlite;

    /* the migrations made the file: a missing one is an error here */
    if (ttai_d1_open_flags(&sqlite, (char *) db->path.data, 0, err) != 0) {
        return NULL;
    }

    results = ttai_d1_batch(sqlite, batch, NULL, err);

    ttai_d1_close(sqlite);

    return results;
}


static void
ngx_http_ttai_d1_applied(const char *name, void *data)
{
    ngx_log_t  *log = data;

    ngx_log_error(NGX_LOG_NOTICE, log, 0, "ttai: migration \"%s\" applied",
                  name);
}


/*
 * The database was created by the master; when the master is root, the
 * workers run as "user" and must be able to write it, as nginx arranges
 * for its own paths.  SQLite itself gives a new -wal or -shm file the
 * owner of the database file.
 */

ngx_int_t
ngx_http_ttai_d1_init_module(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    u_char               name[NGX_MAX_PATH];
    ngx_uint_t           i;
    ngx_err_t            err;
    ngx_core_conf_t     *ccf;
    ngx_http_ttai_d1_t  *db;

    static char  *suffixes[] = { "", "-wal", "-shm" };

    if (tmcf == NULL || tmcf->db == NULL || geteuid() != 0) {
        return NGX_OK;
    }

    db = tmcf->db;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT || ccf->user == 0) {
        return NGX_OK;
    }

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (db->path.len + 5 > sizeof(name)) {
            return NGX_OK;
        }

        ngx_sprintf(name, "%V%s%Z", &db->path, suffixes[i]);

        if (chown((char *) name, ccf->user, (gid_t) -1) == -1) {
            err = ngx_errno;

            if (err == NGX_ENOENT) {
                continue;
            }

            ngx_log_error(NGX_LOG_ALERT, cycle->log, err,
                          "ttai: chown(\"%s\", %d) failed; the workers may "
                          "not be able to write the database",
                          name, ccf->user);
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_d1_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_d1_t       *db;
    ttai_d1_error_t           err;
    ngx_http_ttai_d1_conn_t  *c;

    db = tmcf->db;

    if (db == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    if (pthread_mutex_init(&db->mutex, NULL) != 0
        || pthread_mutex_init(&db->writers, NULL) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ttai: pthread_mutex_init() failed");
        return NGX_ERROR;
    }

    db->worker = 1;

    db->refresh = ngx_http_ttai_d1_query_create(cycle->pool);
    if (db->refresh == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&db->refresh->sql, TTAI_MIGRATE_COUNT_SQL);
    db->refresh->handler = ngx_http_ttai_d1_refreshed;
    db->refresh->data = db;

    /*
     * The first connection is opened here, before the worker serves, so
     * that a database the worker cannot open shows at once in the log
     * and on /health.  The worker still starts: /health is how it says
     * so.  Threads open more connections when they need them.
     */
    c = ngx_http_ttai_d1_acquire(db, &err);

    if (c == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0, "ttai: %s", err.msg);
        ngx_http_ttai_d1_set_error(db, err.msg);
        return NGX_OK;
    }

    db->schema_version = ttai_migrate_count(c->sqlite, &err);

    ngx_http_ttai_d1_release(db, c);

    return NGX_OK;
}


/*
 * The thread pools of this worker have stopped by now (core modules exit
 * first, and their exit waits for the threads), so no thread holds a
 * connection.
 */

void
ngx_http_ttai_d1_exit_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_http_ttai_d1_t       *db;
    ngx_http_ttai_d1_conn_t  *c, *next;

    db = tmcf->db;

    if (db == NULL || !db->worker) {
        return;
    }

    for (c = db->idle; c != NULL; c = next) {
        next = c->next;
        ttai_d1_close(c->sqlite);
        ngx_free(c);
    }

    db->idle = NULL;

    if (db->refresh != NULL) {
        ngx_http_ttai_d1_query_reset(db->refresh);
    }

    (void) pthread_mutex_destroy(&db->mutex);
    (void) pthread_mutex_destroy(&db->writers);
    db->worker = 0;
}


/*
 * /health must not wait for the database, so it reports what the worker
 * already knows: that the file is there (one stat a second), the schema
 * version, and whether the last query failed in the database itself.  It
 * then asks the thread pool to refresh the schema version for a later
 * call, one refresh at a time and at most one a second, so that a busy
 * /health costs the database nothing; the refresh doubles as a probe of
 * it.
 */

ngx_int_t
ngx_http_ttai_d1_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h)
{
    ngx_file_info_t      fi;
    ngx_http_ttai_d1_t  *db;

    static ngx_str_t  names[] = { ngx_string("schema_version") };

    db = tmcf->db;

    if (db == NULL) {
        return NGX_DECLINED;
    }

    if (db->worker && db->refresh != NULL && !db->refresh->posted
        && db->refreshed != ngx_time())
    {
        db->refreshed = ngx_time();
        ngx_http_ttai_d1_query_reset(db->refresh);

        /* a full queue only delays the refresh until the next call */
        (void) ngx_http_ttai_d1_post_task(db, db->refresh);
    }

    if (db->schema_version >= 0) {
        h->names = names;
        h->ncounters = 1;
        h->counters[0] = db->schema_version;
    }

    /*
     * As for the state folder, a success holds for the rest of the
     * second: the walk of a long path costs more than the rest of a
     * busy /health.  A query that finds the file gone says so at once.
     */
    if (db->file_seen != ngx_time()) {
        if (ngx_file_info(db->path.data, &fi) == NGX_FILE_ERROR) {
            ngx_str_set(&h->error, "the database file is missing; apply "
                                   "the migrations or reload nginx to "
                                   "make it again");
            return NGX_ERROR;
        }

        db->file_seen = ngx_time();
    }

    if (db->failed) {
        h->error.data = db->error;
        h->error.len = ngx_strlen(db->error);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_d1_refreshed(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    json_t              *n;
    ngx_http_ttai_d1_t  *db = q->data;

    if (q->rc != NGX_OK) {
        db->schema_version = -1;
        return NGX_OK;
    }

    n = json_object_get(json_array_get(json_object_get(q->result, "results"),
                                       0),
                        "n");

    db->schema_version = json_is_integer(n) ? json_integer_value(n) : -1;

    return NGX_OK;
}


/*
 * Called on the event loop when a query ends: a failure of the database
 * itself marks it unhealthy until a later query succeeds.
 */

void
ngx_http_ttai_d1_outcome(ngx_http_ttai_d1_t *db, ngx_http_ttai_d1_query_t *q)
{
    if (q->rc == NGX_OK) {
        db->failed = 0;
        return;
    }

    if (q->error.kind == TTAI_D1_EFAIL) {
        ngx_http_ttai_d1_set_error(db, q->error.msg);
    }
}


/* the message goes into /health's JSON as it is: keep it plain */

static void
ngx_http_ttai_d1_set_error(ngx_http_ttai_d1_t *db, const char *msg)
{
    u_char  *p, *last;

    last = db->error + sizeof(db->error) - 1;

    for (p = db->error; *msg && p < last; p++, msg++) {
        *p = (*msg == '"' || *msg == '\\' || (u_char) *msg < 0x20
              || (u_char) *msg >= 0x80) ? '\'' : (u_char) *msg;
    }

    *p = '\0';
    db->failed = 1;
}
