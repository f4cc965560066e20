
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ttai_kvsnap.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_kv_zone.h"


/*
 * The KV zone's snapshot on disk, so that a restart does not lose the
 * cache.  Worker 0 writes it now and then and when it exits; the master
 * reads it when it creates the zone.  The format is in shared/.
 *
 * The periodic save runs on the zone's thread pool: writing up to the
 * zone's size and syncing it would hold the event loop for as long.  The
 * event loop sets it up (memory, names) and posts it; the thread copies,
 * writes, syncs, renames and removes the journal files the snapshot
 * holds, and notes its outcome; back on the event loop, the completion
 * handler keeps the books in shared memory and logs.  The thread touches
 * the save's own memory, the zone (under its lock) and files: no pool,
 * no log, since not every log target may be written from a thread.  At
 * most one save of a zone is in flight, and the next is timed once it is
 * done.  Without a thread pool, and at exit, the same steps run at once.
 *
 * Entries are copied out under the lock in batches, into memory of this
 * process; hashing and writing happen after unlocking.  The file appears
 * by rename(), so a reader sees the old snapshot or the new one whole.
 * A missing folder or file means an empty zone: removing the state
 * folder's kv/ is a reset.
 *
 * The snapshot records the journal's number when its copy began, and
 * moves the journal to a new generation: after a start has loaded it,
 * the journal's later changes are replayed over it, and once it is on
 * disk the older generations of the journal go.
 */


/* a batch holds the largest entry, and at most this many records */
#define NGX_HTTP_TTAI_KV_SNAP_BUF      (2 * 1024 * 1024)
#define NGX_HTTP_TTAI_KV_SNAP_RECORDS  1024


/* a save: set up on the event loop, written there or in a thread */
typedef struct {
    ngx_http_ttai_kv_t       *kv;
    ngx_uint_t                zone;
    uint64_t                  now;

    u_char                   *buf;         /* NGX_HTTP_TTAI_KV_SNAP_BUF */
    u_char                   *tmp;         /* "<snapshot>.tmp.<pid>" */
    u_char                   *path;        /* the folder, a journal file */

    /* the outcome: NGX_OK, NGX_DECLINED (nothing changed), NGX_ERROR */
    ngx_int_t                 rc;
    ngx_err_t                 err;
    ngx_uint_t                created;     /* the temporary file was */
    ngx_uint_t                changes;     /* the count the file reflects */
    uint64_t                  count;
    ngx_http_ttai_kv_compact_t  compact;

#if (NGX_THREADS)
    ngx_thread_task_t         task;

    /* set by the thread as its last write to this structure */
    volatile ngx_uint_t       finished;
#endif
} ngx_http_ttai_kv_save_t;


static uint64_t ngx_http_ttai_kv_snapshot_read(ngx_http_ttai_kv_t *kv,
    ngx_log_t *log);
static ngx_int_t ngx_http_ttai_kv_snapshot_changed(ngx_http_ttai_kv_t *kv);
static ngx_http_ttai_kv_save_t *ngx_http_ttai_kv_snapshot_prepare(
    ngx_http_ttai_kv_t *kv, ngx_log_t *log);
static void ngx_http_ttai_kv_snapshot_run(ngx_http_ttai_kv_save_t *s);
static void ngx_http_ttai_kv_snapshot_finish(ngx_http_ttai_kv_save_t *s,
    const char *where, ngx_log_t *log);
static void ngx_http_ttai_kv_snapshot_free(ngx_http_ttai_kv_save_t *s);
#if (NGX_THREADS)
static void ngx_http_ttai_kv_snapshot_thread(void *data, ngx_log_t *log);
static void ngx_http_ttai_kv_snapshot_done(ngx_event_t *ev);
#endif
static ngx_int_t ngx_http_ttai_kv_snapshot_write(ngx_fd_t fd, u_char *buf,
    size_t len);
static void ngx_http_ttai_kv_snapshot_restore(ngx_http_ttai_kv_t *kv,
    ttai_kvsnap_reader_t *rd, ngx_log_t *log);
static void ngx_http_ttai_kv_snapshot_failed(ngx_http_ttai_kv_t *kv,
    ngx_err_t err);
static void ngx_http_ttai_kv_snapshot_refuse(ngx_http_ttai_kv_t *kv,
    ngx_log_t *log, const char *why);


/* this process's save of each zone on the thread pool, while in flight */
static ngx_http_ttai_kv_save_t  *ngx_http_ttai_kv_saving[
                                                      NGX_HTTP_TTAI_KV_ZONES];


void
ngx_http_ttai_kv_snapshot_load(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    uint64_t  seq;

    /* "nginx -t" creates the zone too; it has no use for the contents */
    if (kv->snapshot.len == 0 || ngx_test_config) {
        return;
    }

    seq = ngx_http_ttai_kv_snapshot_read(kv, log);

    /* a journal left on after a crash is replayed even if now off */
    ngx_http_ttai_kv_journal_replay(kv, seq, log);
}


/* loads the snapshot; returns the journal number it starts from */

static uint64_t
ngx_http_ttai_kv_snapshot_read(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    u_char                *buf;
    off_t                  size, limit, got;
    ssize_t                n;
    uint64_t               seq;
    ngx_fd_t               fd;
    ngx_err_t              err;
    ngx_file_info_t        fi;
    ttai_kvsnap_error_t    e;
    ttai_kvsnap_reader_t   rd;

    fd = ngx_open_file(kv->snapshot.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "ttai: KV zone \"%V\" starts empty: no snapshot "
                          "\"%V\" yet", &kv->name, &kv->snapshot);
            return 0;
        }

        ngx_log_error(NGX_LOG_ERR, log, err,
                      "ttai: KV zone \"%V\" starts empty: cannot open its "
                      "snapshot \"%V\"", &kv->name, &kv->snapshot);
        return 0;
    }

    buf = NULL;
    seq = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "ttai: KV zone \"%V\" starts empty: "
                      ngx_fd_info_n " \"%V\" failed",
                      &kv->name, &kv->snapshot);
        goto done;
    }

    size = ngx_file_size(&fi);

    /* records are smaller than the entries they stand for */
    limit = (off_t) kv->shm_zone->shm.size * 4;

    if (size > limit) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ttai: KV zone \"%V\" starts empty: its snapshot "
                      "\"%V\" has %O bytes, more than a zone of this size "
                      "could have written", &kv->name, &kv->snapshot, size);
        goto done;
    }

    buf = ngx_alloc(size ? size : 1, log);
    if (buf == NULL) {
        goto done;
    }

    for (got = 0; got < size; got += n) {
        n = ngx_read_fd(fd, buf + got, (size_t) (size - got));

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ERR, log, (n == -1) ? ngx_errno : 0,
                          "ttai: KV zone \"%V\" starts empty: cannot read "
                          "its snapshot \"%V\"", &kv->name, &kv->snapshot);
            goto done;
        }
    }

    if (ttai_kvsnap_open(&rd, buf, (size_t) size, &e) != 0) {
        ngx_http_ttai_kv_snapshot_refuse(kv, log, e.msg);
        goto done;
    }

    ngx_http_ttai_kv_snapshot_restore(kv, &rd, log);
    seq = rd.seq;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &kv->snapshot);
    }

    if (buf != NULL) {
        ngx_free(buf);
    }

    return seq;
}


static void
ngx_http_ttai_kv_snapshot_restore(ngx_http_ttai_kv_t *kv,
    ttai_kvsnap_reader_t *rd, ngx_log_t *log)
{
    uint64_t                  now;
    ngx_uint_t                restored, expired, invalid, nofit, evicted;
    ttai_kvsnap_record_t      rec;
    ngx_http_ttai_kv_entry_t  entry;

    now = ngx_http_ttai_kv_now();
    restored = 0;
    expired = 0;
    invalid = 0;
    nofit = 0;

    ngx_shmtx_lock(&kv->shpool->mutex);

    while (ttai_kvsnap_next(rd, &rec)) {

        if (rec.expires != 0 && rec.expires <= now) {
            expired++;
            continue;
        }

        /* the limits of this build may be smaller than the writer's */
        if (rec.key_len > NGX_HTTP_TTAI_KV_MAX_KEY
            || rec.metadata_len > NGX_HTTP_TTAI_KV_MAX_METADATA
            || rec.value_len > NGX_HTTP_TTAI_KV_MAX_VALUE
            || ngx_strlchr((u_char *) rec.key,
                           (u_char *) rec.key + rec.key_len, '\0')
               != NULL)
        {
            invalid++;
            continue;
        }

        entry.key.data = (u_char *) rec.key;
        entry.key.len = rec.key_len;
        entry.metadata.data = (u_char *) rec.metadata;
        entry.metadata.len = rec.metadata_len;
        entry.value.data = (u_char *) rec.value;
        entry.value.len = rec.value_len;
        entry.expires = rec.expires;

        /* key order is not LRU order: evicting would drop at random */
        if (ngx_http_ttai_kv_store_locked(kv, &entry, 0, &evicted) != NGX_OK)
        {
            nofit++;
            continue;
        }

        restored++;
    }

    /* the file already holds what the zone holds now */
    kv->sh->saved = kv->sh->changes;

    ngx_shmtx_unlock(&kv->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "ttai: KV zone \"%V\" restored %ui entries from \"%V\" "
                  "(%ui expired, %ui past the limits, %ui did not fit)",
                  &kv->name, restored, &kv->snapshot, expired, invalid,
                  nofit);
}


/*
 * A refused file is kept aside for a look, under a name no start reads,
 * so that it is reported once and the next snapshot can take its place.
 */

static void
ngx_http_ttai_kv_snapshot_refuse(ngx_http_ttai_kv_t *kv, ngx_log_t *log,
    const char *why)
{
    u_char  *bad, *p;

    bad = ngx_alloc(kv->snapshot.len + sizeof(".bad"), log);

    if (bad != NULL) {
        p = ngx_cpymem(bad, kv->snapshot.data, kv->snapshot.len);
        ngx_memcpy(p, ".bad", sizeof(".bad"));

        if (ngx_rename_file(kv->snapshot.data, bad) == NGX_FILE_ERROR) {
            ngx_free(bad);
            bad = NULL;
        }
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ttai: KV zone \"%V\" starts empty: snapshot \"%V\" "
                  "refused: %s%s%s", &kv->name, &kv->snapshot, why,
                  bad ? "; it was moved to " : "",
                  bad ? (char *) bad : "");

    if (bad != NULL) {
        ngx_free(bad);
    }
}


ngx_int_t
ngx_http_ttai_kv_snapshot_save(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    ngx_int_t                 rc;
    ngx_http_ttai_kv_save_t  *s;

    if (kv->snapshot.len == 0 || !ngx_http_ttai_kv_snapshot_changed(kv)) {
        return NGX_DECLINED;
    }

    s = ngx_http_ttai_kv_snapshot_prepare(kv, log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ttai_kv_snapshot_run(s);
    ngx_http_ttai_kv_snapshot_finish(s, "", log);

    rc = s->rc;

    ngx_http_ttai_kv_snapshot_free(s);

    return rc;
}


ngx_int_t
ngx_http_ttai_kv_snapshot_start(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
#if (NGX_THREADS)

    ngx_http_ttai_kv_save_t  *s;

    if (kv->thread_pool == NULL) {
        return ngx_http_ttai_kv_snapshot_save(kv, log);
    }

    if (ngx_http_ttai_kv_saving[kv->zone] != NULL) {
        return NGX_AGAIN;
    }

    if (kv->snapshot.len == 0 || !ngx_http_ttai_kv_snapshot_changed(kv)) {
        return NGX_DECLINED;
    }

    s = ngx_http_ttai_kv_snapshot_prepare(kv, log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->task.ctx = s;
    s->task.handler = ngx_http_ttai_kv_snapshot_thread;
    s->task.event.handler = ngx_http_ttai_kv_snapshot_done;
    s->task.event.data = s;
    s->task.event.log = log;

    /* a full queue has said so in the log: the next interval tries again */
    if (ngx_thread_task_post(kv->thread_pool, &s->task) != NGX_OK) {
        ngx_http_ttai_kv_snapshot_free(s);
        return NGX_ERROR;
    }

    ngx_http_ttai_kv_saving[kv->zone] = s;

    return NGX_AGAIN;

#else

    return ngx_http_ttai_kv_snapshot_save(kv, log);

#endif
}


ngx_uint_t
ngx_http_ttai_kv_snapshot_busy(ngx_uint_t zone)
{
    return ngx_http_ttai_kv_saving[zone] != NULL;
}


ngx_int_t
ngx_http_ttai_kv_snapshot_exit(ngx_uint_t zone, ngx_log_t *log)
{
#if (NGX_THREADS)

    ngx_http_ttai_kv_save_t  *s;

    s = ngx_http_ttai_kv_saving[zone];

    if (s == NULL) {
        return NGX_OK;
    }

    ngx_http_ttai_kv_saving[zone] = NULL;

    /*
     * The event loop runs no more, so the completion handler of a save in
     * flight never will.  The thread pools have stopped by now: their
     * module exits before this one, and its exit waits until every task
     * queued before it has run.  So the thread is done with this save:
     * its outcome is taken here, and the final save cannot run alongside
     * it.  Should that ever not hold, the thread is left alone with its
     * memory, and this process writes no snapshot of the zone.
     */

    if (!s->finished) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "ttai: KV zone \"%V\": a save on the thread pool is "
                      "still running at exit; the save at exit is skipped",
                      &s->kv->name);
        return NGX_DECLINED;
    }

    ngx_memory_barrier();

    ngx_http_ttai_kv_snapshot_finish(s, " on the thread pool", log);
    ngx_http_ttai_kv_snapshot_free(s);

#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_kv_snapshot_changed(ngx_http_ttai_kv_t *kv)
{
    ngx_uint_t  changed;

    ngx_shmtx_lock(&kv->shpool->mutex);
    changed = (kv->sh->changes != kv->sh->saved);
    ngx_shmtx_unlock(&kv->shpool->mutex);

    return changed;
}


/* on the event loop: what the save needs, so that the thread allocates none */

static ngx_http_ttai_kv_save_t *
ngx_http_ttai_kv_snapshot_prepare(ngx_http_ttai_kv_t *kv, ngx_log_t *log)
{
    size_t                    size;
    ngx_http_ttai_kv_save_t  *s;

    s = ngx_calloc(sizeof(ngx_http_ttai_kv_save_t), log);
    if (s == NULL) {
        goto failed;
    }

    size = ngx_max(kv->snapshot.len + 1,
                   ngx_http_ttai_kv_compact_path_size(kv));

    s->kv = kv;
    s->zone = kv->zone;
    s->now = ngx_http_ttai_kv_now();
    s->buf = ngx_alloc(NGX_HTTP_TTAI_KV_SNAP_BUF, log);
    s->tmp = ngx_alloc(kv->snapshot.len + sizeof(".tmp.") + NGX_INT64_LEN,
                       log);
    s->path = ngx_alloc(size, log);

    if (s->buf == NULL || s->tmp == NULL || s->path == NULL) {
        ngx_http_ttai_kv_snapshot_free(s);
        goto failed;
    }

    ngx_sprintf(s->tmp, "%V.tmp.%P%Z", &kv->snapshot, ngx_pid);

    return s;

failed:

    ngx_http_ttai_kv_snapshot_failed(kv, NGX_ENOMEM);

    return NULL;
}


static void
ngx_http_ttai_kv_snapshot_free(ngx_http_ttai_kv_save_t *s)
{
    ngx_free(s->buf);
    ngx_free(s->tmp);
    ngx_free(s->path);
    ngx_free(s);
}


/*
 * The save itself, on the event loop or in a thread: it neither logs
 * nor allocates, and says how it went in s.
 */

static void
ngx_http_ttai_kv_snapshot_run(ngx_http_ttai_kv_save_t *s)
{
    u_char                   *p, *last, *dir;
    size_t                    size, key_len;
    uint64_t                  count, seq, generation;
    ngx_fd_t                  fd;
    ngx_uint_t                changes, saved, n;
    ngx_rbtree_node_t        *node, *next;
    ngx_http_ttai_kv_t       *kv;
    ttai_kvsnap_writer_t      w;
    ttai_kvsnap_record_t      rec;
    ngx_http_ttai_kv_node_t  *kn;
    u_char                    key[NGX_HTTP_TTAI_KV_MAX_KEY];
    u_char                    header[TTAI_KVSNAP_HEADER_LEN];
    u_char                    trailer[TTAI_KVSNAP_TRAILER_LEN];

    kv = s->kv;

    ngx_shmtx_lock(&kv->shpool->mutex);

    changes = kv->sh->changes;
    saved = kv->sh->saved;

    /*
     * Every change numbered up to seq is in the zone already, so in the
     * copy; later ones go to files of the new generation, which this
     * snapshot's success leaves in place.
     */
    seq = kv->sh->seq;
    generation = kv->sh->generation;

    if (changes != saved) {
        generation = ++kv->sh->generation;
    }

    ngx_shmtx_unlock(&kv->shpool->mutex);

    if (changes == saved) {
        s->rc = NGX_DECLINED;
        return;
    }

    s->changes = changes;

    fd = ngx_open_file(s->tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_OWNER_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        s->err = ngx_errno;
        s->rc = NGX_ERROR;
        return;
    }

    s->created = 1;

    ttai_kvsnap_writer_init(&w, header, s->now, seq);

    if (ngx_http_ttai_kv_snapshot_write(fd, header, sizeof(header))
        != NGX_OK)
    {
        goto failed;
    }

    key_len = 0;
    count = 0;

    do {
        p = s->buf;
        last = s->buf + NGX_HTTP_TTAI_KV_SNAP_BUF;
        n = 0;

        ngx_shmtx_lock(&kv->shpool->mutex);

        /* the empty key sorts first: the first batch starts at the minimum */
        node = ngx_http_ttai_kv_lower_bound(kv, key, key_len, 0);

        while (node != NULL && n < NGX_HTTP_TTAI_KV_SNAP_RECORDS) {
            kn = ngx_http_ttai_kv_node(node);
            next = ngx_rbtree_next(&kv->sh->rbtree, node);

            if (ngx_http_ttai_kv_expired(kn, s->now)) {
                node = next;
                continue;
            }

            size = ttai_kvsnap_record_size(kn->key_len, kn->metadata_len,
                                           kn->value_len);

            /* the limits keep entries smaller; this keeps the loop finite */
            if (size > NGX_HTTP_TTAI_KV_SNAP_BUF) {
                node = next;
                continue;
            }

            if (size > (size_t) (last - p)) {
                break;
            }

            rec.key = kn->data;
            rec.key_len = kn->key_len;
            rec.metadata = kn->data + kn->key_len;
            rec.metadata_len = kn->metadata_len;
            rec.value = rec.metadata + kn->metadata_len;
            rec.value_len = kn->value_len;
            rec.expires = kn->expires;

            p += ttai_kvsnap_record_encode(p, &rec);
            n++;

            node = next;
        }

        if (node != NULL) {
            kn = ngx_http_ttai_kv_node(node);
            ngx_memcpy(key, kn->data, kn->key_len);
            key_len = kn->key_len;
        }

        ngx_shmtx_unlock(&kv->shpool->mutex);

        ttai_kvsnap_writer_add(&w, s->buf, p - s->buf, n);
        count += n;

        if (ngx_http_ttai_kv_snapshot_write(fd, s->buf, p - s->buf)
            != NGX_OK)
        {
            goto failed;
        }

    } while (node != NULL);

    ttai_kvsnap_writer_finish(&w, trailer);

    if (ngx_http_ttai_kv_snapshot_write(fd, trailer, sizeof(trailer))
        != NGX_OK)
    {
        goto failed;
    }

    if (fsync(fd) == -1) {
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        fd = NGX_INVALID_FILE;
        goto failed;
    }

    fd = NGX_INVALID_FILE;

    if (ngx_rename_file(s->tmp, kv->snapshot.data) == NGX_FILE_ERROR) {
        goto failed;
    }

    /* the rename itself lasts once the folder is on disk */
    dir = kv->snapshot.data + kv->snapshot.len;

    while (dir > kv->snapshot.data && dir[-1] != '/') {
        dir--;
    }

    if (dir > kv->snapshot.data) {
        p = ngx_cpymem(s->path, kv->snapshot.data, dir - kv->snapshot.data);
        *p = '\0';

        fd = ngx_open_file(s->path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (fd != NGX_INVALID_FILE) {
            (void) fsync(fd);
            (void) ngx_close_file(fd);
        }
    }

    s->count = count;
    s->rc = NGX_OK;

    ngx_http_ttai_kv_journal_compact(kv, generation, s->path, &s->compact);

    return;

failed:

    s->err = ngx_errno;
    s->rc = NGX_ERROR;

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    (void) ngx_delete_file(s->tmp);
}


/* on the event loop, or at exit: the books in shared memory, and the log */

static void
ngx_http_ttai_kv_snapshot_finish(ngx_http_ttai_kv_save_t *s,
    const char *where, ngx_log_t *log)
{
    ngx_err_t            err, failed;
    ngx_http_ttai_kv_t  *kv;

    kv = s->kv;

    if (s->rc == NGX_DECLINED) {
        return;
    }

    if (s->rc == NGX_ERROR) {
        if (!s->created) {
            ngx_log_error(NGX_LOG_ERR, log, s->err,
                          "ttai: KV zone \"%V\" not saved: cannot create "
                          "\"%s\"%s", &kv->name, s->tmp,
                          (s->err == NGX_ENOENT)
                          ? " (its folder is missing; nginx creates the "
                            "state folders at start)" : "");

        } else {
            ngx_log_error(NGX_LOG_ERR, log, s->err,
                          "ttai: KV zone \"%V\" not saved: writing \"%s\" "
                          "failed", &kv->name, s->tmp);
        }

        ngx_http_ttai_kv_snapshot_failed(kv, s->err ? s->err : EIO);
        return;
    }

    /* the disk takes writes again: the journal may be tried at once */
    ngx_shmtx_lock(&kv->shpool->mutex);

    err = kv->sh->journal_err;
    failed = kv->sh->snapshot_err;

    kv->sh->saved = s->changes;
    kv->sh->snapshot_err = 0;
    kv->sh->journal_err = 0;

    ngx_shmtx_unlock(&kv->shpool->mutex);

    if (err || failed) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "ttai: KV zone \"%V\": the snapshot works again%s",
                      &kv->name,
                      err ? ", and so changes are journaled again" : "");
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "ttai: KV zone \"%V\" saved %uL entries to \"%V\"%s",
                  &kv->name, s->count, &kv->snapshot, where);

    if (s->compact.failed) {
        ngx_log_error(NGX_LOG_ERR, log, s->compact.err,
                      "ttai: KV zone \"%V\": %ui journal files that its "
                      "snapshot holds could not be removed from \"%V\"",
                      &kv->name, s->compact.failed, &kv->journal_dir);
    }

    if (s->compact.removed) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ttai: KV zone \"%V\": removed %ui journal files that "
                      "its snapshot holds", &kv->name, s->compact.removed);
    }
}


#if (NGX_THREADS)

static void
ngx_http_ttai_kv_snapshot_thread(void *data, ngx_log_t *log)
{
    ngx_http_ttai_kv_save_t *s = data;

    ngx_http_ttai_kv_snapshot_run(s);

    /* read at exit, without the event loop's handoff */
    ngx_memory_barrier();
    s->finished = 1;
}


static void
ngx_http_ttai_kv_snapshot_done(ngx_event_t *ev)
{
    ngx_http_ttai_kv_save_t *s = ev->data;

    ngx_http_ttai_kv_saving[s->zone] = NULL;

    ngx_http_ttai_kv_snapshot_finish(s, " on the thread pool", ev->log);
    ngx_http_ttai_kv_snapshot_free(s);

    ngx_http_ttai_kv_save_next();
}

#endif


/* for /health, until a snapshot works again */

static void
ngx_http_ttai_kv_snapshot_failed(ngx_http_ttai_kv_t *kv, ngx_err_t err)
{
    ngx_shmtx_lock(&kv->shpool->mutex);
    kv->sh->snapshot_err = err;
    ngx_shmtx_unlock(&kv->shpool->mutex);
}


static ngx_int_t
ngx_http_ttai_kv_snapshot_write(ngx_fd_t fd, u_char *buf, size_t len)
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
