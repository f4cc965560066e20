
/*
 * Copyright (C) ttai contributors
 */


/*
 * R2 on the filesystem, as the admin API uses it: a key checked, an
 * object put under it, read back, listed, its metadata file replaced by
 * the input's, read again, and deleted, in a bucket of a folder made
 * for the run in the system's temporary folder.  Pieces of the input,
 * between FUZZ_SEP lines: the key, the object's bytes, the metadata
 * file, and a prefix to list.
 *
 * Checked: a key refused is never written; an object put lies inside
 * its bucket's folder, reads back as put, is listed under every prefix
 * of its key and under the input's when that is one; whatever the
 * metadata file says, what HEAD answers has the object's size, an etag
 * of 32 hex digits and a content type without control characters,
 * since both become response headers; and a delete leaves no file
 * behind.
 */

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ttai_r2.h"
#include "fuzz.h"


#define FUZZ_BUCKET  "fuzz-bucket"


static const char *fuzz_root(void);
static void fuzz_cleanup(void);
static int fuzz_remove(const char *path, const struct stat *st, int flag,
    struct FTW *ftw);
static int fuzz_count(const char *path, const struct stat *st, int flag,
    struct FTW *ftw);
static void fuzz_object(const char *root, const char *key,
    const fuzz_piece_t *data, const fuzz_piece_t *meta,
    const fuzz_piece_t *prefix);
static void fuzz_head(const char *root, const char *key, size_t size,
    ttai_r2_meta_t *meta);
static void fuzz_listed(const char *root, const char *key,
    const char *prefix, size_t size);
static size_t fuzz_files(const char *dir);


static char    fuzz_dir[PATH_MAX];
static size_t  fuzz_nfiles;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc;
    char              bucket[PATH_MAX], err[TTAI_R2_ERRLEN], *key;
    size_t            n;
    const char       *root, *why;
    fuzz_piece_t      pieces[4], none = { "", 0 };
    ttai_r2_meta_t    meta;

    root = fuzz_root();

    n = fuzz_split(data, size, pieces, 4);

    why = ttai_r2_check_key(pieces[0].data, pieces[0].len);

    if (memchr(pieces[0].data, '\0', pieces[0].len) != NULL) {
        fuzz_check(why != NULL, "a key with a NUL byte taken");
        return 0;
    }

    key = fuzz_strndup(pieces[0].data, pieces[0].len);

    rc = ttai_r2_put(root, FUZZ_BUCKET, key, n > 1 ? pieces[1].data : "",
                     n > 1 ? pieces[1].len : 0, "text/plain", &meta, err);

    if (why != NULL) {
        fuzz_check(rc == TTAI_R2_INVALID, "a key refused (%s) was put: %s",
                   why, key);

    } else if (rc == TTAI_R2_OK) {
        fuzz_object(root, key, n > 1 ? &pieces[1] : &none,
                    n > 2 ? &pieces[2] : NULL, n > 3 ? &pieces[3] : NULL);

    } else {
        /* a name too long for the filesystem, or for a path */
        fuzz_check(rc == TTAI_R2_ERROR || rc == TTAI_R2_INVALID,
                   "put answered %d: %s", rc, err);
    }

    snprintf(bucket, sizeof(bucket), "%s/" FUZZ_BUCKET, root);

    fuzz_check(rc == TTAI_R2_OK || fuzz_files(bucket) == 0,
               "a put that failed (%d) left files behind: %s", rc, key);

    /* the next input starts from an empty bucket */
    nftw(bucket, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);

    free(key);

    return 0;
}


static void
fuzz_object(const char *root, const char *key, const fuzz_piece_t *data,
    const fuzz_piece_t *meta, const fuzz_piece_t *prefix)
{
    int              rc;
    char             path[PATH_MAX], real[PATH_MAX], bucket[PATH_MAX];
    char             err[TTAI_R2_ERRLEN], *p;
    void            *got;
    FILE            *f;
    ttai_r2_meta_t   m, put;

    /* inside the bucket's folder, whatever the key */
    snprintf(path, sizeof(path), "%s/" FUZZ_BUCKET "/%s", root, key);
    snprintf(bucket, sizeof(bucket), "%s/" FUZZ_BUCKET "/", root);

    fuzz_check(realpath(path, real) != NULL, "the object put is not there: "
               "%s", key);
    fuzz_check(strncmp(real, bucket, strlen(bucket)) == 0, "the object "
               "of %s is outside its bucket: %s", key, real);

    rc = ttai_r2_get(root, FUZZ_BUCKET, key, &put, &got, err);
    fuzz_check(rc == TTAI_R2_OK, "the object put cannot be read: %s", err);
    fuzz_check(put.size == data->len
               && (data->len == 0 || memcmp(got, data->data, data->len) == 0),
               "the object reads otherwise than put");
    fuzz_check(strcmp(put.key, key) == 0, "the object reads as key %s",
               put.key);
    free(got);

    fuzz_head(root, key, data->len, &m);
    fuzz_check(strcmp(m.etag, put.etag) == 0
               && strcmp(m.content_type, "text/plain") == 0,
               "HEAD and GET disagree");

    /* under every prefix of its key */
    p = fuzz_strndup(key, strlen(key));

    while (1) {
        fuzz_listed(root, key, p, data->len);

        if (*p == '\0') {
            break;
        }

        p[strlen(p) / 2] = '\0';
    }

    free(p);

    if (prefix != NULL) {
        p = fuzz_strndup(prefix->data, prefix->len);

        if (strlen(p) <= strlen(key) && strncmp(key, p, strlen(p)) == 0) {
            fuzz_listed(root, key, p, data->len);
        }

        free(p);
    }

    /* the metadata file, as the input has it */
    if (meta != NULL) {
        snprintf(path, sizeof(path), "%s/" FUZZ_BUCKET "/.ttai-meta/%s.json",
                 root, key);

        f = fopen(path, "w");
        fuzz_check(f != NULL, "no metadata file for %s", key);
        fuzz_check(fwrite(meta->data, 1, meta->len, f) == meta->len
                   && fclose(f) == 0, "the metadata file cannot be "
                   "written");

        fuzz_head(root, key, data->len, &m);
        fuzz_listed(root, key, "", data->len);
    }

    rc = ttai_r2_delete(root, FUZZ_BUCKET, key, err);
    fuzz_check(rc == TTAI_R2_OK, "the object cannot be deleted: %s", err);

    snprintf(path, sizeof(path), "%s/" FUZZ_BUCKET, root);
    fuzz_check(fuzz_files(path) == 0, "a delete left files behind: %s",
               key);

    rc = ttai_r2_head(root, FUZZ_BUCKET, key, &m, err);
    fuzz_check(rc == TTAI_R2_NOT_FOUND, "a deleted object is found (%d)",
               rc);
}


/* what HEAD answers, fit for response headers */

static void
fuzz_head(const char *root, const char *key, size_t size,
    ttai_r2_meta_t *meta)
{
    int          rc;
    char         err[TTAI_R2_ERRLEN], *json;
    const char  *p;

    rc = ttai_r2_head(root, FUZZ_BUCKET, key, meta, err);
    fuzz_check(rc == TTAI_R2_OK, "HEAD of the object put: %s", err);

    fuzz_check(meta->size == size, "HEAD says %llu bytes, not %zu",
               (unsigned long long) meta->size, size);
    fuzz_check(strcmp(meta->key, key) == 0, "HEAD names key %s",
               meta->key);
    fuzz_check(strlen(meta->etag) == TTAI_R2_ETAG_LEN
               && strspn(meta->etag, "0123456789abcdef") == TTAI_R2_ETAG_LEN,
               "an etag of other characters: %s", meta->etag);

    for (p = meta->content_type; *p; p++) {
        fuzz_check((unsigned char) *p >= 0x20 && *p != 0x7f,
                   "a content type with control character 0x%02x",
                   (unsigned char) *p);
    }

    json = ttai_r2_meta_json(meta);
    fuzz_check(json != NULL, "the metadata of HEAD is no JSON");
    free(json);
}


static void
fuzz_listed(const char *root, const char *key, const char *prefix,
    size_t size)
{
    int              rc;
    char             err[TTAI_R2_ERRLEN], *json;
    ttai_r2_list_t   list;

    rc = ttai_r2_list(root, FUZZ_BUCKET, prefix, 0, &list, err);
    fuzz_check(rc == TTAI_R2_OK, "the bucket cannot be listed: %s", err);

    fuzz_check(list.nobjects == 1 && strcmp(list.objects[0].key, key) == 0
               && list.objects[0].size == size,
               "%zu objects listed under \"%s\", not %s", list.nobjects,
               prefix, key);

    json = ttai_r2_list_json(&list);
    fuzz_check(json != NULL, "the listing is no JSON");
    free(json);

    ttai_r2_list_free(&list);
}


/* a folder of the run's own, removed when the run ends */

static const char *
fuzz_root(void)
{
    const char  *tmp;

    if (fuzz_dir[0] != '\0') {
        return fuzz_dir;
    }

    tmp = getenv("TMPDIR");

    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/ttai-fuzz-r2-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : P_tmpdir);

    fuzz_check(mkdtemp(fuzz_dir) != NULL, "cannot make %s", fuzz_dir);

    atexit(fuzz_cleanup);

    return fuzz_dir;
}


static void
fuzz_cleanup(void)
{
    nftw(fuzz_dir, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);
}


static int
fuzz_remove(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
    remove(path);

    return 0;
}


static int
fuzz_count(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
    if (flag == FTW_F || flag == FTW_SL) {
        fuzz_nfiles++;
    }

    return 0;
}


/* the files under dir, the metadata's too */

static size_t
fuzz_files(const char *dir)
{
    fuzz_nfiles = 0;
    nftw(dir, fuzz_count, 16, FTW_PHYS);

    return fuzz_nfiles;
}
