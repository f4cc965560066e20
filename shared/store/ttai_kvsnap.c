
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ttai_kvsnap.h"


static void ttai_kvsnap_put16(unsigned char *p, uint16_t v);
static void ttai_kvsnap_put32(unsigned char *p, uint32_t v);
static void ttai_kvsnap_put64(unsigned char *p, uint64_t v);
static uint16_t ttai_kvsnap_get16(const unsigned char *p);
static uint32_t ttai_kvsnap_get32(const unsigned char *p);
static uint64_t ttai_kvsnap_get64(const unsigned char *p);
static int ttai_kvsnap_fail(ttai_kvsnap_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static const unsigned char  ttai_kvsnap_magic[8] = "TTAIKVSN";
static const unsigned char  ttai_kvsnap_end[8] = "TTAIKEND";


size_t
ttai_kvsnap_record_size(size_t key_len, size_t metadata_len,
    size_t value_len)
{
    return TTAI_KVSNAP_RECORD_HEAD + key_len + metadata_len + value_len;
}


size_t
ttai_kvsnap_record_encode(unsigned char *out, const ttai_kvsnap_record_t *rec)
{
    unsigned char  *p;

    if (rec->key_len == 0
        || rec->key_len > TTAI_KVSNAP_MAX_KEY
        || rec->metadata_len > TTAI_KVSNAP_MAX_METADATA
        || rec->value_len > TTAI_KVSNAP_MAX_VALUE)
    {
        return 0;
    }

    p = out;

    ttai_kvsnap_put16(p, (uint16_t) rec->key_len);
    ttai_kvsnap_put16(p + 2, (uint16_t) rec->metadata_len);
    ttai_kvsnap_put32(p + 4, (uint32_t) rec->value_len);
    ttai_kvsnap_put64(p + 8, rec->expires);
    p += TTAI_KVSNAP_RECORD_HEAD;

    memcpy(p, rec->key, rec->key_len);
    p += rec->key_len;

    if (rec->metadata_len) {
        memcpy(p, rec->metadata, rec->metadata_len);
        p += rec->metadata_len;
    }

    if (rec->value_len) {
        memcpy(p, rec->value, rec->value_len);
        p += rec->value_len;
    }

    return p - out;
}


void
ttai_kvsnap_writer_init(ttai_kvsnap_writer_t *w, unsigned char *header,
    uint64_t created, uint64_t seq)
{
    memcpy(header, ttai_kvsnap_magic, sizeof(ttai_kvsnap_magic));
    ttai_kvsnap_put32(header + 8, TTAI_KVSNAP_VERSION);
    ttai_kvsnap_put32(header + 12, 0);
    ttai_kvsnap_put64(header + 16, created);
    ttai_kvsnap_put64(header + 24, seq);

    crypto_generichash_init(&w->hash, NULL, 0, TTAI_KVSNAP_HASH_LEN);
    crypto_generichash_update(&w->hash, header, TTAI_KVSNAP_HEADER_LEN);

    w->count = 0;
}


void
ttai_kvsnap_writer_add(ttai_kvsnap_writer_t *w, const unsigned char *buf,
    size_t len, uint64_t nrecords)
{
    crypto_generichash_update(&w->hash, buf, len);
    w->count += nrecords;
}


void
ttai_kvsnap_writer_finish(ttai_kvsnap_writer_t *w, unsigned char *trailer)
{
    memcpy(trailer, ttai_kvsnap_end, sizeof(ttai_kvsnap_end));
    ttai_kvsnap_put64(trailer + 8, w->count);

    crypto_generichash_update(&w->hash, trailer, 16);
    crypto_generichash_final(&w->hash, trailer + 16, TTAI_KVSNAP_HASH_LEN);
}


int
ttai_kvsnap_open(ttai_kvsnap_reader_t *rd, const unsigned char *buf,
    size_t len, ttai_kvsnap_error_t *err)
{
    size_t                    need, header;
    uint32_t                  flags;
    uint64_t                  n;
    const unsigned char      *p, *end, *trailer;
    unsigned char             hash[TTAI_KVSNAP_HASH_LEN];
    crypto_generichash_state  st;

    memset(rd, 0, sizeof(ttai_kvsnap_reader_t));
    err->msg[0] = '\0';

    if (len < sizeof(ttai_kvsnap_magic)) {
        if (memcmp(buf, ttai_kvsnap_magic, len) == 0) {
            return ttai_kvsnap_fail(err, "the file is torn: it ends after "
                                    "%zu bytes, inside its header", len);
        }

        return ttai_kvsnap_fail(err, "not a ttai KV snapshot (no "
                                "\"TTAIKVSN\" header)");
    }

    if (memcmp(buf, ttai_kvsnap_magic, sizeof(ttai_kvsnap_magic)) != 0) {
        return ttai_kvsnap_fail(err, "not a ttai KV snapshot (no "
                                "\"TTAIKVSN\" header)");
    }

    if (len < 12) {
        return ttai_kvsnap_fail(err, "the file is torn: it ends after %zu "
                                "bytes, inside its header", len);
    }

    rd->version = ttai_kvsnap_get32(buf + 8);

    if (rd->version != 1 && rd->version != TTAI_KVSNAP_VERSION) {
        return ttai_kvsnap_fail(err, "snapshot format version %u is not "
                                "supported (this build reads versions 1 "
                                "to %u)",
                                (unsigned) rd->version, TTAI_KVSNAP_VERSION);
    }

    header = (rd->version == 1) ? TTAI_KVSNAP_HEADER_LEN_V1
                                : TTAI_KVSNAP_HEADER_LEN;

    if (len < header) {
        return ttai_kvsnap_fail(err, "the file is torn: it ends after %zu "
                                "bytes, inside its header", len);
    }

    flags = ttai_kvsnap_get32(buf + 12);

    if (flags != 0) {
        return ttai_kvsnap_fail(err, "unknown snapshot flags 0x%x",
                                (unsigned) flags);
    }

    rd->created = ttai_kvsnap_get64(buf + 16);
    rd->seq = (rd->version == 1) ? 0 : ttai_kvsnap_get64(buf + 24);

    if (len < header + TTAI_KVSNAP_TRAILER_LEN) {
        return ttai_kvsnap_fail(err, "the file is torn: it ends after %zu "
                                "bytes, before its end marker", len);
    }

    trailer = buf + len - TTAI_KVSNAP_TRAILER_LEN;

    if (memcmp(trailer, ttai_kvsnap_end, sizeof(ttai_kvsnap_end)) != 0) {
        return ttai_kvsnap_fail(err, "the file is torn: its end marker is "
                                "missing (%zu bytes)", len);
    }

    crypto_generichash_init(&st, NULL, 0, TTAI_KVSNAP_HASH_LEN);
    crypto_generichash_update(&st, buf, len - TTAI_KVSNAP_HASH_LEN);
    crypto_generichash_final(&st, hash, TTAI_KVSNAP_HASH_LEN);

    if (sodium_memcmp(hash, trailer + 16, TTAI_KVSNAP_HASH_LEN) != 0) {
        return ttai_kvsnap_fail(err, "checksum mismatch: the file is torn "
                                "or corrupt");
    }

    rd->count = ttai_kvsnap_get64(trailer + 8);

    /* the checksum only proves the writer wrote it; check the layout too */

    p = buf + header;
    end = trailer;

    for (n = 0; p < end; n++) {
        if ((size_t) (end - p) < TTAI_KVSNAP_RECORD_HEAD) {
            return ttai_kvsnap_fail(err, "record %llu is cut short",
                                    (unsigned long long) n + 1);
        }

        need = ttai_kvsnap_record_size(ttai_kvsnap_get16(p),
                                       ttai_kvsnap_get16(p + 2),
                                       ttai_kvsnap_get32(p + 4));

        if (ttai_kvsnap_get16(p) == 0) {
            return ttai_kvsnap_fail(err, "record %llu has an empty key",
                                    (unsigned long long) n + 1);
        }

        if ((size_t) (end - p) < need) {
            return ttai_kvsnap_fail(err, "record %llu runs past the end of "
                                    "the records", (unsigned long long) n + 1);
        }

        p += need;
    }

    if (n != rd->count) {
        return ttai_kvsnap_fail(err, "the file holds %llu records but its "
                                "end marker counts %llu",
                                (unsigned long long) n,
                                (unsigned long long) rd->count);
    }

    rd->pos = buf + header;
    rd->end = end;

    return 0;
}


int
ttai_kvsnap_next(ttai_kvsnap_reader_t *rd, ttai_kvsnap_record_t *rec)
{
    const unsigned char  *p;

    /* ttai_kvsnap_open() has checked every length */

    if (rd->pos == NULL || rd->pos >= rd->end) {
        return 0;
    }

    p = rd->pos;

    rec->key_len = ttai_kvsnap_get16(p);
    rec->metadata_len = ttai_kvsnap_get16(p + 2);
    rec->value_len = ttai_kvsnap_get32(p + 4);
    rec->expires = ttai_kvsnap_get64(p + 8);
    p += TTAI_KVSNAP_RECORD_HEAD;

    rec->key = p;
    p += rec->key_len;

    rec->metadata = p;
    p += rec->metadata_len;

    rec->value = p;
    p += rec->value_len;

    rd->pos = p;

    return 1;
}


static void
ttai_kvsnap_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}


static void
ttai_kvsnap_put32(unsigned char *p, uint32_t v)
{
    ttai_kvsnap_put16(p, (uint16_t) (v >> 16));
    ttai_kvsnap_put16(p + 2, (uint16_t) v);
}


static void
ttai_kvsnap_put64(unsigned char *p, uint64_t v)
{
    ttai_kvsnap_put32(p, (uint32_t) (v >> 32));
    ttai_kvsnap_put32(p + 4, (uint32_t) v);
}


static uint16_t
ttai_kvsnap_get16(const unsigned char *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
ttai_kvsnap_get32(const unsigned char *p)
{
    return ((uint32_t) ttai_kvsnap_get16(p) << 16) | ttai_kvsnap_get16(p + 2);
}


static uint64_t
ttai_kvsnap_get64(const unsigned char *p)
{
    return ((uint64_t) ttai_kvsnap_get32(p) << 32) | ttai_kvsnap_get32(p + 4);
}


static int
ttai_kvsnap_fail(ttai_kvsnap_error_t *err, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);

    return -1;
}
