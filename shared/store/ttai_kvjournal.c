
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ttai_kvjournal.h"


static int ttai_kvjournal_layout(const unsigned char *p, size_t avail,
    size_t *size, const char **why);
static void ttai_kvjournal_hash(const unsigned char *rec, size_t len,
    unsigned char *out);
static void ttai_kvjournal_put16(unsigned char *p, uint16_t v);
static void ttai_kvjournal_put32(unsigned char *p, uint32_t v);
static void ttai_kvjournal_put64(unsigned char *p, uint64_t v);
static uint16_t ttai_kvjournal_get16(const unsigned char *p);
static uint32_t ttai_kvjournal_get32(const unsigned char *p);
static uint64_t ttai_kvjournal_get64(const unsigned char *p);
static int ttai_kvjournal_fail(ttai_kvjournal_error_t *err, const char *fmt,
    ...) __attribute__((format(printf, 2, 3)));


static const unsigned char  ttai_kvjournal_magic[8] = "TTAIKVJN";


void
ttai_kvjournal_header(unsigned char *out, uint64_t generation,
    uint64_t created)
{
    memcpy(out, ttai_kvjournal_magic, sizeof(ttai_kvjournal_magic));
    ttai_kvjournal_put32(out + 8, TTAI_KVJOURNAL_VERSION);
    ttai_kvjournal_put32(out + 12, 0);
    ttai_kvjournal_put64(out + 16, generation);
    ttai_kvjournal_put64(out + 24, created);
}


size_t
ttai_kvjournal_record_size(size_t key_len, size_t metadata_len,
    size_t value_len)
{
    return TTAI_KVJOURNAL_RECORD_HEAD + key_len + metadata_len + value_len
           + TTAI_KVJOURNAL_HASH_LEN;
}


size_t
ttai_kvjournal_record_encode(unsigned char *out,
    const ttai_kvjournal_record_t *rec)
{
    unsigned char  *p;

    switch (rec->op) {

    case TTAI_KVJOURNAL_PUT:
        if (rec->key_len == 0) {
            return 0;
        }
        break;

    case TTAI_KVJOURNAL_DELETE:
        if (rec->key_len == 0 || rec->metadata_len || rec->value_len) {
            return 0;
        }
        break;

    case TTAI_KVJOURNAL_CLEAR:
        if (rec->key_len || rec->metadata_len || rec->value_len) {
            return 0;
        }
        break;

    default:
        return 0;
    }

    if (rec->key_len > TTAI_KVJOURNAL_MAX_KEY
        || rec->metadata_len > TTAI_KVJOURNAL_MAX_METADATA
        || rec->value_len > TTAI_KVJOURNAL_MAX_VALUE)
    {
        return 0;
    }

    p = out;

    memset(p, 0, TTAI_KVJOURNAL_RECORD_HEAD);
    p[0] = (unsigned char) rec->op;
    ttai_kvjournal_put16(p + 2, (uint16_t) rec->key_len);
    ttai_kvjournal_put16(p + 4, (uint16_t) rec->metadata_len);
    ttai_kvjournal_put32(p + 8, (uint32_t) rec->value_len);
    ttai_kvjournal_put64(p + 16, rec->seq);
    ttai_kvjournal_put64(p + 24, rec->expires);
    p += TTAI_KVJOURNAL_RECORD_HEAD;

    if (rec->key_len) {
        memcpy(p, rec->key, rec->key_len);
        p += rec->key_len;
    }

    if (rec->metadata_len) {
        memcpy(p, rec->metadata, rec->metadata_len);
        p += rec->metadata_len;
    }

    if (rec->value_len) {
        memcpy(p, rec->value, rec->value_len);
        p += rec->value_len;
    }

    /* the checksum comes with ttai_kvjournal_seal() */
    memset(p, 0, TTAI_KVJOURNAL_HASH_LEN);
    p += TTAI_KVJOURNAL_HASH_LEN;

    return p - out;
}


int
ttai_kvjournal_seal(unsigned char *buf, size_t len)
{
    size_t          size;
    const char     *why;
    unsigned char  *p, *end;

    p = buf;
    end = buf + len;

    /* the layout first: a bad run must not be half sealed */
    while (p < end) {
        if (ttai_kvjournal_layout(p, end - p, &size, &why) != 0) {
            return -1;
        }

        p += size;
    }

    for (p = buf; p < end; p += size) {
        (void) ttai_kvjournal_layout(p, end - p, &size, &why);
        ttai_kvjournal_hash(p, size - TTAI_KVJOURNAL_HASH_LEN,
                            p + size - TTAI_KVJOURNAL_HASH_LEN);
    }

    return 0;
}


int
ttai_kvjournal_open(ttai_kvjournal_reader_t *rd, const unsigned char *buf,
    size_t len, ttai_kvjournal_error_t *err)
{
    uint32_t  version, flags;

    memset(rd, 0, sizeof(ttai_kvjournal_reader_t));
    err->msg[0] = '\0';

    if (len < TTAI_KVJOURNAL_HEADER_LEN) {
        if (memcmp(buf, ttai_kvjournal_magic,
                   len < sizeof(ttai_kvjournal_magic)
                   ? len : sizeof(ttai_kvjournal_magic))
            != 0)
        {
            return ttai_kvjournal_fail(err, "not a ttai KV journal (no "
                                       "\"TTAIKVJN\" header)");
        }

        return 0;
    }

    if (memcmp(buf, ttai_kvjournal_magic, sizeof(ttai_kvjournal_magic)) != 0)
    {
        return ttai_kvjournal_fail(err, "not a ttai KV journal (no "
                                   "\"TTAIKVJN\" header)");
    }

    version = ttai_kvjournal_get32(buf + 8);

    if (version != TTAI_KVJOURNAL_VERSION) {
        return ttai_kvjournal_fail(err, "journal format version %u is not "
                                   "supported (this build reads version "
                                   "%u)", (unsigned) version,
                                   TTAI_KVJOURNAL_VERSION);
    }

    flags = ttai_kvjournal_get32(buf + 12);

    if (flags != 0) {
        return ttai_kvjournal_fail(err, "unknown journal flags 0x%x",
                                   (unsigned) flags);
    }

    rd->generation = ttai_kvjournal_get64(buf + 16);
    rd->created = ttai_kvjournal_get64(buf + 24);

    rd->start = buf;
    rd->pos = buf + TTAI_KVJOURNAL_HEADER_LEN;
    rd->end = buf + len;

    return 1;
}


int
ttai_kvjournal_next(ttai_kvjournal_reader_t *rd, ttai_kvjournal_record_t *rec,
    ttai_kvjournal_error_t *err)
{
    size_t                size;
    const char           *why;
    const unsigned char  *p;
    unsigned char         hash[TTAI_KVJOURNAL_HASH_LEN];

    err->msg[0] = '\0';

    if (rd->pos == NULL || rd->pos >= rd->end) {
        return 0;
    }

    p = rd->pos;

    if (ttai_kvjournal_layout(p, rd->end - p, &size, &why) != 0) {
        ttai_kvjournal_fail(err, "%zu bytes from offset %zu are no whole "
                            "record (%s)", (size_t) (rd->end - p),
                            (size_t) (p - rd->start), why);
        goto tail;
    }

    ttai_kvjournal_hash(p, size - TTAI_KVJOURNAL_HASH_LEN, hash);

    if (sodium_memcmp(hash, p + size - TTAI_KVJOURNAL_HASH_LEN,
                      TTAI_KVJOURNAL_HASH_LEN)
        != 0)
    {
        ttai_kvjournal_fail(err, "%zu bytes from offset %zu are no whole "
                            "record (checksum mismatch)",
                            (size_t) (rd->end - p),
                            (size_t) (p - rd->start));
        goto tail;
    }

    rec->op = p[0];
    rec->key_len = ttai_kvjournal_get16(p + 2);
    rec->metadata_len = ttai_kvjournal_get16(p + 4);
    rec->value_len = ttai_kvjournal_get32(p + 8);
    rec->seq = ttai_kvjournal_get64(p + 16);
    rec->expires = ttai_kvjournal_get64(p + 24);

    rec->key = p + TTAI_KVJOURNAL_RECORD_HEAD;
    rec->metadata = rec->key + rec->key_len;
    rec->value = rec->metadata + rec->metadata_len;

    rd->pos = p + size;
    rd->count++;

    return 1;

tail:

    rd->pos = rd->end;

    return -1;
}


/*
 * Whether the bytes at p start a record whose fields make sense and
 * which ends within avail bytes: 0 with its whole size, or -1 with why.
 */

static int
ttai_kvjournal_layout(const unsigned char *p, size_t avail, size_t *size,
    const char **why)
{
    size_t  key_len, metadata_len, value_len;

    if (avail < TTAI_KVJOURNAL_RECORD_HEAD) {
        *why = "cut short in a record header";
        return -1;
    }

    key_len = ttai_kvjournal_get16(p + 2);
    metadata_len = ttai_kvjournal_get16(p + 4);
    value_len = ttai_kvjournal_get32(p + 8);

    if (p[1] != 0 || ttai_kvjournal_get16(p + 6) != 0
        || ttai_kvjournal_get32(p + 12) != 0)
    {
        *why = "reserved bytes are not zero";
        return -1;
    }

    switch (p[0]) {

    case TTAI_KVJOURNAL_PUT:
        if (key_len == 0) {
            *why = "a put without a key";
            return -1;
        }
        break;

    case TTAI_KVJOURNAL_DELETE:
        if (key_len == 0 || metadata_len || value_len) {
            *why = "a delete with other than a key";
            return -1;
        }
        break;

    case TTAI_KVJOURNAL_CLEAR:
        if (key_len || metadata_len || value_len) {
            *why = "a clear with a key or a value";
            return -1;
        }
        break;

    default:
        *why = "unknown operation";
        return -1;
    }

    /* in two steps: the sum of the lengths cannot overflow size_t here */
    if (avail - TTAI_KVJOURNAL_RECORD_HEAD < key_len + metadata_len
        || avail - TTAI_KVJOURNAL_RECORD_HEAD - key_len - metadata_len
           < value_len
        || avail - TTAI_KVJOURNAL_RECORD_HEAD - key_len - metadata_len
           - value_len < TTAI_KVJOURNAL_HASH_LEN)
    {
        *why = "cut short";
        return -1;
    }

    *size = ttai_kvjournal_record_size(key_len, metadata_len, value_len);

    return 0;
}


static void
ttai_kvjournal_hash(const unsigned char *rec, size_t len, unsigned char *out)
{
    crypto_generichash(out, TTAI_KVJOURNAL_HASH_LEN, rec, len, NULL, 0);
}


static void
ttai_kvjournal_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}


static void
ttai_kvjournal_put32(unsigned char *p, uint32_t v)
{
    ttai_kvjournal_put16(p, (uint16_t) (v >> 16));
    ttai_kvjournal_put16(p + 2, (uint16_t) v);
}


static void
ttai_kvjournal_put64(unsigned char *p, uint64_t v)
{
    ttai_kvjournal_put32(p, (uint32_t) (v >> 32));
    ttai_kvjournal_put32(p + 4, (uint32_t) v);
}


static uint16_t
ttai_kvjournal_get16(const unsigned char *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
ttai_kvjournal_get32(const unsigned char *p)
{
    return ((uint32_t) ttai_kvjournal_get16(p) << 16)
           | ttai_kvjournal_get16(p + 2);
}


static uint64_t
ttai_kvjournal_get64(const unsigned char *p)
{
    return ((uint64_t) ttai_kvjournal_get32(p) << 32)
           | ttai_kvjournal_get32(p + 4);
}


static int
ttai_kvjournal_fail(ttai_kvjournal_error_t *err, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);

    return -1;
}
