
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_R2_H_INCLUDED_
#define _TTAI_R2_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


/*
 * R2 on the filesystem: the object BUCKET/KEY is the file
 * <root>/<bucket>/<key>, and its metadata is a JSON file under
 * <root>/<bucket>/.ttai-meta/.  Keys are checked so that no key can name
 * a file outside its bucket folder.
 */

#define TTAI_R2_MAX_KEY        1024
#define TTAI_R2_MAX_OBJECT     (100 * 1024 * 1024)
#define TTAI_R2_MAX_LIST       1000
#define TTAI_R2_ETAG_LEN       32
#define TTAI_R2_ERRLEN         160

#define TTAI_R2_OK             0
#define TTAI_R2_ERROR         -1     /* I/O; see the message */
#define TTAI_R2_INVALID       -2     /* a bad bucket name or key */
#define TTAI_R2_NOT_FOUND     -3
#define TTAI_R2_TOO_LARGE     -4


typedef struct {
    char        key[TTAI_R2_MAX_KEY + 1];
    uint64_t    size;
    char        etag[TTAI_R2_ETAG_LEN + 1];
    char        content_type[128];
    time_t      uploaded;
} ttai_r2_meta_t;


typedef struct {
    ttai_r2_meta_t  *objects;
    size_t           nobjects;
    int              truncated;
} ttai_r2_list_t;


const char *ttai_r2_check_bucket(const char *bucket, size_t len);
const char *ttai_r2_check_key(const char *key, size_t len);

int ttai_r2_put(const char *root, const char *bucket, const char *key,
    const void *data, size_t len, const char *content_type,
    ttai_r2_meta_t *meta, char *err);
int ttai_r2_head(const char *root, const char *bucket, const char *key,
    ttai_r2_meta_t *meta, char *err);
int ttai_r2_get(const char *root, const char *bucket, const char *key,
    ttai_r2_meta_t *meta, void **data, char *err);
int ttai_r2_delete(const char *root, const char *bucket, const char *key,
    char *err);
int ttai_r2_list(const char *root, const char *bucket, const char *prefix,
    size_t limit, ttai_r2_list_t *list, char *err);
void ttai_r2_list_free(ttai_r2_list_t *list);

/* JSON texts of one object's metadata and of a listing; free() them */
char *ttai_r2_meta_json(const ttai_r2_meta_t *meta);
char *ttai_r2_list_json(const ttai_r2_list_t *list);


#endif /* _TTAI_R2_H_INCLUDED_ */
