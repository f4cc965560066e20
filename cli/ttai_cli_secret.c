
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ttai_cli.h"
#include "ttai_env.h"
#include "ttai_secrets.h"


/*
 * A secret of the .dev.vars file, read as nginx reads it: the
 * environment variable wins over the env file, and the value is checked
 * the same way.  Messages name the key and the file, never the value.
 */


char *
ttai_cli_secret(const char *name, const char *env_file, size_t *len)
{
    char                      *buf, *value;
    size_t                     n;
    const char                *env, *why;
    ttai_env_t                 vars;
    ttai_env_error_t           err;
    const ttai_env_entry_t    *e;
    const ttai_secret_spec_t  *spec;

    spec = ttai_secret_find(name);
    env = getenv(name);

    if (env != NULL && *env != '\0') {
        why = spec ? ttai_secret_check(spec, env, strlen(env)) : NULL;

        if (why != NULL) {
            fprintf(stderr, "ttai: %s from the environment %s\n", name, why);
            return NULL;
        }

        value = strdup(env);
        if (value == NULL) {
            fprintf(stderr, "ttai: out of memory\n");
            return NULL;
        }

        *len = strlen(value);
        return value;
    }

    buf = ttai_cli_read_file(env_file, &n);
    if (buf == NULL) {
        fprintf(stderr, "ttai: cannot read %s, which holds %s; "
                "scripts/dev.sh creates it\n", env_file, name);
        return NULL;
    }

    ttai_env_init(&vars);
    value = NULL;

    if (ttai_env_parse(&vars, buf, n, &err) != 0) {
        fprintf(stderr, "ttai: %s:%u: %s\n", env_file, err.line, err.msg);
        goto done;
    }

    e = ttai_env_get(&vars, name);

    why = spec ? ttai_secret_check(spec, e ? e->value : NULL,
                                   e ? e->value_len : 0)
               : (e == NULL || e->value_len == 0 ? "is not set" : NULL);

    if (why != NULL) {
        fprintf(stderr, "ttai: %s in %s %s\n", name, env_file, why);
        goto done;
    }

    value = malloc(e->value_len + 1);
    if (value == NULL) {
        fprintf(stderr, "ttai: out of memory\n");
        goto done;
    }

    memcpy(value, e->value, e->value_len);
    value[e->value_len] = '\0';
    *len = e->value_len;

done:

    ttai_env_free(&vars);
    sodium_memzero(buf, n);
    free(buf);

    return value;
}


void
ttai_cli_secret_free(char *value, size_t len)
{
    if (value != NULL) {
        sodium_memzero(value, len);
        free(value);
    }
}
