
/*
 * Copyright (C) ttai contributors
 */


/*
 * The KV snapshot reader: the input is a snapshot file as nginx reads it
 * back at start, ttai_kvsnap_open() then ttai_kvsnap_next() over it.  A
 * random file almost never has a valid checksum, so each input is read
 * twice: as it is, and with the checksum its bytes would have, which
 * takes the reader past the checksum to the records.
 *
 * Checked: a file refused says why; one taken yields as many records
 * as its trailer counts, each with a key, each within the file, one
 * after another up to the trailer; and the same records written again
 * with the writer make the very same bytes.
 */

#include <sodium.h>

#include "ttai_kvsnap.h"
#include "fuzz.h"


static void fuzz_read(const unsigned char *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char             *copy;
    crypto_generichash_state   st;

    /* a buffer of the file's exact size, as nginx reads it */
    copy = malloc(size ? size : 1);
    fuzz_check(copy != NULL, "out of memory");

    if (size) {
        memcpy(copy, data, size);
    }

    fuzz_read(copy, size);

    if (size >= TTAI_KVSNAP_HEADER_LEN + TTAI_KVSNAP_TRAILER_LEN) {
        crypto_generichash_init(&st, NULL, 0, TTAI_KVSNAP_HASH_LEN);
        crypto_generichash_update(&st, copy, size - TTAI_KVSNAP_HASH_LEN);
        crypto_generichash_final(&st, copy + size - TTAI_KVSNAP_HASH_LEN,
                                 TTAI_KVSNAP_HASH_LEN);

        fuzz_read(copy, size);
    }

    free(copy);

    return 0;
}


static void
fuzz_read(const unsigned char *data, size_t size)
{
    size_t                  n, len, hlen;
    uint64_t                count;
    unsigned char          *out, *p;
    ttai_kvsnap_error_t     err;
    ttai_kvsnap_reader_t    rd;
    ttai_kvsnap_record_t    rec;
    ttai_kvsnap_writer_t    w;

    if (ttai_kvsnap_open(&rd, data, size, &err) != 0) {
        fuzz_check(err.msg[0] != '\0', "a snapshot refused without a "
                   "reason");
        return;
    }

    fuzz_check(rd.version == TTAI_KVSNAP_VERSION || rd.version == 1,
               "version %u taken", (unsigned) rd.version);

    /* version 1, from before the journal, has no sequence number */
    hlen = (rd.version == 1) ? TTAI_KVSNAP_HEADER_LEN_V1
                             : TTAI_KVSNAP_HEADER_LEN;

    fuzz_check(size >= hlen + TTAI_KVSNAP_TRAILER_LEN,
               "a snapshot of %zu bytes taken", size);
    fuzz_check(rd.version == TTAI_KVSNAP_VERSION || rd.seq == 0,
               "a version 1 snapshot starts from %llu",
               (unsigned long long) rd.seq);

    /* written again, always in the current version */
    out = malloc(size - hlen + TTAI_KVSNAP_HEADER_LEN);
    fuzz_check(out != NULL, "out of memory");

    /* the records written again, after a header of the same time */
    ttai_kvsnap_writer_init(&w, out, rd.created, rd.seq);
    p = out + TTAI_KVSNAP_HEADER_LEN;

    count = 0;
    len = hlen;

    while (ttai_kvsnap_next(&rd, &rec)) {
        count++;

        fuzz_check(rec.key_len > 0, "record %llu has no key",
                   (unsigned long long) count);
        fuzz_check(rec.key >= data && rec.value + rec.value_len
                                      <= data + size
                                         - TTAI_KVSNAP_TRAILER_LEN
                   && rec.metadata == rec.key + rec.key_len
                   && rec.value == rec.metadata + rec.metadata_len,
                   "record %llu is not where it should be",
                   (unsigned long long) count);

        n = ttai_kvsnap_record_size(rec.key_len, rec.metadata_len,
                                    rec.value_len);
        fuzz_check(len + n <= size - TTAI_KVSNAP_TRAILER_LEN,
                   "the records run past the trailer");

        fuzz_check(ttai_kvsnap_record_encode(p, &rec) == n,
                   "record %llu cannot be written again",
                   (unsigned long long) count);

        ttai_kvsnap_writer_add(&w, p, n, 1);
        p += n;
        len += n;
    }

    fuzz_check(count == rd.count, "%llu records, %llu counted",
               (unsigned long long) count, (unsigned long long) rd.count);
    fuzz_check(len == size - TTAI_KVSNAP_TRAILER_LEN, "the records end "
               "%zu bytes before the trailer",
               size - TTAI_KVSNAP_TRAILER_LEN - len);

    ttai_kvsnap_writer_finish(&w, p);

    if (rd.version == TTAI_KVSNAP_VERSION) {
        fuzz_check(memcmp(out, data, size) == 0, "the records written "
                   "again are another file");

    } else {
        fuzz_check(memcmp(out + TTAI_KVSNAP_HEADER_LEN, data + hlen,
                          size - hlen - TTAI_KVSNAP_TRAILER_LEN) == 0,
                   "the records of a version 1 file written again are "
                   "other records");
    }

    /* and the reader is done for good */
    fuzz_check(ttai_kvsnap_next(&rd, &rec) == 0, "a record after the end");

    free(out);
}
