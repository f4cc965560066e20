
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_OAUTH_GRANT_H_INCLUDED_
#define _TTAI_OAUTH_GRANT_H_INCLUDED_


#include "ttai_oauth_store.h"


/*
 * The token endpoint's decisions, as pure functions: what the request
 * says, what the store found, and the time go in; a decision comes out.
 * The shell maps it to HTTP: "invalid_client" is 401 (with
 * WWW-Authenticate), every other error 400.
 */


typedef struct {
    const char  *error;           /* NULL: go on */
    const char  *description;
    unsigned     revoke_family:1; /* revoke the grant's family first */
} ttai_oauth_decision_t;


/* a POST /token, its client credentials from the form or the header */
typedef struct {
    const char  *grant_type;
    const char  *client_id;
    const char  *client_secret;
    const char  *code;
    const char  *refresh_token;
    const char  *redirect_uri;
    const char  *code_verifier;
} ttai_oauth_token_req_t;


/*
 * Before the store is asked: a client_id, a grant type ttai knows, and
 * the code or refresh token it needs.  0, or -1 with the decision set.
 */
int ttai_oauth_token_check(const ttai_oauth_token_req_t *req,
    ttai_oauth_decision_t *d);

/*
 * A checked request against what ttai_oauth_store_grant() found: the
 * client (NULL: unknown) and its credentials, then the code or refresh
 * token (NULL: unknown): its client, expiry, single use, and for a code
 * the redirect URI and the PKCE verifier.  0 when a token may be issued,
 * or -1 with the decision set; a used refresh token (a rotated one that
 * came back: stolen, or replayed) also sets revoke_family.
 */
int ttai_oauth_grant_check(const ttai_oauth_client_row_t *client,
    const ttai_oauth_grant_row_t *grant, const ttai_oauth_token_req_t *req,
    long long now, ttai_oauth_decision_t *d);

/*
 * The grant passed its check but the store did not issue a token
 * (ttai_oauth_store_issued() is 0): another request used the same grant
 * a moment earlier.
 */
void ttai_oauth_grant_raced(ttai_oauth_decision_t *d);


#endif /* _TTAI_OAUTH_GRANT_H_INCLUDED_ */
