
/*
 * Copyright (C) ttai contributors
 */


/*
 * ttai's JSON writer, which writes every answer the core sends and
 * every quote it keeps: it promises the text of json_dumps(JSON_COMPACT
 * | JSON_REAL_PRECISION(15)), faster.  The input is read by jansson as
 * any JSON value, upstream answers being such input; its bytes are also
 * read as doubles, eight at a time, for the numbers no text gives.
 *
 * Checked: ttai_json_dumps() writes the very text jansson writes, and
 * ttai_json_real() the very text of each finite double.
 */

#include <math.h>

#include <jansson.h>

#include "ttai_json.h"
#include "fuzz.h"


#define FUZZ_FLAGS  (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))


static void fuzz_real(double v);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          *mine, *theirs;
    size_t         i, len;
    double         v;
    json_t        *json;

    json = json_loadb((const char *) data, size,
                      JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

    if (json != NULL) {
        mine = ttai_json_dumps(json, &len);
        theirs = json_dumps(json, FUZZ_FLAGS);

        fuzz_check(mine != NULL && theirs != NULL, "out of memory");
        fuzz_check(len == strlen(theirs) && memcmp(mine, theirs, len) == 0,
                   "ttai writes %s\njansson writes %s", mine, theirs);

        free(mine);
        free(theirs);
        json_decref(json);
    }

    for (i = 0; i + sizeof(double) <= size && i < 4 * sizeof(double);
         i += sizeof(double))
    {
        memcpy(&v, data + i, sizeof(double));

        /* jansson has no NaN or infinity to write */
        if (isfinite(v)) {
            fuzz_real(v);
        }
    }

    return 0;
}


static void
fuzz_real(double v)
{
    char     buf[64], *theirs;
    size_t   n;
    json_t  *j;

    j = json_real(v);
    fuzz_check(j != NULL, "out of memory");

    theirs = json_dumps(j, FUZZ_FLAGS);
    fuzz_check(theirs != NULL, "out of memory");

    memset(buf, 0, sizeof(buf));
    n = ttai_json_real(v, buf);

    fuzz_check(n < 40 && n == strlen(theirs) && memcmp(buf, theirs, n) == 0,
               "%.17g: ttai writes %.*s, jansson writes %s", v, (int) n, buf,
               theirs);

    free(theirs);
    json_decref(j);
}
