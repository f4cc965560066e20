
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_fetch.h"
#include "ngx_http_ttai_d1.h"


/*
 * A step the core waits for on the database (TTAI_PENDING_D1): the batch
 * goes to the thread pool as any query of the bridge does, and its
 * outcome comes back to the caller as a fetch's would, so that every
 * driver of the core (a client's call, the worker service, background
 * work) gets it without knowing where it came from.
 */


static ngx_int_t ngx_http_ttai_fetch_d1_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


ngx_int_t
ngx_http_ttai_fetch_d1(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    ttai_mcp_response_t *resp, ngx_http_ttai_fetch_done_pt done, void *data)
{
    ngx_int_t                  rc;
    json_error_t               jerr;
    ngx_http_ttai_fetch_t     *f;
    ngx_http_ttai_d1_query_t  *q;

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
    q = ngx_http_ttai_d1_query_create(r->pool);

    if (f == NULL || q == NULL || p->body == NULL) {
        return NGX_ERROR;
    }

    q->batch = json_loads(p->body, 0, &jerr);
    if (q->batch == NULL) {
        return NGX_ERROR;
    }

    q->flags = NGX_HTTP_TTAI_D1_TEXT;
    q->max_rows = NGX_HTTP_TTAI_D1_MAX_ROWS;
    q->handler = ngx_http_ttai_fetch_d1_done;
    q->data = f;

    f->done = done;
    f->data = data;

    rc = ngx_http_ttai_d1_post(r, q);

    switch (rc) {

    case NGX_OK:
        return NGX_AGAIN;

    case NGX_BUSY:
        resp->error = "the database is busy; try again in a moment";
        return NGX_OK;

    case NGX_DECLINED:
        resp->error = "this server keeps no database (ttai_d1), so it "
                      "cannot keep alerts or history";
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_ttai_fetch_d1_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_fetch_t *f = q->data;

    u_char  *p;
    size_t   len;

    if (q->rc == NGX_OK) {
        f->status = NGX_HTTP_OK;
        f->response = q->text;

        return f->done(r, f);
    }

    /* the reason is the database's own, never a statement or a value */
    len = sizeof("the database failed: ") + ngx_strlen(q->error.msg);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, "the database failed: %s%Z", q->error.msg);
    f->error = (char *) p;

    return f->done(r, f);
}
