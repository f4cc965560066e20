
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_REVOKED_H_INCLUDED_
#define _NGX_HTTP_TTAI_REVOKED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_ttai_module.h"
#include "ttai_jwt.h"


/*
 * The revoked access tokens.  An access token is a JWT that /mcp checks
 * without the database, so the sign-ins (refresh-token families) and
 * the users that the store revoked are kept in a set in shared memory,
 * which /mcp consults after a token verifies: one lookup under the
 * zone's lock.  The database's oauth_revocations table is the truth;
 * the set is a copy of its last hour: read by the master when the zone
 * is made, filled at once by the worker whose endpoint revokes, and
 * brought up to date by the workers, which read the rows added since
 * (by the CLI, for one) every "interval".
 */


/* ttai_oauth_revoked_zone NAME SIZE [interval=TIME] */
char *ngx_http_ttai_revoked_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* at the end of the http block: the zone a sign-in server has anyway */
char *ngx_http_ttai_revoked_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);

/* a worker reads the new revocations on a timer */
ngx_int_t ngx_http_ttai_revoked_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/*
 * 1 when the verified token was revoked, said in the log; else 0.  A
 * token is revoked when its sign-in (fam) is, when its subject was
 * revoked at or after its iat, or when the set could not hold every
 * revocation and the token was issued before the one it dropped.
 */
ngx_uint_t ngx_http_ttai_revoked(ngx_http_request_t *r,
    ttai_jwt_claims_t *claims);

/*
 * The rows a revoking batch of the store added to oauth_revocations,
 * into the set at once, before the endpoint answers
 */
void ngx_http_ttai_revoked_add(ngx_http_request_t *r, json_t *results);


#endif /* _NGX_HTTP_TTAI_REVOKED_H_INCLUDED_ */
