
/*
 * Copyright (C) ttai contributors
 */


/*
 * The JWT verifier, with one fixed key and policy.  Two kinds of input:
 *
 *   a token as /mcp gets it in the Authorization header;
 *   a header and a payload (JSON texts, FUZZ_SEP between them), which
 *   the target signs with the key, so that what follows the signature
 *   (the header and the claims) is reached too.
 *
 * A token that passes must carry the HMAC of the key, be HS256, and its
 * claims must be the payload's, within the policy; one the target signed
 * fails for another reason than its signature, or not at all; and a
 * token minted with the claims read passes with the same claims.
 */

#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_jwt.h"
#include "fuzz.h"


#define FUZZ_NOW     1800000000L
#define FUZZ_LEEWAY  30

static const char  fuzz_key[] = "fuzz-jwt-key-0123456789abcdef0123456789";
static const char  fuzz_other[] = "fuzz-jwt-key-0123456789abcdef012345678X";

static const ttai_jwt_policy_t  fuzz_policy = {
    "https://ttai.example", "https://ttai.example/mcp", FUZZ_LEEWAY,
    FUZZ_NOW
};


static void fuzz_token(const char *token, size_t len);
static void fuzz_signed(const fuzz_piece_t *header,
    const fuzz_piece_t *payload);
static void fuzz_passed(const char *token, size_t len,
    const ttai_jwt_claims_t *claims);
static json_t *fuzz_segment(const char *s, size_t len);
static char *fuzz_b64(const void *data, size_t len);
static char *fuzz_hmac(const char *text, size_t len, const char *key);
static void fuzz_mint(const ttai_jwt_claims_t *claims);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        n;
    fuzz_piece_t  pieces[2];

    n = fuzz_split(data, size, pieces, 2);

    if (n == 1) {
        fuzz_token(pieces[0].data, pieces[0].len);

    } else {
        fuzz_signed(&pieces[0], &pieces[1]);
    }

    return 0;
}


static void
fuzz_token(const char *text, size_t len)
{
    char               *token;
    ttai_jwt_rc_e       rc;
    ttai_jwt_claims_t   claims;

    /* a copy of its own, so that ASan sees a read past its end */
    token = fuzz_strndup(text, len);

    rc = ttai_jwt_verify(token, len, (const unsigned char *) fuzz_key,
                         strlen(fuzz_key), &fuzz_policy, &claims);

    if (rc == TTAI_JWT_OK) {
        fuzz_passed(token, len, &claims);

    } else {
        fuzz_check(claims.sub[0] == '\0' && claims.email[0] == '\0'
                   && claims.exp == 0 && claims.iat == 0,
                   "a refused token (%s) left claims behind",
                   ttai_jwt_strerror(rc));
    }

    free(token);
}


/* a token that passed: check it as a second verifier would */

static void
fuzz_passed(const char *token, size_t len, const ttai_jwt_claims_t *claims)
{
    char         *mac;
    json_t       *header, *payload, *v;
    size_t        i;
    const char   *dot1, *dot2, *s;
    ttai_jwt_rc_e rc;

    dot1 = memchr(token, '.', len);
    fuzz_check(dot1 != NULL, "a token without a dot passed");

    dot2 = memchr(dot1 + 1, '.', token + len - dot1 - 1);
    fuzz_check(dot2 != NULL, "a token with one dot passed");

    mac = fuzz_hmac(token, dot2 - token, fuzz_key);
    fuzz_check(strlen(mac) == (size_t) (token + len - dot2 - 1)
               && memcmp(mac, dot2 + 1, strlen(mac)) == 0,
               "a token passed without the key's HMAC: %.*s",
               (int) len, token);
    free(mac);

    header = fuzz_segment(token, dot1 - token);
    payload = fuzz_segment(dot1 + 1, dot2 - dot1 - 1);

    fuzz_check(json_is_object(header) && json_is_object(payload),
               "a token passed whose parts are not JSON objects");

    s = json_string_value(json_object_get(header, "alg"));
    fuzz_check(s != NULL && strcmp(s, "HS256") == 0,
               "a token passed that is not HS256");

    s = json_string_value(json_object_get(payload, "sub"));
    fuzz_check(s != NULL && *s != '\0' && strcmp(s, claims->sub) == 0,
               "the subject is not the payload's");

    s = json_string_value(json_object_get(payload, "email"));
    fuzz_check(strcmp(s != NULL ? s : "", claims->email) == 0,
               "the email is not the payload's");

    s = json_string_value(json_object_get(payload, "iss"));
    fuzz_check(s != NULL && strcmp(s, fuzz_policy.issuer) == 0,
               "a token passed from another issuer");

    v = json_object_get(payload, "aud");

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            s = json_string_value(json_array_get(v, i));

            if (s != NULL && strcmp(s, fuzz_policy.audience) == 0) {
                break;
            }
        }

        fuzz_check(i < json_array_size(v), "no audience is the policy's");

    } else {
        s = json_string_value(v);
        fuzz_check(s != NULL && strcmp(s, fuzz_policy.audience) == 0,
                   "the audience is not the policy's");
    }

    v = json_object_get(payload, "exp");
    fuzz_check(v == NULL || json_number_value(v) > FUZZ_NOW - FUZZ_LEEWAY,
               "an expired token passed");

    v = json_object_get(payload, "nbf");
    fuzz_check(v == NULL || json_number_value(v) < FUZZ_NOW + FUZZ_LEEWAY + 1,
               "a token passed before its nbf");

    json_decref(header);
    json_decref(payload);

    /* the same token under another key */
    rc = ttai_jwt_verify(token, len, (const unsigned char *) fuzz_other,
                         strlen(fuzz_other), &fuzz_policy, NULL);
    fuzz_check(rc == TTAI_JWT_SIGNATURE, "another key gave %s",
               ttai_jwt_strerror(rc));

    fuzz_mint(claims);
}


/* header and payload as given, signed with the key */

static void
fuzz_signed(const fuzz_piece_t *header, const fuzz_piece_t *payload)
{
    char               *h, *p, *mac, *token;
    size_t              len;
    json_t             *hj;
    const char         *alg, *typ;
    ttai_jwt_rc_e       rc;
    ttai_jwt_claims_t   claims;

    h = fuzz_b64(header->data, header->len);
    p = fuzz_b64(payload->data, payload->len);

    len = strlen(h) + 1 + strlen(p);
    token = malloc(len + 1 + 64);
    fuzz_check(token != NULL, "out of memory");

    sprintf(token, "%s.%s", h, p);
    mac = fuzz_hmac(token, len, fuzz_key);
    sprintf(token + len, ".%s", mac);
    len += 1 + strlen(mac);

    free(h);
    free(p);
    free(mac);

    rc = ttai_jwt_verify(token, len, (const unsigned char *) fuzz_key,
                         strlen(fuzz_key), &fuzz_policy, &claims);

    if (rc == TTAI_JWT_OK) {
        fuzz_passed(token, len, &claims);

    } else if (rc == TTAI_JWT_SIGNATURE) {
        /*
         * The signature is the key's.  Refused as forged, then, only
         * when the header is one the verifier refuses first.
         */
        hj = json_loadb(header->data, header->len, 0, NULL);
        alg = json_string_value(json_object_get(hj, "alg"));
        typ = json_string_value(json_object_get(hj, "typ"));

        fuzz_check(!json_is_object(hj) || alg == NULL
                   || strcmp(alg, "HS256") != 0
                   || json_object_get(hj, "crit") != NULL
                   || (json_object_get(hj, "typ") != NULL
                       && (typ == NULL || strcasecmp(typ, "JWT") != 0))
                   || header->len == 0 || payload->len == 0,
                   "a token signed with the key was refused as forged: "
                   "%.*s", (int) len, token);

        json_decref(hj);
    }

    free(token);
}


static json_t *
fuzz_segment(const char *s, size_t len)
{
    size_t          n;
    json_t         *json;
    unsigned char  *bin;

    bin = malloc(len + 1);
    fuzz_check(bin != NULL, "out of memory");

    json = NULL;

    if (sodium_base642bin(bin, len + 1, s, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        == 0)
    {
        json = json_loadb((const char *) bin, n, 0, NULL);
    }

    free(bin);

    return json;
}


static char *
fuzz_b64(const void *data, size_t len)
{
    char    *out;
    size_t   n;

    n = sodium_base64_ENCODED_LEN(len,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out = malloc(n);
    fuzz_check(out != NULL, "out of memory");

    sodium_bin2base64(out, n, data, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    return out;
}


static char *
fuzz_hmac(const char *text, size_t len, const char *key)
{
    unsigned char                 mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state  st;

    crypto_auth_hmacsha256_init(&st, (const unsigned char *) key,
                                strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) text, len);
    crypto_auth_hmacsha256_final(&st, mac);

    return fuzz_b64(mac, sizeof(mac));
}


/* the claims that passed, minted again: they pass, and are the same */

static void
fuzz_mint(const ttai_jwt_claims_t *claims)
{
    char               *token;
    ttai_jwt_rc_e       rc;
    ttai_jwt_claims_t   again;

    token = ttai_jwt_mint((const unsigned char *) fuzz_key, strlen(fuzz_key),
                          claims->sub,
                          claims->email[0] != '\0' ? claims->email : NULL,
                          fuzz_policy.issuer, fuzz_policy.audience,
                          claims->fam[0] != '\0' ? claims->fam : NULL,
                          claims->trade ? "mcp:trade" : NULL, 600, FUZZ_NOW);
    fuzz_check(token != NULL, "the claims of a token that passed cannot "
               "be minted: sub \"%s\"", claims->sub);

    rc = ttai_jwt_verify(token, strlen(token),
                         (const unsigned char *) fuzz_key, strlen(fuzz_key),
                         &fuzz_policy, &again);

    fuzz_check(rc == TTAI_JWT_OK, "a minted token was refused: %s",
               ttai_jwt_strerror(rc));
    fuzz_check(strcmp(again.sub, claims->sub) == 0
               && strcmp(again.email, claims->email) == 0
               && strcmp(again.fam, claims->fam) == 0
               && again.iat == FUZZ_NOW && again.exp == FUZZ_NOW + 600,
               "a minted token's claims came back otherwise");

    free(token);
}
