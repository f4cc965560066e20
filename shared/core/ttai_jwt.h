
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_JWT_H_INCLUDED_
#define _TTAI_JWT_H_INCLUDED_


#include <stddef.h>
#include <time.h>


/*
 * HS256 JWTs for /mcp.  The HMAC key is the bytes of JWT_SECRET as
 * written (not hex-decoded), as the original design's jose one-liner
 * uses TextEncoder on the secret string.
 */

#define TTAI_JWT_MAX_TOKEN   8192
#define TTAI_JWT_MAX_CLAIM   256
#define TTAI_JWT_MAX_FAM     64


typedef struct {
    /* what must match; NULL or "" when not configured */
    const char  *issuer;
    const char  *audience;
    long         leeway;           /* seconds of clock skew allowed */
    time_t       now;              /* 0: time(NULL) */
} ttai_jwt_policy_t;


typedef struct {
    char         sub[TTAI_JWT_MAX_CLAIM + 1];
    char         email[TTAI_JWT_MAX_CLAIM + 1];     /* "" when absent */
    time_t       exp;                               /* 0 when absent */
    time_t       iat;                               /* 0 when absent */

    /*
     * the sign-in a token of ttai's /token belongs to, by which it is
     * revoked with it; "" when absent (another issuer, "ttai token", or
     * a token issued before there was such a claim)
     */
    char         fam[TTAI_JWT_MAX_FAM + 1];

    /* 1: the "scope" claim includes TTAI_JWT_SCOPE_TRADE */
    int          trade;
} ttai_jwt_claims_t;

/* the scope of a token whose user allowed trading at sign-in */
#define TTAI_JWT_SCOPE_TRADE  "mcp:trade"


/* why a token was refused: for tests and debug logs, never for clients */
typedef enum {
    TTAI_JWT_OK = 0,
    TTAI_JWT_MALFORMED,
    TTAI_JWT_ALG,                  /* anything but HS256, "none" too */
    TTAI_JWT_SIGNATURE,
    TTAI_JWT_EXPIRED,
    TTAI_JWT_NOT_YET_VALID,        /* nbf in the future */
    TTAI_JWT_NO_SUBJECT,
    TTAI_JWT_ISSUER,
    TTAI_JWT_AUDIENCE              /* aud: a string or an array */
} ttai_jwt_rc_e;


ttai_jwt_rc_e ttai_jwt_verify(const char *token, size_t len,
    const unsigned char *key, size_t key_len,
    const ttai_jwt_policy_t *policy, ttai_jwt_claims_t *claims);

const char *ttai_jwt_strerror(ttai_jwt_rc_e rc);

/*
 * Mints an HS256 token with sub, iat, exp = iat + ttl, and email, iss,
 * aud, fam and scope when not NULL.  Returns a malloc()ed string, or
 * NULL.
 */
char *ttai_jwt_mint(const unsigned char *key, size_t key_len,
    const char *sub, const char *email, const char *issuer,
    const char *audience, const char *fam, const char *scope, long ttl,
    time_t now);


#endif /* _TTAI_JWT_H_INCLUDED_ */
