
/*
 * Copyright (C) ttai contributors
 */


#include <string.h>

#include <sodium.h>

#include "ttai_secrets.h"


const ttai_secret_spec_t  ttai_secret_specs[] = {
    { "JWT_SECRET", TTAI_SECRET_REQUIRED | TTAI_SECRET_HEX32 },
    { "TOKEN_ENCRYPTION_KEY", TTAI_SECRET_REQUIRED | TTAI_SECRET_HEX32 },
    { "TASTYTRADE_CLIENT_ID", 0 },
    { "TASTYTRADE_CLIENT_SECRET", 0 },
    { "TASTYTRADE_REFRESH_TOKEN", 0 },
    { "TASTYTRADE_ENV", 0 },
    { "ANTHROPIC_API_KEY", 0 },
    { "OPENAI_API_KEY", 0 },
    { "GOOGLE_API_KEY", 0 },
    { "AWS_ACCESS_KEY_ID", 0 },
    { "AWS_SECRET_ACCESS_KEY", 0 },
    { "AWS_REGION_NAME", 0 },
    { "AWS_REGION", 0 },
    { "AWS_SESSION_TOKEN", 0 },
    { "GEMINI_API_KEY", 0 },
    { "DEFAULT_LLM_MODEL", 0 },
    { "DEFAULT_EMBEDDING_MODEL", 0 },
    { NULL, 0 }
};


const ttai_secret_spec_t *
ttai_secret_find(const char *name)
{
    const ttai_secret_spec_t  *s;

    for (s = ttai_secret_specs; s->name != NULL; s++) {
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }

    return NULL;
}


/*
 * Returns NULL for a valid value, or why it is not valid.  The reason
 * never contains the value itself.
 */

const char *
ttai_secret_check(const ttai_secret_spec_t *spec, const char *value,
    size_t len)
{
    unsigned char  key[TTAI_SECRET_KEY_LEN];

    if (value == NULL || len == 0) {
        if (spec->flags & TTAI_SECRET_REQUIRED) {
            return "is required but not set";
        }

        return NULL;
    }

    if (spec->flags & TTAI_SECRET_HEX32) {
        if (ttai_secret_hex32(value, len, key) != 0) {
            return "must be 64 hex characters (32 random bytes), "
                   "e.g. from: openssl rand -hex 32";
        }

        sodium_memzero(key, sizeof(key));
    }

    return NULL;
}


int
ttai_secret_hex32(const char *value, size_t len,
    unsigned char out[TTAI_SECRET_KEY_LEN])
{
    size_t  bin_len;

    if (len != 2 * TTAI_SECRET_KEY_LEN) {
        return -1;
    }

    /* sodium_hex2bin() runs in constant time for the digits it reads */
    if (sodium_hex2bin(out, TTAI_SECRET_KEY_LEN, value, len, NULL,
                       &bin_len, NULL)
        != 0 || bin_len != TTAI_SECRET_KEY_LEN)
    {
        sodium_memzero(out, TTAI_SECRET_KEY_LEN);
        return -1;
    }

    return 0;
}
