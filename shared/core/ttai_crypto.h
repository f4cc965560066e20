
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_CRYPTO_H_INCLUDED_
#define _TTAI_CRYPTO_H_INCLUDED_


#include <stddef.h>

#include "ttai_secrets.h"


/*
 * Tokens at rest: XChaCha20-Poly1305 under TOKEN_ENCRYPTION_KEY, with a
 * fresh nonce for every value, and the user id and the field name bound
 * as associated data, so that a blob copied to another user or column
 * does not decrypt.  A blob is: version (1 byte), nonce, ciphertext+tag.
 */

#define TTAI_CRYPTO_VERSION    1

/* bytes a sealed value adds to its plaintext */
#define TTAI_CRYPTO_OVERHEAD   (1 + 24 + 16)


int ttai_token_seal(const unsigned char key[TTAI_SECRET_KEY_LEN],
    const char *user_id, const char *field, const unsigned char *plain,
    size_t len, unsigned char *out);
int ttai_token_open(const unsigned char key[TTAI_SECRET_KEY_LEN],
    const char *user_id, const char *field, const unsigned char *blob,
    size_t len, unsigned char *out, size_t *out_len);


#endif /* _TTAI_CRYPTO_H_INCLUDED_ */
