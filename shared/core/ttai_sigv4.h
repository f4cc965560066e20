
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_SIGV4_H_INCLUDED_
#define _TTAI_SIGV4_H_INCLUDED_


#include <stddef.h>
#include <time.h>


/*
 * AWS Signature Version 4, for Bedrock's Converse API (issue 16): the
 * Authorization header of one request, from the access key, the secret,
 * the region and the service.  The path is the one sent, already
 * percent-encoded; services other than S3 sign it encoded once more
 * (a model id's ":" is "%3A" on the wire and "%253A" in the canonical
 * request).  The query is sorted by name, then value.  Headers are
 * signed lowercase, their values trimmed and their inner runs of spaces
 * made one.
 */

#define TTAI_SIGV4_DATE_LEN   16          /* "20150830T123600Z" */
#define TTAI_SIGV4_AUTH_MAX   512
#define TTAI_SIGV4_HEADERS    16

typedef struct {
    const char  *name;
    const char  *value;
} ttai_sigv4_header_t;

typedef struct {
    const char                 *method;
    const char                 *host;
    const char                 *path;       /* as sent, percent-encoded */
    const char                 *query;      /* NULL or "a=b&c=d" */
    const ttai_sigv4_header_t  *headers;    /* others than host and date */
    size_t                      nheaders;
    const unsigned char        *body;
    size_t                      len;

    const char                 *access_key;
    const char                 *secret_key;
    const char                 *session_token;   /* NULL: none */
    const char                 *region;
    const char                 *service;
    time_t                      now;
} ttai_sigv4_t;


/*
 * Fills authorization (TTAI_SIGV4_AUTH_MAX) and date (the x-amz-date
 * header's value, TTAI_SIGV4_DATE_LEN + 1); canonical, when not NULL,
 * gets the canonical request (malloc'd), for tests.  -1 on bad input.
 */
int ttai_sigv4_sign(const ttai_sigv4_t *req, char *authorization, char *date,
    char **canonical);


#endif /* _TTAI_SIGV4_H_INCLUDED_ */
