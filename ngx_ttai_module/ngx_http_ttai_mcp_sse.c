
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"


/*
 * A POST /mcp answered as text/event-stream: the notifications a call
 * makes while it runs (progress, log messages), each an event sent and
 * flushed as soon as it is made, then the answer as the last event.  The
 * stream starts with the first notification; an answer with none stays
 * application/json.  Each event is copied into the request's pool, since
 * the core frees its texts at its next step while nginx may still hold
 * them unsent.
 */


static ngx_int_t ngx_http_ttai_mcp_sse_start(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_sse_event(ngx_http_request_t *r,
    u_char *data, size_t len, u_char *tail, size_t tail_len,
    ngx_uint_t last);


/* sends events[0 .. n - 1], starting the stream if it has not started */

ngx_int_t
ngx_http_ttai_mcp_sse_events(ngx_http_request_t *r, char **events,
    size_t n)
{
    size_t     i;
    ngx_int_t  rc;

    if (n == 0) {
        return NGX_OK;
    }

    if (!r->header_sent) {
        rc = ngx_http_ttai_mcp_sse_start(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (i = 0; i < n; i++) {
        rc = ngx_http_ttai_mcp_sse_event(r, (u_char *) events[i],
                                         ngx_strlen(events[i]), NULL, 0, 0);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* starts the stream with a comment, which sends its headers at once */

ngx_int_t
ngx_http_ttai_mcp_sse_comment(ngx_http_request_t *r)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (!r->header_sent && ngx_http_ttai_mcp_sse_start(r) != NGX_OK) {
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = (u_char *) ":\n\n";
    b->last = b->pos + 3;
    b->memory = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    return (ngx_http_output_filter(r, &out) == NGX_ERROR) ? NGX_ERROR
                                                         : NGX_OK;
}


/* the answer, as the stream's last event */

ngx_int_t
ngx_http_ttai_mcp_sse_last(ngx_http_request_t *r, u_char *body, size_t len,
    u_char *tail, size_t tail_len)
{
    return ngx_http_ttai_mcp_sse_event(r, body, len, tail, tail_len, 1);
}


static ngx_int_t
ngx_http_ttai_mcp_sse_start(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* a proxy in front (nginx's own proxy_buffering) must not hold them */
    if (ngx_http_ttai_header_lit(r, "X-Accel-Buffering", "no") != NGX_OK
        || ngx_http_ttai_header_lit(r, "Cache-Control", "no-cache")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * Small events, each flushed: with Nagle's algorithm one would wait
     * for the client's delayed acknowledgement of the one before (40 ms)
     */
    if (ngx_tcp_nodelay(r->connection) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "data: <json>\n\n", flushed; the JSON texts are one line each */

static ngx_int_t
ngx_http_ttai_mcp_sse_event(ngx_http_request_t *r, u_char *data, size_t len,
    u_char *tail, size_t tail_len, ngx_uint_t last)
{
    u_char       *p;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_create_temp_buf(r->pool, sizeof("data: \n\n") - 1 + len
                                     + tail_len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->last, "data: ", sizeof("data: ") - 1);
    p = ngx_cpymem(p, data, len);
    p = ngx_cpymem(p, tail, tail_len);
    p = ngx_cpymem(p, "\n\n", 2);
    b->last = p;

    b->flush = 1;

    if (last) {
        b->last_buf = (r == r->main);
        b->last_in_chain = 1;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
