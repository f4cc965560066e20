
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
    unsigned     use_code:1;      /* use the code up first */
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
    unsigned     basic:1;         /* the credentials came in an
                                     "Authorization: Basic" header */
} ttai_oauth_token_req_t;


/*
 * Before the store is asked: a client_id, a grant type ttai knows, and
 * the code or refresh token it needs.  0, or -1 with the decision set.
 */
int ttai_oauth_token_check(const ttai_oauth_token_req_t *req,
    ttai_oauth_decision_t *d);

/*
 * A checked request against what ttai_oauth_store_grant() found: the
 * client (NULL: unknown), its credentials and the way it sent them (the
 * token_endpoint_auth_method it registered), and the grant types it
 * registered; then the code or refresh token (NULL: unknown): its
 * client, single use, expiry, and for a code the redirect URI and the
 * PKCE verifier.  0 when a token may be issued, or -1 with the decision
 * set.  A grant presented again after its use (a code redeemed twice, a
 * rotated refresh token that came back: stolen, or replayed) also sets
 * revoke_family: every token issued from it is revoked.  A wrong PKCE
 * verifier sets use_code: a guess at the verifier costs the code.
 */
int ttai_oauth_grant_check(const ttai_oauth_client_row_t *client,
    const ttai_oauth_grant_row_t *grant, const ttai_oauth_token_req_t *req,
    long long now, ttai_oauth_decision_t *d);

/*
 * The grant passed its check but the store did not issue a token
 * (ttai_oauth_store_issued() is 0): another request used the same grant
 * a moment earlier.  For a code, that is a code redeemed twice, and
 * revoke_family is set as for one that came back later.
 */
void ttai_oauth_grant_raced(const ttai_oauth_token_req_t *req,
    ttai_oauth_decision_t *d);


#endif /* _TTAI_OAUTH_GRANT_H_INCLUDED_ */
