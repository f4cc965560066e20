
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_ENV_H_INCLUDED_
#define _TTAI_ENV_H_INCLUDED_


#include <stddef.h>


/*
 * A parsed env file in the .dev.vars format: KEY=value lines, '#'
 * comments, optional "export ", single or double quotes.  Error messages
 * never quote a value: the file holds secrets.
 */

#define TTAI_ENV_MAX_KEY     128
#define TTAI_ENV_MAX_VALUE   4096
#define TTAI_ENV_ERRLEN      128


typedef struct {
    char        *key;
    char        *value;
    size_t       value_len;
    unsigned     line;
} ttai_env_entry_t;


typedef struct {
    ttai_env_entry_t  *entries;
    size_t             nentries;
    size_t             nalloc;
} ttai_env_t;


typedef struct {
    unsigned     line;
    char         msg[TTAI_ENV_ERRLEN];
} ttai_env_error_t;


void ttai_env_init(ttai_env_t *env);
int ttai_env_parse(ttai_env_t *env, const char *buf, size_t len,
    ttai_env_error_t *err);
int ttai_env_set(ttai_env_t *env, const char *key, const char *value,
    size_t value_len, unsigned line);
const ttai_env_entry_t *ttai_env_get(const ttai_env_t *env, const char *key);
void ttai_env_free(ttai_env_t *env);


#endif /* _TTAI_ENV_H_INCLUDED_ */
