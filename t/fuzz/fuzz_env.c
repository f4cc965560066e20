
/*
 * Copyright (C) ttai contributors
 */


/*
 * The env file (.dev.vars, or the file ttai_secrets names), as nginx -t,
 * nginx and the CLI read it: ttai_env_parse(), then each key ttai knows
 * checked with ttai_secret_check().
 *
 * Checked: every entry has a key of the allowed characters and a value
 * without NUL or newline, within the limits; the entries written again
 * as a file (each value quoted as it allows) read as the same entries,
 * in the same order; a HEX32 secret that passes decodes to the bytes
 * its digits say; and no parse error quotes the value on its line,
 * since the file holds secrets (the secrets' own reasons are fixed
 * texts).
 */

#include <ctype.h>

#include <sodium.h>

#include "ttai_env.h"
#include "ttai_secrets.h"
#include "fuzz.h"


static void fuzz_entries(const ttai_env_t *env);
static void fuzz_again(const ttai_env_t *env);
static void fuzz_secret(const ttai_env_entry_t *e);
static void fuzz_error(const char *buf, size_t len,
    const ttai_env_error_t *err);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              *buf;
    size_t             i;
    ttai_env_t         env;
    ttai_env_error_t   err;

    /* the file's bytes, and not one more */
    buf = malloc(size ? size : 1);
    fuzz_check(buf != NULL, "out of memory");

    if (size) {
        memcpy(buf, data, size);
    }

    ttai_env_init(&env);
    memset(&err, 0, sizeof(err));

    if (ttai_env_parse(&env, buf, size, &err) != 0) {
        fuzz_error(buf, size, &err);

    } else {
        fuzz_entries(&env);
        fuzz_again(&env);

        for (i = 0; i < env.nentries; i++) {
            fuzz_secret(&env.entries[i]);
        }
    }

    ttai_env_free(&env);
    free(buf);

    return 0;
}


static void
fuzz_entries(const ttai_env_t *env)
{
    size_t                   i, j, n;
    const ttai_env_entry_t  *e;

    for (i = 0; i < env->nentries; i++) {
        e = &env->entries[i];
        n = strlen(e->key);

        fuzz_check(n > 0 && n <= TTAI_ENV_MAX_KEY
                   && (isalpha((unsigned char) e->key[0])
                       || e->key[0] == '_')
                   && strspn(e->key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
                             "mnopqrstuvwxyz0123456789_") == n,
                   "a key of other characters: %s", e->key);

        fuzz_check(e->value_len <= TTAI_ENV_MAX_VALUE
                   && strlen(e->value) == e->value_len
                   && memchr(e->value, '\n', e->value_len) == NULL,
                   "the value of %s has a NUL or a newline, or is too "
                   "long", e->key);

        fuzz_check(ttai_env_get(env, e->key) == e, "%s is there twice",
                   e->key);

        for (j = 0; j < i; j++) {
            fuzz_check(strcmp(env->entries[j].key, e->key) != 0,
                       "%s is there twice", e->key);
        }
    }
}


/* written as KEY="value", KEY='value' or KEY=value, and read again */

static void
fuzz_again(const ttai_env_t *env)
{
    char                    *text, *p;
    size_t                   i, size;
    ttai_env_t               again;
    ttai_env_error_t         err;
    const ttai_env_entry_t  *e;

    size = 1;

    for (i = 0; i < env->nentries; i++) {
        size += strlen(env->entries[i].key) + env->entries[i].value_len + 6;
    }

    text = malloc(size);
    fuzz_check(text != NULL, "out of memory");
    p = text;

    for (i = 0; i < env->nentries; i++) {
        e = &env->entries[i];

        if (memchr(e->value, '"', e->value_len) == NULL) {
            p += sprintf(p, "%s=\"%s\"\n", e->key, e->value);

        } else if (memchr(e->value, '\'', e->value_len) == NULL) {
            p += sprintf(p, "%s='%s'\n", e->key, e->value);

        } else {
            /*
             * both quotes: it was read unquoted, and can be written so;
             * a comment after it keeps a '\r' it ends with its own
             */
            p += sprintf(p, "%s=%s #\n", e->key, e->value);
        }
    }

    ttai_env_init(&again);

    fuzz_check(ttai_env_parse(&again, text, p - text, &err) == 0,
               "the entries written again are refused: line %u: %s\n%s",
               err.line, err.msg, text);
    fuzz_check(again.nentries == env->nentries, "%zu entries, then %zu",
               env->nentries, again.nentries);

    for (i = 0; i < env->nentries; i++) {
        fuzz_check(strcmp(again.entries[i].key, env->entries[i].key) == 0
                   && again.entries[i].value_len
                      == env->entries[i].value_len
                   && memcmp(again.entries[i].value, env->entries[i].value,
                             env->entries[i].value_len) == 0,
                   "%s reads otherwise written again", env->entries[i].key);
    }

    ttai_env_free(&again);
    free(text);
}


static void
fuzz_secret(const ttai_env_entry_t *e)
{
    char                       hex[2 * TTAI_SECRET_KEY_LEN + 1];
    size_t                     i;
    const char                *why;
    unsigned char              key[TTAI_SECRET_KEY_LEN];
    const ttai_secret_spec_t  *spec;

    spec = ttai_secret_find(e->key);
    if (spec == NULL) {
        return;
    }

    why = ttai_secret_check(spec, e->value, e->value_len);

    if (why != NULL || !(spec->flags & TTAI_SECRET_HEX32)) {
        return;
    }

    fuzz_check(ttai_secret_hex32(e->value, e->value_len, key) == 0,
               "a HEX32 secret that passed does not decode");

    sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));

    for (i = 0; i < 2 * TTAI_SECRET_KEY_LEN; i++) {
        fuzz_check(hex[i] == tolower((unsigned char) e->value[i]),
                   "%s decodes to other bytes", e->key);
    }
}


/*
 * The message names the line, and the key, never the value: the text
 * after the line's first '=', when it has a character no message has
 */

static void
fuzz_error(const char *buf, size_t len, const ttai_env_error_t *err)
{
    char        *value;
    size_t       line, n;
    const char  *p, *end, *eol, *eq;

    fuzz_check(err->msg[0] != '\0' && err->line > 0, "an error without "
               "its line and reason");

    p = buf;
    end = buf + len;

    for (line = 1; line < err->line && p < end; line++) {
        eol = memchr(p, '\n', end - p);
        p = eol ? eol + 1 : end;
    }

    fuzz_check(line == err->line && p < end, "an error on line %u of a "
               "shorter file", err->line);

    eol = memchr(p, '\n', end - p);
    eol = eol ? eol : end;

    eq = memchr(p, '=', eol - p);
    if (eq == NULL) {
        return;
    }

    n = eol - eq - 1;
    value = fuzz_strndup(eq + 1, n);

    if (n >= 8 && strlen(value) == n
        && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                  "wxyz0123456789_ '=.,\"") != n)
    {
        fuzz_check(strstr(err->msg, value) == NULL, "the message quotes "
                   "the value: %s", err->msg);
    }

    free(value);
}
