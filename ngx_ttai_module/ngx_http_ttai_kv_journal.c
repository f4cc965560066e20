
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ttai_kvjournal.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_kv_zone.h"


/*
 * The journal of a KV zone, so that a change acknowledged is not lost
 * when the server dies before the next snapshot.
 *
 * A change is applied to the zone first, numbered under its lock; its
 * record is then queued in this process, and a task on the thread pool
 * appends what is queued to this process's own file and syncs it.  The
 * requests whose records it carried are answered when it is done; the
 * records queued meanwhile wait for the next task, which takes them all
 * (group commit).  One file per process, so that appends never mix.
 *
 * A write that fails is answered as such to every request that waited
 * on it, and the zone is marked failing in shared memory: changes are
 * then refused before they are applied, but one a second goes through
 * to try again.  The file of a failed write is left for a new one, as
 * its tail may be torn.
 *
 * Files are "<name>.journal.<generation>.<pid>[.<n>]" next to the
 * snapshot.  A snapshot starts a new generation; a record carries the
 * generation of the moment it was numbered, and goes to a file of that
 * generation or a later one.  So every record of an older generation is
 * numbered before the snapshot began, hence in it, and the snapshot may
 * remove those files once it is on disk, even while a process still
 * appends to one.
 *
 * The thread touches only the io structure, the buffer it was given,
 * its file and libsodium: no pool, log or shared memory.
 */


/* ms between two writes let through while the journal fails */
#define NGX_HTTP_TTAI_KV_JOURNAL_PROBE  1000

/* ms before posting again when the thread pool's queue is full */
#define NGX_HTTP_TTAI_KV_JOURNAL_RETRY  10

#define NGX_HTTP_TTAI_KV_JOURNAL_BUF    (64 * 1024)

/* a buffer grown past this by a large batch is freed once written */
#define NGX_HTTP_TTAI_KV_JOURNAL_KEEP   (4 * 1024 * 1024)

/* names tried for a new file, should older ones of this pid exist */
#define NGX_HTTP_TTAI_KV_JOURNAL_NAMES  100

/* a write still running after this many ms is said in the error log */
#define NGX_HTTP_TTAI_KV_JOURNAL_SLOW   10000


typedef struct {
    /* the thread's while a task is posted, the event loop's otherwise */
    ngx_fd_t                  fd;
    uint64_t                  file_generation;
    ngx_uint_t                files;
    ngx_pid_t                 pid;
    u_char                   *prefix;      /* "<folder>/<name>.journal." */
    u_char                   *dir;
    u_char                   *path;        /* of the file open */

    /* the write: sealed records, for a file of generation or later */
    u_char                   *buf;
    size_t                    len;
    uint64_t                  generation;

    /* its outcome */
    ngx_err_t                 err;
    const char               *what;
} ngx_http_ttai_kv_journal_io_t;


/* this process's journal of one zone */
typedef struct {
    ngx_uint_t                zone;
    ngx_thread_task_t        *task;
    ngx_http_ttai_kv_journal_io_t  io;
    ngx_uint_t                busy;

    /* records waiting for the next write, and who waits for them */
    u_char                   *pending;
    size_t                    pending_len;
    size_t                    pending_size;
    uint64_t                  pending_generation;
    ngx_queue_t               pending_waiters;

    /* the buffer of the write in flight, kept for the one after */
    size_t                    writing_size;
    ngx_queue_t               writing_waiters;

    /* ev->data of the timers: ngx_event_ident() reads its fd */
    ngx_connection_t          conn;
    ngx_event_t               retry;

    /*
     * Armed while requests wait on a write: a worker that shuts down
     * gracefully waits for the timers that cannot be cancelled, so it
     * answers them before it exits
     */
    ngx_event_t               hold;
} ngx_http_ttai_kv_journal_t;


/* a journal file read at start */
typedef struct {
    u_char                   *name;
    u_char                   *buf;
    uint64_t                  generation;
    ngx_uint_t                has;         /* rec holds its next record */
    ttai_kvjournal_reader_t   rd;
    ttai_kvjournal_record_t   rec;
} ngx_http_ttai_kv_journal_file_t;


typedef struct {
    ngx_uint_t                applied;
    ngx_uint_t                known;       /* in the snapshot already */
    ngx_uint_t                expired;
    ngx_uint_t                invalid;
    ngx_uint_t                nofit;
    ngx_uint_t                torn;
} ngx_http_ttai_kv_journal_counts_t;


static ngx_http_ttai_kv_journal_t *ngx_http_ttai_kv_journal_get(
    ngx_http_ttai_kv_t *kv, ngx_log_t *log);
static ngx_int_t ngx_http_ttai_kv_journal_paths(
    ngx_http_ttai_kv_journal_t *j, ngx_http_ttai_kv_t *kv, ngx_log_t *log);
static ngx_int_t ngx_http_ttai_kv_journal_grow(ngx_http_ttai_kv_journal_t *j,
    size_t size, ngx_log_t *log);
static void ngx_http_ttai_kv_journal_post(ngx_http_ttai_kv_journal_t *j,
    ngx_http_ttai_kv_t *kv);
static void ngx_http_ttai_kv_journal_thread(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_ttai_kv_journal_create(
    ngx_http_ttai_kv_journal_io_t *io);
static ngx_int_t ngx_http_ttai_kv_journal_write(ngx_fd_t fd, u_char *buf,
    size_t len);
static void ngx_http_ttai_kv_journal_done(ngx_event_t *ev);
static void ngx_http_ttai_kv_journal_retry(ngx_event_t *ev);
static void ngx_http_ttai_kv_journal_slow(ngx_event_t *ev);
static ngx_int_t ngx_http_ttai_kv_journal_name(ngx_http_ttai_kv_t *kv,
    u_char *name, size_t len, uint64_t *generation);
static ngx_int_t ngx_http_ttai_kv_journal_read(ngx_http_ttai_kv_t *kv,
    ngx_pool_t *pool, ngx_http_ttai_kv_journal_file_t *f,
    ngx_http_ttai_kv_journal_counts_t *n, ngx_log_t *log);
static void ngx_http_ttai_kv_journal_advance(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_journal_file_t *f,
    ngx_http_ttai_kv_journal_counts_t *n, ngx_log_t *log);
static void ngx_http_ttai_kv_journal_apply(ngx_http_ttai_kv_t *kv,
    ttai_kvjournal_record_t *rec, uint64_t now,
    ngx_http_ttai_kv_journal_counts_t *n);


static ngx_http_ttai_kv_journal_t  *ngx_http_ttai_kv_journals[
                                                   NGX_HTTP_TTAI_KV_ZONES];


char *
ngx_http_ttai_kv_journal_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_kv_t *kv)
{
    u_char  *p, *slash;

    if (kv->journal == NGX_CONF_UNSET) {
        kv->journal = (kv->snapshot.len != 0);
    }

    if (kv->snapshot.len == 0) {
        if (kv->journal) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: KV zone \"%V\" has \"journal=on\" but no "
                          "snapshot: the journal is replayed over one; set "
                          "\"ttai_state_dir\" or \"snapshot=PATH\"",
                          &kv->name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    /* known even with the journal off: a start replays what is there */

    slash = kv->snapshot.data + kv->snapshot.len;

    while (slash > kv->snapshot.data && slash[-1] != '/') {
        slash--;
    }

    if (slash == kv->snapshot.data) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: KV zone \"%V\": the snapshot \"%V\" has no "
                      "folder", &kv->name, &kv->snapshot);
        return NGX_CONF_ERROR;
    }

    kv->journal_dir.len = (slash - 1 > kv->snapshot.data)
                          ? (size_t) (slash - 1 - kv->snapshot.data) : 1;
    kv->journal_dir.data = ngx_pnalloc(cf->pool, kv->journal_dir.len + 1);

    kv->journal_prefix.len = slash - kv->snapshot.data + kv->name.len
                             + sizeof(".journal.") - 1;
    kv->journal_prefix.data = ngx_pnalloc(cf->pool,
                                          kv->journal_prefix.len + 1);

    if (kv->journal_dir.data == NULL || kv->journal_prefix.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(kv->journal_dir.data, kv->snapshot.data,
                   kv->journal_dir.len);
    *p = '\0';

    p = ngx_cpymem(kv->journal_prefix.data, kv->snapshot.data,
                   slash - kv->snapshot.data);
    p = ngx_sprintf(p, "%V.journal.%Z", &kv->name);

    /*
     * The journal and the periodic snapshot use the database's pool when
     * there is one, else nginx's "default" for the journal.  A zone with
     * neither writes its snapshot on the event loop.
     */

#if (NGX_THREADS)

    if (tmcf->db != NULL && tmcf->db->thread_pool != NULL) {
        kv->thread_pool = tmcf->db->thread_pool;
    }

#endif

    if (!kv->journal) {
        return NGX_CONF_OK;
    }

#if (NGX_THREADS)

    if (kv->thread_pool == NULL) {
        kv->thread_pool = ngx_thread_pool_add(cf, NULL);

        if (kv->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;

#else

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "ttai: the journal of KV zone \"%V\" needs an nginx built "
                  "with thread pools (--with-threads); or set "
                  "\"journal=off\"", &kv->name);
    return NGX_CONF_ERROR;

#endif
}


ngx_int_t
ngx_http_ttai_kv_journal_gate_locked(ngx_http_ttai_kv_t *kv, uint64_t now,
    ngx_err_t *err)
{
    if (kv->sh->journal_err == 0) {
        return NGX_OK;
    }

    if (now < kv->sh->probe) {
        *err = kv->sh->journal_err;
        return NGX_ABORT;
    }

    /* this change tries the journal again; the next one waits a while */
    kv->sh->probe = now + NGX_HTTP_TTAI_KV_JOURNAL_PROBE;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_kv_journal_append(ngx_http_ttai_kv_t *kv,
    ttai_kvjournal_record_t *rec, uint64_t generation,
    ngx_http_ttai_kv_wait_t *w, ngx_log_t *log)
{
    size_t                       n;
    ngx_http_request_t          *r;
    ngx_http_ttai_kv_journal_t  *j;

    j = ngx_http_ttai_kv_journal_get(kv, log);
    if (j == NULL) {
        return NGX_ERROR;
    }

    n = ttai_kvjournal_record_size(rec->key_len, rec->metadata_len,
                                   rec->value_len);

    if (ngx_http_ttai_kv_journal_grow(j, n, log) != NGX_OK) {
        return NGX_ERROR;
    }

    n = ttai_kvjournal_record_encode(j->pending + j->pending_len, rec);

    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "ttai: KV zone \"%V\": a change could not be "
                      "journaled", &kv->name);
        return NGX_ERROR;
    }

    j->pending_len += n;

    if (generation > j->pending_generation) {
        j->pending_generation = generation;
    }

    if (w != NULL) {
        w->err = 0;
        ngx_queue_insert_tail(&j->pending_waiters, &w->queue);

        /* the request must outlive the write, as for aio */
        r = w->request;
        r->main->blocked++;
        r->main->count++;
    }

    ngx_http_ttai_kv_journal_post(j, kv);

    return (w != NULL) ? NGX_AGAIN : NGX_OK;
}


static ngx_http_ttai_kv_journal_t *
ngx_http_ttai_kv_journal_get(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    ngx_http_ttai_kv_journal_t  *j;

    j = ngx_http_ttai_kv_journals[kv->zone];

    if (j != NULL) {
        return j;
    }

    j = ngx_calloc(sizeof(ngx_http_ttai_kv_journal_t), log);
    if (j == NULL) {
        return NULL;
    }

    j->task = ngx_calloc(sizeof(ngx_thread_task_t), log);
    if (j->task == NULL) {
        ngx_free(j);
        return NULL;
    }

    j->zone = kv->zone;
    j->io.fd = NGX_INVALID_FILE;
    j->io.pid = ngx_pid;

    if (ngx_http_ttai_kv_journal_paths(j, kv, log) != NGX_OK) {
        ngx_free(j->task);
        ngx_free(j);
        return NULL;
    }

    ngx_queue_init(&j->pending_waiters);
    ngx_queue_init(&j->writing_waiters);

    j->task->ctx = &j->io;
    j->task->handler = ngx_http_ttai_kv_journal_thread;
    j->task->event.handler = ngx_http_ttai_kv_journal_done;
    j->task->event.data = j;
    j->task->event.log = ngx_cycle->log;

    j->conn.fd = (ngx_socket_t) -1;

    j->retry.handler = ngx_http_ttai_kv_journal_retry;
    j->retry.data = &j->conn;
    j->retry.log = ngx_cycle->log;
    j->retry.cancelable = 1;

    j->hold.handler = ngx_http_ttai_kv_journal_slow;
    j->hold.data = &j->conn;
    j->hold.log = ngx_cycle->log;

    /* this process's journal lives as long as the process */
    ngx_http_ttai_kv_journals[kv->zone] = j;

    return j;
}


/* copies of the zone's paths, which a reload without a master may move */

static ngx_int_t
ngx_http_ttai_kv_journal_paths(ngx_http_ttai_kv_journal_t *j,
    ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    u_char  *prefix, *dir, *path;

    if (j->io.prefix != NULL
        && ngx_strcmp(j->io.prefix, kv->journal_prefix.data) == 0)
    {
        return NGX_OK;
    }

    prefix = ngx_alloc(kv->journal_prefix.len + 1, log);
    dir = ngx_alloc(kv->journal_dir.len + 1, log);
    path = ngx_alloc(kv->journal_prefix.len + 3 * NGX_INT64_LEN + 3, log);

    if (prefix == NULL || dir == NULL || path == NULL) {
        ngx_free(prefix);
        ngx_free(dir);
        ngx_free(path);
        return NGX_ERROR;
    }

    ngx_memcpy(prefix, kv->journal_prefix.data, kv->journal_prefix.len + 1);
    ngx_memcpy(dir, kv->journal_dir.data, kv->journal_dir.len + 1);
    *path = '\0';

    if (j->io.prefix != NULL) {
        ngx_free(j->io.prefix);
        ngx_free(j->io.dir);
        ngx_free(j->io.path);
    }

    /* a file elsewhere is of no use: the next write makes one here */
    if (j->io.fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(j->io.fd);
        j->io.fd = NGX_INVALID_FILE;
    }

    j->io.prefix = prefix;
    j->io.dir = dir;
    j->io.path = path;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_kv_journal_grow(ngx_http_ttai_kv_journal_t *j, size_t size,
    ngx_log_t *log)
{
    u_char  *p;
    size_t   want;

    if (j->pending_size - j->pending_len >= size) {
        return NGX_OK;
    }

    want = ngx_max(j->pending_len + size,
                   ngx_max(2 * j->pending_size,
                           (size_t) NGX_HTTP_TTAI_KV_JOURNAL_BUF));

    p = ngx_alloc(want, log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (j->pending != NULL) {
        ngx_memcpy(p, j->pending, j->pending_len);
        ngx_free(j->pending);
    }

    j->pending = p;
    j->pending_size = want;

    return NGX_OK;
}


/* hands what is queued to the thread pool, unless a write is in flight */

static void
ngx_http_ttai_kv_journal_post(ngx_http_ttai_kv_journal_t *j,
    ngx_http_ttai_kv_t *kv)
{
    u_char  *buf;
    size_t   size;

    if (j->busy || j->pending_len == 0 || j->retry.timer_set) {
        return;
    }

#if (NGX_THREADS)

    if (ngx_http_ttai_kv_journal_paths(j, kv, ngx_cycle->log) != NGX_OK) {
        ngx_add_timer(&j->retry, NGX_HTTP_TTAI_KV_JOURNAL_RETRY);
        return;
    }

    /* the two buffers change places: the pending one is written */
    buf = j->io.buf;
    size = j->writing_size;

    j->io.buf = j->pending;
    j->io.len = j->pending_len;
    j->io.generation = j->pending_generation;
    j->writing_size = j->pending_size;

    j->pending = buf;
    j->pending_size = size;
    j->pending_len = 0;
    j->pending_generation = 0;

    ngx_queue_add(&j->writing_waiters, &j->pending_waiters);
    ngx_queue_init(&j->pending_waiters);

    if (ngx_thread_task_post(kv->thread_pool, j->task) == NGX_OK) {
        j->busy = 1;

        if (!ngx_queue_empty(&j->writing_waiters)) {
            ngx_add_timer(&j->hold, NGX_HTTP_TTAI_KV_JOURNAL_SLOW);
        }

        return;
    }

    /* the pool's queue is full: all back as it was, and soon again */

    j->pending = j->io.buf;
    j->pending_size = j->writing_size;
    j->pending_len = j->io.len;
    j->pending_generation = j->io.generation;

    j->io.buf = buf;
    j->writing_size = size;

    ngx_queue_add(&j->pending_waiters, &j->writing_waiters);
    ngx_queue_init(&j->writing_waiters);

    ngx_add_timer(&j->retry, NGX_HTTP_TTAI_KV_JOURNAL_RETRY);

#endif
}


static void
ngx_http_ttai_kv_journal_retry(ngx_event_t *ev)
{
    ngx_uint_t                   i;
    ngx_http_ttai_kv_t          *kv;
    ngx_http_ttai_kv_journal_t  *j;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        j = ngx_http_ttai_kv_journals[i];

        if (j == NULL || &j->retry != ev) {
            continue;
        }

        kv = ngx_http_ttai_kv_current(j->zone);

        if (kv != NULL && kv->journal) {
            ngx_http_ttai_kv_journal_post(j, kv);
        }
    }
}


static void
ngx_http_ttai_kv_journal_slow(ngx_event_t *ev)
{
    ngx_uint_t                   i;
    ngx_http_ttai_kv_t          *kv;
    ngx_http_ttai_kv_journal_t  *j;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        j = ngx_http_ttai_kv_journals[i];

        if (j == NULL || &j->hold != ev) {
            continue;
        }

        /* the thread may be naming a new file: its path is not read */
        kv = ngx_http_ttai_kv_current(j->zone);

        if (kv != NULL) {
            ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                          "ttai: KV zone \"%V\": a write of its journal "
                          "has been running for more than %d s", &kv->name,
                          NGX_HTTP_TTAI_KV_JOURNAL_SLOW / 1000);
        }

        ngx_add_timer(ev, NGX_HTTP_TTAI_KV_JOURNAL_SLOW);
    }
}


/*
 * In a thread: seals the records, makes a new file when the open one is
 * of an older generation, was removed (a reset of the state folder) or
 * failed before, appends, and syncs.  A new file's folder is synced too,
 * so that the file is found after a crash.
 */

static void
ngx_http_ttai_kv_journal_thread(void *data, ngx_log_t *log)
{
    ngx_http_ttai_kv_journal_io_t *io = data;

    ngx_fd_t         dir;
    ngx_uint_t       created;
    ngx_file_info_t  fi;

    io->err = 0;
    io->what = NULL;
    created = 0;

    if (ttai_kvjournal_seal(io->buf, io->len) != 0) {
        io->err = NGX_EINVAL;
        io->what = "sealing records for";
        return;
    }

    if (io->fd != NGX_INVALID_FILE
        && (io->file_generation < io->generation
            || ngx_fd_info(io->fd, &fi) == NGX_FILE_ERROR
            || fi.st_nlink == 0))
    {
        (void) ngx_close_file(io->fd);
        io->fd = NGX_INVALID_FILE;
    }

    if (io->fd == NGX_INVALID_FILE) {
        if (ngx_http_ttai_kv_journal_create(io) != NGX_OK) {
            return;
        }

        created = 1;
    }

    if (ngx_http_ttai_kv_journal_write(io->fd, io->buf, io->len) != NGX_OK) {
        io->err = ngx_errno;
        io->what = "writing";
        goto abandon;
    }

    if (fdatasync(io->fd) == -1) {
        io->err = ngx_errno;
        io->what = "syncing";
        goto abandon;
    }

    if (!created) {
        return;
    }

    dir = ngx_open_file(io->dir, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (dir == NGX_INVALID_FILE || fsync(dir) == -1) {
        io->err = ngx_errno;
        io->what = "syncing the folder of";

        if (dir != NGX_INVALID_FILE) {
            (void) ngx_close_file(dir);
        }

        goto abandon;
    }

    (void) ngx_close_file(dir);

    return;

abandon:

    /* its tail may be torn: whatever comes next goes to a new file */
    (void) ngx_close_file(io->fd);
    io->fd = NGX_INVALID_FILE;
}


static ngx_int_t
ngx_http_ttai_kv_journal_create(ngx_http_ttai_kv_journal_io_t *io)
{
    ngx_fd_t    fd;
    ngx_uint_t  i;
    u_char      header[TTAI_KVJOURNAL_HEADER_LEN];

    fd = NGX_INVALID_FILE;

    for (i = 0; i < NGX_HTTP_TTAI_KV_JOURNAL_NAMES; i++) {

        if (io->files == 0) {
            ngx_sprintf(io->path, "%s%uL.%P%Z", io->prefix, io->generation,
                        io->pid);

        } else {
            ngx_sprintf(io->path, "%s%uL.%P.%ui%Z", io->prefix,
                        io->generation, io->pid, io->files);
        }

        io->files++;

        /* never an older file: a process of the same pid left its tail */
        fd = open((char *) io->path, O_WRONLY|O_CREAT|O_EXCL|O_APPEND,
                  NGX_FILE_OWNER_ACCESS);

        if (fd != NGX_INVALID_FILE || ngx_errno != NGX_EEXIST) {
            break;
        }
    }

    if (fd == NGX_INVALID_FILE) {
        io->err = ngx_errno;
        io->what = "creating";
        return NGX_ERROR;
    }

    ttai_kvjournal_header(header, io->generation, (uint64_t) time(NULL)
                                                  * 1000);

    if (ngx_http_ttai_kv_journal_write(fd, header, sizeof(header)) != NGX_OK)
    {
        io->err = ngx_errno;
        io->what = "writing";
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(io->path);
        return NGX_ERROR;
    }

    io->fd = fd;
    io->file_generation = io->generation;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_kv_journal_write(ngx_fd_t fd, u_char *buf, size_t len)
{
    ssize_t  n;

    while (len) {
        n = ngx_write_fd(fd, buf, len);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return NGX_ERROR;
        }

        buf += n;
        len -= n;
    }

    return NGX_OK;
}


/* on the event loop: the write is done; its requests are answered */

static void
ngx_http_ttai_kv_journal_done(ngx_event_t *ev)
{
    ngx_http_ttai_kv_journal_t *j = ev->data;

    uint64_t                  now;
    ngx_err_t                 err;
    ngx_int_t                 rc;
    ngx_uint_t                n, recovered;
    ngx_queue_t               done, *q;
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_ttai_kv_t       *kv;
    ngx_http_ttai_kv_wait_t  *w;

    static ngx_str_t  gone = ngx_string("(gone)");

    j->busy = 0;

    if (j->hold.timer_set) {
        ngx_del_timer(&j->hold);
    }

    err = j->io.err;
    kv = ngx_http_ttai_kv_current(j->zone);
    recovered = 0;

    if (kv != NULL) {
        now = ngx_http_ttai_kv_now();

        ngx_shmtx_lock(&kv->shpool->mutex);

        if (err) {
            kv->sh->journal_err = err;
            kv->sh->probe = now + NGX_HTTP_TTAI_KV_JOURNAL_PROBE;

        } else if (kv->sh->journal_err) {
            kv->sh->journal_err = 0;
            recovered = 1;
        }

        ngx_shmtx_unlock(&kv->shpool->mutex);
    }

    n = 0;

    for (q = ngx_queue_head(&j->writing_waiters);
         q != ngx_queue_sentinel(&j->writing_waiters);
         q = ngx_queue_next(q))
    {
        n++;
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, ev->log, err,
                      "ttai: KV zone \"%V\": %s the journal \"%s\" failed; "
                      "%ui waiting %s refused until it works again",
                      kv ? &kv->name : &gone,
                      j->io.what, j->io.path, n,
                      n == 1 ? "change is" : "changes are");

    } else if (recovered) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "ttai: KV zone \"%V\": its journal works again",
                      &kv->name);
    }

    if (j->writing_size > NGX_HTTP_TTAI_KV_JOURNAL_KEEP) {
        ngx_free(j->io.buf);
        j->io.buf = NULL;
        j->writing_size = 0;
    }

    /* the next batch goes out before this one's requests are answered */

    ngx_queue_init(&done);
    ngx_queue_add(&done, &j->writing_waiters);
    ngx_queue_init(&j->writing_waiters);

    if (kv != NULL && kv->journal) {
        ngx_http_ttai_kv_journal_post(j, kv);
    }

    while (!ngx_queue_empty(&done)) {
        q = ngx_queue_head(&done);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_ttai_kv_wait_t, queue);
        w->err = err;

        r = w->request;
        c = r->connection;

        ngx_http_set_log_request(c->log, r);

        r->main->blocked--;

        rc = w->handler(r, w);

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


void
ngx_http_ttai_kv_journal_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i;
    ngx_http_ttai_kv_journal_t  *j;

    for (i = 0; i < NGX_HTTP_TTAI_KV_ZONES; i++) {
        j = ngx_http_ttai_kv_journals[i];

        if (j == NULL) {
            continue;
        }

        ngx_http_ttai_kv_journals[i] = NULL;

        if (j->retry.timer_set) {
            ngx_del_timer(&j->retry);
        }

        if (j->hold.timer_set) {
            ngx_del_timer(&j->hold);
        }

        /*
         * The thread pools are gone by now (their module exits first,
         * after running what was queued), so this process is the only
         * writer: the records still queued are written here, as the
         * snapshot at exit is.
         */

        if (j->pending_len) {
            ngx_free(j->io.buf);

            j->io.buf = j->pending;
            j->io.len = j->pending_len;
            j->io.generation = j->pending_generation;
            j->pending = NULL;

            ngx_http_ttai_kv_journal_thread(&j->io, cycle->log);

            if (j->io.err) {
                ngx_log_error(NGX_LOG_ERR, cycle->log, j->io.err,
                              "ttai: %s the journal \"%s\" at exit failed",
                              j->io.what, j->io.path);
            }
        }

        if (j->io.fd != NGX_INVALID_FILE) {
            (void) ngx_close_file(j->io.fd);
        }

        ngx_free(j->io.buf);
        ngx_free(j->pending);
        ngx_free(j->io.prefix);
        ngx_free(j->io.dir);
        ngx_free(j->io.path);
        ngx_free(j->task);
        ngx_free(j);
    }
}


/* start: the snapshot is loaded, the journal's later changes follow */

void
ngx_http_ttai_kv_journal_replay(ngx_http_ttai_kv_t *kv, uint64_t seq,
    ngx_log_t *log)
{
    u_char                             *name;
    size_t                              len;
    uint64_t                            now, max, last, generation;
    ngx_err_t                           err;
    ngx_dir_t                           dir;
    ngx_uint_t                          i, nfiles;
    ngx_pool_t                         *pool;
    ngx_array_t                         files;
    ngx_http_ttai_kv_journal_file_t    *f, *next;
    ngx_http_ttai_kv_journal_counts_t   n;

    ngx_memzero(&n, sizeof(ngx_http_ttai_kv_journal_counts_t));

    /* the numbers go on from the snapshot's, whatever follows */
    max = seq;
    last = 0;
    generation = 0;

    if (kv->journal_dir.len == 0) {
        goto done;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        goto done;
    }

    if (ngx_array_init(&files, pool, 8,
                       sizeof(ngx_http_ttai_kv_journal_file_t))
        != NGX_OK)
    {
        goto free;
    }

    if (ngx_open_dir(&kv->journal_dir, &dir) == NGX_ERROR) {
        err = ngx_errno;

        if (err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          "ttai: KV zone \"%V\": its journal cannot be "
                          "read: " ngx_open_dir_n " \"%V\" failed",
                          &kv->name, &kv->journal_dir);
        }

        goto free;
    }

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dir) == NGX_ERROR) {
            err = ngx_errno;

            if (err != NGX_ENOMOREFILES) {
                ngx_log_error(NGX_LOG_ERR, log, err,
                              "ttai: KV zone \"%V\": " ngx_read_dir_n
                              " \"%V\" failed", &kv->name,
                              &kv->journal_dir);
            }

            break;
        }

        len = ngx_de_namelen(&dir);

        if (ngx_http_ttai_kv_journal_name(kv, ngx_de_name(&dir), len,
                                          &generation)
            != NGX_OK)
        {
            continue;
        }

        if (generation > last) {
            last = generation;
        }

        name = ngx_pnalloc(pool, kv->journal_dir.len + len + 2);
        if (name == NULL) {
            break;
        }

        f = ngx_array_push(&files);
        if (f == NULL) {
            break;
        }

        ngx_memzero(f, sizeof(ngx_http_ttai_kv_journal_file_t));

        ngx_sprintf(name, "%V/%*s%Z", &kv->journal_dir, len,
                    ngx_de_name(&dir));

        f->name = name;
        f->generation = generation;
    }

    (void) ngx_close_dir(&dir);

    f = files.elts;
    nfiles = 0;

    for (i = 0; i < files.nelts; i++) {
        if (ngx_http_ttai_kv_journal_read(kv, pool, &f[i], &n, log)
            == NGX_OK)
        {
            nfiles++;
        }
    }

    /*
     * Each file is in the order of its numbers: a merge of the files
     * applies every change in the order it was made, whichever process
     * made it.
     */

    now = ngx_http_ttai_kv_now();

    ngx_shmtx_lock(&kv->shpool->mutex);

    for ( ;; ) {
        next = NULL;

        for (i = 0; i < files.nelts; i++) {
            if (f[i].has && (next == NULL || f[i].rec.seq < next->rec.seq)) {
                next = &f[i];
            }
        }

        if (next == NULL) {
            break;
        }

        if (next->rec.seq > max) {
            max = next->rec.seq;
        }

        if (next->rec.seq > seq) {
            ngx_http_ttai_kv_journal_apply(kv, &next->rec, now, &n);

        } else {
            n.known++;
        }

        ngx_http_ttai_kv_journal_advance(kv, next, &n, log);
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);

    if (nfiles) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "ttai: KV zone \"%V\" replayed %ui changes from %ui "
                      "journal files (%ui in the snapshot already, %ui "
                      "expired, %ui past the limits, %ui did not fit, %ui "
                      "torn tails ignored)", &kv->name, n.applied, nfiles,
                      n.known, n.expired, n.invalid, n.nofit, n.torn);
    }

free:

    for (i = 0; i < files.nelts; i++) {
        if (((ngx_http_ttai_kv_journal_file_t *) files.elts)[i].buf != NULL) {
            ngx_free(((ngx_http_ttai_kv_journal_file_t *) files.elts)[i].buf);
        }
    }

    ngx_destroy_pool(pool);

done:

    ngx_shmtx_lock(&kv->shpool->mutex);

    if (max > kv->sh->seq) {
        kv->sh->seq = max;
    }

    /* new files are of a generation no file on disk has */
    if (last + 1 > kv->sh->generation) {
        kv->sh->generation = last + 1;
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);
}


/* "<name>.journal.<generation>.": NGX_OK with the generation */

static ngx_int_t
ngx_http_ttai_kv_journal_name(ngx_http_ttai_kv_t *kv, u_char *name,
    size_t len, uint64_t *generation)
{
    u_char    *p, *last, *base, *digits;
    size_t     n;
    uint64_t   g;

    base = kv->journal_prefix.data + kv->journal_dir.len + 1;
    n = kv->journal_prefix.len - kv->journal_dir.len - 1;

    if (len <= n || ngx_strncmp(name, base, n) != 0) {
        return NGX_DECLINED;
    }

    p = name + n;
    last = name + len;
    g = 0;

    if (p == last || *p < '0' || *p > '9') {
        return NGX_DECLINED;
    }

    /* 19 digits at most: the number fits in 64 bits */
    for (digits = p; p < last && *p >= '0' && *p <= '9'; p++) {
        if (p - digits == 19) {
            return NGX_DECLINED;
        }

        g = g * 10 + (*p - '0');
    }

    if (p == last || *p != '.') {
        return NGX_DECLINED;
    }

    *generation = g;

    return NGX_OK;
}


/* reads a whole file and its first record: NGX_OK when it has one */

static ngx_int_t
ngx_http_ttai_kv_journal_read(ngx_http_ttai_kv_t *kv, ngx_pool_t *pool,
    ngx_http_ttai_kv_journal_file_t *f, ngx_http_ttai_kv_journal_counts_t *n,
    ngx_log_t *log)
{
    off_t                    size, got;
    ssize_t                  r;
    ngx_fd_t                 fd;
    ngx_int_t                rc;
    ngx_file_info_t          fi;
    ttai_kvjournal_error_t   e;

    fd = ngx_open_file(f->name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "ttai: KV zone \"%V\": cannot open the journal \"%s\"",
                      &kv->name, f->name);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "ttai: KV zone \"%V\": " ngx_fd_info_n " \"%s\" failed",
                      &kv->name, f->name);
        goto close;
    }

    size = ngx_file_size(&fi);

    f->buf = ngx_alloc(size ? size : 1, log);
    if (f->buf == NULL) {
        goto close;
    }

    for (got = 0; got < size; got += r) {
        r = ngx_read_fd(fd, f->buf + got, (size_t) (size - got));

        if (r == -1 && ngx_errno == NGX_EINTR) {
            r = 0;
            continue;
        }

        if (r <= 0) {
            ngx_log_error(NGX_LOG_ERR, log, (r == -1) ? ngx_errno : 0,
                          "ttai: KV zone \"%V\": cannot read the journal "
                          "\"%s\"", &kv->name, f->name);
            goto close;
        }
    }

    switch (ttai_kvjournal_open(&f->rd, f->buf, (size_t) size, &e)) {

    case 1:
        ngx_http_ttai_kv_journal_advance(kv, f, n, log);
        rc = f->has ? NGX_OK : NGX_DECLINED;
        break;

    case 0:
        /* made, then stopped before its header: nothing was in it */
        rc = NGX_DECLINED;
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ttai: KV zone \"%V\": the journal \"%s\" is refused: "
                      "%s", &kv->name, f->name, e.msg);
    }

close:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", f->name);
    }

    return rc;
}


static void
ngx_http_ttai_kv_journal_advance(ngx_http_ttai_kv_t *kv,
    ngx_http_ttai_kv_journal_file_t *f, ngx_http_ttai_kv_journal_counts_t *n,
    ngx_log_t *log)
{
    ttai_kvjournal_error_t  e;

    switch (ttai_kvjournal_next(&f->rd, &f->rec, &e)) {

    case 1:
        f->has = 1;
        return;

    case 0:
        f->has = 0;
        return;

    default:
        /* what a crash cut short was never acknowledged */
        f->has = 0;
        n->torn++;

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ttai: KV zone \"%V\": the journal \"%s\" ends in a "
                      "torn tail, ignored after %uL records: %s",
                      &kv->name, f->name, f->rd.count, e.msg);
    }
}


/* with the zone locked; the limits of this build may be smaller */

static void
ngx_http_ttai_kv_journal_apply(ngx_http_ttai_kv_t *kv,
    ttai_kvjournal_record_t *rec, uint64_t now,
    ngx_http_ttai_kv_journal_counts_t *n)
{
    ngx_str_t                  key;
    ngx_uint_t                 evicted;
    ngx_queue_t               *q;
    ngx_http_ttai_kv_node_t   *kn;
    ngx_http_ttai_kv_entry_t   entry;

    key.data = (u_char *) rec->key;
    key.len = rec->key_len;

    switch (rec->op) {

    case TTAI_KVJOURNAL_PUT:

        if (rec->key_len > NGX_HTTP_TTAI_KV_MAX_KEY
            || rec->metadata_len > NGX_HTTP_TTAI_KV_MAX_METADATA
            || rec->value_len > NGX_HTTP_TTAI_KV_MAX_VALUE
            || ngx_strlchr(key.data, key.data + key.len, '\0') != NULL)
        {
            n->invalid++;
            return;
        }

        /* the put replaced what was there, and has expired since */
        if (rec->expires != 0 && rec->expires <= now) {
            (void) ngx_http_ttai_kv_remove_locked(kv, &key);
            n->expired++;
            return;
        }

        entry.key = key;
        entry.metadata.data = (u_char *) rec->metadata;
        entry.metadata.len = rec->metadata_len;
        entry.value.data = (u_char *) rec->value;
        entry.value.len = rec->value_len;
        entry.expires = rec->expires;

        /* records come in the order they were made: evict as then */
        if (ngx_http_ttai_kv_store_locked(kv, &entry, 1, &evicted) != NGX_OK)
        {
            n->nofit++;
            return;
        }

        break;

    case TTAI_KVJOURNAL_DELETE:
        (void) ngx_http_ttai_kv_remove_locked(kv, &key);
        break;

    default: /* TTAI_KVJOURNAL_CLEAR */

        while (!ngx_queue_empty(&kv->sh->lru)) {
            q = ngx_queue_last(&kv->sh->lru);
            kn = ngx_queue_data(q, ngx_http_ttai_kv_node_t, queue);
            ngx_http_ttai_kv_free_locked(kv, ngx_http_ttai_kv_rbnode(kn));
        }
    }

    n->applied++;
}


/*
 * After a snapshot is on disk: the files of the generations before the
 * one it started hold only changes that it has.  It runs in the thread
 * that wrote the snapshot, so it neither logs nor allocates: the caller
 * gives the room for a path, and logs what it says.
 */

void
ngx_http_ttai_kv_journal_compact(ngx_http_ttai_kv_t *kv, uint64_t generation,
    u_char *path, ngx_http_ttai_kv_compact_t *out)
{
    size_t       len;
    uint64_t     g;
    ngx_err_t    err;
    ngx_dir_t    dir;

    out->removed = 0;
    out->failed = 0;
    out->err = 0;

    if (kv->journal_dir.len == 0) {
        return;
    }

    if (ngx_open_dir(&kv->journal_dir, &dir) == NGX_ERROR) {
        return;
    }

    for ( ;; ) {
        if (ngx_read_dir(&dir) == NGX_ERROR) {
            break;
        }

        len = ngx_de_namelen(&dir);

        if (len > NGX_MAX_PATH
            || ngx_http_ttai_kv_journal_name(kv, ngx_de_name(&dir), len, &g)
               != NGX_OK
            || g >= generation)
        {
            continue;
        }

        ngx_sprintf(path, "%V/%*s%Z", &kv->journal_dir, len,
                    ngx_de_name(&dir));

        if (ngx_delete_file(path) == NGX_FILE_ERROR) {
            err = ngx_errno;

            if (err != NGX_ENOENT && out->failed++ == 0) {
                out->err = err;
            }

            continue;
        }

        out->removed++;
    }

    (void) ngx_close_dir(&dir);
}
