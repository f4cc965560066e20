
/*
 * Copyright (C) ttai contributors
 */


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_r2.h"


#define TTAI_R2_RESERVED   ".ttai-"
#define TTAI_R2_MAX_SEGMENT  (NAME_MAX - (sizeof(".json") - 1))
#define TTAI_R2_META_DIR   TTAI_R2_RESERVED "meta"
#define TTAI_R2_TMP        TTAI_R2_RESERVED "tmp-"


typedef struct {
    char    **keys;
    size_t    n;
    size_t    cap;
} ttai_r2_keys_t;


static int ttai_r2_fail(char *err, int rc, const char *fmt, ...);
static int ttai_r2_check(const char *bucket, const char *key, char *err);
static int ttai_r2_path(char *buf, const char *root, const char *bucket,
    const char *key, const char *suffix, char *err);
static int ttai_r2_mkdirs(char *path, size_t from, char *err);
static int ttai_r2_write_atomic(const char *path, size_t from,
    const void *data, size_t len, char *err);
static int ttai_r2_read(const char *path, void **data, size_t *len,
    char *err);
static void ttai_r2_etag(const void *data, size_t len, char *etag);
static int ttai_r2_header_ok(const char *s);
static int ttai_r2_meta_parse(const char *json, size_t len,
    ttai_r2_meta_t *meta);
static json_t *ttai_r2_meta_object(const ttai_r2_meta_t *meta);
static int ttai_r2_walk(const char *dir, const char *rel, const char *prefix,
    ttai_r2_keys_t *keys);
static int ttai_r2_key_cmp(const void *a, const void *b);
static void ttai_r2_prune(char *path, size_t stop);


const char *
ttai_r2_check_bucket(const char *bucket, size_t len)
{
    size_t  i;

    if (len < 3 || len > 63) {
        return "bucket names have 3 to 63 characters";
    }

    for (i = 0; i < len; i++) {
        if (!((bucket[i] >= 'a' && bucket[i] <= 'z')
              || (bucket[i] >= '0' && bucket[i] <= '9')
              || bucket[i] == '-'))
        {
            return "bucket names use lowercase letters, digits and '-'";
        }
    }

    if (bucket[0] == '-' || bucket[len - 1] == '-') {
        return "bucket names cannot start or end with '-'";
    }

    return NULL;
}


/*
 * A key names a file below its bucket folder and nothing else: no NUL,
 * no leading '/', and no empty, "." or ".." segment; the folders ttai
 * keeps its own files in are not keys either.
 */

const char *
ttai_r2_check_key(const char *key, size_t len)
{
    size_t       seglen;
    const char  *p, *end, *seg;

    if (len == 0) {
        return "the key is empty";
    }

    if (len > TTAI_R2_MAX_KEY) {
        return "the key is longer than 1024 bytes";
    }

    if (memchr(key, '\0', len) != NULL) {
        return "the key contains a NUL byte";
    }

    if (key[0] == '/') {
        return "the key is an absolute path, which would leave the bucket";
    }

    p = key;
    end = key + len;

    while (p <= end) {
        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        seglen = p - seg;

        if (seglen == 0) {
            return "the key has an empty path segment";
        }

        /* a file name, and its metadata's, with ".json" */
        if (seglen > TTAI_R2_MAX_SEGMENT) {
            return "a path segment of the key is longer than 250 bytes";
        }

        if ((seglen == 1 && seg[0] == '.')
            || (seglen == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            return "the key has a \".\" or \"..\" segment, which could "
                   "leave the bucket";
        }

        /*
         * the names of ttai's own files: a listing passes over them, so
         * an object put under one could never be listed
         */
        if (seg == key && seglen >= sizeof(TTAI_R2_RESERVED) - 1
            && memcmp(seg, TTAI_R2_RESERVED, sizeof(TTAI_R2_RESERVED) - 1)
               == 0)
        {
            return "keys starting with \".ttai-\" are reserved";
        }

        p++;
    }

    return NULL;
}


int
ttai_r2_put(const char *root, const char *bucket, const char *key,
    const void *data, size_t len, const char *content_type,
    ttai_r2_meta_t *meta, char *err)
{
    int     rc;
    char    path[PATH_MAX], mpath[PATH_MAX], *json;
    size_t  base;

    base = strlen(root);

    if (ttai_r2_check(bucket, key, err) != TTAI_R2_OK) {
        return TTAI_R2_INVALID;
    }

    if (len > TTAI_R2_MAX_OBJECT) {
        return ttai_r2_fail(err, TTAI_R2_TOO_LARGE,
                            "objects are limited to %d bytes",
                            TTAI_R2_MAX_OBJECT);
    }

    memset(meta, 0, sizeof(ttai_r2_meta_t));
    snprintf(meta->key, sizeof(meta->key), "%s", key);
    snprintf(meta->content_type, sizeof(meta->content_type), "%s",
             content_type ? content_type : "application/octet-stream");
    meta->size = len;
    meta->uploaded = time(NULL);
    ttai_r2_etag(data, len, meta->etag);

    json = ttai_r2_meta_json(meta);
    if (json == NULL) {
        return ttai_r2_fail(err, TTAI_R2_ERROR, "out of memory");
    }

    /* both paths first: a put refused writes nothing */
    rc = ttai_r2_path(mpath, root, bucket, TTAI_R2_META_DIR "/", key, err);

    if (rc == TTAI_R2_OK) {
        strcat(mpath, ".json");
        rc = ttai_r2_path(path, root, bucket, "", key, err);
    }

    if (rc == TTAI_R2_OK) {
        rc = ttai_r2_write_atomic(path, base, data, len, err);
    }

    /* an object whose metadata is lost is described from its file */
    if (rc == TTAI_R2_OK) {
        rc = ttai_r2_write_atomic(mpath, base, json, strlen(json), err);
    }

    free(json);

    return rc;
}


int
ttai_r2_head(const char *root, const char *bucket, const char *key,
    ttai_r2_meta_t *meta, char *err)
{
    int          rc;
    char         path[PATH_MAX], *json;
    void        *data;
    size_t       len;
    struct stat  st;

    if (ttai_r2_check(bucket, key, err) != TTAI_R2_OK) {
        return TTAI_R2_INVALID;
    }

    rc = ttai_r2_path(path, root, bucket, "", key, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return ttai_r2_fail(err, TTAI_R2_NOT_FOUND, "no object %s/%s",
                            bucket, key);
    }

    memset(meta, 0, sizeof(ttai_r2_meta_t));

    rc = ttai_r2_path(path, root, bucket, TTAI_R2_META_DIR "/", key, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    strcat(path, ".json");

    if (ttai_r2_read(path, (void **) &json, &len, NULL) == TTAI_R2_OK) {
        rc = ttai_r2_meta_parse(json, len, meta);
        free(json);

        if (rc == 0 && meta->size == (uint64_t) st.st_size) {
            snprintf(meta->key, sizeof(meta->key), "%s", key);
            return TTAI_R2_OK;
        }
    }

    /*
     * a file copied into the bucket folder by hand has no metadata, or
     * stale metadata: describe it from the file itself
     */

    rc = ttai_r2_path(path, root, bucket, "", key, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    if (ttai_r2_read(path, &data, &len, err) != TTAI_R2_OK) {
        return TTAI_R2_ERROR;
    }

    memset(meta, 0, sizeof(ttai_r2_meta_t));
    snprintf(meta->key, sizeof(meta->key), "%s", key);
    snprintf(meta->content_type, sizeof(meta->content_type), "%s",
             "application/octet-stream");
    meta->size = len;
    meta->uploaded = st.st_mtime;
    ttai_r2_etag(data, len, meta->etag);

    free(data);

    return TTAI_R2_OK;
}


int
ttai_r2_get(const char *root, const char *bucket, const char *key,
    ttai_r2_meta_t *meta, void **data, char *err)
{
    int     rc;
    char    path[PATH_MAX];
    size_t  len;

    rc = ttai_r2_head(root, bucket, key, meta, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    rc = ttai_r2_path(path, root, bucket, "", key, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    rc = ttai_r2_read(path, data, &len, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    meta->size = len;

    return TTAI_R2_OK;
}


int
ttai_r2_delete(const char *root, const char *bucket, const char *key,
    char *err)
{
    int     rc;
    char    path[PATH_MAX];
    size_t  stop;

    if (ttai_r2_check(bucket, key, err) != TTAI_R2_OK) {
        return TTAI_R2_INVALID;
    }

    rc = ttai_r2_path(path, root, bucket, "", key, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    if (unlink(path) != 0) {
        if (errno == ENOENT || errno == EISDIR || errno == ENOTDIR) {
            return ttai_r2_fail(err, TTAI_R2_NOT_FOUND, "no object %s/%s",
                                bucket, key);
        }

        return ttai_r2_fail(err, TTAI_R2_ERROR, "cannot delete %s/%s: %s",
                            bucket, key, strerror(errno));
    }

    /* empty folders the key made are removed, up to the bucket folder */
    stop = strlen(root) + 1 + strlen(bucket);
    ttai_r2_prune(path, stop);

    rc = ttai_r2_path(path, root, bucket, TTAI_R2_META_DIR "/", key, err);
    if (rc == TTAI_R2_OK) {
        strcat(path, ".json");
        (void) unlink(path);
        ttai_r2_prune(path, stop + sizeof("/" TTAI_R2_META_DIR) - 1);
    }

    return TTAI_R2_OK;
}


/* removes the empty folders of path, deepest first, down to "stop" bytes */

static void
ttai_r2_prune(char *path, size_t stop)
{
    char  *slash;

    while ((slash = strrchr(path, '/')) != NULL
           && (size_t) (slash - path) > stop)
    {
        *slash = '\0';

        if (rmdir(path) != 0) {
            break;
        }
    }
}


int
ttai_r2_list(const char *root, const char *bucket, const char *prefix,
    size_t limit, ttai_r2_list_t *list, char *err)
{
    int             rc;
    char            dir[PATH_MAX];
    size_t          i;
    const char     *why;
    ttai_r2_keys_t  keys;

    memset(list, 0, sizeof(ttai_r2_list_t));

    why = ttai_r2_check_bucket(bucket, strlen(bucket));
    if (why != NULL) {
        return ttai_r2_fail(err, TTAI_R2_INVALID, "%s", why);
    }

    if (limit == 0 || limit > TTAI_R2_MAX_LIST) {
        limit = TTAI_R2_MAX_LIST;
    }

    if ((size_t) snprintf(dir, sizeof(dir), "%s/%s", root, bucket)
        >= sizeof(dir))
    {
        return ttai_r2_fail(err, TTAI_R2_INVALID, "the path is too long");
    }

    memset(&keys, 0, sizeof(ttai_r2_keys_t));

    rc = TTAI_R2_OK;

    if (ttai_r2_walk(dir, "", prefix ? prefix : "", &keys) != 0) {
        rc = ttai_r2_fail(err, TTAI_R2_ERROR, "cannot list %s: %s", bucket,
                          strerror(errno));
        goto done;
    }

    /* an empty bucket has no array at all, which qsort() may not get */
    if (keys.n > 1) {
        qsort(keys.keys, keys.n, sizeof(char *), ttai_r2_key_cmp);
    }

    list->truncated = keys.n > limit;
    list->objects = calloc(keys.n < limit ? keys.n + 1 : limit,
                           sizeof(ttai_r2_meta_t));

    if (list->objects == NULL) {
        rc = ttai_r2_fail(err, TTAI_R2_ERROR, "out of memory");
        goto done;
    }

    for (i = 0; i < keys.n && list->nobjects < limit; i++) {
        if (ttai_r2_head(root, bucket, keys.keys[i],
                         &list->objects[list->nobjects], NULL)
            == TTAI_R2_OK)
        {
            list->nobjects++;
        }
    }

done:

    for (i = 0; i < keys.n; i++) {
        free(keys.keys[i]);
    }

    free(keys.keys);

    if (rc != TTAI_R2_OK) {
        ttai_r2_list_free(list);
    }

    return rc;
}


void
ttai_r2_list_free(ttai_r2_list_t *list)
{
    free(list->objects);
    memset(list, 0, sizeof(ttai_r2_list_t));
}


char *
ttai_r2_list_json(const ttai_r2_list_t *list)
{
    char    *s;
    size_t   i;
    json_t  *o, *objects;

    objects = json_array();
    if (objects == NULL) {
        return NULL;
    }

    for (i = 0; i < list->nobjects; i++) {
        o = ttai_r2_meta_object(&list->objects[i]);

        if (o == NULL || json_array_append_new(objects, o) != 0) {
            json_decref(objects);
            return NULL;
        }
    }

    o = json_pack("{s:o, s:b}", "objects", objects,
                  "truncated", list->truncated);
    if (o == NULL) {
        return NULL;
    }

    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);

    return s;
}


char *
ttai_r2_meta_json(const ttai_r2_meta_t *meta)
{
    char    *s;
    json_t  *o;

    o = ttai_r2_meta_object(meta);
    if (o == NULL) {
        return NULL;
    }

    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);

    return s;
}


static json_t *
ttai_r2_meta_object(const ttai_r2_meta_t *meta)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:I}",
                     "key", meta->key,
                     "size", (json_int_t) meta->size,
                     "etag", meta->etag,
                     "content_type", meta->content_type,
                     "uploaded", (json_int_t) meta->uploaded);
}


static int
ttai_r2_meta_parse(const char *json, size_t len, ttai_r2_meta_t *meta)
{
    json_t      *o;
    const char  *etag, *type;
    json_int_t   size, uploaded;

    o = json_loadb(json, len, 0, NULL);
    if (o == NULL) {
        return -1;
    }

    /*
     * The etag and the type become response headers: a file that holds
     * what ttai would not write, a CR LF say, is taken for stale
     */
    if (json_unpack(o, "{s:I, s:s, s:s, s:I}", "size", &size, "etag", &etag,
                    "content_type", &type, "uploaded", &uploaded) != 0
        || strlen(etag) != TTAI_R2_ETAG_LEN
        || strspn(etag, "0123456789abcdef") != TTAI_R2_ETAG_LEN
        || !ttai_r2_header_ok(type))
    {
        json_decref(o);
        return -1;
    }

    meta->size = size;
    meta->uploaded = uploaded;
    memcpy(meta->etag, etag, TTAI_R2_ETAG_LEN + 1);
    snprintf(meta->content_type, sizeof(meta->content_type), "%s", type);

    json_decref(o);

    return 0;
}


/* printable ASCII, what a header value may hold */

static int
ttai_r2_header_ok(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if (*s < 0x20 || *s > 0x7e) {
            return 0;
        }
    }

    return 1;
}


static int
ttai_r2_check(const char *bucket, const char *key, char *err)
{
    const char  *why;

    why = ttai_r2_check_bucket(bucket, strlen(bucket));
    if (why == NULL) {
        why = ttai_r2_check_key(key, strlen(key));
    }

    if (why != NULL) {
        return ttai_r2_fail(err, TTAI_R2_INVALID, "%s", why);
    }

    return TTAI_R2_OK;
}


static int
ttai_r2_path(char *buf, const char *root, const char *bucket,
    const char *sub, const char *key, char *err)
{
    /* room is left for the ".json" of a metadata file */
    if ((size_t) snprintf(buf, PATH_MAX - 8, "%s/%s/%s%s", root, bucket, sub,
                          key)
        >= PATH_MAX - 8)
    {
        return ttai_r2_fail(err, TTAI_R2_INVALID, "the path is too long");
    }

    return TTAI_R2_OK;
}


/* creates the folders of path after its first "from" bytes */

static int
ttai_r2_mkdirs(char *path, size_t from, char *err)
{
    int          rc;
    char        *p;
    struct stat  st;

    rc = TTAI_R2_OK;

    for (p = path + from + 1; *p != '\0' && rc == TTAI_R2_OK; p++) {
        if (*p != '/') {
            continue;
        }

        *p = '\0';

        if (mkdir(path, 0700) != 0) {
            if (errno == ENOTDIR
                || (errno == EEXIST
                    && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))))
            {
                rc = ttai_r2_fail(err, TTAI_R2_INVALID,
                                  "the key runs through an existing object");

            } else if (errno != EEXIST) {
                rc = ttai_r2_fail(err, TTAI_R2_ERROR, "cannot create %s: %s",
                                  path, strerror(errno));
            }
        }

        *p = '/';
    }

    return rc;
}


/*
 * A temporary file in the same folder, renamed into place: a reader sees
 * the old object or the new one, never a part.
 */

static int
ttai_r2_write_atomic(const char *path, size_t from, const void *data,
    size_t len, char *err)
{
    int          fd, rc;
    char         dir[PATH_MAX], tmp[PATH_MAX], *slash;
    size_t       done;
    ssize_t      n;
    struct stat  st;

    snprintf(dir, sizeof(dir), "%s", path);

    rc = ttai_r2_mkdirs(dir, from, err);
    if (rc != TTAI_R2_OK) {
        return rc;
    }

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return ttai_r2_fail(err, TTAI_R2_INVALID,
                            "the key is the folder of other objects");
    }

    slash = strrchr(dir, '/');
    *slash = '\0';

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s/" TTAI_R2_TMP "%08x",
                          dir, randombytes_random())
        >= sizeof(tmp))
    {
        return ttai_r2_fail(err, TTAI_R2_INVALID, "the path is too long");
    }

    /* objects are the server's user's only, as all of the state is */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
        return ttai_r2_fail(err, TTAI_R2_ERROR, "cannot create %s: %s",
                            tmp, strerror(errno));
    }

    for (done = 0; done < len; done += n) {
        n = write(fd, (const char *) data + done, len - done);

        if (n < 0) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            rc = ttai_r2_fail(err, TTAI_R2_ERROR, "cannot write %s: %s",
                              tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return rc;
        }
    }

    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rc = ttai_r2_fail(err, TTAI_R2_ERROR, "cannot write %s: %s", path,
                          strerror(errno));
        unlink(tmp);
        return rc;
    }

    return TTAI_R2_OK;
}


static int
ttai_r2_read(const char *path, void **data, size_t *len, char *err)
{
    int          fd;
    char        *buf;
    size_t       done;
    ssize_t      n;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return ttai_r2_fail(err, errno == ENOENT ? TTAI_R2_NOT_FOUND
                                                 : TTAI_R2_ERROR,
                            "cannot open %s: %s", path, strerror(errno));
    }

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || st.st_size > TTAI_R2_MAX_OBJECT)
    {
        close(fd);
        return ttai_r2_fail(err, TTAI_R2_ERROR, "cannot read %s", path);
    }

    buf = malloc(st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return ttai_r2_fail(err, TTAI_R2_ERROR, "out of memory");
    }

    for (done = 0; done < (size_t) st.st_size; done += n) {
        n = read(fd, buf + done, st.st_size - done);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }

            break;
        }
    }

    close(fd);

    buf[done] = '\0';
    *data = buf;
    *len = done;

    return TTAI_R2_OK;
}


static void
ttai_r2_etag(const void *data, size_t len, char *etag)
{
    unsigned char  hash[TTAI_R2_ETAG_LEN / 2];

    crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
    sodium_bin2hex(etag, TTAI_R2_ETAG_LEN + 1, hash, sizeof(hash));
}


static int
ttai_r2_walk(const char *dir, const char *rel, const char *prefix,
    ttai_r2_keys_t *keys)
{
    int             rc;
    DIR            *d;
    char            path[PATH_MAX], key[PATH_MAX], **p;
    size_t          plen, klen;
    struct stat     st;
    struct dirent  *de;

    d = opendir(dir);
    if (d == NULL) {
        /* a bucket nothing was put into yet is an empty bucket */
        return (errno == ENOENT && rel[0] == '\0') ? 0 : -1;
    }

    rc = 0;
    plen = strlen(prefix);

    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0
            || (rel[0] == '\0'
                && strncmp(de->d_name, TTAI_R2_RESERVED,
                           sizeof(TTAI_R2_RESERVED) - 1) == 0))
        {
            continue;
        }

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name)
            >= sizeof(path)
            || (size_t) snprintf(key, sizeof(key), "%s%s%s", rel,
                                 rel[0] ? "/" : "", de->d_name)
               >= sizeof(key))
        {
            continue;
        }

        if (lstat(path, &st) != 0) {
            continue;
        }

        klen = strlen(key);

        /* a folder is entered only when keys under it may match */
        if (S_ISDIR(st.st_mode)) {
            if (strncmp(key, prefix, klen < plen ? klen : plen) == 0) {
                rc = ttai_r2_walk(path, key, prefix, keys);
                if (rc != 0) {
                    break;
                }
            }

            continue;
        }

        if (!S_ISREG(st.st_mode) || strncmp(key, prefix, plen) != 0) {
            continue;
        }

        if (keys->n == keys->cap) {
            keys->cap = keys->cap ? 2 * keys->cap : 64;
            p = realloc(keys->keys, keys->cap * sizeof(char *));
            if (p == NULL) {
                rc = -1;
                break;
            }

            keys->keys = p;
        }

        keys->keys[keys->n] = strdup(key);
        if (keys->keys[keys->n] == NULL) {
            rc = -1;
            break;
        }

        keys->n++;
    }

    closedir(d);

    return rc;
}


static int
ttai_r2_key_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


static int
ttai_r2_fail(char *err, int rc, const char *fmt, ...)
{
    va_list  args;

    if (err != NULL) {
        va_start(args, fmt);
        vsnprintf(err, TTAI_R2_ERRLEN, fmt, args);
        va_end(args);
    }

    return rc;
}
