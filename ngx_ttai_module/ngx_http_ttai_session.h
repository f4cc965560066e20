
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_SESSION_H_INCLUDED_
#define _NGX_HTTP_TTAI_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_kv.h"


/*
 * MCP sessions (the seed's SessionDurableObject): held in the sessions
 * zone, which every worker shares and worker 0 copies to the state
 * folder, so that they survive a reload and a restart.  A session is
 * bound to the JWT subject that made it and ends after an idle timeout.
 */

/* 128 random bits, as hex */
#define NGX_HTTP_TTAI_SESSION_ID_LEN  32

/*
 * ttai_mcp_sessions_per_user: a user's live sessions at most; past it,
 * the user's least recently used one ends.  A client that finds its
 * session gone (404) initializes again, as MCP asks.
 */
#define NGX_HTTP_TTAI_SESSIONS_PER_USER  32


typedef struct {
    ngx_str_t                 id;
    ngx_str_t                 sub;
    ngx_str_t                 version;     /* negotiated protocol version */
    ngx_str_t                 log_level;   /* "" until logging/setLevel */
    ngx_str_t                 caps;        /* capabilities JSON, or "" */
    ngx_str_t                 client;      /* clientInfo JSON, or "" */
    time_t                    created;
    time_t                    touched;
    time_t                    expires;
} ngx_http_ttai_session_t;


/* NGX_OK, or NGX_DECLINED for an unknown, ended or expired id */
ngx_int_t ngx_http_ttai_session_get(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_ttai_session_t *s);

/*
 * Changes wait, with w, until the sessions zone's journal has them on
 * disk, as ngx_http_ttai_kv_set() describes: NGX_OK (no journal) or
 * NGX_AGAIN (w->handler runs later).  Without w the change rides the next
 * write of the journal and nobody waits: for a later idle deadline,
 * which costs nothing worse than an earlier expiry when lost.
 * NGX_ABORT: the journal fails, nothing changed, w->err says why.
 * NGX_BUSY: no room, the zone being full of other users' live sessions.
 */

/* fills s->id with a new id and stores the session */
ngx_int_t ngx_http_ttai_session_create(ngx_http_request_t *r,
    ngx_http_ttai_session_t *s, ngx_http_ttai_kv_wait_t *w);

/* stores the session again: a new level, or a later idle deadline */
ngx_int_t ngx_http_ttai_session_save(ngx_http_request_t *r,
    ngx_http_ttai_session_t *s, ngx_http_ttai_kv_wait_t *w);

/* NGX_DECLINED also when the session was gone already */
ngx_int_t ngx_http_ttai_session_delete(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_ttai_kv_wait_t *w);

char *ngx_http_ttai_debug(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ttai_mcp_sessions_per_user N | off */
char *ngx_http_ttai_session_per_user(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the sessions zone's policy: sessions are counted per user, and kept */
void ngx_http_ttai_session_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);


#endif /* _NGX_HTTP_TTAI_SESSION_H_INCLUDED_ */
