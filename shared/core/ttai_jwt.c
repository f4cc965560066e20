
/*
 * Copyright (C) ttai contributors
 */


#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#include "ttai_jwt.h"


/*
 * libjwt 1.x checks the signature but nothing else, and it accepts alg
 * "none" when it is given no key.  So the header is read here first and
 * the algorithm pinned to HS256, the key is always passed, libjwt's own
 * idea of the algorithm is checked again, and the claims are checked
 * here.
 */


static ttai_jwt_rc_e ttai_jwt_split(const char *token, size_t len,
    json_t **header, json_t **payload);
static json_t *ttai_jwt_segment(const char *s, size_t len);
static ttai_jwt_rc_e ttai_jwt_check_header(json_t *header);
static ttai_jwt_rc_e ttai_jwt_check_signature(const char *token, size_t len,
    const unsigned char *key, size_t key_len);
static ttai_jwt_rc_e ttai_jwt_check_claims(json_t *payload,
    const ttai_jwt_policy_t *policy, ttai_jwt_claims_t *claims);
static int ttai_jwt_date(json_t *payload, const char *name, time_t *t);
static int ttai_jwt_string(json_t *payload, const char *name, char *out,
    size_t max);
static int ttai_jwt_audience(json_t *aud, const char *audience);
static int ttai_jwt_scope_has(json_t *v, const char *scope);


ttai_jwt_rc_e
ttai_jwt_verify(const char *token, size_t len, const unsigned char *key,
    size_t key_len, const ttai_jwt_policy_t *policy,
    ttai_jwt_claims_t *claims)
{
    json_t             *header, *payload;
    ttai_jwt_rc_e       rc;
    ttai_jwt_claims_t   tmp;

    if (claims == NULL) {
        claims = &tmp;
    }

    memset(claims, 0, sizeof(ttai_jwt_claims_t));

    rc = ttai_jwt_split(token, len, &header, &payload);
    if (rc != TTAI_JWT_OK) {
        return rc;
    }

    rc = ttai_jwt_check_header(header);

    if (rc == TTAI_JWT_OK) {
        rc = ttai_jwt_check_signature(token, len, key, key_len);
    }

    if (rc == TTAI_JWT_OK) {
        rc = ttai_jwt_check_claims(payload, policy, claims);
    }

    json_decref(header);
    json_decref(payload);

    if (rc != TTAI_JWT_OK) {
        /* the claims of a refused token must not be mistaken for real */
        memset(claims, 0, sizeof(ttai_jwt_claims_t));
    }

    return rc;
}


const char *
ttai_jwt_strerror(ttai_jwt_rc_e rc)
{
    switch (rc) {
    case TTAI_JWT_OK:
        return "valid";
    case TTAI_JWT_MALFORMED:
        return "malformed token";
    case TTAI_JWT_ALG:
        return "algorithm is not HS256";
    case TTAI_JWT_SIGNATURE:
        return "bad signature";
    case TTAI_JWT_EXPIRED:
        return "token expired";
    case TTAI_JWT_NOT_YET_VALID:
        return "token not yet valid (nbf)";
    case TTAI_JWT_NO_SUBJECT:
        return "no subject (sub)";
    case TTAI_JWT_ISSUER:
        return "wrong issuer (iss)";
    case TTAI_JWT_AUDIENCE:
        return "wrong audience (aud)";
    }

    return "unknown error";
}


/* 1 when a space-separated scope (RFC 8693 4.2) names scope */

static int
ttai_jwt_scope_has(json_t *v, const char *scope)
{
    size_t       n, len;
    const char  *p;

    p = json_string_value(v);
    if (p == NULL) {
        return 0;
    }

    len = strlen(scope);

    while (*p != '\0') {
        n = strcspn(p, " ");

        if (n == len && strncmp(p, scope, len) == 0) {
            return 1;
        }

        p += n;
        p += strspn(p, " ");
    }

    return 0;
}


char *
ttai_jwt_mint(const unsigned char *key, size_t key_len, const char *sub,
    const char *email, const char *issuer, const char *audience,
    const char *fam, const char *scope, long ttl, time_t now)
{
    char   *token;
    jwt_t  *jwt;

    if (key == NULL || key_len == 0 || key_len > INT_MAX
        || sub == NULL || *sub == '\0' || strlen(sub) > TTAI_JWT_MAX_CLAIM
        || (email != NULL && strlen(email) > TTAI_JWT_MAX_CLAIM)
        || (fam != NULL && strlen(fam) > TTAI_JWT_MAX_FAM)
        || ttl <= 0)
    {
        return NULL;
    }

    if (now == 0) {
        now = time(NULL);
    }

    if (jwt_new(&jwt) != 0) {
        return NULL;
    }

    token = NULL;

    if (jwt_set_alg(jwt, JWT_ALG_HS256, key, (int) key_len) != 0
        || jwt_add_grant(jwt, "sub", sub) != 0
        || (email != NULL && jwt_add_grant(jwt, "email", email) != 0)
        || (issuer != NULL && jwt_add_grant(jwt, "iss", issuer) != 0)
        || (audience != NULL && jwt_add_grant(jwt, "aud", audience) != 0)
        || (fam != NULL && jwt_add_grant(jwt, "fam", fam) != 0)
        || (scope != NULL && jwt_add_grant(jwt, "scope", scope) != 0)
        || jwt_add_grant_int(jwt, "iat", (long) now) != 0
        || jwt_add_grant_int(jwt, "exp", (long) now + ttl) != 0)
    {
        goto done;
    }

    /* libjwt 1.10 allocates with malloc(): the caller free()s it */
    token = jwt_encode_str(jwt);

done:

    jwt_free(jwt);

    return token;
}


/*
 * header.payload.signature, each part base64url without padding; the
 * header and the payload must be JSON objects.
 */

static ttai_jwt_rc_e
ttai_jwt_split(const char *token, size_t len, json_t **header,
    json_t **payload)
{
    const char  *dot1, *dot2, *end;

    *header = NULL;
    *payload = NULL;

    if (token == NULL || len == 0 || len > TTAI_JWT_MAX_TOKEN
        || memchr(token, '\0', len) != NULL)
    {
        return TTAI_JWT_MALFORMED;
    }

    end = token + len;

    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return TTAI_JWT_MALFORMED;
    }

    dot2 = memchr(dot1 + 1, '.', end - dot1 - 1);
    if (dot2 == NULL || memchr(dot2 + 1, '.', end - dot2 - 1) != NULL) {
        return TTAI_JWT_MALFORMED;
    }

    *header = ttai_jwt_segment(token, dot1 - token);
    *payload = ttai_jwt_segment(dot1 + 1, dot2 - dot1 - 1);

    if (*header == NULL || *payload == NULL || !json_is_object(*header)
        || !json_is_object(*payload))
    {
        json_decref(*header);
        json_decref(*payload);
        *header = NULL;
        *payload = NULL;
        return TTAI_JWT_MALFORMED;
    }

    return TTAI_JWT_OK;
}


static json_t *
ttai_jwt_segment(const char *s, size_t len)
{
    size_t          n;
    json_t         *json;
    unsigned char  *bin;

    if (len == 0) {
        return NULL;
    }

    bin = malloc(len);
    if (bin == NULL) {
        return NULL;
    }

    json = NULL;

    /*
     * libjwt reads each part as a C string, which a NUL byte ends, while
     * jansson skips one between tokens: the two would not read the same
     * claims, and libjwt's failure would be taken for a bad signature
     */
    if (sodium_base642bin(bin, len, s, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        == 0
        && memchr(bin, '\0', n) == NULL)
    {
        json = json_loadb((const char *) bin, n, 0, NULL);
    }

    free(bin);

    return json;
}


static ttai_jwt_rc_e
ttai_jwt_check_header(json_t *header)
{
    json_t  *alg, *typ;

    alg = json_object_get(header, "alg");

    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
    {
        return TTAI_JWT_ALG;
    }

    /* libjwt refuses any other typ; say so as malformed, not as forged */
    typ = json_object_get(header, "typ");

    if (typ != NULL && (!json_is_string(typ)
                        || strcasecmp(json_string_value(typ), "JWT") != 0))
    {
        return TTAI_JWT_MALFORMED;
    }

    /* RFC 7515: extensions we do not understand must not be ignored */
    if (json_object_get(header, "crit") != NULL) {
        return TTAI_JWT_MALFORMED;
    }

    return TTAI_JWT_OK;
}


static ttai_jwt_rc_e
ttai_jwt_check_signature(const char *token, size_t len,
    const unsigned char *key, size_t key_len)
{
    int            rc;
    char          *copy;
    jwt_t         *jwt;
    ttai_jwt_rc_e  ret;

    /* without a key libjwt would skip the check altogether */
    if (key == NULL || key_len == 0 || key_len > INT_MAX) {
        return TTAI_JWT_SIGNATURE;
    }

    if (token[len - 1] == '.') {
        return TTAI_JWT_SIGNATURE;
    }

    copy = malloc(len + 1);
    if (copy == NULL) {
        return TTAI_JWT_MALFORMED;
    }

    memcpy(copy, token, len);
    copy[len] = '\0';

    jwt = NULL;
    rc = jwt_decode(&jwt, copy, key, (int) key_len);

    free(copy);

    if (rc != 0) {
        /* the structure was checked above: EINVAL is the signature */
        ret = (rc == EINVAL) ? TTAI_JWT_SIGNATURE : TTAI_JWT_MALFORMED;

    } else if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        ret = TTAI_JWT_ALG;

    } else {
        ret = TTAI_JWT_OK;
    }

    jwt_free(jwt);

    return ret;
}


static ttai_jwt_rc_e
ttai_jwt_check_claims(json_t *payload, const ttai_jwt_policy_t *policy,
    ttai_jwt_claims_t *claims)
{
    long         leeway;
    time_t       now, nbf;
    json_t      *sub, *iss;
    const char  *issuer, *audience;

    issuer = NULL;
    audience = NULL;
    leeway = 0;
    now = 0;

    if (policy != NULL) {
        issuer = policy->issuer;
        audience = policy->audience;
        leeway = policy->leeway > 0 ? policy->leeway : 0;
        now = policy->now;
    }

    if (now == 0) {
        now = time(NULL);
    }

    if (ttai_jwt_date(payload, "exp", &claims->exp) != 0
        || ttai_jwt_date(payload, "nbf", &nbf) != 0
        || ttai_jwt_date(payload, "iat", &claims->iat) != 0
        || ttai_jwt_string(payload, "email", claims->email,
                           TTAI_JWT_MAX_CLAIM) != 0
        || ttai_jwt_string(payload, "fam", claims->fam, TTAI_JWT_MAX_FAM)
           != 0)
    {
        return TTAI_JWT_MALFORMED;
    }

    claims->trade = ttai_jwt_scope_has(json_object_get(payload, "scope"),
                                       TTAI_JWT_SCOPE_TRADE);

    /* RFC 7519: the token is valid only before exp, and from nbf on */
    if (json_object_get(payload, "exp") != NULL
        && now - leeway >= claims->exp)
    {
        return TTAI_JWT_EXPIRED;
    }

    if (json_object_get(payload, "nbf") != NULL && now + leeway < nbf) {
        return TTAI_JWT_NOT_YET_VALID;
    }

    sub = json_object_get(payload, "sub");

    if (!json_is_string(sub) || json_string_length(sub) == 0) {
        return TTAI_JWT_NO_SUBJECT;
    }

    if (ttai_jwt_string(payload, "sub", claims->sub, TTAI_JWT_MAX_CLAIM)
        != 0)
    {
        return TTAI_JWT_MALFORMED;
    }

    if (issuer != NULL && *issuer != '\0') {
        iss = json_object_get(payload, "iss");

        if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer))
        {
            return TTAI_JWT_ISSUER;
        }
    }

    if (audience != NULL && *audience != '\0'
        && !ttai_jwt_audience(json_object_get(payload, "aud"), audience))
    {
        return TTAI_JWT_AUDIENCE;
    }

    return TTAI_JWT_OK;
}


/* a NumericDate: seconds since the epoch, possibly with a fraction */

static int
ttai_jwt_date(json_t *payload, const char *name, time_t *t)
{
    double   d;
    json_t  *v;

    *t = 0;

    v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }

    if (json_is_integer(v)) {
        *t = (time_t) json_integer_value(v);
        return 0;
    }

    if (!json_is_real(v)) {
        return -1;
    }

    d = json_real_value(v);

    /* far beyond any real date, and within time_t; NaN fails both */
    if (!(d < 1e15 && d > -1e15)) {
        return -1;
    }

    /* truncated: a fractional exp ends the token a little early */
    *t = (time_t) d;

    return 0;
}


/* absent is "", another type or one longer than max is malformed */

static int
ttai_jwt_string(json_t *payload, const char *name, char *out, size_t max)
{
    size_t   n;
    json_t  *v;

    out[0] = '\0';

    v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    n = json_string_length(v);

    if (n > max || memchr(json_string_value(v), '\0', n)) {
        return -1;
    }

    memcpy(out, json_string_value(v), n + 1);

    return 0;
}


/* RFC 7519: aud is one string or an array of strings */

static int
ttai_jwt_audience(json_t *aud, const char *audience)
{
    size_t   i;
    json_t  *v;

    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), audience) == 0;
    }

    if (!json_is_array(aud)) {
        return 0;
    }

    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), audience) == 0)
        {
            return 1;
        }
    }

    return 0;
}
