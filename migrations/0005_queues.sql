-- Migration 0005: Queues, the seed's local consumer with batches and
-- acks, durable here in SQLite.
--
-- A message is ready when visible_at (epoch ms) has passed.  Delivering
-- it claims it: a lease token, one more attempt, and visible_at moved to
-- the end of the visibility timeout, so that a message whose consumer
-- never acks it (its worker died) is ready again then.  An ack deletes
-- it and records it in queue_acks, in the same transaction as whatever
-- the consumer's batch writes; the ack log's key is the message id, so a
-- message can never be acked twice.  A message that used its retries
-- moves to the dead-letter queue (dead_from names where it was), or is
-- dropped and logged when its queue has none.

CREATE TABLE queue_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT NOT NULL,
    body        TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    visible_at  INTEGER NOT NULL,
    lease       TEXT,
    created_at  INTEGER NOT NULL,
    dead_from   TEXT
);

CREATE INDEX queue_messages_ready ON queue_messages (queue, visible_at, id);

CREATE TABLE queue_acks (
    message_id  INTEGER PRIMARY KEY,
    queue       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,          -- 'acked' or 'dropped'
    at          INTEGER NOT NULL
);

CREATE INDEX queue_acks_at ON queue_acks (at);
