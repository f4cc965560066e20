
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_KVSNAP_H_INCLUDED_
#define _TTAI_KVSNAP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <sodium.h>


/*
 * The file a KV zone is saved to and restored from across restarts.
 * All integers are big-endian.
 *
 *   header   "TTAIKVSN", u32 version (2), u32 flags (0), u64 created (ms),
 *            u64 journal sequence number the snapshot starts from
 *   records  u16 key length, u16 metadata length, u32 value length,
 *            u64 expiry (epoch ms, 0: never), key, metadata, value
 *   trailer  "TTAIKEND", u64 record count, 16-byte BLAKE2b of every
 *            byte before it
 *
 * The trailer is written last, so a file cut short by a crash or a full
 * disk has no valid trailer and is refused as a whole: a restore never
 * brings back half an entry, or entries from a file that lies.
 *
 * A writer encodes records into memory with plain copies (the module does
 * that under the zone's lock) and hashes them later, outside it.
 *
 * The sequence number is that of the zone's journal when the copy began:
 * every change numbered up to it is in the file, and a start replays the
 * journal's later records over it.  Version 1 files, written before there
 * was a journal, have a 24-byte header without it and are read as
 * starting from 0.
 */

#define TTAI_KVSNAP_VERSION       2

#define TTAI_KVSNAP_HEADER_LEN    32
#define TTAI_KVSNAP_HEADER_LEN_V1 24
#define TTAI_KVSNAP_RECORD_HEAD   16
#define TTAI_KVSNAP_HASH_LEN      16
#define TTAI_KVSNAP_TRAILER_LEN   (16 + TTAI_KVSNAP_HASH_LEN)

#define TTAI_KVSNAP_MAX_KEY       0xffff
#define TTAI_KVSNAP_MAX_METADATA  0xffff
#define TTAI_KVSNAP_MAX_VALUE     0xffffffff

#define TTAI_KVSNAP_ERRLEN        160


typedef struct {
    const unsigned char       *key;
    size_t                     key_len;
    const unsigned char       *metadata;
    size_t                     metadata_len;
    const unsigned char       *value;
    size_t                     value_len;
    uint64_t                   expires;
} ttai_kvsnap_record_t;


typedef struct {
    crypto_generichash_state   hash;
    uint64_t                   count;
} ttai_kvsnap_writer_t;


typedef struct {
    const unsigned char       *pos;
    const unsigned char       *end;        /* where the trailer starts */
    uint64_t                   count;
    uint64_t                   created;
    uint64_t                   seq;
    uint32_t                   version;
} ttai_kvsnap_reader_t;


typedef struct {
    char                       msg[TTAI_KVSNAP_ERRLEN];
} ttai_kvsnap_error_t;


/* writing */

size_t ttai_kvsnap_record_size(size_t key_len, size_t metadata_len,
    size_t value_len);

/*
 * Encodes one record into out, which has room for ttai_kvsnap_record_size()
 * bytes; returns the bytes written, or 0 when a length is out of range.
 * Only copies: safe to run under a lock.
 */
size_t ttai_kvsnap_record_encode(unsigned char *out,
    const ttai_kvsnap_record_t *rec);

/* writes the TTAI_KVSNAP_HEADER_LEN header bytes and starts the checksum */
void ttai_kvsnap_writer_init(ttai_kvsnap_writer_t *w, unsigned char *header,
    uint64_t created, uint64_t seq);

/* hashes encoded records in file order; nrecords is how many buf holds */
void ttai_kvsnap_writer_add(ttai_kvsnap_writer_t *w, const unsigned char *buf,
    size_t len, uint64_t nrecords);

/* writes the TTAI_KVSNAP_TRAILER_LEN trailer bytes */
void ttai_kvsnap_writer_finish(ttai_kvsnap_writer_t *w,
    unsigned char *trailer);


/* reading */

/*
 * Checks a whole snapshot held in memory: header, version, trailer,
 * checksum and the layout of every record.  Returns 0, or -1 with a
 * message that says what is wrong, e.g. that the file is torn.
 */
int ttai_kvsnap_open(ttai_kvsnap_reader_t *rd, const unsigned char *buf,
    size_t len, ttai_kvsnap_error_t *err);

/* the next record of an opened snapshot: 1, or 0 at the end */
int ttai_kvsnap_next(ttai_kvsnap_reader_t *rd, ttai_kvsnap_record_t *rec);


#endif /* _TTAI_KVSNAP_H_INCLUDED_ */
