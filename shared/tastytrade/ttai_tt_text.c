
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"


/*
 * The text half of a tool result: a few lines or a small table that a
 * model reads for fewer tokens than the structuredContent beside it.
 * Tables grow with the account, so the buffer grows too.
 */

#define TTAI_TT_BUF_START  1024


void
ttai_tt_buf_printf(ttai_tt_buf_t *b, const char *fmt, ...)
{
    int       n;
    char     *data;
    size_t    size;
    va_list   args;

    if (b->failed) {
        return;
    }

    for ( ;; ) {
        if (b->size > b->len) {
            va_start(args, fmt);
            n = vsnprintf(b->data + b->len, b->size - b->len, fmt, args);
            va_end(args);

            if (n < 0) {
                goto failed;
            }

            if ((size_t) n < b->size - b->len) {
                b->len += (size_t) n;
                return;
            }

        } else {
            n = 0;
        }

        size = b->size ? 2 * b->size : TTAI_TT_BUF_START;

        while (size <= b->len + (size_t) n) {
            size *= 2;
        }

        data = realloc(b->data, size);
        if (data == NULL) {
            goto failed;
        }

        b->data = data;
        b->size = size;
        b->data[b->len] = '\0';
    }

failed:

    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->failed = 1;
}


void
ttai_tt_buf_number(ttai_tt_buf_t *b, json_t *n)
{
    char    num[64];
    size_t  len;

    if (!json_is_number(n)) {
        ttai_tt_buf_printf(b, "n/a");
        return;
    }

    snprintf(num, sizeof(num), "%.4f", json_number_value(n));

    len = strlen(num);

    if (strchr(num, '.') != NULL) {
        while (len > 0 && num[len - 1] == '0') {
            num[--len] = '\0';
        }

        if (len > 0 && num[len - 1] == '.') {
            num[--len] = '\0';
        }
    }

    ttai_tt_buf_printf(b, "%s", strcmp(num, "-0") == 0 ? "0" : num);
}


void
ttai_tt_buf_data(ttai_tt_buf_t *b, const char *s)
{
    char  *q;

    q = ttai_tool_quote(s);
    if (q == NULL) {
        free(b->data);
        b->data = NULL;
        b->len = 0;
        b->size = 0;
        b->failed = 1;
        return;
    }

    ttai_tt_buf_printf(b, "%s", q);
    free(q);

    b->untrusted = 1;
}


json_t *
ttai_tt_buf_result(ttai_tt_buf_t *b, json_t *structured)
{
    json_t  *result;

    if (b->failed) {
        json_decref(structured);
        return NULL;
    }

    result = ttai_tool_text_result(b->data ? b->data : "", structured);

    if (b->untrusted) {
        result = ttai_tool_mark_untrusted(result);
        b->untrusted = 0;
    }

    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;

    return result;
}


char *
ttai_tt_sprintf(const char *fmt, ...)
{
    int       n;
    char     *s;
    va_list   args;

    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    if (n < 0) {
        return NULL;
    }

    s = malloc((size_t) n + 1);
    if (s == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    vsnprintf(s, (size_t) n + 1, fmt, args);
    va_end(args);

    return s;
}
