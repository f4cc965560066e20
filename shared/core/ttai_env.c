
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ttai_env.h"


static int ttai_env_parse_line(ttai_env_t *env, const char *p,
    const char *end, unsigned line, ttai_env_error_t *err);
static int ttai_env_error(ttai_env_error_t *err, unsigned line,
    const char *fmt, ...);
static int ttai_env_is_space(char c);
static int ttai_env_is_key_start(char c);
static int ttai_env_is_key_char(char c);


void
ttai_env_init(ttai_env_t *env)
{
    env->entries = NULL;
    env->nentries = 0;
    env->nalloc = 0;
}


int
ttai_env_parse(ttai_env_t *env, const char *buf, size_t len,
    ttai_env_error_t *err)
{
    unsigned     line;
    const char  *p, *end, *eol;

    p = buf;
    end = buf + len;
    line = 0;

    while (p < end) {
        line++;

        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        if (ttai_env_parse_line(env, p, eol, line, err) != 0) {
            return -1;
        }

        p = eol + 1;
    }

    return 0;
}


static int
ttai_env_parse_line(ttai_env_t *env, const char *p, const char *end,
    unsigned line, ttai_env_error_t *err)
{
    char         key[TTAI_ENV_MAX_KEY + 1];
    char         quote;
    size_t       klen, vlen;
    const char  *k, *v, *vend;

    /* CRLF files come from editors on other systems; accept them */
    if (end > p && end[-1] == '\r') {
        end--;
    }

    while (p < end && ttai_env_is_space(*p)) {
        p++;
    }

    if (p == end || *p == '#') {
        return 0;
    }

    if (end - p > 7 && memcmp(p, "export", 6) == 0
        && ttai_env_is_space(p[6]))
    {
        p += 7;
        while (p < end && ttai_env_is_space(*p)) {
            p++;
        }
    }

    k = p;

    if (p == end || !ttai_env_is_key_start(*p)) {
        return ttai_env_error(err, line,
                              "expected KEY=value, KEY must start with "
                              "a letter or '_'");
    }

    while (p < end && ttai_env_is_key_char(*p)) {
        p++;
    }

    klen = p - k;

    if (klen > TTAI_ENV_MAX_KEY) {
        return ttai_env_error(err, line, "key longer than %d characters",
                              TTAI_ENV_MAX_KEY);
    }

    memcpy(key, k, klen);
    key[klen] = '\0';

    while (p < end && ttai_env_is_space(*p)) {
        p++;
    }

    if (p == end || *p != '=') {
        return ttai_env_error(err, line, "expected '=' after %s", key);
    }

    p++;

    while (p < end && ttai_env_is_space(*p)) {
        p++;
    }

    if (p < end && (*p == '"' || *p == '\'')) {
        quote = *p++;
        v = p;

        /* escapes in double quotes are rare in secrets; not supported */
        while (p < end && *p != quote) {
            p++;
        }

        if (p == end) {
            return ttai_env_error(err, line, "unterminated quote in %s",
                                  key);
        }

        vend = p++;

        while (p < end && ttai_env_is_space(*p)) {
            p++;
        }

        if (p < end && *p != '#') {
            return ttai_env_error(err, line,
                                  "unexpected text after the closing "
                                  "quote of %s", key);
        }

    } else {
        v = p;
        vend = p;

        while (p < end) {
            if (*p == '#' && p > v && ttai_env_is_space(p[-1])) {
                break;
            }

            if (!ttai_env_is_space(*p)) {
                vend = p + 1;
            }

            p++;
        }
    }

    vlen = vend - v;

    if (vlen > TTAI_ENV_MAX_VALUE) {
        return ttai_env_error(err, line, "value of %s is longer than %d "
                              "bytes", key, TTAI_ENV_MAX_VALUE);
    }

    if (memchr(v, '\0', vlen) != NULL) {
        return ttai_env_error(err, line, "value of %s contains a NUL byte",
                              key);
    }

    if (ttai_env_set(env, key, v, vlen, line) != 0) {
        return ttai_env_error(err, line, "out of memory");
    }

    return 0;
}


int
ttai_env_set(ttai_env_t *env, const char *key, const char *value,
    size_t value_len, unsigned line)
{
    char              *k, *v;
    size_t             n;
    ttai_env_entry_t  *e, *entries;

    v = malloc(value_len + 1);
    if (v == NULL) {
        return -1;
    }

    memcpy(v, value, value_len);
    v[value_len] = '\0';

    /* the last assignment wins, as in a shell or dotenv */
    e = (ttai_env_entry_t *) ttai_env_get(env, key);

    if (e != NULL) {
        sodium_memzero(e->value, e->value_len);
        free(e->value);
        e->value = v;
        e->value_len = value_len;
        e->line = line;
        return 0;
    }

    k = strdup(key);
    if (k == NULL) {
        free(v);
        return -1;
    }

    if (env->nentries == env->nalloc) {
        n = env->nalloc ? env->nalloc * 2 : 16;

        entries = realloc(env->entries, n * sizeof(ttai_env_entry_t));
        if (entries == NULL) {
            free(k);
            free(v);
            return -1;
        }

        env->entries = entries;
        env->nalloc = n;
    }

    e = &env->entries[env->nentries++];
    e->key = k;
    e->value = v;
    e->value_len = value_len;
    e->line = line;

    return 0;
}


const ttai_env_entry_t *
ttai_env_get(const ttai_env_t *env, const char *key)
{
    size_t  i;

    for (i = 0; i < env->nentries; i++) {
        if (strcmp(env->entries[i].key, key) == 0) {
            return &env->entries[i];
        }
    }

    return NULL;
}


void
ttai_env_free(ttai_env_t *env)
{
    size_t  i;

    for (i = 0; i < env->nentries; i++) {
        sodium_memzero(env->entries[i].value, env->entries[i].value_len);
        free(env->entries[i].value);
        free(env->entries[i].key);
    }

    free(env->entries);
    ttai_env_init(env);
}


static int
ttai_env_error(ttai_env_error_t *err, unsigned line, const char *fmt, ...)
{
    va_list  args;

    if (err != NULL) {
        err->line = line;

        va_start(args, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, args);
        va_end(args);
    }

    return -1;
}


static int
ttai_env_is_space(char c)
{
    return c == ' ' || c == '\t';
}


static int
ttai_env_is_key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}


static int
ttai_env_is_key_char(char c)
{
    return ttai_env_is_key_start(c) || (c >= '0' && c <= '9');
}
