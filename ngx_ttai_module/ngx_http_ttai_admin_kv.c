
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_ttai_admin.h"
#include "ngx_http_ttai_kv.h"


/*
 * The KV part of the development admin API, shaped after the Workers KV
 * REST API that wrangler uses:
 *
 *     GET    /_ttai/kv/keys?prefix=&limit=&cursor=
 *     DELETE /_ttai/kv/keys                      every key
 *     GET    /_ttai/kv/values/<key>
 *     PUT    /_ttai/kv/values/<key>?ttl=&metadata=
 *     DELETE /_ttai/kv/values/<key>
 *
 * Keys and arguments are percent-encoded, and decoded here once.  Keys
 * are UTF-8 without NUL, so that a list can name them in JSON.
 */


#define NGX_HTTP_TTAI_ADMIN_KV_PREFIX   NGX_HTTP_TTAI_ADMIN_PREFIX "kv/"

/* ten years: a longer TTL is a mistake, not a cache */
#define NGX_HTTP_TTAI_ADMIN_KV_MAX_TTL  315360000


typedef struct {
    ngx_str_t                 key;
    ngx_str_t                 metadata;
    ngx_int_t                 ttl;         /* seconds, 0: none */
} ngx_http_ttai_admin_kv_put_t;


/* a change that waits for the journal, and what its answer needs */
typedef struct {
    ngx_http_ttai_kv_wait_t   wait;
    ngx_uint_t                deleted;     /* DELETE keys: the count */
    ngx_uint_t                clear;
} ngx_http_ttai_admin_kv_change_t;


/* why a request is refused: checks fill it in, callers send it */
typedef struct {
    ngx_uint_t                status;
    char                     *code;
    char                     *message;
} ngx_http_ttai_admin_kv_error_t;


static void ngx_http_ttai_admin_kv_raw_path(ngx_http_request_t *r,
    ngx_str_t *raw);
static ngx_int_t ngx_http_ttai_admin_kv_decode(ngx_http_request_t *r,
    ngx_str_t *src, ngx_str_t *dst);
static ngx_int_t ngx_http_ttai_admin_kv_arg(ngx_http_request_t *r,
    char *name, ngx_str_t *value);
static ngx_int_t ngx_http_ttai_admin_kv_key(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_str_t *key, ngx_http_ttai_admin_kv_error_t *err);
static ngx_int_t ngx_http_ttai_admin_kv_list(ngx_http_request_t *r,
    ngx_http_ttai_kv_t *kv);
static ngx_int_t ngx_http_ttai_admin_kv_clear(ngx_http_request_t *r,
    ngx_http_ttai_kv_t *kv);
static ngx_int_t ngx_http_ttai_admin_kv_get(ngx_http_request_t *r,
    ngx_http_ttai_kv_t *kv, ngx_str_t *key);
static ngx_int_t ngx_http_ttai_admin_kv_put(ngx_http_request_t *r,
    ngx_str_t *key);
static void ngx_http_ttai_admin_kv_put_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_admin_kv_put_args(ngx_http_request_t *r,
    ngx_str_t *raw, ngx_http_ttai_admin_kv_put_t *put,
    ngx_http_ttai_admin_kv_error_t *err);
static ngx_int_t ngx_http_ttai_admin_kv_metadata(ngx_http_request_t *r,
    ngx_str_t *json, ngx_http_ttai_admin_kv_error_t *err);
static ngx_int_t ngx_http_ttai_admin_kv_delete(ngx_http_request_t *r,
    ngx_http_ttai_kv_t *kv, ngx_str_t *key);
static ngx_int_t ngx_http_ttai_admin_kv_too_large(ngx_http_request_t *r,
    ngx_http_ttai_admin_kv_error_t *err, char *what, size_t len,
    size_t limit);
static ngx_int_t ngx_http_ttai_admin_kv_refuse(ngx_http_request_t *r,
    ngx_int_t rc, ngx_http_ttai_admin_kv_error_t *err);
static ngx_int_t ngx_http_ttai_admin_kv_success(ngx_http_request_t *r);
static ngx_http_ttai_admin_kv_change_t *ngx_http_ttai_admin_kv_change(
    ngx_http_request_t *r, ngx_http_ttai_kv_t *kv);
static ngx_int_t ngx_http_ttai_admin_kv_changed(ngx_http_request_t *r,
    ngx_http_ttai_kv_wait_t *w);
static ngx_int_t ngx_http_ttai_admin_kv_cleared(ngx_http_request_t *r,
    ngx_uint_t deleted);
static ngx_int_t ngx_http_ttai_admin_kv_not_durable(ngx_http_request_t *r,
    ngx_int_t rc, ngx_err_t err);
static ngx_uint_t ngx_http_ttai_admin_kv_utf8(ngx_str_t *s);
static uint32_t ngx_http_ttai_admin_kv_utf8_char(u_char **p, u_char *end);
static size_t ngx_http_ttai_admin_kv_json(u_char *dst, ngx_str_t *s);


ngx_int_t
ngx_http_ttai_admin_kv(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_int_t                        rc;
    ngx_str_t                        raw, key;
    ngx_http_ttai_kv_t              *kv;
    ngx_http_ttai_main_conf_t       *tmcf;
    ngx_http_ttai_admin_kv_error_t   err;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    kv = tmcf->kv;

    if (kv == NULL) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND,
                                         "not_configured",
                                         "no ttai_kv_zone is configured");
    }

    raw = *path;

    if (raw.len == 4 && ngx_strncmp(raw.data, "keys", 4) == 0) {

        switch (r->method) {

        case NGX_HTTP_GET:
        case NGX_HTTP_HEAD:
            return ngx_http_ttai_admin_kv_list(r, kv);

        case NGX_HTTP_DELETE:
            return ngx_http_ttai_admin_kv_clear(r, kv);

        default:
            return ngx_http_ttai_admin_not_allowed(r, "GET, HEAD, DELETE");
        }
    }

    if (raw.len < 7 || ngx_strncmp(raw.data, "values/", 7) != 0) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "use /_ttai/kv/keys or "
                                         "/_ttai/kv/values/<key>");
    }

    raw.data += 7;
    raw.len -= 7;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PUT
                       |NGX_HTTP_DELETE)))
    {
        return ngx_http_ttai_admin_not_allowed(r,
                                                  "GET, HEAD, PUT, DELETE");
    }

    rc = ngx_http_ttai_admin_kv_key(r, &raw, &key, &err);
    if (rc != NGX_OK) {
        return ngx_http_ttai_admin_kv_refuse(r, rc, &err);
    }

    switch (r->method) {

    case NGX_HTTP_PUT:
        return ngx_http_ttai_admin_kv_put(r, &raw);

    case NGX_HTTP_DELETE:
        return ngx_http_ttai_admin_kv_delete(r, kv, &key);

    default: /* GET, HEAD */
        return ngx_http_ttai_admin_kv_get(r, kv, &key);
    }
}


/*
 * The path as the router found it: the request line's URI, not yet
 * decoded, so that a key keeps its "//" and "%2F" (r->uri has them
 * merged and resolved), without the arguments.
 */

static void
ngx_http_ttai_admin_kv_raw_path(ngx_http_request_t *r, ngx_str_t *raw)
{
    u_char  *p, *end;
    size_t   len;

    p = r->unparsed_uri.data;
    end = ngx_strlchr(p, p + r->unparsed_uri.len, '?');

    if (end == NULL) {
        end = p + r->unparsed_uri.len;
    }

    len = sizeof(NGX_HTTP_TTAI_ADMIN_KV_PREFIX) - 1;

    raw->data = p + ngx_min(len, (size_t) (end - p));
    raw->len = end - raw->data;
}


static ngx_int_t
ngx_http_ttai_admin_kv_decode(ngx_http_request_t *r, ngx_str_t *src,
    ngx_str_t *dst)
{
    u_char  *s, *d;

    dst->data = ngx_pnalloc(r->pool, src->len ? src->len : 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    s = src->data;
    d = dst->data;

    ngx_unescape_uri(&d, &s, src->len, 0);

    dst->len = d - dst->data;

    return NGX_OK;
}


/* NGX_OK with the decoded argument, NGX_DECLINED when it is absent */

static ngx_int_t
ngx_http_ttai_admin_kv_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_str_t  raw;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        /* an empty string, not NULL: it goes to memcmp() as a prefix */
        ngx_str_set(value, "");
        return NGX_DECLINED;
    }

    return ngx_http_ttai_admin_kv_decode(r, &raw, value);
}


/* NGX_OK, NGX_DECLINED for a key that cannot be stored, or NGX_ERROR */

static ngx_int_t
ngx_http_ttai_admin_kv_key(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_str_t *key, ngx_http_ttai_admin_kv_error_t *err)
{
    if (ngx_http_ttai_admin_kv_decode(r, raw, key) != NGX_OK) {
        return NGX_ERROR;
    }

    err->status = NGX_HTTP_BAD_REQUEST;
    err->code = "bad_request";

    if (key->len == 0) {
        err->message = "the key is empty: use /_ttai/kv/values/<key>";
        return NGX_DECLINED;
    }

    if (key->len > NGX_HTTP_TTAI_KV_MAX_KEY) {
        return ngx_http_ttai_admin_kv_too_large(r, err, "key", key->len,
                                                NGX_HTTP_TTAI_KV_MAX_KEY);
    }

    /* nginx refuses %00 in the URI already; this is for the record */
    if (ngx_strlchr(key->data, key->data + key->len, '\0') != NULL) {
        err->message = "keys may not contain NUL bytes";
        return NGX_DECLINED;
    }

    if (!ngx_http_ttai_admin_kv_utf8(key)) {
        err->message = "keys must be valid UTF-8";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* GET keys */

static ngx_int_t
ngx_http_ttai_admin_kv_list(ngx_http_request_t *r, ngx_http_ttai_kv_t *kv)
{
    u_char                    *body, *p;
    size_t                     len;
    ngx_int_t                  rc, limit;
    ngx_str_t                  prefix, cursor, s;
    ngx_uint_t                 i, complete;
    ngx_array_t               *keys;
    ngx_http_ttai_kv_entry_t  *e;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_ttai_admin_kv_arg(r, "prefix", &prefix);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ttai_admin_kv_arg(r, "cursor", &cursor);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    limit = NGX_HTTP_TTAI_KV_MAX_LIST;

    rc = ngx_http_ttai_admin_kv_arg(r, "limit", &s);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        limit = ngx_atoi(s.data, s.len);

        if (limit < 1 || limit > NGX_HTTP_TTAI_KV_MAX_LIST) {
            return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                             "bad_request",
                                             "limit must be a whole number "
                                             "from 1 to 1000");
        }
    }

    rc = ngx_http_ttai_kv_list(kv, &prefix, &cursor, (ngx_uint_t) limit,
                               r->pool, &keys, &complete);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e = keys->elts;

    len = sizeof("{\"keys\":[],\"list_complete\":false,\"cursor\":}") - 1;

    for (i = 0; i < keys->nelts; i++) {
        len += sizeof("{\"name\":,\"expiration\":,\"metadata\":},") - 1
               + ngx_http_ttai_admin_kv_json(NULL, &e[i].key)
               + NGX_INT64_LEN + e[i].metadata.len;
    }

    if (!complete) {
        len += ngx_http_ttai_admin_kv_json(NULL, &e[keys->nelts - 1].key);
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"keys\":[", sizeof("{\"keys\":[") - 1);

    for (i = 0; i < keys->nelts; i++) {
        p = ngx_cpymem(p, (i ? ",{\"name\":" : "{\"name\":"),
                       (i ? sizeof(",{\"name\":") : sizeof("{\"name\":"))
                       - 1);
        p += ngx_http_ttai_admin_kv_json(p, &e[i].key);

        /* Workers KV reports expiration in whole seconds */
        if (e[i].expires) {
            p = ngx_sprintf(p, ",\"expiration\":%uL", e[i].expires / 1000);
        }

        /* stored as compact JSON, checked on the way in */
        if (e[i].metadata.len) {
            p = ngx_sprintf(p, ",\"metadata\":%V", &e[i].metadata);
        }

        *p++ = '}';
    }

    if (complete) {
        p = ngx_sprintf(p, "],\"list_complete\":true}");

    } else {
        p = ngx_sprintf(p, "],\"list_complete\":false,\"cursor\":");
        p += ngx_http_ttai_admin_kv_json(p, &e[keys->nelts - 1].key);
        *p++ = '}';
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, p - body);
}


/* DELETE keys: for "ttai state reset --kv" */

static ngx_int_t
ngx_http_ttai_admin_kv_clear(ngx_http_request_t *r, ngx_http_ttai_kv_t *kv)
{
    ngx_int_t                         rc;
    ngx_http_ttai_admin_kv_change_t  *ch;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ch = ngx_http_ttai_admin_kv_change(r, kv);
    if (ch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ch->clear = 1;

    rc = ngx_http_ttai_kv_clear(kv, &ch->deleted, &ch->wait,
                                r->connection->log);

    switch (rc) {

    case NGX_OK:
        return ngx_http_ttai_admin_kv_cleared(r, ch->deleted);

    case NGX_AGAIN:
        return NGX_DONE;

    default:
        return ngx_http_ttai_admin_kv_not_durable(r, rc, ch->wait.err);
    }
}


static ngx_int_t
ngx_http_ttai_admin_kv_cleared(ngx_http_request_t *r, ngx_uint_t deleted)
{
    u_char  *p;
    size_t   len;

    len = sizeof("{\"success\":true,\"deleted\":}") - 1 + NGX_INT_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(p, "{\"success\":true,\"deleted\":%ui}", deleted) - p;

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, p, len);
}


/* GET values/<key> */

static ngx_int_t
ngx_http_ttai_admin_kv_get(ngx_http_request_t *r, ngx_http_ttai_kv_t *kv,
    ngx_str_t *key)
{
    ngx_int_t                 rc;
    ngx_str_t                 expiration;
    ngx_buf_t                *b;
    ngx_chain_t               out;
    ngx_http_ttai_kv_entry_t  entry;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_ttai_kv_get(kv, key, r->pool, &entry);

    if (rc == NGX_DECLINED) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such key");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (entry.expires) {
        expiration.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (expiration.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        expiration.len = ngx_sprintf(expiration.data, "%uL",
                                     entry.expires / 1000)
                         - expiration.data;

        if (ngx_http_ttai_header(r, "X-TTAI-Expiration",
                                 (char *) expiration.data, expiration.len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* compact JSON with only ASCII: safe as a header value */
    if (entry.metadata.len
        && ngx_http_ttai_header(r, "X-TTAI-Metadata",
                                (char *) entry.metadata.data,
                                entry.metadata.len)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = entry.value.len;
    ngx_str_set(&r->headers_out.content_type, "application/octet-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (entry.value.len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = entry.value.data;
    b->last = entry.value.data + entry.value.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* PUT values/<key>: the arguments are checked before the body is read */

static ngx_int_t
ngx_http_ttai_admin_kv_put(ngx_http_request_t *r, ngx_str_t *raw)
{
    ngx_int_t                        rc;
    ngx_http_ttai_admin_kv_put_t     put;
    ngx_http_ttai_admin_kv_error_t   err;

    rc = ngx_http_ttai_admin_kv_put_args(r, raw, &put, &err);
    if (rc != NGX_OK) {
        return ngx_http_ttai_admin_kv_refuse(r, rc, &err);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_TTAI_KV_MAX_VALUE) {
        rc = ngx_http_ttai_admin_kv_too_large(r, &err, "value",
                                    (size_t) r->headers_in.content_length_n,
                                    NGX_HTTP_TTAI_KV_MAX_VALUE);
        return ngx_http_ttai_admin_kv_refuse(r, rc, &err);
    }

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_ttai_admin_kv_put_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_ttai_admin_kv_put_body(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         raw;
    ngx_time_t                       *tp;
    ngx_http_ttai_kv_t               *kv;
    ngx_http_ttai_kv_entry_t          entry;
    ngx_http_ttai_main_conf_t        *tmcf;
    ngx_http_ttai_admin_kv_put_t      put;
    ngx_http_ttai_admin_kv_error_t    err;
    ngx_http_ttai_admin_kv_change_t  *ch;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    kv = tmcf->kv;

    /*
     * The arguments passed once already; parsing them again is cheaper to
     * get right than a request ctx that another phase might also use.
     */

    /* the router sent a "values/" path here */
    ngx_http_ttai_admin_kv_raw_path(r, &raw);

    raw.data += sizeof("values/") - 1;
    raw.len -= sizeof("values/") - 1;

    rc = ngx_http_ttai_admin_kv_put_args(r, &raw, &put, &err);
    if (rc != NGX_OK) {
        ngx_http_finalize_request(r,
                                  ngx_http_ttai_admin_kv_refuse(r, rc, &err));
        return;
    }

    entry.key = put.key;
    entry.metadata = put.metadata;

    if (ngx_http_ttai_admin_body(r, &entry.value) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (entry.value.len > NGX_HTTP_TTAI_KV_MAX_VALUE) {
        rc = ngx_http_ttai_admin_kv_too_large(r, &err, "value",
                                              entry.value.len,
                                              NGX_HTTP_TTAI_KV_MAX_VALUE);
        ngx_http_finalize_request(r,
                                  ngx_http_ttai_admin_kv_refuse(r, rc, &err));
        return;
    }

    entry.expires = 0;

    if (put.ttl) {
        tp = ngx_timeofday();
        entry.expires = ((uint64_t) tp->sec + put.ttl) * 1000 + tp->msec;
    }

    ch = ngx_http_ttai_admin_kv_change(r, kv);
    if (ch == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the answer waits until the value is on disk */
    rc = ngx_http_ttai_kv_set(kv, &entry, &ch->wait, r->connection->log);

    switch (rc) {

    case NGX_OK:
        rc = ngx_http_ttai_admin_kv_success(r);
        break;

    case NGX_AGAIN:
        rc = NGX_DONE;
        break;

    case NGX_DECLINED:
        rc = ngx_http_ttai_admin_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "too_large",
                                       "the entry is past the KV limits");
        break;

    case NGX_ERROR:
        rc = ngx_http_ttai_admin_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                       "insufficient_storage",
                                       "the KV zone cannot hold this entry, "
                                       "even after evicting the least "
                                       "recently used ones");
        break;

    default: /* NGX_ABORT */
        rc = ngx_http_ttai_admin_kv_not_durable(r, rc, ch->wait.err);
    }

    ngx_http_finalize_request(r, rc);
}


/* NGX_OK, NGX_DECLINED for unusable arguments, or NGX_ERROR */

static ngx_int_t
ngx_http_ttai_admin_kv_put_args(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_http_ttai_admin_kv_put_t *put, ngx_http_ttai_admin_kv_error_t *err)
{
    ngx_int_t  rc;
    ngx_str_t  ttl;

    rc = ngx_http_ttai_admin_kv_key(r, raw, &put->key, err);
    if (rc != NGX_OK) {
        return rc;
    }

    put->ttl = 0;

    rc = ngx_http_ttai_admin_kv_arg(r, "ttl", &ttl);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        put->ttl = ngx_atoi(ttl.data, ttl.len);

        if (put->ttl < 1 || put->ttl > NGX_HTTP_TTAI_ADMIN_KV_MAX_TTL) {
            err->status = NGX_HTTP_BAD_REQUEST;
            err->code = "bad_request";
            err->message = "ttl must be a whole number of seconds from 1 "
                           "to 315360000 (ten years)";
            return NGX_DECLINED;
        }
    }

    rc = ngx_http_ttai_admin_kv_arg(r, "metadata", &put->metadata);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (put->metadata.len > NGX_HTTP_TTAI_KV_MAX_METADATA) {
        return ngx_http_ttai_admin_kv_too_large(r, err, "metadata",
                                                put->metadata.len,
                                                NGX_HTTP_TTAI_KV_MAX_METADATA);
    }

    return ngx_http_ttai_admin_kv_metadata(r, &put->metadata, err);
}


/*
 * Metadata is stored as compact JSON with non-ASCII escaped: it is then
 * one line of plain ASCII, which X-TTAI-Metadata can carry as it is.
 */

static ngx_int_t
ngx_http_ttai_admin_kv_metadata(ngx_http_request_t *r, ngx_str_t *json,
    ngx_http_ttai_admin_kv_error_t *err)
{
    char          *s;
    size_t         len;
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb((char *) json->data, json->len, JSON_DECODE_ANY, &jerr);

    if (root == NULL) {
        err->status = NGX_HTTP_BAD_REQUEST;
        err->code = "bad_request";
        err->message = "metadata must be JSON, percent-encoded";
        return NGX_DECLINED;
    }

    s = json_dumps(root, JSON_COMPACT|JSON_ENCODE_ANY|JSON_ENSURE_ASCII);
    json_decref(root);

    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    if (len > NGX_HTTP_TTAI_KV_MAX_METADATA) {
        free(s);
        return ngx_http_ttai_admin_kv_too_large(r, err, "metadata", len,
                                                NGX_HTTP_TTAI_KV_MAX_METADATA);
    }

    json->data = ngx_pnalloc(r->pool, len);
    if (json->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(json->data, s, len);
    json->len = len;

    free(s);

    return NGX_OK;
}


/* DELETE values/<key> */

static ngx_int_t
ngx_http_ttai_admin_kv_delete(ngx_http_request_t *r, ngx_http_ttai_kv_t *kv,
    ngx_str_t *key)
{
    ngx_int_t                         rc;
    ngx_http_ttai_admin_kv_change_t  *ch;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ch = ngx_http_ttai_admin_kv_change(r, kv);
    if (ch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ttai_kv_delete(kv, key, &ch->wait, r->connection->log);

    switch (rc) {

    case NGX_OK:
        return ngx_http_ttai_admin_kv_success(r);

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_DECLINED:
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such key");

    default:
        return ngx_http_ttai_admin_kv_not_durable(r, rc, ch->wait.err);
    }
}


static ngx_http_ttai_admin_kv_change_t *
ngx_http_ttai_admin_kv_change(ngx_http_request_t *r, ngx_http_ttai_kv_t *kv)
{
    ngx_http_ttai_admin_kv_change_t  *ch;

    ch = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_admin_kv_change_t));
    if (ch == NULL) {
        return NULL;
    }

    ch->wait.request = r;
    ch->wait.handler = ngx_http_ttai_admin_kv_changed;
    ch->wait.data = ch;

    return ch;
}


/* the journal is done with a put, delete or clear */

static ngx_int_t
ngx_http_ttai_admin_kv_changed(ngx_http_request_t *r,
    ngx_http_ttai_kv_wait_t *w)
{
    ngx_http_ttai_admin_kv_change_t *ch = w->data;

    if (w->err) {
        return ngx_http_ttai_admin_kv_not_durable(r, NGX_AGAIN, w->err);
    }

    if (ch->clear) {
        return ngx_http_ttai_admin_kv_cleared(r, ch->deleted);
    }

    return ngx_http_ttai_admin_kv_success(r);
}


/*
 * 507, with the cause: refused before anything changed (NGX_ABORT), or
 * made but not known to last (NGX_AGAIN, the journal's write failed).
 */

static ngx_int_t
ngx_http_ttai_admin_kv_not_durable(ngx_http_request_t *r, ngx_int_t rc,
    ngx_err_t err)
{
    u_char  *msg, *last, *p;
    size_t   len;
    char    *why;

    if (rc != NGX_ABORT && rc != NGX_AGAIN) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    why = ngx_http_ttai_kv_strerror(r->pool, "journal", err);
    if (why == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 160 + ngx_strlen(why);

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = msg + len - 1;

    if (rc == NGX_ABORT) {
        p = ngx_slprintf(msg, last, "the KV zone cannot make writes last "
                         "(%s): nothing was written; retry later", why);

    } else {
        p = ngx_slprintf(msg, last, "the write was not made durable (%s): "
                         "it may be lost on a restart; retry later", why);
    }

    *p = '\0';

    return ngx_http_ttai_admin_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                     "insufficient_storage", (char *) msg);
}


/* the message names the limit; the admin error wants a C string */

static ngx_int_t
ngx_http_ttai_admin_kv_too_large(ngx_http_request_t *r,
    ngx_http_ttai_admin_kv_error_t *err, char *what, size_t len,
    size_t limit)
{
    u_char  *msg;

    msg = ngx_pnalloc(r->pool, 64 + ngx_strlen(what) + 2 * NGX_SIZE_T_LEN);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(msg, "the %s has %uz bytes; the limit is %uz bytes%Z",
                what, len, limit);

    err->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    err->code = "too_large";
    err->message = (char *) msg;

    return NGX_DECLINED;
}


/* sends the refusal that a check filled in, or a 500 after NGX_ERROR */

static ngx_int_t
ngx_http_ttai_admin_kv_refuse(ngx_http_request_t *r, ngx_int_t rc,
    ngx_http_ttai_admin_kv_error_t *err)
{
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_admin_error(r, err->status, err->code, err->message);
}


static ngx_int_t
ngx_http_ttai_admin_kv_success(ngx_http_request_t *r)
{
    static u_char  body[] = "{\"success\":true}";

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, sizeof(body) - 1);
}


/* UTF-8 */

static ngx_uint_t
ngx_http_ttai_admin_kv_utf8(ngx_str_t *s)
{
    u_char  *p, *end;

    p = s->data;
    end = s->data + s->len;

    while (p < end) {
        if (ngx_http_ttai_admin_kv_utf8_char(&p, end) == 0xffffffff) {
            return 0;
        }
    }

    return 1;
}


/*
 * One character, or 0xffffffff for a byte that does not start a valid
 * one; *p moves past what was read.  ngx_utf8_decode() lets surrogates
 * and code points past U+10FFFF through, which JSON does not.
 */

static uint32_t
ngx_http_ttai_admin_kv_utf8_char(u_char **p, u_char *end)
{
    u_char    *q;
    uint32_t   c;

    if (**p < 0x80) {
        return *(*p)++;
    }

    q = *p;
    c = ngx_utf8_decode(&q, end - *p);

    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        (*p)++;
        return 0xffffffff;
    }

    *p = q;

    return c;
}


/*
 * Writes s as a JSON string to dst and returns its length; with a NULL
 * dst only measures.  A byte that is not UTF-8 (none is accepted on the
 * way in) is written as the code point of the same value.
 */

static size_t
ngx_http_ttai_admin_kv_json(u_char *dst, ngx_str_t *s)
{
    u_char    *p, *q, *end, *d;
    size_t     n;
    uint32_t   c;

    static u_char  hex[] = "0123456789abcdef";

    n = 0;
    d = dst;
    p = s->data;
    end = s->data + s->len;

    if (d) {
        *d++ = '"';
    }

    n++;

    while (p < end) {
        q = p;
        c = ngx_http_ttai_admin_kv_utf8_char(&p, end);

        if (c == 0xffffffff) {
            c = *q;
            goto escape;
        }

        if (c == '"' || c == '\\') {
            if (d) {
                *d++ = '\\';
                *d++ = (u_char) c;
            }

            n += 2;
            continue;
        }

        if (c >= 0x20) {
            if (d) {
                d = ngx_cpymem(d, q, p - q);
            }

            n += p - q;
            continue;
        }

    escape:

        if (d) {
            *d++ = '\\';
            *d++ = 'u';
            *d++ = '0';
            *d++ = '0';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 0xf];
        }

        n += 6;
    }

    if (d) {
        *d++ = '"';
    }

    n++;

    return n;
}
