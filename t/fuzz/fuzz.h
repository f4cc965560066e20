
/*
 * Copyright (C) ttai contributors
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


/*
 * What the fuzz targets share: libFuzzer's entry point, a check that
 * stops the run with a message (libFuzzer then keeps the input that
 * failed it, as it keeps one that crashed), and an input cut into
 * pieces at a separator line, for the targets whose input is several
 * texts: a request and the answers to it, a schema and a value.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* a line of its own between the pieces of an input */
#define FUZZ_SEP      "\n%%\n"
#define FUZZ_SEP_LEN  (sizeof(FUZZ_SEP) - 1)

#define FUZZ_UNUSED   __attribute__((unused))


typedef struct {
    const char  *data;
    size_t       len;
} fuzz_piece_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define fuzz_check(cond, ...)                                                \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s\nfuzz: ",         \
                    __FILE__, __LINE__, #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)


/*
 * Cuts data at each FUZZ_SEP into at most max pieces (the last one keeps
 * the rest, separators too); returns how many.  An input without a
 * separator is one piece.
 */

static FUZZ_UNUSED size_t
fuzz_split(const uint8_t *data, size_t size, fuzz_piece_t *pieces,
    size_t max)
{
    size_t       n;
    const char  *p, *end, *sep;

    p = (const char *) data;
    end = p + size;

    for (n = 0; n < max; n++) {
        sep = (n + 1 < max) ? memmem(p, end - p, FUZZ_SEP, FUZZ_SEP_LEN)
                            : NULL;

        pieces[n].data = p;
        pieces[n].len = (sep != NULL ? sep : end) - p;

        if (sep == NULL) {
            return n + 1;
        }

        p = sep + FUZZ_SEP_LEN;
    }

    return n;
}


/* a NUL-terminated copy, which ASan bounds exactly; never NULL */

static FUZZ_UNUSED char *
fuzz_strndup(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    fuzz_check(p != NULL, "out of memory");

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


#endif /* _FUZZ_H_INCLUDED_ */
