
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

#include "ttai_kvsnap.h"


/* a snapshot built in memory, as the module writes it in batches */
typedef struct {
    unsigned char         *buf;
    size_t                 len;
} snap_t;


static const ttai_kvsnap_record_t  sample[] = {
    { (const unsigned char *) "config:theme", 12, NULL, 0,
      (const unsigned char *) "dark", 4, 0 },
    { (const unsigned char *) "quote:AAPL", 10,
      (const unsigned char *) "{\"source\":\"tastytrade\"}", 23,
      (const unsigned char *) "{\"symbol\":\"AAPL\",\"price\":150.00}", 32,
      1767225600000ULL },
    { (const unsigned char *) "bin", 3, NULL, 0,
      (const unsigned char *) "a\0b\0\xff", 5, 0 },
    { (const unsigned char *) "empty", 5, NULL, 0,
      (const unsigned char *) "", 0, 42 },
};

#define NSAMPLE  (sizeof(sample) / sizeof(sample[0]))


static void
snap_build(snap_t *s, const ttai_kvsnap_record_t *recs, size_t n,
    size_t batch)
{
    size_t                 i, j, len, size, rn;
    unsigned char         *p, *b;
    ttai_kvsnap_writer_t   w;

    size = TTAI_KVSNAP_HEADER_LEN + TTAI_KVSNAP_TRAILER_LEN;

    for (i = 0; i < n; i++) {
        size += ttai_kvsnap_record_size(recs[i].key_len, recs[i].metadata_len,
                                        recs[i].value_len);
    }

    s->buf = malloc(size);
    assert_non_null(s->buf);

    ttai_kvsnap_writer_init(&w, s->buf, 1700000000000ULL, 4242);
    p = s->buf + TTAI_KVSNAP_HEADER_LEN;

    /* records are hashed batch by batch, as the module does */
    for (i = 0; i < n; i += batch) {
        b = p;
        rn = 0;

        for (j = i; j < n && j < i + batch; j++) {
            len = ttai_kvsnap_record_encode(p, &recs[j]);
            assert_int_equal(len,
                             ttai_kvsnap_record_size(recs[j].key_len,
                                                     recs[j].metadata_len,
                                                     recs[j].value_len));
            p += len;
            rn++;
        }

        ttai_kvsnap_writer_add(&w, b, p - b, rn);
    }

    ttai_kvsnap_writer_finish(&w, p);
    p += TTAI_KVSNAP_TRAILER_LEN;

    s->len = p - s->buf;
    assert_int_equal(s->len, size);
}


static void
assert_record(const ttai_kvsnap_record_t *got,
    const ttai_kvsnap_record_t *want)
{
    assert_int_equal(got->key_len, want->key_len);
    assert_memory_equal(got->key, want->key, want->key_len);
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


static void
test_round_trip(void **state)
{
    size_t                 i, batch;
    snap_t                 s;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_record_t   rec;
    ttai_kvsnap_reader_t   rd;

    for (batch = 1; batch <= NSAMPLE; batch++) {
        snap_build(&s, sample, NSAMPLE, batch);

        assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), 0);
        assert_string_equal(err.msg, "");
        assert_true(rd.count == NSAMPLE);
        assert_true(rd.created == 1700000000000ULL);
        assert_true(rd.seq == 4242);
        assert_int_equal(rd.version, TTAI_KVSNAP_VERSION);

        for (i = 0; i < NSAMPLE; i++) {
            assert_int_equal(ttai_kvsnap_next(&rd, &rec), 1);
            assert_record(&rec, &sample[i]);
        }

        assert_int_equal(ttai_kvsnap_next(&rd, &rec), 0);
        assert_int_equal(ttai_kvsnap_next(&rd, &rec), 0);

        free(s.buf);
    }
}


static void
test_empty_snapshot(void **state)
{
    snap_t                 s;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_record_t   rec;
    ttai_kvsnap_reader_t   rd;

    snap_build(&s, NULL, 0, 1);

    assert_int_equal(s.len, TTAI_KVSNAP_HEADER_LEN + TTAI_KVSNAP_TRAILER_LEN);
    assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), 0);
    assert_true(rd.count == 0);
    assert_int_equal(ttai_kvsnap_next(&rd, &rec), 0);

    free(s.buf);
}


/* a write cut short anywhere, even in the trailer, is refused */
static void
test_torn_file_is_refused(void **state)
{
    size_t                 len;
    snap_t                 s;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_reader_t   rd;

    snap_build(&s, sample, NSAMPLE, 2);

    for (len = 0; len < s.len; len++) {
        assert_int_equal(ttai_kvsnap_open(&rd, s.buf, len, &err), -1);
        assert_non_null(strstr(err.msg, "torn"));
        assert_int_equal(ttai_kvsnap_next(&rd, NULL), 0);
    }

    free(s.buf);
}


static void
test_flipped_bit_is_refused(void **state)
{
    size_t                 i;
    snap_t                 s;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_reader_t   rd;

    snap_build(&s, sample, NSAMPLE, NSAMPLE);

    /* past the magic and version, which have their own messages */
    for (i = 16; i < s.len; i++) {
        s.buf[i] ^= 0x01;
        assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), -1);
        s.buf[i] ^= 0x01;
    }

    assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), 0);

    s.buf[s.len - 1] ^= 0x80;
    assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), -1);
    assert_string_equal(err.msg,
                        "checksum mismatch: the file is torn or corrupt");

    free(s.buf);
}


static void
test_other_files_are_refused(void **state)
{
    snap_t                 s;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_reader_t   rd;
    static const char      json[] = "{\"keys\":[]}";

    assert_int_equal(ttai_kvsnap_open(&rd, (const unsigned char *) json,
                                      sizeof(json) - 1, &err), -1);
    assert_non_null(strstr(err.msg, "not a ttai KV snapshot"));

    snap_build(&s, sample, 1, 1);

    /* a future version is refused by name, not as corrupt */
    s.buf[11] = 3;
    assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), -1);
    assert_string_equal(err.msg, "snapshot format version 3 is not "
                        "supported (this build reads versions 1 to 2)");

    s.buf[11] = 2;
    s.buf[15] = 1;
    assert_int_equal(ttai_kvsnap_open(&rd, s.buf, s.len, &err), -1);
    assert_non_null(strstr(err.msg, "flags"));

    free(s.buf);
}


/* a well-hashed file whose records do not add up is still refused */
static void
test_bad_layout_is_refused(void **state)
{
    unsigned char          buf[256], *p;
    ttai_kvsnap_writer_t   w;
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_reader_t   rd;

    /* the count in the trailer says 2, one record follows */
    ttai_kvsnap_writer_init(&w, buf, 1, 0);
    p = buf + TTAI_KVSNAP_HEADER_LEN;
    p += ttai_kvsnap_record_encode(p, &sample[0]);
    ttai_kvsnap_writer_add(&w, buf + TTAI_KVSNAP_HEADER_LEN,
                           p - buf - TTAI_KVSNAP_HEADER_LEN, 2);
    ttai_kvsnap_writer_finish(&w, p);
    p += TTAI_KVSNAP_TRAILER_LEN;

    assert_int_equal(ttai_kvsnap_open(&rd, buf, p - buf, &err), -1);
    assert_string_equal(err.msg, "the file holds 1 records but its end "
                        "marker counts 2");

    /* a value length that runs past the records */
    ttai_kvsnap_writer_init(&w, buf, 1, 0);
    p = buf + TTAI_KVSNAP_HEADER_LEN;
    p += ttai_kvsnap_record_encode(p, &sample[0]);
    buf[TTAI_KVSNAP_HEADER_LEN + 7] = 200;
    ttai_kvsnap_writer_add(&w, buf + TTAI_KVSNAP_HEADER_LEN,
                           p - buf - TTAI_KVSNAP_HEADER_LEN, 1);
    ttai_kvsnap_writer_finish(&w, p);
    p += TTAI_KVSNAP_TRAILER_LEN;

    assert_int_equal(ttai_kvsnap_open(&rd, buf, p - buf, &err), -1);
    assert_string_equal(err.msg, "record 1 runs past the end of the records");

    /* a record header cut short */
    ttai_kvsnap_writer_init(&w, buf, 1, 0);
    p = buf + TTAI_KVSNAP_HEADER_LEN;
    memset(p, 0, 4);
    ttai_kvsnap_writer_add(&w, p, 4, 1);
    p += 4;
    ttai_kvsnap_writer_finish(&w, p);
    p += TTAI_KVSNAP_TRAILER_LEN;

    assert_int_equal(ttai_kvsnap_open(&rd, buf, p - buf, &err), -1);
    assert_string_equal(err.msg, "record 1 is cut short");

    /* an empty key */
    ttai_kvsnap_writer_init(&w, buf, 1, 0);
    p = buf + TTAI_KVSNAP_HEADER_LEN;
    memset(p, 0, TTAI_KVSNAP_RECORD_HEAD);
    ttai_kvsnap_writer_add(&w, p, TTAI_KVSNAP_RECORD_HEAD, 1);
    p += TTAI_KVSNAP_RECORD_HEAD;
    ttai_kvsnap_writer_finish(&w, p);
    p += TTAI_KVSNAP_TRAILER_LEN;

    assert_int_equal(ttai_kvsnap_open(&rd, buf, p - buf, &err), -1);
    assert_string_equal(err.msg, "record 1 has an empty key");
}


static void
test_encode_refuses_bad_lengths(void **state)
{
    unsigned char          buf[64];
    ttai_kvsnap_record_t   rec;

    rec = sample[0];
    rec.key_len = 0;
    assert_int_equal(ttai_kvsnap_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.key_len = TTAI_KVSNAP_MAX_KEY + 1;
    assert_int_equal(ttai_kvsnap_record_encode(buf, &rec), 0);

    rec = sample[0];
    rec.metadata_len = TTAI_KVSNAP_MAX_METADATA + 1;
    assert_int_equal(ttai_kvsnap_record_encode(buf, &rec), 0);
}


/* the layout is fixed: a reader in another language can rely on it */
static void
test_layout_is_big_endian(void **state)
{
    snap_t  s;

    static const unsigned char  want[] = {
        'T', 'T', 'A', 'I', 'K', 'V', 'S', 'N',
        0, 0, 0, 2,   0, 0, 0, 0,   0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0,
        0, 0, 0, 0, 0, 0, 0x10, 0x92,
        0, 12,   0, 0,   0, 0, 0, 4,   0, 0, 0, 0, 0, 0, 0, 0,
        'c', 'o', 'n', 'f', 'i', 'g', ':', 't', 'h', 'e', 'm', 'e',
        'd', 'a', 'r', 'k',
        'T', 'T', 'A', 'I', 'K', 'E', 'N', 'D',
        0, 0, 0, 0, 0, 0, 0, 1
    };

    snap_build(&s, sample, 1, 1);

    assert_int_equal(s.len, sizeof(want) + TTAI_KVSNAP_HASH_LEN);
    assert_memory_equal(s.buf, want, sizeof(want));

    free(s.buf);
}


/*
 * A file of version 1, written before the journal, has no sequence
 * number in its header: it is read, as starting from 0.
 */
static void
test_version_1_is_read(void **state)
{
    unsigned char          buf[128], *p;
    unsigned char          hash[TTAI_KVSNAP_HASH_LEN];
    ttai_kvsnap_error_t    err;
    ttai_kvsnap_record_t   rec;
    ttai_kvsnap_reader_t   rd;
    crypto_generichash_state  st;

    static const unsigned char  v1[] = {
        'T', 'T', 'A', 'I', 'K', 'V', 'S', 'N',
        0, 0, 0, 1,   0, 0, 0, 0,   0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0,
        0, 12,   0, 0,   0, 0, 0, 4,   0, 0, 0, 0, 0, 0, 0, 0,
        'c', 'o', 'n', 'f', 'i', 'g', ':', 't', 'h', 'e', 'm', 'e',
        'd', 'a', 'r', 'k',
        'T', 'T', 'A', 'I', 'K', 'E', 'N', 'D',
        0, 0, 0, 0, 0, 0, 0, 1
    };

    memcpy(buf, v1, sizeof(v1));
    p = buf + sizeof(v1);

    crypto_generichash_init(&st, NULL, 0, TTAI_KVSNAP_HASH_LEN);
    crypto_generichash_update(&st, buf, sizeof(v1));
    crypto_generichash_final(&st, hash, TTAI_KVSNAP_HASH_LEN);
    memcpy(p, hash, TTAI_KVSNAP_HASH_LEN);
    p += TTAI_KVSNAP_HASH_LEN;

    assert_int_equal(ttai_kvsnap_open(&rd, buf, p - buf, &err), 0);
    assert_int_equal(rd.version, 1);
    assert_true(rd.seq == 0);
    assert_true(rd.created == 1700000000000ULL);
    assert_true(rd.count == 1);

    assert_int_equal(ttai_kvsnap_next(&rd, &rec), 1);
    assert_record(&rec, &sample[0]);
    assert_int_equal(ttai_kvsnap_next(&rd, &rec), 0);

    /* cut inside its shorter header, it is torn all the same */
    assert_int_equal(ttai_kvsnap_open(&rd, buf, 20, &err), -1);
    assert_non_null(strstr(err.msg, "torn"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_snapshot),
        cmocka_unit_test(test_torn_file_is_refused),
        cmocka_unit_test(test_flipped_bit_is_refused),
        cmocka_unit_test(test_other_files_are_refused),
        cmocka_unit_test(test_bad_layout_is_refused),
        cmocka_unit_test(test_encode_refuses_bad_lengths),
        cmocka_unit_test(test_layout_is_big_endian),
        cmocka_unit_test(test_version_1_is_read),
    };

    if (sodium_init() < 0) {
        return 1;
    }

    return cmocka_run_group_tests_name("kvsnap", tests, NULL, NULL);
}
