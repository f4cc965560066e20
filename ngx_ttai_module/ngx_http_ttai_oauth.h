
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_OAUTH_H_INCLUDED_
#define _NGX_HTTP_TTAI_OAUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ttai_oauth.h"
#include "ttai_oauth_grant.h"
#include "ttai_oauth_store.h"


/*
 * The sign-in endpoints, one file each: register, authorize (with the
 * consent form), callback, token, revoke; this header and
 * ngx_http_ttai_oauth.c hold what they share.  The core decides and
 * names every statement (ttai_oauth*.h); the endpoints read the request,
 * post the store's batches to the thread pool and answer.
 */


#define NGX_HTTP_TTAI_OAUTH_MAX_BODY     65536

#define NGX_HTTP_TTAI_OAUTH_NO_DB                                            \
    "the sign-in store (D1) is not available"


typedef struct {
    ngx_str_t                  issuer;       /* NUL-terminated */
    json_t                    *form;         /* query or form fields */
    json_t                    *found;        /* a lookup's results, kept */
    ttai_oauth_client_row_t    client;       /* into found */
    ttai_oauth_pending_t       pending;      /* into found, or form */

    /* /register */
    ttai_oauth_client_t        reg;
    char                       client_id[TTAI_OAUTH_TOKEN_LEN + 1];
    char                       secret[TTAI_OAUTH_TOKEN_LEN + 1];

    /* /authorize */
    char                       request[TTAI_OAUTH_TOKEN_LEN + 1];
    void                      *cimd;         /* a client's document */
    char                       csrf[TTAI_OAUTH_TOKEN_LEN + 1];

    /* /authorize, then /callback: the state to TastyTrade, then the code */
    char                       code[TTAI_OAUTH_TOKEN_LEN + 1];
    ngx_str_t                  tt_access;
    ngx_str_t                  tt_refresh;
    time_t                     tt_expires;
    char                      *user;

    /* /token */
    ttai_oauth_token_req_t     token;        /* into form */
    ttai_oauth_decision_t      decision;
    char                       refresh[TTAI_OAUTH_TOKEN_LEN + 1];
    char                      *jwt;
    const char                *scope;        /* what the token grants */
} ngx_http_ttai_oauth_ctx_t;


/* the endpoints */
ngx_int_t ngx_http_ttai_oauth_register(ngx_http_request_t *r);
ngx_int_t ngx_http_ttai_oauth_authorize(ngx_http_request_t *r);
ngx_int_t ngx_http_ttai_oauth_callback(ngx_http_request_t *r);
ngx_int_t ngx_http_ttai_oauth_token(ngx_http_request_t *r);
ngx_int_t ngx_http_ttai_oauth_revoke(ngx_http_request_t *r);


/*
 * A client_id that is a URL (ngx_http_ttai_oauth_cimd.c): its metadata
 * document fetched and checked, and the client stored as it says; then
 * done runs as for ttai_oauth_store_client()'s lookup.  Returns what a
 * content handler returns.
 */
ngx_int_t ngx_http_ttai_oauth_cimd(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx, const char *url,
    ngx_http_ttai_d1_handler_pt done);

/* the request's context, made with the issuer: NULL when out of memory */
ngx_http_ttai_oauth_ctx_t *ngx_http_ttai_oauth_ctx(ngx_http_request_t *r);

/*
 * A GET or HEAD whose fields are in the query: the body discarded, the
 * context made, and its form read from the query.  NGX_OK, with
 * (*ctx)->form NULL and err set when the query is not a form; otherwise
 * the status to finalize with.
 */
ngx_int_t ngx_http_ttai_oauth_query(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t **ctx, char *err, size_t errlen);

/* reads a POST body, in memory and bounded, then runs handler */
ngx_int_t ngx_http_ttai_oauth_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);

/* the body as JSON (json) or as form fields; NULL with err */
json_t *ngx_http_ttai_oauth_body(ngx_http_request_t *r, ngx_uint_t json,
    char *err, size_t errlen);

const char *ngx_http_ttai_oauth_field(ngx_http_ttai_oauth_ctx_t *ctx,
    const char *name);

/*
 * A batch of the store on the thread pool, handler called with the
 * context as q->data; takes the batch (NULL: out of memory).  Returns
 * NGX_DONE when posted, else the answer already made.
 */
ngx_int_t ngx_http_ttai_oauth_post(ngx_http_request_t *r, json_t *batch,
    ngx_http_ttai_d1_handler_pt handler);

/* takes text (malloc'd); NULL text: out of memory */
ngx_int_t ngx_http_ttai_oauth_json(ngx_http_request_t *r, ngx_uint_t status,
    char *text);

/* {"error","error_description"}; a 401 says how to authenticate */
ngx_int_t ngx_http_ttai_oauth_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description);

/* takes html (malloc'd) */
ngx_int_t ngx_http_ttai_oauth_html(ngx_http_request_t *r, ngx_uint_t status,
    char *html);

/* a page for an error that cannot be sent back to the client */
ngx_int_t ngx_http_ttai_oauth_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *message);

/* a 302 to url; takes url (malloc'd) */
ngx_int_t ngx_http_ttai_oauth_redirect(ngx_http_request_t *r, char *url);

/*
 * An error for the client, sent back to the sign-in's redirect URI with
 * its state: only once the URI is known to be one the client registered
 */
ngx_int_t ngx_http_ttai_oauth_back(ngx_http_request_t *r,
    const ttai_oauth_pending_t *p, const char *error,
    const char *description);

/* where TastyTrade sends the browser back: the same for both legs */
char *ngx_http_ttai_oauth_callback_url(ngx_http_request_t *r,
    ngx_http_ttai_oauth_ctx_t *ctx);


#endif /* _NGX_HTTP_TTAI_OAUTH_H_INCLUDED_ */
