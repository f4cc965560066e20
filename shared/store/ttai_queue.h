
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_QUEUE_H_INCLUDED_
#define _TTAI_QUEUE_H_INCLUDED_


#include <jansson.h>


/*
 * Queues (the seed's Queues with a local consumer), durable in SQLite
 * (migrations/0005_queues.sql), without I/O: each function returns the
 * batch of statements ({"sql","params"} objects, ttai_d1_batch()'s
 * input) that does one step, and the shell runs it on its thread pool
 * or the CLI on the file.  Semantics are at-least-once: a claimed batch
 * not settled before its visibility timeout is delivered again; an ack
 * is recorded once per message, in the same transaction as the effects
 * its consumer asked for.
 */

#define TTAI_QUEUE_NAME_MAX      63
#define TTAI_QUEUE_BODY_MAX      (128 * 1024)
#define TTAI_QUEUE_BATCH_MAX     100
#define TTAI_QUEUE_BACKOFF_MAX   3600000       /* ms: an hour at most */


typedef struct {
    char         name[TTAI_QUEUE_NAME_MAX + 1];
    char         consumer[TTAI_QUEUE_NAME_MAX + 1];
    char         dead_letter[TTAI_QUEUE_NAME_MAX + 1];   /* "": none */
    unsigned     max_batch_size;         /* 10 */
    long         max_batch_timeout;      /* ms, 5000 */
    unsigned     max_retries;            /* 3 */
    long         retry_delay;            /* ms, the first retry's; 0 */
    long         visibility;             /* ms a batch may take: 30000 */
} ttai_queue_conf_t;


/*
 * What a consumer says of each message of its batch, by id: acked,
 * retried (after delay ms, or the queue's backoff when -1), or neither
 * (held: delivered again when its visibility timeout passes).  effects
 * are statements run with the acks, sends messages to enqueue then.
 */
typedef struct {
    json_t      *acks;       /* [id, ...] */
    json_t      *retries;    /* [{"id":N, "delay":ms}, ...] */
    json_t      *effects;    /* [{"sql","params"}, ...] */
    json_t      *sends;      /* [{"queue","body"}, ...] */
} ttai_queue_outcome_t;


/*
 * A consumer: messages is [{"id":N, "body":text, "attempts":N}, ...];
 * it fills out.  Returns 0, or -1 when out of memory (the batch is then
 * held, and delivered again).
 */
typedef int (*ttai_queue_consume_pt)(const ttai_queue_conf_t *q,
    json_t *messages, ttai_queue_outcome_t *out);

typedef struct {
    const char              *name;
    const char              *description;
    ttai_queue_consume_pt    consume;
} ttai_queue_consumer_t;


void ttai_queue_conf_default(ttai_queue_conf_t *q, const char *name);

/* [a-z0-9_-], 1 to 63 characters: 1, or 0 */
int ttai_queue_name_ok(const char *name);

/* the consumer named so, or NULL */
const ttai_queue_consumer_t *ttai_queue_consumer_find(const char *name);
const ttai_queue_consumer_t *ttai_queue_consumers(void);

/* the wait before retry n (1, 2, ...): retry_delay doubled each time */
long ttai_queue_backoff(const ttai_queue_conf_t *q, unsigned attempts);

/* a message, ready after delay ms; NULL when out of memory */
json_t *ttai_queue_send(const char *queue, const char *body,
    long long now_ms, long delay_ms);

/*
 * Claims a batch: at most max_batch_size ready messages, when that many
 * are ready or the oldest has waited max_batch_timeout (force: at once).
 * Its one result's rows are the batch, [id, body, attempts].
 */
json_t *ttai_queue_claim(const ttai_queue_conf_t *q, const char *lease,
    long long now_ms, int force);

/* the claim's result rows as a consumer's messages; NULL when none */
json_t *ttai_queue_messages(json_t *claim_results);

/*
 * Settles a claimed batch as the consumer said: the statements, with
 * the effects and sends, for one transaction; NULL when out of memory.
 */
json_t *ttai_queue_settle(const ttai_queue_conf_t *q, const char *lease,
    json_t *messages, const ttai_queue_outcome_t *out, long long now_ms);

void ttai_queue_outcome_init(ttai_queue_outcome_t *out);
void ttai_queue_outcome_free(ttai_queue_outcome_t *out);

/* per queue: ready, in flight, delayed, dead letters from it, acked */
json_t *ttai_queue_stats(long long now_ms);

/* the first n messages of a queue, as they are, for a person to read */
json_t *ttai_queue_peek(const char *queue, long n);

/* every message of a queue, in flight or not */
json_t *ttai_queue_purge(const char *queue);

/* the ack log's rows older than before_ms */
json_t *ttai_queue_trim(long long before_ms);


#endif /* _TTAI_QUEUE_H_INCLUDED_ */
