
/*
 * Copyright (C) ttai contributors
 */


#include <string.h>

#include "ttai_oauth_grant.h"


static int ttai_oauth_refuse(ttai_oauth_decision_t *d, const char *error,
    const char *description);


int
ttai_oauth_token_check(const ttai_oauth_token_req_t *req,
    ttai_oauth_decision_t *d)
{
    const char  *type;

    memset(d, 0, sizeof(ttai_oauth_decision_t));

    if (req->client_id == NULL) {
        return ttai_oauth_refuse(d, "invalid_client",
                                 "client_id is required");
    }

    type = req->grant_type;

    if (type != NULL && strcmp(type, "authorization_code") == 0) {
        if (req->code == NULL) {
            return ttai_oauth_refuse(d, "invalid_request",
                                     "code is required");
        }

        return 0;
    }

    if (type != NULL && strcmp(type, "refresh_token") == 0) {
        if (req->refresh_token == NULL) {
            return ttai_oauth_refuse(d, "invalid_request",
                                     "refresh_token is required");
        }

        return 0;
    }

    return ttai_oauth_refuse(d, "unsupported_grant_type",
                             "grant_type must be authorization_code or "
                             "refresh_token");
}


int
ttai_oauth_grant_check(const ttai_oauth_client_row_t *client,
    const ttai_oauth_grant_row_t *grant, const ttai_oauth_token_req_t *req,
    long long now, ttai_oauth_decision_t *d)
{
    int          code;
    const char  *hash, *secret;

    memset(d, 0, sizeof(ttai_oauth_decision_t));

    code = (strcmp(req->grant_type, "authorization_code") == 0);

    /* a confidential client proves its secret; a public one has none */
    hash = (client != NULL) ? client->secret_hash : NULL;
    secret = req->client_secret;

    if (client == NULL
        || (hash != NULL
            && (secret == NULL
                || !ttai_oauth_hash_equal(secret, strlen(secret), hash)))
        || (hash == NULL && secret != NULL))
    {
        return ttai_oauth_refuse(d, "invalid_client",
                                 "unknown client, or wrong client "
                                 "credentials");
    }

    /* another client's grant is as good as none: it says nothing more */
    if (grant == NULL || grant->client_id == NULL
        || strcmp(grant->client_id, req->client_id) != 0)
    {
        return ttai_oauth_refuse(d, "invalid_grant",
                                 code ? "unknown authorization code"
                                      : "unknown refresh token");
    }

    if (grant->expires_at <= now) {
        return ttai_oauth_refuse(d, "invalid_grant",
                                 code ? "the authorization code expired"
                                      : "the refresh token expired");
    }

    if (code) {
        if (grant->used) {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the authorization code was used "
                                     "already");
        }

        if (req->redirect_uri == NULL || grant->redirect_uri == NULL
            || strcmp(req->redirect_uri, grant->redirect_uri) != 0)
        {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "redirect_uri does not match the "
                                     "authorization request");
        }

        if (req->code_verifier == NULL || grant->code_challenge == NULL
            || !ttai_oauth_pkce_verify(req->code_verifier,
                                       grant->code_challenge))
        {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the PKCE code_verifier does not "
                                     "match");
        }

        return 0;
    }

    if (grant->revoked) {
        return ttai_oauth_refuse(d, "invalid_grant",
                                 "the refresh token was revoked");
    }

    if (grant->used) {
        d->revoke_family = 1;
        return ttai_oauth_refuse(d, "invalid_grant",
                                 "the refresh token was used already; "
                                 "every token of this sign-in is now "
                                 "revoked");
    }

    return 0;
}


void
ttai_oauth_grant_raced(ttai_oauth_decision_t *d)
{
    memset(d, 0, sizeof(ttai_oauth_decision_t));

    (void) ttai_oauth_refuse(d, "invalid_grant",
                             "the grant was used already");
}


static int
ttai_oauth_refuse(ttai_oauth_decision_t *d, const char *error,
    const char *description)
{
    d->error = error;
    d->description = description;

    return -1;
}
