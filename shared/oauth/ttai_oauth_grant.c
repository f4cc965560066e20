
/*
 * Copyright (C) ttai contributors
 */


#include <string.h>

#include <jansson.h>

#include "ttai_oauth_grant.h"


static int ttai_oauth_client_check(const ttai_oauth_client_row_t *client,
    const ttai_oauth_token_req_t *req, ttai_oauth_decision_t *d);
static int ttai_oauth_grant_registered(const char *grant_types,
    const char *type);
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
    int  code;

    memset(d, 0, sizeof(ttai_oauth_decision_t));

    code = (strcmp(req->grant_type, "authorization_code") == 0);

    if (ttai_oauth_client_check(client, req, d) != 0) {
        return -1;
    }

    /* another client's grant is as good as none: it says nothing more */
    if (grant == NULL || grant->client_id == NULL
        || strcmp(grant->client_id, req->client_id) != 0)
    {
        return ttai_oauth_refuse(d, "invalid_grant",
                                 code ? "unknown authorization code"
                                      : "unknown refresh token");
    }

    if (code) {
        /*
         * Before the expiry: a code lives a minute, the tokens it gave a
         * month, and a code that comes back late was leaked all the same.
         * A code used up by a wrong verifier started no family.
         */
        if (grant->used) {
            d->revoke_family = (grant->family != NULL);
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the authorization code was used "
                                     "already");
        }

        if (grant->expires_at <= now) {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the authorization code expired");
        }

        if (req->redirect_uri == NULL || grant->redirect_uri == NULL
            || strcmp(req->redirect_uri, grant->redirect_uri) != 0)
        {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "redirect_uri does not match the "
                                     "authorization request");
        }

        if (req->code_verifier == NULL || grant->code_challenge == NULL) {
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the PKCE code_verifier does not "
                                     "match");
        }

        /* one guess per code: whoever holds a stolen code cannot try more */
        if (!ttai_oauth_pkce_verify(req->code_verifier,
                                    grant->code_challenge))
        {
            d->use_code = 1;
            return ttai_oauth_refuse(d, "invalid_grant",
                                     "the PKCE code_verifier does not "
                                     "match");
        }

        return 0;
    }

    if (grant->expires_at <= now) {
        return ttai_oauth_refuse(d, "invalid_grant",
                                 "the refresh token expired");
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
ttai_oauth_grant_raced(const ttai_oauth_token_req_t *req,
    ttai_oauth_decision_t *d)
{
    memset(d, 0, sizeof(ttai_oauth_decision_t));

    /* two refreshes at once are a client's retry; two redemptions are not */
    d->revoke_family = (strcmp(req->grant_type, "authorization_code") == 0);

    (void) ttai_oauth_refuse(d, "invalid_grant",
                             "the grant was used already");
}


/*
 * The client: known, with its credentials sent the one way it registered
 * (RFC 7591 token_endpoint_auth_method), and allowed the grant type it
 * asks for
 */

static int
ttai_oauth_client_check(const ttai_oauth_client_row_t *client,
    const ttai_oauth_token_req_t *req, ttai_oauth_decision_t *d)
{
    const char  *hash, *secret, *method, *registered;

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

    /* the secret is right: saying how it must come tells nothing new */
    method = (secret == NULL) ? "none"
             : req->basic ? "client_secret_basic" : "client_secret_post";
    registered = client->auth_method;

    if (registered == NULL || strcmp(method, registered) != 0) {
        return ttai_oauth_refuse(d, "invalid_client",
                                 registered != NULL
                                 && strcmp(registered, "client_secret_post")
                                    == 0
                                 ? "this client registered "
                                   "client_secret_post: its secret goes in "
                                   "the form"
                                 : "this client registered "
                                   "client_secret_basic: its secret goes in "
                                   "the Authorization header");
    }

    if (!ttai_oauth_grant_registered(client->grant_types, req->grant_type)) {
        return ttai_oauth_refuse(d, "unauthorized_client",
                                 strcmp(req->grant_type, "refresh_token")
                                 == 0
                                 ? "this client did not register the "
                                   "refresh_token grant type"
                                 : "this client did not register the "
                                   "authorization_code grant type");
    }

    return 0;
}


/* 1 when type is one of grant_types, a JSON array of strings */

static int
ttai_oauth_grant_registered(const char *grant_types, const char *type)
{
    int      found;
    size_t   i;
    json_t  *a, *e;

    if (grant_types == NULL) {
        return 0;
    }

    a = json_loads(grant_types, 0, NULL);
    found = 0;

    json_array_foreach(a, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), type) == 0) {
            found = 1;
            break;
        }
    }

    json_decref(a);

    return found;
}


static int
ttai_oauth_refuse(ttai_oauth_decision_t *d, const char *error,
    const char *description)
{
    d->error = error;
    d->description = description;

    return -1;
}
