
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_SECRETS_H_INCLUDED_
#define _TTAI_SECRETS_H_INCLUDED_


#include <stddef.h>


#define TTAI_SECRET_KEY_LEN    32


#define TTAI_SECRET_REQUIRED   0x01
#define TTAI_SECRET_HEX32      0x02


/* the keys of the .dev.vars file that ttai knows about */

typedef struct {
    const char  *name;
    unsigned     flags;
} ttai_secret_spec_t;


extern const ttai_secret_spec_t  ttai_secret_specs[];


const ttai_secret_spec_t *ttai_secret_find(const char *name);
const char *ttai_secret_check(const ttai_secret_spec_t *spec,
    const char *value, size_t len);
int ttai_secret_hex32(const char *value, size_t len,
    unsigned char out[TTAI_SECRET_KEY_LEN]);


#endif /* _TTAI_SECRETS_H_INCLUDED_ */
