
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_OAUTH_STORE_H_INCLUDED_
#define _TTAI_OAUTH_STORE_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>

#include "ttai_oauth.h"
#include "ttai_secrets.h"


/*
 * The sign-in store: every statement on the tables of migrations 0001
 * to 0004 that the authorization server and the CLI's users and
 * tastytrade commands run, each behind a named operation.
 *
 * It does no I/O.  An operation builds a batch, an array of
 * {"sql","params"} that ttai_d1_batch() runs in one transaction: the
 * CLI on its own connection, the module on its thread pool.  Statement
 * i of a batch has result i, and the readers below take the results
 * apart.  A builder returns a new batch, or NULL when out of memory.
 *
 * The secrets ttai hands out (client secrets, the consent form's values,
 * the state, codes, refresh tokens) are given to the builders as they
 * were handed out; a batch holds only their hashes.  TastyTrade's tokens
 * are sealed here, under the token key, before they enter a batch.
 *
 * The strings a reader fills in point into the results: they live as
 * long as the results do.
 */


/* an oauth_clients row */
typedef struct {
    const char          *client_id;
    const char          *secret_hash;     /* NULL: a public client */
    const char          *name;
    const char          *redirect_uris;   /* a JSON array, as stored */
    const char          *auth_method;
    const char          *grant_types;     /* a JSON array, as stored */
} ttai_oauth_client_row_t;


/* an oauth_codes or an oauth_refresh_tokens row */
typedef struct {
    const char          *client_id;
    const char          *user_id;
    const char          *scope;
    const char          *resource;
    const char          *redirect_uri;    /* a code's */
    const char          *code_challenge;  /* a code's */
    const char          *family;          /* NULL: a code not redeemed */
    long long            expires_at;
    int                  used;
    int                  revoked;         /* a refresh token's */
} ttai_oauth_grant_row_t;


/* a sign-in between the consent page and TastyTrade's redirect */
typedef struct {
    const char          *client_id;
    const char          *redirect_uri;
    const char          *code_challenge;
    const char          *client_state;    /* may be NULL */
    const char          *scope;           /* may be NULL */
    const char          *resource;        /* may be NULL */
} ttai_oauth_pending_t;


/* a user's TastyTrade tokens, in clear, to be sealed and kept */
typedef struct {
    const char           *user;
    const char           *email;          /* NULL: the one stored stays */
    const unsigned char  *key;            /* TTAI_SECRET_KEY_LEN bytes */
    const char           *access;         /* NULL: none */
    size_t                access_len;
    const char           *refresh;
    size_t                refresh_len;
    long long             expires_at;     /* the access token's, or 0 */
    const char           *scope;
} ttai_oauth_tt_tokens_t;


/* a user's stored TastyTrade tokens, still sealed (base64 or NULL) */
typedef struct {
    const char          *access;
    const char          *refresh;
    long long            expires_at;
} ttai_oauth_tt_sealed_t;


/*
 * an oauth_revocations row: a sign-in revoked (every access token of its
 * family), or a user (every token of theirs issued up to revoked_at)
 */
typedef struct {
    long long            id;
    const char          *family;          /* NULL: a user's */
    const char          *user_id;         /* NULL: a sign-in's */
    long long            revoked_at;
} ttai_oauth_revocation_t;


/* a line of "ttai users list" */
typedef struct {
    const char          *id;
    const char          *email;           /* "" when unknown */
    long long            created_at;
    int                  connected;       /* TastyTrade tokens stored */
    long long            sign_ins;        /* live refresh-token families */
} ttai_oauth_user_row_t;


/* POST /register: the client, with the hash of its secret (or none) */
json_t *ttai_oauth_store_register(const char *client_id, const char *secret,
    const ttai_oauth_client_t *reg);

/* a client named by its metadata document, stored or updated, and read */
json_t *ttai_oauth_store_client_document(const char *client_id,
    const ttai_oauth_client_t *reg);

/* a client by its id: read it with ttai_oauth_store_client_read() */
json_t *ttai_oauth_store_client(const char *client_id);

/*
 * GET /authorize: the sign-in waiting for the user's answer, found later
 * by the consent form's request and csrf values, for
 * TTAI_OAUTH_REQUEST_TTL seconds
 */
json_t *ttai_oauth_store_request_save(const char *request, const char *csrf,
    const ttai_oauth_pending_t *p, long long now);

/*
 * POST /authorize: the user's answer, taken once.  With a state (the
 * user approved), the sign-in waits for TastyTrade's redirect, found by
 * that state; without one (the user denied), it is deleted.  trade: the
 * user ticked trading; 0 narrows the scope the client asked for to
 * mcp:tools, 1 keeps it (never widens it).  Read it with
 * ttai_oauth_store_request_answered().
 */
json_t *ttai_oauth_store_request_answer(const char *request,
    const char *csrf, const char *state, int trade, long long now);

/* GET /callback: the sign-in of a state, found and deleted (single use) */
json_t *ttai_oauth_store_request_take(const char *state, long long now);

/*
 * "ttai tastytrade connect": the user (made when new), and their
 * TastyTrade tokens, sealed
 */
json_t *ttai_oauth_store_connect(const ttai_oauth_tt_tokens_t *t,
    long long now);

/*
 * GET /callback, once TastyTrade named the user: as
 * ttai_oauth_store_connect(), then ttai's single-use code for the
 * sign-in, good for TTAI_OAUTH_CODE_TTL seconds; and the rows that
 * expired are deleted
 */
json_t *ttai_oauth_store_sign_in(const ttai_oauth_tt_tokens_t *t,
    const ttai_oauth_pending_t *p, const char *code, long long now);

/*
 * POST /token: the client (statement 0) and the grant presented, a code
 * or a refresh token (statement 1); read them with
 * ttai_oauth_store_client_read() and ttai_oauth_store_grant_read()
 */
json_t *ttai_oauth_store_grant(const char *client_id, int refresh,
    const char *token);

/*
 * POST /token, the grant checked: the code is used up and a refresh
 * token issued, the first of a new family, which the code remembers.
 * Both happen only when the code was unused: ttai_oauth_store_issued()
 * says whether they did.
 */
json_t *ttai_oauth_store_code_redeem(const char *code, const char *refresh,
    long long now);

/* the name of the family that a redemption giving refresh starts */
void ttai_oauth_store_family_of(const char *refresh,
    char out[TTAI_OAUTH_HASH_LEN + 1]);

/* a wrong PKCE verifier: the code is used up, and issues nothing */
json_t *ttai_oauth_store_code_use(const char *code);

/*
 * The revocations.  Each batch ends with the oauth_revocations rows it
 * added, for ttai_oauth_store_revocation_at(): none when there was
 * nothing to revoke or the sign-in was revoked already.
 */

/* a code redeemed twice: every token of the family it started */
json_t *ttai_oauth_store_code_revoke(const char *code, long long now);

/*
 * rotation: the same, for a refresh token that is neither used nor
 * revoked; and the rows that expired are deleted
 */
json_t *ttai_oauth_store_refresh_rotate(const char *old, const char *fresh,
    long long now);

/* a rotated refresh token came back: every token of its sign-in */
json_t *ttai_oauth_store_family_revoke(const char *family, long long now);

/* POST /revoke: the family of a refresh token; nothing when unknown */
json_t *ttai_oauth_store_token_revoke(const char *token, long long now);

/*
 * "ttai users revoke": every refresh token of the user, their TastyTrade
 * tokens, and every access token issued to them until now; read it with
 * ttai_oauth_store_user_revoked()
 */
json_t *ttai_oauth_store_user_revoke(const char *user, long long now);

/*
 * The revocations after the id "after" that are later than "since", at
 * most limit of them in the order of their ids, for
 * ttai_oauth_store_revocation_at(); and the last id of the table, for
 * ttai_oauth_store_revocations_last()
 */
json_t *ttai_oauth_store_revocations(long long after, long long since,
    long long limit);

/* "ttai users list": read it with ttai_oauth_store_user_at() */
json_t *ttai_oauth_store_users(long long now);


/*
 * The fetch engine, before a call to TastyTrade: the user's stored
 * tokens; read them with ttai_oauth_store_tt_read()
 */
json_t *ttai_oauth_store_tt_tokens(const char *user);

/*
 * The fetch engine, after a refresh: the new access token and the
 * refresh token that goes with it, sealed, over the stored ones of
 * t->user (its email and scope are not used)
 */
json_t *ttai_oauth_store_tt_refreshed(const ttai_oauth_tt_tokens_t *t,
    long long now);

/* a tokens batch: 1 when the user has tokens stored, 0 when not */
int ttai_oauth_store_tt_read(json_t *results, ttai_oauth_tt_sealed_t *t);

/* the client of a client or grant batch: 1, or 0 when unknown */
int ttai_oauth_store_client_read(json_t *results,
    ttai_oauth_client_row_t *c);

/* the code or refresh token of a grant batch: 1, or 0 when unknown */
int ttai_oauth_store_grant_read(json_t *results, ttai_oauth_grant_row_t *g);

/*
 * An answer batch: 1 when the sign-in was found and this answer is the
 * one that took it, with its client, redirect URI and client state
 */
int ttai_oauth_store_request_answered(json_t *results,
    ttai_oauth_pending_t *p);

/* a take batch: 1 when the sign-in was found, filled in */
int ttai_oauth_store_request_taken(json_t *results, ttai_oauth_pending_t *p);

/* a redeem or rotate batch: 1 when the refresh token was issued */
int ttai_oauth_store_issued(json_t *results);

/* a user revoke batch: 1 when the user exists, and how many tokens */
int ttai_oauth_store_user_revoked(json_t *results, long long *tokens);

/* a revoking or revocations batch: 1 with its row i, 0 past the last */
int ttai_oauth_store_revocation_at(json_t *results, size_t i,
    ttai_oauth_revocation_t *rev);

/* a revocations batch: the last id in the table, 0 when it is empty */
long long ttai_oauth_store_revocations_last(json_t *results);

/* a users batch: 1 with line i, 0 past the last */
int ttai_oauth_store_user_at(json_t *results, size_t i,
    ttai_oauth_user_row_t *u);


#endif /* _TTAI_OAUTH_STORE_H_INCLUDED_ */
