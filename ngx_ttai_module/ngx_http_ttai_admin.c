
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_admin.h"


/*
 * The development admin API, which the ttai CLI uses to reach the stores
 * that live inside nginx.  It exists only with "ttai_environment
 * development" (a production configuration that names it does not load)
 * and answers loopback clients only.
 */


typedef ngx_int_t (*ngx_http_ttai_admin_pt)(ngx_http_request_t *r,
    ngx_str_t *path);


typedef struct {
    ngx_str_t                  store;
    ngx_http_ttai_admin_pt     handler;
} ngx_http_ttai_admin_route_t;


static ngx_int_t ngx_http_ttai_admin_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_ttai_admin_loopback(ngx_connection_t *c);


static ngx_http_ttai_admin_route_t  ngx_http_ttai_admin_routes[] = {
    { ngx_string("kv"), ngx_http_ttai_admin_kv },
    { ngx_string("r2"), ngx_http_ttai_admin_r2 },
    { ngx_string("d1"), ngx_http_ttai_admin_d1 },
    { ngx_null_string, NULL }
};


char *
ngx_http_ttai_admin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_ttai_set_handler(cf, ngx_http_ttai_admin_handler);
    if (tmcf == NULL) {
        return "is duplicate";
    }

    tmcf->admin = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_admin_handler(ngx_http_request_t *r)
{
    u_char                       *p, *end;
    ngx_int_t                     rc;
    ngx_str_t                     store, path;
    ngx_http_ttai_admin_route_t  *route;

    if (!ngx_http_ttai_admin_allowed(r, &rc)) {
        return rc;
    }

    /*
     * The raw URI, not r->uri: nginx has already decoded and normalised
     * that one, and a store must see "%2F" and "%2E%2E" in a key as they
     * were sent, to decode them once and judge them itself.
     */
    p = r->unparsed_uri.data;
    end = ngx_strlchr(p, p + r->unparsed_uri.len, '?');

    if (end == NULL) {
        end = p + r->unparsed_uri.len;
    }

    if ((size_t) (end - p) < sizeof(NGX_HTTP_TTAI_ADMIN_PREFIX) - 1
        || ngx_strncmp(p, NGX_HTTP_TTAI_ADMIN_PREFIX,
                       sizeof(NGX_HTTP_TTAI_ADMIN_PREFIX) - 1) != 0)
    {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "the admin API is mounted at "
                                         NGX_HTTP_TTAI_ADMIN_PREFIX);
    }

    p += sizeof(NGX_HTTP_TTAI_ADMIN_PREFIX) - 1;

    store.data = p;

    while (p < end && *p != '/') {
        p++;
    }

    store.len = p - store.data;

    path.data = (p < end) ? p + 1 : p;
    path.len = end - path.data;

    for (route = ngx_http_ttai_admin_routes; route->handler; route++) {
        if (route->store.len == store.len
            && ngx_strncmp(route->store.data, store.data, store.len) == 0)
        {
            return route->handler(r, &path);
        }
    }

    return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                     "no such store: use kv, r2 or d1");
}


/*
 * Whether a development endpoint may answer: 1, or 0 with *rc set to the
 * refusal already sent.
 */

ngx_uint_t
ngx_http_ttai_admin_allowed(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    /* refused at load in production; this is a second line */
    if (tmcf->environment != NGX_HTTP_TTAI_DEVELOPMENT) {
        *rc = NGX_HTTP_NOT_FOUND;
        return 0;
    }

    if (!ngx_http_ttai_admin_loopback(r->connection)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: admin API refused to a non-loopback client");

        *rc = ngx_http_ttai_admin_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                        "the admin API answers loopback "
                                        "clients only");
        return 0;
    }

    return 1;
}


/*
 * The address is the one nginx acts on, after the realip module if it is
 * configured, so a proxy on loopback cannot relay outside clients.
 */

static ngx_uint_t
ngx_http_ttai_admin_loopback(ngx_connection_t *c)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    u_char               *a;
    struct sockaddr_in6  *sin6;
#endif

    switch (c->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) c->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) c->sockaddr;
        a = sin6->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }

        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
    case AF_UNIX:
        return 1;
#endif

    default:
        return 0;
    }
}


ngx_int_t
ngx_http_ttai_admin_error(ngx_http_request_t *r, ngx_uint_t status,
    char *code, char *message)
{
    u_char  *p, *body, *m;
    size_t   len;

    len = sizeof("{\"error\":\"\",\"message\":\"\"}") - 1
          + ngx_strlen(code) + 6 * ngx_strlen(message);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the code is the module's own; the message may quote a client */
    p = ngx_sprintf(body, "{\"error\":\"%s\",\"message\":\"", code);

    for (m = (u_char *) message; *m; m++) {
        if (*m == '"' || *m == '\\') {
            *p++ = '\\';
            *p++ = *m;

        } else if (*m < 0x20) {
            p = ngx_sprintf(p, "\\u%04xd", *m);

        } else {
            *p++ = *m;
        }
    }

    *p++ = '"';
    *p++ = '}';

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    return ngx_http_ttai_send_json(r, status, body, p - body);
}


ngx_int_t
ngx_http_ttai_admin_not_allowed(ngx_http_request_t *r, char *allow)
{
    u_char  *message;
    size_t   len;

    len = ngx_strlen(allow);

    message = ngx_pnalloc(r->pool, sizeof("use ") + len);
    if (message == NULL
        || ngx_http_ttai_header(r, "Allow", allow, len) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(message, "use %s%Z", allow);

    return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "method_not_allowed", (char *) message);
}


/*
 * The request body as one buffer.  nginx may have written part of it to
 * a temporary file; the admin API is for development only, so that part
 * is read back here with a plain read.
 */

ngx_int_t
ngx_http_ttai_admin_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}
