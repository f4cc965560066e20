
/*
 * Copyright (C) ttai contributors
 */


/*
 * The KV journal reader: the input is a journal file as a start reads it
 * back after a crash, ttai_kvjournal_open() then ttai_kvjournal_next()
 * over it.  A random record almost never has a valid checksum, so each
 * input is read twice: as it is, and with its records sealed by the
 * writer's own ttai_kvjournal_seal() where they are whole, which takes
 * the reader past the checksums.
 *
 * Checked: a file or a tail refused says why, and nothing is read after
 * it; each record taken is inside the file, of a known kind with what
 * that kind carries, and written again with the writer it is the very
 * same bytes, checksum included.
 */

#include "ttai_kvjournal.h"
#include "fuzz.h"


static void fuzz_read(const unsigned char *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char  *copy;

    /* a buffer of the file's exact size, as a start reads it */
    copy = malloc(size ? size : 1);
    fuzz_check(copy != NULL, "out of memory");

    if (size) {
        memcpy(copy, data, size);
    }

    fuzz_read(copy, size);

    if (size > TTAI_KVJOURNAL_HEADER_LEN
        && ttai_kvjournal_seal(copy + TTAI_KVJOURNAL_HEADER_LEN,
                               size - TTAI_KVJOURNAL_HEADER_LEN)
           == 0)
    {
        fuzz_read(copy, size);
    }

    free(copy);

    return 0;
}


static void
fuzz_read(const unsigned char *data, size_t size)
{
    int                       rc;
    size_t                    n;
    unsigned char            *out;
    const unsigned char      *at;
    ttai_kvjournal_error_t    err;
    ttai_kvjournal_reader_t   rd;
    ttai_kvjournal_record_t   rec;

    err.msg[0] = '\0';

    rc = ttai_kvjournal_open(&rd, data, size, &err);

    if (rc == 0) {
        fuzz_check(size < TTAI_KVJOURNAL_HEADER_LEN,
                   "a file of %zu bytes read as too short", size);
        return;
    }

    if (rc < 0) {
        fuzz_check(err.msg[0] != '\0', "a journal refused without a reason");
        return;
    }

    fuzz_check(rc == 1 && size >= TTAI_KVJOURNAL_HEADER_LEN,
               "a journal of %zu bytes opened with %d", size, rc);

    for ( ;; ) {
        at = rd.pos;
        err.msg[0] = '\0';

        rc = ttai_kvjournal_next(&rd, &rec, &err);

        if (rc == 0) {
            fuzz_check(at == data + size, "the end %zu bytes early",
                       (size_t) (data + size - at));
            break;
        }

        if (rc < 0) {
            fuzz_check(err.msg[0] != '\0', "a tail refused without a "
                       "reason");
            fuzz_check(ttai_kvjournal_next(&rd, &rec, &err) == 0,
                       "a record after a torn tail");
            break;
        }

        fuzz_check(rc == 1, "next gave %d", rc);

        n = ttai_kvjournal_record_size(rec.key_len, rec.metadata_len,
                                       rec.value_len);

        fuzz_check(at + n == rd.pos && rd.pos <= data + size,
                   "a record of %zu bytes read as %zu", n,
                   (size_t) (rd.pos - at));

        switch (rec.op) {

        case TTAI_KVJOURNAL_PUT:
            fuzz_check(rec.key_len > 0, "a put without a key");
            break;

        case TTAI_KVJOURNAL_DELETE:
            fuzz_check(rec.key_len > 0 && rec.value_len == 0,
                       "a delete of %zu key and %zu value bytes",
                       rec.key_len, rec.value_len);
            break;

        default:
            fuzz_check(rec.op == TTAI_KVJOURNAL_CLEAR, "op %u taken",
                       rec.op);
            fuzz_check(rec.key_len == 0 && rec.value_len == 0,
                       "a clear with a key or a value");
        }

        out = malloc(n);
        fuzz_check(out != NULL, "out of memory");

        fuzz_check(ttai_kvjournal_record_encode(out, &rec) == n,
                   "a record taken cannot be written again");
        fuzz_check(ttai_kvjournal_seal(out, n) == 0,
                   "a record taken cannot be sealed again");
        fuzz_check(memcmp(out, at, n) == 0,
                   "a record written again is other bytes");

        free(out);
    }
}
