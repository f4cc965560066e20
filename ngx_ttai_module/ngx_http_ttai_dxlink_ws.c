
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <sodium.h>
#include <wslay/wslay.h>

#include "ngx_http_ttai_dxlink_feed.h"
#include "ttai_version.h"


/*
 * The market-data feed's websocket: the address (written as one, or
 * asked of the http block's resolver), the connection, TLS through
 * nginx's own (verified, with SNI), the opening handshake (one request,
 * one answer, written here: libwslay leaves it to its user) and the
 * framing, which libwslay does without touching a socket: its callbacks
 * read and write the nginx connection.  What the messages say is the
 * feed's (ngx_http_ttai_dxlink.c).
 */

#define NGX_HTTP_TTAI_DXF_CONNECT     10000      /* ms to connect, upgrade */
#define NGX_HTTP_TTAI_DXF_MAX_MSG     (4 * 1024 * 1024)
#define NGX_HTTP_TTAI_DXF_HEADER      4096

/*
 * A turn of the event loop reads at most this much of the websocket: a
 * burst of market data is spread over turns instead of holding the loop
 */
#define NGX_HTTP_TTAI_DXF_TURN_BYTES  4096

#define NGX_HTTP_TTAI_DXF_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


static void ngx_http_ttai_dxf_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_ttai_dxf_connect_peer(ngx_http_ttai_dxf_t *f,
    struct sockaddr *sa, socklen_t len);
static void ngx_http_ttai_dxf_handler(ngx_event_t *ev);
static void ngx_http_ttai_dxf_connected(ngx_http_ttai_dxf_t *f);
#if (NGX_SSL)
static void ngx_http_ttai_dxf_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_ttai_dxf_upgrade(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_upgrade_send(ngx_http_ttai_dxf_t *f);
static void ngx_http_ttai_dxf_upgrade_read(ngx_http_ttai_dxf_t *f);
static ngx_int_t ngx_http_ttai_dxf_upgraded(ngx_http_ttai_dxf_t *f,
    u_char *end);
static void ngx_http_ttai_dxf_open(ngx_http_ttai_dxf_t *f);
static ssize_t ngx_http_ttai_dxf_ws_recv(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, int flags, void *user_data);
static ssize_t ngx_http_ttai_dxf_ws_send(wslay_event_context_ptr ctx,
    const uint8_t *data, size_t len, int flags, void *user_data);
static int ngx_http_ttai_dxf_ws_mask(wslay_event_context_ptr ctx,
    uint8_t *buf, size_t len, void *user_data);
static void ngx_http_ttai_dxf_ws_message(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data);


const char *ngx_http_ttai_dxf_states[] = {
    "down", "resolving", "connecting", "tls", "upgrading", "handshake"
};


ngx_int_t
ngx_http_ttai_dxf_parse_url(ngx_http_ttai_dxf_t *f)
{
    u_char     *p, *host, *end, *colon;
    ngx_int_t   port;

    p = (u_char *) f->url;

    if (ngx_strncmp(p, "wss://", 6) == 0) {
        f->tls = 1;
        f->port = 443;
        p += 6;

    } else if (ngx_strncmp(p, "ws://", 5) == 0) {
        f->tls = 0;
        f->port = 80;
        p += 5;

    } else {
        return NGX_ERROR;
    }

#if !(NGX_SSL)
    if (f->tls) {
        return NGX_ERROR;
    }
#endif

    host = p;
    end = (u_char *) ngx_strchr(p, '/');
    if (end == NULL) {
        end = p + ngx_strlen(p);
    }

    colon = ngx_strlchr(host, end, ':');

    if (colon != NULL) {
        port = ngx_atoi(colon + 1, end - colon - 1);
        if (port < 1 || port > 65535) {
            return NGX_ERROR;
        }

        f->port = (in_port_t) port;

    } else {
        colon = end;
    }

    f->host.data = host;
    f->host.len = colon - host;

    if (f->host.len == 0) {
        return NGX_ERROR;
    }

    if (*end == '\0') {
        ngx_str_set(&f->path, "/");

    } else {
        f->path.data = end;
        f->path.len = ngx_strlen(end);
    }

    return NGX_OK;
}


/* the address: written as one, or asked of the http block's resolver */

void
ngx_http_ttai_dxf_connect(ngx_http_ttai_dxf_t *f)
{
    ngx_addr_t                 addr;
    ngx_resolver_ctx_t        *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    f->pool = ngx_create_pool(4096, &f->log);
    if (f->pool == NULL) {
        return;
    }

    f->state = NGX_HTTP_TTAI_DXF_RESOLVING;
    f->error[0] = '\0';

    if (ngx_parse_addr(f->pool, &addr, f->host.data, f->host.len) == NGX_OK)
    {
        ngx_http_ttai_dxf_connect_peer(f, addr.sockaddr, addr.socklen);
        return;
    }

    clcf = f->tmcf->background_ctx
           ? f->tmcf->background_ctx->loc_conf[ngx_http_core_module.ctx_index]
           : NULL;

    if (clcf == NULL || clcf->resolver == NULL
        || clcf->resolver->connections.nelts == 0)
    {
        ngx_http_ttai_dxf_fail(f, "%V is a name and no resolver is set: "
                               "add \"resolver\" to the http block",
                               &f->host);
        return;
    }

    ctx = ngx_resolve_start(clcf->resolver, NULL);
    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_ttai_dxf_fail(f, "could not resolve %V", &f->host);
        return;
    }

    ctx->name = f->host;
    ctx->handler = ngx_http_ttai_dxf_resolved;
    ctx->data = f;
    ctx->timeout = clcf->resolver_timeout;

    f->rctx = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        f->rctx = NULL;
        ngx_http_ttai_dxf_fail(f, "could not resolve %V", &f->host);
    }
}


static void
ngx_http_ttai_dxf_resolved(ngx_resolver_ctx_t *ctx)
{
    socklen_t             len;
    struct sockaddr      *sa;
    ngx_http_ttai_dxf_t  *f;

    f = ctx->data;
    f->rctx = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_http_ttai_dxf_fail(f, "%V could not be resolved (%s)", &ctx->name,
                               ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        return;
    }

    len = ctx->addrs[0].socklen;
    sa = ngx_palloc(f->pool, len);

    if (sa == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    ngx_memcpy(sa, ctx->addrs[0].sockaddr, len);
    ngx_resolve_name_done(ctx);

    ngx_http_ttai_dxf_connect_peer(f, sa, len);
}


static void
ngx_http_ttai_dxf_connect_peer(ngx_http_ttai_dxf_t *f, struct sockaddr *sa,
    socklen_t len)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    ngx_inet_set_port(sa, f->port);

    ngx_memzero(&f->peer, sizeof(ngx_peer_connection_t));

    f->peer.sockaddr = sa;
    f->peer.socklen = len;
    f->peer.name = &f->host;
    f->peer.get = ngx_event_get_peer;
    f->peer.log = &f->log;
    f->peer.log_error = NGX_ERROR_ERR;

    f->state = NGX_HTTP_TTAI_DXF_CONNECTING;

    rc = ngx_event_connect_peer(&f->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        f->peer.connection = NULL;
        ngx_http_ttai_dxf_fail(f, "could not connect to %V:%d", &f->host,
                               (int) f->port);
        return;
    }

    c = f->peer.connection;
    c->data = f;
    c->pool = f->pool;
    c->log = &f->log;
    c->read->log = &f->log;
    c->write->log = &f->log;
    c->read->handler = ngx_http_ttai_dxf_handler;
    c->write->handler = ngx_http_ttai_dxf_handler;

    ngx_add_timer(c->write, NGX_HTTP_TTAI_DXF_CONNECT);

    if (rc == NGX_OK) {
        ngx_http_ttai_dxf_connected(f);
    }
}


static void
ngx_http_ttai_dxf_handler(ngx_event_t *ev)
{
    int                   err;
    socklen_t             len;
    ngx_connection_t     *c;
    ngx_http_ttai_dxf_t  *f;

    c = ev->data;
    f = c->data;

    if (ev->timedout) {
        ngx_http_ttai_dxf_fail(f, "%s timed out",
                               ngx_http_ttai_dxf_states[f->state]);
        return;
    }

    switch (f->state) {

    case NGX_HTTP_TTAI_DXF_CONNECTING:
        if (!ev->write) {
            return;
        }

        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_http_ttai_dxf_fail(f, "could not connect to %V:%d (%d)",
                                   &f->host, (int) f->port, err);
            return;
        }

        ngx_http_ttai_dxf_connected(f);
        return;

    case NGX_HTTP_TTAI_DXF_UPGRADE:
        if (ev->write) {
            ngx_http_ttai_dxf_upgrade_send(f);

        } else {
            ngx_http_ttai_dxf_upgrade_read(f);
        }

        return;

    case NGX_HTTP_TTAI_DXF_OPEN:
        ngx_http_ttai_dxf_io(f);
        return;

    default:
        return;
    }
}


static void
ngx_http_ttai_dxf_connected(ngx_http_ttai_dxf_t *f)
{
#if (NGX_SSL)
    u_char            *name;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    if (f->tls) {
        c = f->peer.connection;
        f->state = NGX_HTTP_TTAI_DXF_TLS;

        if (ngx_ssl_create_connection(f->tmcf->dxlink_ssl, c, NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_ttai_dxf_fail(f, "TLS could not begin");
            return;
        }

        name = ngx_pnalloc(f->pool, f->host.len + 1);
        if (name == NULL) {
            ngx_http_ttai_dxf_fail(f, "out of memory");
            return;
        }

        (void) ngx_cpystrn(name, f->host.data, f->host.len + 1);

        /* SNI: the server has many names behind one address */
        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name) == 0)
        {
            ngx_http_ttai_dxf_fail(f, "SNI could not be set for %V",
                                   &f->host);
            return;
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_ttai_dxf_tls_done;
            return;
        }

        ngx_http_ttai_dxf_tls_done(c);
        return;
    }
#endif

    ngx_http_ttai_dxf_upgrade(f);
}


#if (NGX_SSL)

static void
ngx_http_ttai_dxf_tls_done(ngx_connection_t *c)
{
    long                  rc;
    ngx_http_ttai_dxf_t  *f;

    f = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_ttai_dxf_fail(f, "the TLS handshake with %V failed",
                               &f->host);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_ttai_dxf_fail(f, "the certificate of %V is not trusted: "
                               "%s", &f->host,
                               X509_verify_cert_error_string(rc));
        return;
    }

    if (ngx_ssl_check_host(c, &f->host) != NGX_OK) {
        ngx_http_ttai_dxf_fail(f, "the certificate is not for %V", &f->host);
        return;
    }

    c->read->handler = ngx_http_ttai_dxf_handler;
    c->write->handler = ngx_http_ttai_dxf_handler;

    ngx_http_ttai_dxf_upgrade(f);
}

#endif


/*
 * The websocket's opening handshake (RFC 6455, 4.1): a random key, and
 * the answer must carry base64(SHA-1(key + GUID)).  One request and one
 * answer: hand-written, since libwslay frames and leaves this to its
 * user.
 */

static void
ngx_http_ttai_dxf_upgrade(ngx_http_ttai_dxf_t *f)
{
    u_char     raw[16], key[32], digest[20];
    ngx_str_t  k, r, a;
    ngx_sha1_t  sha1;

    randombytes_buf(raw, sizeof(raw));

    r.data = raw;
    r.len = sizeof(raw);
    k.data = key;
    ngx_encode_base64(&k, &r);

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, k.data, k.len);
    ngx_sha1_update(&sha1, NGX_HTTP_TTAI_DXF_GUID,
                    sizeof(NGX_HTTP_TTAI_DXF_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    r.data = digest;
    r.len = sizeof(digest);
    a.data = f->accept;
    ngx_encode_base64(&a, &r);
    f->accept_len = a.len;

    f->out = ngx_create_temp_buf(f->pool, 512 + f->host.len + f->path.len);
    f->in = ngx_create_temp_buf(f->pool, NGX_HTTP_TTAI_DXF_HEADER);

    if (f->out == NULL || f->in == NULL) {
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    f->out->last = ngx_sprintf(f->out->last,
                               "GET %V HTTP/1.1\r\n"
                               "Host: %V",
                               &f->path, &f->host);

    if (f->port != (f->tls ? 443 : 80)) {
        f->out->last = ngx_sprintf(f->out->last, ":%d", (int) f->port);
    }

    f->out->last = ngx_sprintf(f->out->last, "\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: %V\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "User-Agent: ttai/" TTAI_VERSION "\r\n"
                               "\r\n", &k);

    f->state = NGX_HTTP_TTAI_DXF_UPGRADE;

    ngx_http_ttai_dxf_upgrade_send(f);
}


static void
ngx_http_ttai_dxf_upgrade_send(ngx_http_ttai_dxf_t *f)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = f->peer.connection;

    while (f->out->pos < f->out->last) {
        n = c->send(c, f->out->pos, f->out->last - f->out->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_ttai_dxf_fail(f, "could not wait to write");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_ttai_dxf_fail(f, "the upgrade request could not be "
                                   "sent");
            return;
        }

        f->out->pos += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_add_timer(c->read, NGX_HTTP_TTAI_DXF_CONNECT);

    ngx_http_ttai_dxf_upgrade_read(f);
}


static void
ngx_http_ttai_dxf_upgrade_read(ngx_http_ttai_dxf_t *f)
{
    u_char            *end;
    ssize_t            n;
    ngx_connection_t  *c;

    c = f->peer.connection;

    for ( ;; ) {
        if (f->in->last == f->in->end) {
            ngx_http_ttai_dxf_fail(f, "the upgrade's answer is too long");
            return;
        }

        n = c->recv(c, f->in->last, f->in->end - f->in->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_ttai_dxf_fail(f, "could not wait to read");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_ttai_dxf_fail(f, "the server closed the connection "
                                   "before it upgraded it");
            return;
        }

        f->in->last += n;

        end = ngx_strlcasestrn(f->in->pos, f->in->last,
                               (u_char *) "\r\n\r\n", 4 - 1);
        if (end != NULL) {
            break;
        }
    }

    if (ngx_http_ttai_dxf_upgraded(f, end + 4) != NGX_OK) {
        return;
    }

    /* what came after the answer is the first of the websocket's bytes */
    f->in->pos = end + 4;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_http_ttai_dxf_open(f);
}


static ngx_int_t
ngx_http_ttai_dxf_upgraded(ngx_http_ttai_dxf_t *f, u_char *end)
{
    u_char     *p, *line, *colon, *v, *ve;
    ngx_uint_t  accepted, upgrade;

    p = f->in->pos;

    if (end - p < 12 || ngx_strncmp(p, "HTTP/1.1 101", 12) != 0) {
        line = ngx_strlchr(p, end, '\r');
        ngx_http_ttai_dxf_fail(f, "the server did not upgrade: \"%*s\"",
                               ngx_min((size_t) ((line ? line : end) - p),
                                       (size_t) 80), p);
        return NGX_ERROR;
    }

    accepted = 0;
    upgrade = 0;

    for (line = ngx_strlchr(p, end, '\n'); line && line + 1 < end;
         line = ngx_strlchr(line + 1, end, '\n'))
    {
        line++;
        ve = ngx_strlchr(line, end, '\r');
        colon = ngx_strlchr(line, ve ? ve : end, ':');

        if (ve == NULL || colon == NULL) {
            continue;
        }

        for (v = colon + 1; v < ve && *v == ' '; v++) { /* void */ }

        if (colon - line == 20
            && ngx_strncasecmp(line, (u_char *) "Sec-WebSocket-Accept", 20)
               == 0)
        {
            accepted = ((size_t) (ve - v) == f->accept_len
                        && ngx_strncmp(v, f->accept, f->accept_len) == 0);

        } else if (colon - line == 7
                   && ngx_strncasecmp(line, (u_char *) "Upgrade", 7) == 0)
        {
            upgrade = (ve - v == 9
                       && ngx_strncasecmp(v, (u_char *) "websocket", 9) == 0);
        }
    }

    if (!accepted || !upgrade) {
        ngx_http_ttai_dxf_fail(f, "the server's upgrade answer is not a "
                               "websocket's (%s)",
                               accepted ? "Upgrade" : "Sec-WebSocket-Accept");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_ttai_dxf_open(ngx_http_ttai_dxf_t *f)
{
    static struct wslay_event_callbacks  callbacks = {
        ngx_http_ttai_dxf_ws_recv,
        ngx_http_ttai_dxf_ws_send,
        ngx_http_ttai_dxf_ws_mask,
        NULL,
        NULL,
        NULL,
        ngx_http_ttai_dxf_ws_message
    };

    if (wslay_event_context_client_init(&f->ws, &callbacks, f) != 0) {
        f->ws = NULL;
        ngx_http_ttai_dxf_fail(f, "out of memory");
        return;
    }

    wslay_event_config_set_max_recv_msg_length(f->ws,
                                               NGX_HTTP_TTAI_DXF_MAX_MSG);

    f->state = NGX_HTTP_TTAI_DXF_OPEN;
    f->last_in = ngx_current_msec;
    f->last_out = ngx_current_msec;
    f->failed = 0;

    ngx_log_error(NGX_LOG_INFO, &f->log, 0,
                  "ttai: the market-data stream is open at %V", &f->host);

    if (ngx_http_ttai_dxf_opened(f) == NGX_OK) {
        ngx_http_ttai_dxf_io(f);
    }
}


/* reads and writes what wslay can; a failure closes and reconnects */

void
ngx_http_ttai_dxf_io(ngx_http_ttai_dxf_t *f)
{
    int                rc;
    uint64_t           us;
    struct timespec    t0, t1;
    ngx_connection_t  *c;

    c = f->peer.connection;

    /* CPU time: on a busy machine the wall clock counts others' turns */
    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    f->turn_bytes = 0;
    f->more = 0;

    rc = wslay_event_want_read(f->ws) ? wslay_event_recv(f->ws) : 0;

    if (f->more && !f->failed) {
        /* the rest in a later turn: no new edge will say it is there */
        ngx_post_event(c->read, &ngx_posted_next_events);
    }

    /* the longest the loop was held here, for /health and the bench */
    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    us = (uint64_t) (t1.tv_sec - t0.tv_sec) * 1000000
         + (t1.tv_nsec - t0.tv_nsec) / 1000;
    f->turn_max_us = ngx_max(f->turn_max_us, us);

    if (rc != 0 && !f->failed) {
        ngx_http_ttai_dxf_fail(f, c->read->eof ? "the server closed the "
                               "connection" : "the websocket failed");
        return;
    }

    if (f->failed) {
        ngx_http_ttai_dxf_fail(f, NULL);
        return;
    }

    if (wslay_event_want_write(f->ws) && wslay_event_send(f->ws) != 0) {
        ngx_http_ttai_dxf_fail(f, "the websocket could not be written");
        return;
    }

    if (!wslay_event_want_read(f->ws) && !wslay_event_want_write(f->ws)) {
        ngx_http_ttai_dxf_fail(f, "the server closed the websocket");
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_http_ttai_dxf_fail(f, "could not wait for the connection");
    }
}


/* queues a text message (taken, and freed); NULL: out of memory */

void
ngx_http_ttai_dxf_send(ngx_http_ttai_dxf_t *f, char *text)
{
    struct wslay_event_msg  msg;

    if (text == NULL) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "out of memory",
                    sizeof(f->error));
        return;
    }

    msg.opcode = WSLAY_TEXT_FRAME;
    msg.msg = (const uint8_t *) text;
    msg.msg_length = ngx_strlen(text);

    if (wslay_event_queue_msg(f->ws, &msg) != 0) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "a message could not be "
                    "queued", sizeof(f->error));
    }

    /* it may hold the token (AUTH) */
    sodium_memzero(text, msg.msg_length);
    free(text);

    f->last_out = ngx_current_msec;
}


static ssize_t
ngx_http_ttai_dxf_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, int flags, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    size_t             n;
    ssize_t            rc;
    ngx_connection_t  *c;

    if (f->in->pos < f->in->last) {
        n = ngx_min(len, (size_t) (f->in->last - f->in->pos));
        ngx_memcpy(buf, f->in->pos, n);
        f->in->pos += n;
        return n;
    }

    if (f->turn_bytes >= NGX_HTTP_TTAI_DXF_TURN_BYTES) {
        f->more = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    c = f->peer.connection;
    rc = c->recv(c, buf, ngx_min(len, NGX_HTTP_TTAI_DXF_TURN_BYTES));

    if (rc == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (rc == 0 || rc == NGX_ERROR) {
        c->read->eof = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    f->last_in = ngx_current_msec;
    f->turn_bytes += rc;

    return rc;
}


static ssize_t
ngx_http_ttai_dxf_ws_send(wslay_event_context_ptr ctx, const uint8_t *data,
    size_t len, int flags, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    ssize_t            rc;
    ngx_connection_t  *c;

    c = f->peer.connection;
    rc = c->send(c, (u_char *) data, len);

    if (rc == NGX_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }

    if (rc == NGX_ERROR) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }

    return rc;
}


static int
ngx_http_ttai_dxf_ws_mask(wslay_event_context_ptr ctx, uint8_t *buf,
    size_t len, void *user_data)
{
    randombytes_buf(buf, len);
    return 0;
}


static void
ngx_http_ttai_dxf_ws_message(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
    ngx_http_ttai_dxf_t *f = user_data;

    if (f->failed || wslay_is_ctrl_frame(arg->opcode)) {
        return;
    }

    if (arg->opcode != WSLAY_TEXT_FRAME) {
        f->failed = 1;
        ngx_cpystrn((u_char *) f->error, (u_char *) "the server sent a "
                    "binary message", sizeof(f->error));
        return;
    }

    ngx_http_ttai_dxf_message(f, (const char *) arg->msg, arg->msg_length);
}


void
ngx_http_ttai_dxf_close(ngx_http_ttai_dxf_t *f)
{
    ngx_connection_t  *c;

    if (f->rctx != NULL) {
        ngx_resolve_name_done(f->rctx);
        f->rctx = NULL;
    }

    c = f->peer.connection;

    if (c != NULL) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        ngx_close_connection(c);
        f->peer.connection = NULL;
    }

    if (f->ws != NULL) {
        wslay_event_context_free(f->ws);
        f->ws = NULL;
    }

    if (f->pool != NULL) {
        ngx_destroy_pool(f->pool);
        f->pool = NULL;
    }

    f->state = NGX_HTTP_TTAI_DXF_DOWN;
    f->failed = 0;
    f->out = NULL;
    f->in = NULL;
}
