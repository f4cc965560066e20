
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "ttai_sigv4.h"


/*
 * AWS Signature Version 4: see ttai_sigv4.h.  libsodium has the SHA-256
 * and the HMAC; what is AWS's is the canonical request, written here.
 */

#define TTAI_SIGV4_ALGORITHM  "AWS4-HMAC-SHA256"


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
    int      failed;
} ttai_sigv4_buf_t;


static void ttai_sigv4_add(ttai_sigv4_buf_t *b, const char *s, size_t n);
static void ttai_sigv4_str(ttai_sigv4_buf_t *b, const char *s);
static void ttai_sigv4_encode(ttai_sigv4_buf_t *b, const char *s, size_t n,
    int slash);
static void ttai_sigv4_query(ttai_sigv4_buf_t *b, const char *query);
static int ttai_sigv4_cmp(const void *a, const void *b);
static void ttai_sigv4_value(ttai_sigv4_buf_t *b, const char *v);
static void ttai_sigv4_hex(const unsigned char *in, size_t n, char *out);
static void ttai_sigv4_hmac(const unsigned char *key, size_t klen,
    const char *msg, unsigned char *out);


int
ttai_sigv4_sign(const ttai_sigv4_t *req, char *authorization, char *date,
    char **canonical)
{
    int                    n;
    char                   lower;
    char                   day[9], hash[crypto_hash_sha256_BYTES * 2 + 1];
    char                   sig[crypto_auth_hmacsha256_BYTES * 2 + 1];
    char                  *key, scope[160];
    size_t                 i, j, nh;
    struct tm              tm;
    ttai_sigv4_buf_t       b, sts, signed_names;
    ttai_sigv4_header_t    h[TTAI_SIGV4_HEADERS + 3], t;
    unsigned char          digest[crypto_hash_sha256_BYTES];
    unsigned char          k[crypto_auth_hmacsha256_BYTES];

    if (req->method == NULL || req->host == NULL || req->path == NULL
        || req->path[0] != '/' || req->access_key == NULL
        || req->secret_key == NULL || req->region == NULL
        || req->service == NULL || req->nheaders > TTAI_SIGV4_HEADERS
        || gmtime_r(&req->now, &tm) == NULL)
    {
        return -1;
    }

    strftime(date, TTAI_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);

    /* the headers signed: the request's, host, the date, the token */
    nh = 0;
    h[nh].name = "host";
    h[nh++].value = req->host;
    h[nh].name = "x-amz-date";
    h[nh++].value = date;

    if (req->session_token != NULL) {
        h[nh].name = "x-amz-security-token";
        h[nh++].value = req->session_token;
    }

    for (i = 0; i < req->nheaders; i++) {
        h[nh++] = req->headers[i];
    }

    /* insertion sort: a handful of names, lowercase compared */
    for (i = 1; i < nh; i++) {
        t = h[i];

        for (j = i; j > 0 && strcasecmp(h[j - 1].name, t.name) > 0; j--) {
            h[j] = h[j - 1];
        }

        h[j] = t;
    }

    memset(&b, 0, sizeof(b));
    memset(&signed_names, 0, sizeof(signed_names));

    ttai_sigv4_str(&b, req->method);
    ttai_sigv4_str(&b, "\n");

    /* S3 signs the path as sent; every other service encodes it again */
    if (strcmp(req->service, "s3") == 0) {
        ttai_sigv4_str(&b, req->path);
    } else {
        ttai_sigv4_encode(&b, req->path, strlen(req->path), 1);
    }

    ttai_sigv4_str(&b, "\n");
    ttai_sigv4_query(&b, req->query);
    ttai_sigv4_str(&b, "\n");

    for (i = 0; i < nh; i++) {
        for (j = 0; h[i].name[j] != '\0'; j++) {
            lower = (char) tolower((unsigned char) h[i].name[j]);
            ttai_sigv4_add(&b, &lower, 1);
            ttai_sigv4_add(&signed_names, &lower, 1);
        }

        ttai_sigv4_str(&b, ":");
        ttai_sigv4_value(&b, h[i].value);
        ttai_sigv4_str(&b, "\n");

        if (i + 1 < nh) {
            ttai_sigv4_str(&signed_names, ";");
        }
    }

    ttai_sigv4_add(&signed_names, "", 1);

    ttai_sigv4_str(&b, "\n");
    ttai_sigv4_str(&b, signed_names.data ? signed_names.data : "");
    ttai_sigv4_str(&b, "\n");

    crypto_hash_sha256(digest, req->body ? req->body : (unsigned char *) "",
                       req->body ? req->len : 0);
    ttai_sigv4_hex(digest, sizeof(digest), hash);
    ttai_sigv4_str(&b, hash);
    ttai_sigv4_add(&b, "", 1);

    if (b.failed || signed_names.failed) {
        free(b.data);
        free(signed_names.data);
        return -1;
    }

    /* the string to sign */
    n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", day,
                 req->region, req->service);
    if (n < 0 || (size_t) n >= sizeof(scope)) {
        free(b.data);
        free(signed_names.data);
        return -1;
    }

    crypto_hash_sha256(digest, (unsigned char *) b.data, b.len - 1);
    ttai_sigv4_hex(digest, sizeof(digest), hash);

    memset(&sts, 0, sizeof(sts));
    ttai_sigv4_str(&sts, TTAI_SIGV4_ALGORITHM "\n");
    ttai_sigv4_str(&sts, date);
    ttai_sigv4_str(&sts, "\n");
    ttai_sigv4_str(&sts, scope);
    ttai_sigv4_str(&sts, "\n");
    ttai_sigv4_str(&sts, hash);
    ttai_sigv4_add(&sts, "", 1);

    /* the signing key: the secret, then the day, region, service */
    key = malloc(strlen(req->secret_key) + 5);

    if (sts.failed || key == NULL) {
        free(key);
        free(sts.data);
        free(b.data);
        free(signed_names.data);
        return -1;
    }

    strcpy(key, "AWS4");
    strcat(key, req->secret_key);

    ttai_sigv4_hmac((unsigned char *) key, strlen(key), day, k);
    sodium_memzero(key, strlen(key));
    free(key);

    ttai_sigv4_hmac(k, sizeof(k), req->region, k);
    ttai_sigv4_hmac(k, sizeof(k), req->service, k);
    ttai_sigv4_hmac(k, sizeof(k), "aws4_request", k);
    ttai_sigv4_hmac(k, sizeof(k), sts.data, digest);
    sodium_memzero(k, sizeof(k));

    ttai_sigv4_hex(digest, sizeof(digest), sig);

    n = snprintf(authorization, TTAI_SIGV4_AUTH_MAX,
                 TTAI_SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
                 "Signature=%s", req->access_key, scope, signed_names.data,
                 sig);

    free(sts.data);
    free(signed_names.data);

    if (n < 0 || n >= TTAI_SIGV4_AUTH_MAX) {
        free(b.data);
        return -1;
    }

    if (canonical != NULL) {
        *canonical = b.data;
    } else {
        free(b.data);
    }

    return 0;
}


static void
ttai_sigv4_add(ttai_sigv4_buf_t *b, const char *s, size_t n)
{
    char    *p;
    size_t   size;

    if (b->failed) {
        return;
    }

    if (b->len + n > b->size) {
        size = b->size ? b->size : 256;

        while (size < b->len + n) {
            size *= 2;
        }

        p = realloc(b->data, size);
        if (p == NULL) {
            b->failed = 1;
            return;
        }

        b->data = p;
        b->size = size;
    }

    memcpy(b->data + b->len, s, n);
    b->len += n;
}


static void
ttai_sigv4_str(ttai_sigv4_buf_t *b, const char *s)
{
    ttai_sigv4_add(b, s, strlen(s));
}


/* RFC 3986's unreserved characters as they are, the rest %XX */

static void
ttai_sigv4_encode(ttai_sigv4_buf_t *b, const char *s, size_t n, int slash)
{
    char           pct[4];
    size_t         i;
    unsigned char  c;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
            || (slash && c == '/'))
        {
            ttai_sigv4_add(b, (const char *) &s[i], 1);
            continue;
        }

        snprintf(pct, sizeof(pct), "%%%02X", c);
        ttai_sigv4_add(b, pct, 3);
    }
}


/* the query's pairs, sorted by name and value, each as sent */

static void
ttai_sigv4_query(ttai_sigv4_buf_t *b, const char *query)
{
    char    *copy, **pairs, *p, *amp;
    size_t   i, n;

    if (query == NULL || query[0] == '\0') {
        return;
    }

    copy = strdup(query);
    pairs = calloc(strlen(query) / 2 + 2, sizeof(char *));

    if (copy == NULL || pairs == NULL) {
        free(copy);
        free(pairs);
        b->failed = 1;
        return;
    }

    n = 0;

    for (p = copy; p != NULL; p = amp) {
        amp = strchr(p, '&');
        if (amp != NULL) {
            *amp++ = '\0';
        }

        if (*p != '\0') {
            pairs[n++] = p;
        }
    }

    qsort(pairs, n, sizeof(char *), ttai_sigv4_cmp);

    for (i = 0; i < n; i++) {
        if (i > 0) {
            ttai_sigv4_str(b, "&");
        }

        ttai_sigv4_str(b, pairs[i]);

        /* a name without a value is signed with an empty one */
        if (strchr(pairs[i], '=') == NULL) {
            ttai_sigv4_str(b, "=");
        }
    }

    free(pairs);
    free(copy);
}


static int
ttai_sigv4_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* trimmed, and each run of spaces inside made one */

static void
ttai_sigv4_value(ttai_sigv4_buf_t *b, const char *v)
{
    int  space;

    while (*v == ' ' || *v == '\t') {
        v++;
    }

    space = 0;

    for ( /* void */ ; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }

        if (space) {
            ttai_sigv4_str(b, " ");
            space = 0;
        }

        ttai_sigv4_add(b, v, 1);
    }
}


static void
ttai_sigv4_hex(const unsigned char *in, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, in, n);
}


static void
ttai_sigv4_hmac(const unsigned char *key, size_t klen, const char *msg,
    unsigned char *out)
{
    crypto_auth_hmacsha256_state  st;

    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) msg,
                                  strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
}
