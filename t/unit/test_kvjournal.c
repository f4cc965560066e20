
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ttai_kvjournal.h"


/* a journal file built in memory, as a worker appends to it */
typedef struct {
    unsigned char            *buf;
    size_t                    len;
    size_t                    ends[16];    /* where each record ends */
} journal_t;


static const ttai_kvjournal_record_t  sample[] = {
    { TTAI_KVJOURNAL_PUT, 7, (const unsigned char *) "config:theme", 12,
      NULL, 0, (const unsigned char *) "dark", 4, 0 },
    { TTAI_KVJOURNAL_PUT, 8, (const unsigned char *) "quote:AAPL", 10,
      (const unsigned char *) "{\"source\":\"tastytrade\"}", 23,
      (const unsigned char *) "{\"symbol\":\"AAPL\",\"price\":150.00}", 32,
      1767225600000ULL },
    { TTAI_KVJOURNAL_DELETE, 11, (const unsigned char *) "config:theme", 12,
      NULL, 0, NULL, 0, 0 },
    { TTAI_KVJOURNAL_PUT, 12, (const unsigned char *) "bin", 3, NULL, 0,
      (const unsigned char *) "a\0b\0\xff", 5, 0 },
    { TTAI_KVJOURNAL_CLEAR, 20, NULL, 0, NULL, 0, NULL, 0, 0 },
    { TTAI_KVJOURNAL_PUT, 21, (const unsigned char *) "empty", 5, NULL, 0,
      (const unsigned char *) "", 0, 42 },
};

#define NSAMPLE  (sizeof(sample) / sizeof(sample[0]))


/* the records are sealed in runs of "batch", one write each */
static void
journal_build(journal_t *j, const ttai_kvjournal_record_t *recs, size_t n,
    size_t batch)
{
    size_t          i, k, len, size;
    unsigned char  *p, *run;

    size = TTAI_KVJOURNAL_HEADER_LEN;

    for (i = 0; i < n; i++) {
        size += ttai_kvjournal_record_size(recs[i].key_len,
                                           recs[i].metadata_len,
                                           recs[i].value_len);
    }

    j->buf = malloc(size);
    assert_non_null(j->buf);

    ttai_kvjournal_header(j->buf, 3, 1700000000000ULL);
    p = j->buf + TTAI_KVJOURNAL_HEADER_LEN;

    for (i = 0; i < n; i += batch) {
        run = p;

        for (k = i; k < n && k < i + batch; k++) {
            len = ttai_kvjournal_record_encode(p, &recs[k]);
            assert_int_equal(len,
                             ttai_kvjournal_record_size(recs[k].key_len,
                                                        recs[k].metadata_len,
                                                        recs[k].value_len));
            p += len;
            j->ends[k] = p - j->buf;
        }

        assert_int_equal(ttai_kvjournal_seal(run, p - run), 0);
    }

    j->len = p - j->buf;
    assert_int_equal(j->len, size);
}


static void
assert_record(const ttai_kvjournal_record_t *got,
    const ttai_kvjournal_record_t *want)
{
    assert_int_equal(got->op, want->op);
    assert_true(got->seq == want->seq);
    assert_int_equal(got->key_len, want->key_len);

    if (want->key_len) {
        assert_memory_equal(got->key, want->key, want->key_len);
    }

    assert_int_equal(got->metadata_len, want->metadata_len);

    if (want->metadata_len) {
        assert_memory_equal(got->metadata, want->metadata,
                            want->metadata_len);
    }

    assert_int_equal(got->value_len, want->value_len);

    if (want->value_len) {
        assert_memory_equal(got->value, want->value, want->value_len);
    }

    assert_true(got->expires == want->expires);
}


/* how many records a reader returns before it stops, and how it stops */
static size_t
read_all(const unsigned char *buf, size_t len, int *last,
    ttai_kvjournal_error_t *err)
{
    int                       rc;
    size_t                    n;
    ttai_kvjournal_error_t    again;
    ttai_kvjournal_record_t   rec;
    ttai_kvjournal_reader_t   rd;

    rc = ttai_kvjournal_open(&rd, buf, len, err);
    assert_int_equal(rc, 1);

    for (n = 0; (rc = ttai_kvjournal_next(&rd, &rec, err)) == 1; n++) {
        assert_record(&rec, &sample[n]);
    }

    *last = rc;

    /* once stopped, it stays stopped */
    assert_int_equal(ttai_kvjournal_next(&rd, &rec, &again), 0);

    return n;
}


static void
test_round_trip(void **state)
{
    int                      last;
    size_t                   batch;
    journal_t                j;
    ttai_kvjournal_error_t   err;
    ttai_kvjournal_reader_t  rd;

    for (batch = 1; batch <= NSAMPLE; batch++) {
        journal_build(&j, sample, NSAMPLE, batch);

        assert_int_equal(ttai_kvjournal_open(&rd, j.buf, j.len, &err), 1);
        assert_true(rd.generation == 3);
        assert_true(rd.created == 1700000000000ULL);

        assert_int_equal(read_all(j.buf, j.len, &last, &err), NSAMPLE);
        assert_int_equal(last, 0);
        assert_string_equal(err.msg, "");

        free(j.buf);
    }
}


/*
 * A write cut short anywhere: every record written whole before the cut
 * is read, and the rest is reported as a torn tail, never as a record.
 */
static void
test_torn_tail_is_ignored(void **state)
{
    int                      last;
    size_t                   len, whole, n;
    journal_t                j;
    ttai_kvjournal_error_t   err;

    journal_build(&j, sample, NSAMPLE, 2);

    for (len = TTAI_KVJOURNAL_HEADER_LEN; len <= j.len; len++) {
        for (whole = 0; whole < NSAMPLE && j.ends[whole] <= len; whole++) {
            /* void */
        }

        n = read_all(j.buf, len, &last, &err);
        assert_int_equal(n, whole);

        if (len == TTAI_KVJOURNAL_HEADER_LEN
            || (whole && len == j.ends[whole - 1]))
        {
            assert_int_equal(last, 0);

        } else {
            assert_int_equal(last, -1);
            assert_non_null(strstr(err.msg, "no whole record"));
        }
    }

    free(j.buf);
}


/* what a crash may leave after the last record: zeros, or garbage */
static void
test_garbage_after_the_records(void **state)
{
    int                      last;
    size_t                   i;
    journal_t                j;
    unsigned char           *buf;
    ttai_kvjournal_error_t   err;

    journal_build(&j, sample, NSAMPLE, NSAMPLE);

    buf = malloc(j.len + 4096);
    assert_non_null(buf);
    memcpy(buf, j.buf, j.len);

    memset(buf + j.len, 0, 4096);
    assert_int_equal(read_all(buf, j.len + 4096, &last, &err), NSAMPLE);
    assert_int_equal(last, -1);
    assert_non_null(strstr(err.msg, "unknown operation"));

    for (i = 0; i < 4096; i++) {
        buf[j.len + i] = (unsigned char) (i * 131 + 7);
    }

    assert_int_equal(read_all(buf, j.len + 4096, &last, &err), NSAMPLE);
    assert_int_equal(last, -1);

    /* a whole record header that looks right, with a body of garbage */
    memcpy(buf + j.len, j.buf + j.ends[0], TTAI_KVJOURNAL_RECORD_HEAD);
    assert_int_equal(read_all(buf, j.len + 4096, &last, &err), NSAMPLE);
    assert_int_equal(last, -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));

    free(buf);
    free(j.buf);
}


/*
 * A flipped bit in a record stops the reading there: that record and
 * those after it are not applied, the ones before are.
 */
static void
test_corrupt_record_stops_the_reading(void **state)
{
    int                      last;
    size_t                   i, k, whole;
    journal_t                j;
    ttai_kvjournal_error_t   err;

    journal_build(&j, sample, NSAMPLE, 3);

    for (i = TTAI_KVJOURNAL_HEADER_LEN; i < j.len; i++) {
        for (whole = 0; j.ends[whole] <= i; whole++) {
            /* void */
        }

        for (k = 0; k < 8; k++) {
            j.buf[i] ^= (unsigned char) (1 << k);
            assert_int_equal(read_all(j.buf, j.len, &last, &err), whole);
            assert_int_equal(last, -1);
            j.buf[i] ^= (unsigned char) (1 << k);
        }
    }

    assert_int_equal(read_all(j.buf, j.len, &last, &err), NSAMPLE);
    assert_int_equal(last, 0);

    free(j.buf);
}


static void
test_headers(void **state)
{
    journal_t                j;
    ttai_kvjournal_error_t   err;
    ttai_kvjournal_record_t  rec;
    ttai_kvjournal_reader_t  rd;

    static const char  json[] = "{\"keys\":[],\"more\":\"than 32 bytes\"}";

    journal_build(&j, sample, 1, 1);

    /* made, and stopped before its header was whole: nothing to read */
    assert_int_equal(ttai_kvjournal_open(&rd, j.buf, 0, &err), 0);
    assert_int_equal(ttai_kvjournal_open(&rd, j.buf, 5, &err), 0);
    assert_int_equal(ttai_kvjournal_open(&rd, j.buf,
                                         TTAI_KVJOURNAL_HEADER_LEN - 1, &err),
                     0);
    assert_int_equal(ttai_kvjournal_next(&rd, &rec, &err), 0);

    assert_int_equal(ttai_kvjournal_open(&rd, (const unsigned char *) json,
                                         sizeof(json) - 1, &err), -1);
    assert_non_null(strstr(err.msg, "not a ttai KV journal"));
    assert_int_equal(ttai_kvjournal_open(&rd, (const unsigned char *) json,
                                         4, &err), -1);

    j.buf[11] = 2;
    assert_int_equal(ttai_kvjournal_open(&rd, j.buf, j.len, &err), -1);
    assert_string_equal(err.msg, "journal format version 2 is not "
                        "supported (this build reads version 1)");

    j.buf[11] = 1;
    j.buf[15] = 1;
    assert_int_equal(ttai_kvjournal_open(&rd, j.buf, j.len, &err), -1);
    assert_non_null(strstr(err.msg, "flags"));

    free(j.buf);
}


static void
test_encode_refuses_bad_records(void **state)
{
    unsigned char            buf[256];
    ttai_kvjournal_record_t  rec;

    rec = sample[0];
    rec.key_len = 0;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.key_len = TTAI_KVJOURNAL_MAX_KEY + 1;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.metadata_len = TTAI_KVJOURNAL_MAX_METADATA + 1;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.op = 0;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.op = TTAI_KVJOURNAL_DELETE;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.op = TTAI_KVJOURNAL_CLEAR;
    assert_int_equal(ttai_kvjournal_record_encode(buf, &rec), 0);

    /* a run that is not whole records is not sealed */
    rec = sample[0];
    assert_true(ttai_kvjournal_record_encode(buf, &rec) > 0);
    assert_int_equal(ttai_kvjournal_seal(buf, 40), -1);
    assert_int_equal(ttai_kvjournal_seal(buf, 1), -1);
}


/* the layout is fixed: a reader in another language can rely on it */
static void
test_layout_is_big_endian(void **state)
{
    journal_t      j;
    unsigned char  hash[TTAI_KVJOURNAL_HASH_LEN];

    static const unsigned char  want[] = {
        'T', 'T', 'A', 'I', 'K', 'V', 'J', 'N',
        0, 0, 0, 1,   0, 0, 0, 0,   0, 0, 0, 0, 0, 0, 0, 3,
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0,
        1, 0,   0, 12,   0, 0,   0, 0,   0, 0, 0, 4,   0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 7,   0, 0, 0, 0, 0, 0, 0, 0,
        'c', 'o', 'n', 'f', 'i', 'g', ':', 't', 'h', 'e', 'm', 'e',
        'd', 'a', 'r', 'k'
    };

    journal_build(&j, sample, 1, 1);

    assert_int_equal(j.len, sizeof(want) + TTAI_KVJOURNAL_HASH_LEN);
    assert_memory_equal(j.buf, want, sizeof(want));

    /* the checksum is BLAKE2b-128 of the record's bytes before it */
    crypto_generichash(hash, sizeof(hash), want + TTAI_KVJOURNAL_HEADER_LEN,
                       sizeof(want) - TTAI_KVJOURNAL_HEADER_LEN, NULL, 0);
    assert_memory_equal(j.buf + sizeof(want), hash, sizeof(hash));

    free(j.buf);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_torn_tail_is_ignored),
        cmocka_unit_test(test_garbage_after_the_records),
        cmocka_unit_test(test_corrupt_record_stops_the_reading),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_encode_refuses_bad_records),
        cmocka_unit_test(test_layout_is_big_endian),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
