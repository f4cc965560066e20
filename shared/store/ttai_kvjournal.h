
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_KVJOURNAL_H_INCLUDED_
#define _TTAI_KVJOURNAL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * The write journal of a KV zone: the changes made since the last
 * snapshot, one file per writing process, appended to and synced before
 * a change is acknowledged.  A start loads the snapshot, then applies
 * the records of every journal file numbered after it, in number order.
 * All integers are big-endian.
 *
 *   header  "TTAIKVJN", u32 version (1), u32 flags (0), u64 generation,
 *           u64 created (ms)
 *   record  u8 op, u8 0, u16 key length, u16 metadata length, u16 0,
 *           u32 value length, u32 0, u64 sequence number, u64 expiry
 *           (epoch ms, 0: never), key, metadata, value, and a 16-byte
 *           BLAKE2b of every byte of the record before it
 *
 * A put carries a key, maybe metadata and a value; a delete a key only;
 * a clear nothing.  Each record has its own checksum, so that a reader
 * knows where the last whole record ends: a process killed in the middle
 * of a write leaves a torn tail, which is reported and ignored, and
 * nothing after it was acknowledged.
 *
 * The writer copies records into memory (the module does that on its
 * event loop), and seals them, hashing each, where it writes them (on a
 * thread), so that neither a lock nor the event loop waits for a hash.
 */

#define TTAI_KVJOURNAL_VERSION     1

#define TTAI_KVJOURNAL_HEADER_LEN  32
#define TTAI_KVJOURNAL_RECORD_HEAD 32
#define TTAI_KVJOURNAL_HASH_LEN    16

#define TTAI_KVJOURNAL_PUT         1
#define TTAI_KVJOURNAL_DELETE      2
#define TTAI_KVJOURNAL_CLEAR       3

#define TTAI_KVJOURNAL_MAX_KEY     0xffff
#define TTAI_KVJOURNAL_MAX_METADATA 0xffff
#define TTAI_KVJOURNAL_MAX_VALUE   0xffffffff

#define TTAI_KVJOURNAL_ERRLEN      160


typedef struct {
    unsigned                   op;
    uint64_t                   seq;
    const unsigned char       *key;
    size_t                     key_len;
    const unsigned char       *metadata;
    size_t                     metadata_len;
    const unsigned char       *value;
    size_t                     value_len;
    uint64_t                   expires;
} ttai_kvjournal_record_t;


typedef struct {
    const unsigned char       *start;
    const unsigned char       *pos;
    const unsigned char       *end;
    uint64_t                   generation;
    uint64_t                   created;
    uint64_t                   count;       /* records read so far */
} ttai_kvjournal_reader_t;


typedef struct {
    char                       msg[TTAI_KVJOURNAL_ERRLEN];
} ttai_kvjournal_error_t;


/* writing */

void ttai_kvjournal_header(unsigned char *out, uint64_t generation,
    uint64_t created);

size_t ttai_kvjournal_record_size(size_t key_len, size_t metadata_len,
    size_t value_len);

/*
 * Copies one record into out, which has room for
 * ttai_kvjournal_record_size() bytes, with its checksum left to
 * ttai_kvjournal_seal(); returns the bytes written, or 0 for a record
 * that cannot be written (an unknown op, a put or delete without a key,
 * a delete or clear with a value, a length out of range).
 */
size_t ttai_kvjournal_record_encode(unsigned char *out,
    const ttai_kvjournal_record_t *rec);

/*
 * Computes the checksum of every record in buf, a run of whole records
 * as ttai_kvjournal_record_encode() wrote them; returns 0, or -1 when
 * buf is not such a run (nothing is then trusted to be sealed).
 */
int ttai_kvjournal_seal(unsigned char *buf, size_t len);


/* reading */

/*
 * Checks the header of a journal file held in memory.  Returns 1 for a
 * journal whose records can be read, 0 for a file too short to have a
 * header (a process stopped right after making it: nothing in it was
 * acknowledged), or -1 with a message for a file that is not a journal
 * of a version this build reads.
 */
int ttai_kvjournal_open(ttai_kvjournal_reader_t *rd, const unsigned char *buf,
    size_t len, ttai_kvjournal_error_t *err);

/*
 * The next record: 1 with rec filled (pointing into the buffer), 0 at
 * the end of the file, or -1 when the rest of the file, from the offset
 * in rd->pos, is no whole record (torn or corrupt), with a message that
 * says which; it is then at its end.
 */
int ttai_kvjournal_next(ttai_kvjournal_reader_t *rd,
    ttai_kvjournal_record_t *rec, ttai_kvjournal_error_t *err);


#endif /* _TTAI_KVJOURNAL_H_INCLUDED_ */
