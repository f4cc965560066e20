
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_FETCH_H_INCLUDED_
#define _NGX_HTTP_TTAI_FETCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_tt.h"
#include "ttai_mcp.h"


/*
 * Requests to TastyTrade and to the worker service, as subrequests to
 * internal locations that proxy_pass (conf/tastytrade/, conf/dev.conf).
 *
 * A fetch answers from the KV cache when it can; otherwise it waits for
 * the user's turn under the rate limit, gets the user's access token
 * (refreshing it first when it expires within 60 s, one refresh per
 * user across the workers), makes the subrequest, refreshes and retries
 * once on a 401 to a GET, and stores a 200 in KV.
 *
 *     f = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_fetch_t));
 *     f->service = ...; f->method = ...; f->path = ...; f->user = ...;
 *     f->done = my_done;
 *
 *     rc = ngx_http_ttai_fetch(r, f);
 *
 * NGX_OK: done already (a cache hit, or a failure with f->error set);
 * the caller goes on.  NGX_AGAIN: my_done(r, f) runs later, and what it
 * returns is passed to ngx_http_finalize_request(); the caller returns
 * NGX_DONE to its own finalizer meanwhile.  NGX_ERROR: out of memory.
 */


typedef struct ngx_http_ttai_fetch_s  ngx_http_ttai_fetch_t;

typedef ngx_int_t (*ngx_http_ttai_fetch_done_pt)(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);


struct ngx_http_ttai_fetch_s {
    /* set by the caller */
    ngx_uint_t                   service;    /* TTAI_SERVICE_* */
    ngx_uint_t                   method;     /* 0 (GET), NGX_HTTP_POST, ... */
    ngx_str_t                    path;       /* with its query */
    ngx_str_t                    body;       /* JSON, for a POST or PUT */
    ngx_str_t                    cache_key;  /* empty: not cached */
    time_t                       cache_ttl;
    ngx_str_t                    user;       /* the JWT's sub */

    /*
     * 1: no cache, limit or token store; sent as it is, with "token" as
     * the bearer when there is one (the sign-in's own calls)
     */
    ngx_uint_t                   direct;
    ngx_http_ttai_fetch_done_pt  done;
    void                        *data;

    /* the outcome */
    ngx_uint_t                   status;     /* 0: no response */
    ngx_str_t                    response;
    char                        *error;      /* with status 0: why */
    unsigned                     cached:1;
    unsigned                     watch:1;    /* say if the body changed */
    unsigned                     changed:1;

    /* the engine's own */
    ngx_uint_t                   state;
    ngx_uint_t                   retried;
    ngx_uint_t                   force_refresh;
    ngx_str_t                    token;      /* the access token used */
    ngx_str_t                    refresh;    /* the refresh token */
    time_t                       deadline;   /* of waiting for a lease */
    ngx_event_t                  timer;
    ngx_http_request_t          *request;

    /* the subrequest in flight, and what runs when it ends */
    void                        *sr;
    ngx_int_t                  (*sr_done)(ngx_http_request_t *r,
                                          ngx_int_t rc, void *data);
};


/* ngx_http_ttai_fetch.c */
ngx_int_t ngx_http_ttai_fetch(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);

/*
 * One step the core waits for: KV reads at once, a request through a
 * fetch.  NGX_OK: *resp is filled (it points into r->pool); NGX_AGAIN:
 * done(r, f) runs later, and ngx_http_ttai_fetch_step_response() fills a
 * response from f then; NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_ttai_fetch_step(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    const char *user, ttai_mcp_response_t *resp,
    ngx_http_ttai_fetch_done_pt done, void *data);
void ngx_http_ttai_fetch_step_response(ngx_http_ttai_fetch_t *f,
    ttai_mcp_response_t *resp);

/*
 * ngx_http_ttai_llm.c: a tool's TTAI_SERVICE_LLM request (embeddings),
 * made like a fetch: NGX_AGAIN, then f->done(r, f) with f->status and
 * f->response (the chosen model and the vectors), or NGX_OK with
 * f->error; NGX_ERROR: out of memory
 */
ngx_int_t ngx_http_ttai_llm_fetch(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);

/* ngx_http_ttai_fetch_d1.c: the same for a TTAI_PENDING_D1 step */
ngx_int_t ngx_http_ttai_fetch_d1(ngx_http_request_t *r, ttai_mcp_pending_t *p,
    ttai_mcp_response_t *resp, ngx_http_ttai_fetch_done_pt done, void *data);

/*
 * Makes the KV writes the core asked for, and frees them (*stores and *n
 * are cleared); one that fails is only not cached
 */
void ngx_http_ttai_fetch_store(ngx_http_request_t *r, ttai_mcp_store_t **stores,
    size_t *n);


/* ngx_http_ttai_capture.c: a subrequest whose response is kept */

typedef struct {
    ngx_uint_t                   status;
    u_char                      *data;
    size_t                       len;
    size_t                       size;
    size_t                       max;
    unsigned                     answered:1;  /* the peer sent a header */
    unsigned                     oversized:1;
    unsigned                     finished:1;

    /* what the proxy location sends, through $ttai_upstream_* */
    ngx_str_t                    uri;
    ngx_str_t                    authorization;
    ngx_str_t                    content_type;

    /* where to, for a peer named per request (a client's document) */
    ngx_str_t                    scheme;
    ngx_str_t                    peer;        /* the address, checked */
    ngx_str_t                    host;        /* its name: Host and SNI */

    /* an AWS request's X-Amz-Date and X-Amz-Security-Token (SigV4) */
    ngx_str_t                    amz_date;
    ngx_str_t                    amz_token;

    /* the response's Cache-Control, kept when want_cache_control is set */
    ngx_str_t                    cache_control;
    unsigned                     want_cache_control:1;

    /* the response's Retry-After, kept when want_retry_after is set */
    ngx_str_t                    retry_after;
    unsigned                     want_retry_after:1;

    /* on a parent: the fetch that waits for its subrequest */
    ngx_http_ttai_fetch_t       *waiting;

    ngx_http_request_t          *sr;
} ngx_http_ttai_capture_t;


/*
 * Makes a subrequest to uri (with args) whose response is captured, up
 * to max bytes, into the returned context; handler runs when it ends,
 * with the parent's write_event_handler set to wake.  NULL on error.
 */
ngx_http_ttai_capture_t *ngx_http_ttai_capture(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t *args, ngx_str_t *body, size_t max,
    ngx_http_post_subrequest_pt handler, void *data);

/*
 * The subrequest's method, when it is neither a GET (no body) nor a
 * POST (a body): PUT or DELETE
 */
void ngx_http_ttai_capture_method(ngx_http_ttai_capture_t *ctx,
    ngx_uint_t method);


#endif /* _NGX_HTTP_TTAI_FETCH_H_INCLUDED_ */
