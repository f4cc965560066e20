
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ttai_crypto.h"


#define TTAI_CRYPTO_NONCE  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


static unsigned char *ttai_token_ad(const char *user_id, const char *field,
    size_t *len);


/* out must have room for len + TTAI_CRYPTO_OVERHEAD bytes */

int
ttai_token_seal(const unsigned char key[TTAI_SECRET_KEY_LEN],
    const char *user_id, const char *field, const unsigned char *plain,
    size_t len, unsigned char *out)
{
    int                 rc;
    size_t              ad_len;
    unsigned char      *ad;
    unsigned long long  clen;

    ad = ttai_token_ad(user_id, field, &ad_len);
    if (ad == NULL) {
        return -1;
    }

    out[0] = TTAI_CRYPTO_VERSION;
    randombytes_buf(out + 1, TTAI_CRYPTO_NONCE);

    rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
             out + 1 + TTAI_CRYPTO_NONCE, &clen, plain, len, ad, ad_len,
             NULL, out + 1, key);

    free(ad);

    return rc;
}


/*
 * out must have room for len bytes.  Returns -1 for a blob that is not
 * one of ours, or that a different key, user or field sealed: the caller
 * says so rather than handing on garbage.
 */

int
ttai_token_open(const unsigned char key[TTAI_SECRET_KEY_LEN],
    const char *user_id, const char *field, const unsigned char *blob,
    size_t len, unsigned char *out, size_t *out_len)
{
    int                 rc;
    size_t              ad_len;
    unsigned char      *ad;
    unsigned long long  plen;

    if (len < TTAI_CRYPTO_OVERHEAD || blob[0] != TTAI_CRYPTO_VERSION) {
        return -1;
    }

    ad = ttai_token_ad(user_id, field, &ad_len);
    if (ad == NULL) {
        return -1;
    }

    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
             out, &plen, NULL, blob + 1 + TTAI_CRYPTO_NONCE,
             len - 1 - TTAI_CRYPTO_NONCE, ad, ad_len, blob + 1, key);

    free(ad);

    if (rc != 0) {
        return -1;
    }

    *out_len = plen;

    return 0;
}


/* "ttai-token-v1", user id and field, each ended by a NUL: unambiguous */

static unsigned char *
ttai_token_ad(const char *user_id, const char *field, size_t *len)
{
    size_t          u, f;
    unsigned char  *ad;

    static const char  label[] = "ttai-token-v1";

    u = strlen(user_id);
    f = strlen(field);
    *len = sizeof(label) + u + 1 + f + 1;

    ad = malloc(*len);
    if (ad == NULL) {
        return NULL;
    }

    memcpy(ad, label, sizeof(label));
    memcpy(ad + sizeof(label), user_id, u + 1);
    memcpy(ad + sizeof(label) + u + 1, field, f + 1);

    return ad;
}
