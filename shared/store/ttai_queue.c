
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_d1.h"
#include "ttai_queue.h"


/*
 * The statements of the queues.  A claim is one UPDATE ... RETURNING, so
 * that choosing the batch and taking it cannot be split by another
 * claimer; a settle checks the lease in every statement, so that a
 * delivery whose visibility timeout passed (and whose messages another
 * delivery took) changes nothing of them.  An ack inserts into
 * queue_acks only when its DELETE removed the row (changes() = 1): the
 * log's key makes a second ack of one message impossible.
 */


static int ttai_queue_echo(const ttai_queue_conf_t *q, json_t *messages,
    ttai_queue_outcome_t *out);


static const ttai_queue_consumer_t  ttai_queue_consumer_table[] = {

    { "echo", "Acks each message; a JSON body {\"hold\":N} is held, and "
      "{\"retry\":N} retried, for its first N deliveries (to see "
      "redelivery and dead letters)", ttai_queue_echo },

    { NULL, NULL, NULL }
};


void
ttai_queue_conf_default(ttai_queue_conf_t *q, const char *name)
{
    memset(q, 0, sizeof(ttai_queue_conf_t));

    snprintf(q->name, sizeof(q->name), "%s", name);
    snprintf(q->consumer, sizeof(q->consumer), "%s", name);

    q->max_batch_size = 10;
    q->max_batch_timeout = 5000;
    q->max_retries = 3;
    q->retry_delay = 0;
    q->visibility = 30000;
}


int
ttai_queue_name_ok(const char *name)
{
    size_t       n;
    const char  *p;

    n = strlen(name);

    if (n == 0 || n > TTAI_QUEUE_NAME_MAX) {
        return 0;
    }

    for (p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_'))
        {
            return 0;
        }
    }

    return 1;
}


const ttai_queue_consumer_t *
ttai_queue_consumer_find(const char *name)
{
    const ttai_queue_consumer_t  *c;

    for (c = ttai_queue_consumer_table; c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }

    return NULL;
}


const ttai_queue_consumer_t *
ttai_queue_consumers(void)
{
    return ttai_queue_consumer_table;
}


long
ttai_queue_backoff(const ttai_queue_conf_t *q, unsigned attempts)
{
    long      delay;
    unsigned  i;

    delay = q->retry_delay;

    for (i = 1; i < attempts && delay < TTAI_QUEUE_BACKOFF_MAX; i++) {
        delay *= 2;
    }

    return (delay > TTAI_QUEUE_BACKOFF_MAX) ? TTAI_QUEUE_BACKOFF_MAX : delay;
}


json_t *
ttai_queue_send(const char *queue, const char *body, long long now_ms,
    long delay_ms)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "INSERT INTO queue_messages (queue, body, visible_at, "
                   "created_at) VALUES (?, ?, ?, ?)",
                   json_pack("[s, s, I, I]", queue, body,
                             (json_int_t) (now_ms + delay_ms),
                             (json_int_t) now_ms)));
}


json_t *
ttai_queue_claim(const ttai_queue_conf_t *q, const char *lease,
    long long now_ms, int force)
{
    json_t  *batch;

    batch = json_array();

    /*
     * ?1 lease, ?2 now, ?3 visibility, ?4 queue, ?5 batch size, ?6 the
     * longest a ready message waits for a full batch (-1: no wait)
     */
    if (batch == NULL
        || ttai_d1_push(batch, ttai_d1_stmt(
               "UPDATE queue_messages SET lease = ?1, "
               "visible_at = ?2 + ?3, attempts = attempts + 1 "
               "WHERE id IN (SELECT id FROM queue_messages "
               "WHERE queue = ?4 AND visible_at <= ?2 "
               "ORDER BY visible_at, id LIMIT ?5) "
               "AND ((SELECT count(*) FROM (SELECT 1 FROM queue_messages "
               "WHERE queue = ?4 AND visible_at <= ?2 LIMIT ?5)) >= ?5 "
               "OR (SELECT min(visible_at) FROM queue_messages "
               "WHERE queue = ?4 AND visible_at <= ?2) <= ?2 - ?6) "
               "RETURNING id, body, attempts",
               json_pack("[s, I, I, s, I, I]", lease, (json_int_t) now_ms,
                         (json_int_t) q->visibility, q->name,
                         (json_int_t) q->max_batch_size,
                         (json_int_t) (force ? -1 : q->max_batch_timeout))))
           != 0)
    {
        json_decref(batch);
        return NULL;
    }

    return batch;
}


json_t *
ttai_queue_messages(json_t *claim_results)
{
    size_t   i;
    json_t  *rows, *row, *list;

    rows = json_object_get(json_array_get(claim_results, 0), "results");

    if (json_array_size(rows) == 0) {
        return NULL;
    }

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    json_array_foreach(rows, i, row) {
        if (json_array_append_new(list, json_pack("{s:O, s:O, s:O}",
                                      "id", json_object_get(row, "id"),
                                      "body", json_object_get(row, "body"),
                                      "attempts",
                                      json_object_get(row, "attempts")))
            != 0)
        {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


void
ttai_queue_outcome_init(ttai_queue_outcome_t *out)
{
    out->acks = json_array();
    out->retries = json_array();
    out->effects = json_array();
    out->sends = json_array();
}


void
ttai_queue_outcome_free(ttai_queue_outcome_t *out)
{
    json_decref(out->acks);
    json_decref(out->retries);
    json_decref(out->effects);
    json_decref(out->sends);

    memset(out, 0, sizeof(ttai_queue_outcome_t));
}


/* the message of the batch with that id, or NULL: not the batch's */

static json_t *
ttai_queue_find(json_t *messages, json_int_t id)
{
    size_t   i;
    json_t  *m;

    json_array_foreach(messages, i, m) {
        if (json_integer_value(json_object_get(m, "id")) == id) {
            return m;
        }
    }

    return NULL;
}


json_t *
ttai_queue_settle(const ttai_queue_conf_t *q, const char *lease,
    json_t *messages, const ttai_queue_outcome_t *out, long long now_ms)
{
    size_t       i;
    json_t      *batch, *v, *m, *st;
    json_int_t   id, attempts;
    long         delay;
    const char  *queue;

    batch = json_array();
    if (batch == NULL) {
        return NULL;
    }

    json_array_foreach(out->acks, i, v) {
        id = json_integer_value(v);
        m = ttai_queue_find(messages, id);

        if (m == NULL) {
            continue;
        }

        attempts = json_integer_value(json_object_get(m, "attempts"));

        if (ttai_d1_push(batch, ttai_d1_stmt(
                "DELETE FROM queue_messages WHERE id = ? AND lease = ?",
                json_pack("[I, s]", id, lease))) != 0
            || ttai_d1_push(batch, ttai_d1_stmt(
                "INSERT INTO queue_acks (message_id, queue, attempts, "
                "outcome, at) SELECT ?, ?, ?, 'acked', ? "
                "WHERE changes() = 1",
                json_pack("[I, s, I, I]", id, q->name, attempts,
                          (json_int_t) now_ms))) != 0)
        {
            goto nomem;
        }
    }

    json_array_foreach(out->retries, i, v) {
        id = json_integer_value(json_object_get(v, "id"));
        m = ttai_queue_find(messages, id);

        if (m == NULL) {
            continue;
        }

        attempts = json_integer_value(json_object_get(m, "attempts"));

        if ((unsigned) attempts <= q->max_retries) {
            delay = json_integer_value(json_object_get(v, "delay"));

            if (!json_is_integer(json_object_get(v, "delay")) || delay < 0) {
                delay = ttai_queue_backoff(q, (unsigned) attempts);
            }

            st = ttai_d1_stmt(
                     "UPDATE queue_messages SET lease = NULL, "
                     "visible_at = ? WHERE id = ? AND lease = ?",
                     json_pack("[I, I, s]", (json_int_t) (now_ms + delay),
                               id, lease));

        } else if (q->dead_letter[0] != '\0') {
            /* its retries are used: to the dead-letter queue, afresh */
            st = ttai_d1_stmt(
                     "UPDATE queue_messages SET queue = ?, dead_from = ?, "
                     "attempts = 0, lease = NULL, visible_at = ? "
                     "WHERE id = ? AND lease = ?",
                     json_pack("[s, s, I, I, s]", q->dead_letter, q->name,
                               (json_int_t) now_ms, id, lease));

        } else {
            if (ttai_d1_push(batch, ttai_d1_stmt(
                    "DELETE FROM queue_messages WHERE id = ? AND lease = ?",
                    json_pack("[I, s]", id, lease))) != 0)
            {
                goto nomem;
            }

            st = ttai_d1_stmt(
                     "INSERT INTO queue_acks (message_id, queue, attempts, "
                     "outcome, at) SELECT ?, ?, ?, 'dropped', ? "
                     "WHERE changes() = 1",
                     json_pack("[I, s, I, I]", id, q->name, attempts,
                               (json_int_t) now_ms));
        }

        if (ttai_d1_push(batch, st) != 0) {
            goto nomem;
        }
    }

    json_array_foreach(out->effects, i, v) {
        if (json_array_append(batch, v) != 0) {
            goto nomem;
        }
    }

    json_array_foreach(out->sends, i, v) {
        queue = json_string_value(json_object_get(v, "queue"));

        if (queue == NULL || !ttai_queue_name_ok(queue)
            || !json_is_string(json_object_get(v, "body")))
        {
            continue;
        }

        if (ttai_d1_push(batch, ttai_d1_stmt(
                "INSERT INTO queue_messages (queue, body, visible_at, "
                "created_at) VALUES (?, ?, ?, ?)",
                json_pack("[s, O, I, I]", queue, json_object_get(v, "body"),
                          (json_int_t) now_ms, (json_int_t) now_ms)))
            != 0)
        {
            goto nomem;
        }
    }

    return batch;

nomem:

    json_decref(batch);
    return NULL;
}


json_t *
ttai_queue_stats(long long now_ms)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT queue, "
                   "sum(lease IS NULL AND visible_at <= ?1) AS ready, "
                   "sum(lease IS NOT NULL AND visible_at > ?1) AS in_flight, "
                   "sum(lease IS NULL AND visible_at > ?1) AS delayed, "
                   "sum(lease IS NOT NULL AND visible_at <= ?1) AS expired, "
                   "sum(dead_from IS NOT NULL) AS dead_letters "
                   "FROM queue_messages GROUP BY queue ORDER BY queue",
                   json_pack("[I]", (json_int_t) now_ms)),
               ttai_d1_stmt(
                   "SELECT queue, sum(outcome = 'acked') AS acked, "
                   "sum(outcome = 'dropped') AS dropped FROM queue_acks "
                   "GROUP BY queue ORDER BY queue", json_array()));
}


json_t *
ttai_queue_peek(const char *queue, long n)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "SELECT id, body, attempts, visible_at, "
                   "lease IS NOT NULL AS in_flight, created_at, dead_from "
                   "FROM queue_messages WHERE queue = ? "
                   "ORDER BY visible_at, id LIMIT ?",
                   json_pack("[s, I]", queue, (json_int_t) n)));
}


json_t *
ttai_queue_purge(const char *queue)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "DELETE FROM queue_messages WHERE queue = ?",
                   json_pack("[s]", queue)));
}


json_t *
ttai_queue_trim(long long before_ms)
{
    return ttai_d1_batch_of(1,
               ttai_d1_stmt(
                   "DELETE FROM queue_acks WHERE at < ?",
                   json_pack("[I]", (json_int_t) before_ms)));
}


/*
 * The development consumer: acks, except that a body {"hold":N} is held
 * and {"retry":N} retried while the message has had at most N
 * deliveries
 */

static int
ttai_queue_echo(const ttai_queue_conf_t *q, json_t *messages,
    ttai_queue_outcome_t *out)
{
    size_t       i;
    json_t      *m, *body, *id;
    json_int_t   attempts;

    json_array_foreach(messages, i, m) {
        id = json_object_get(m, "id");
        attempts = json_integer_value(json_object_get(m, "attempts"));
        body = json_loads(json_string_value(json_object_get(m, "body")), 0,
                          NULL);

        if (attempts <= json_integer_value(json_object_get(body, "hold"))) {
            json_decref(body);
            continue;
        }

        if (attempts <= json_integer_value(json_object_get(body, "retry"))) {
            json_decref(body);

            if (json_array_append_new(out->retries,
                                      json_pack("{s:O, s:i}", "id", id,
                                                "delay", -1))
                != 0)
            {
                return -1;
            }

            continue;
        }

        json_decref(body);

        if (json_array_append(out->acks, id) != 0) {
            return -1;
        }
    }

    return 0;
}
