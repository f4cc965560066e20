-- Migration 0006: Workflows, durable multi-step jobs.
--
-- An instance runs when wake_at (epoch ms) has passed and no worker holds
-- its lease.  Each turn replays its workflow over the steps completed so
-- far (workflow_steps) and carries out what it asks next, writing each
-- step's result, in the turn's one transaction, before the next step
-- starts.  A step's key is its name within the instance; runs counts the
-- times a result was written for it, which the replay keeps at one.  A
-- step may sleep until a time, or wait for an event (workflow_events),
-- which any process may send.

CREATE TABLE workflow_instances (
    id           TEXT PRIMARY KEY,
    workflow     TEXT NOT NULL,
    status       TEXT NOT NULL,         -- queued, running, waiting,
                                        -- complete, errored, terminated
    params       TEXT NOT NULL,
    output       TEXT,
    error        TEXT,
    wake_at      INTEGER NOT NULL,
    waiting_for  TEXT,
    lease        TEXT,
    lease_until  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE INDEX workflow_instances_runnable
    ON workflow_instances (status, wake_at);

CREATE TABLE workflow_steps (
    instance_id  TEXT NOT NULL
                 REFERENCES workflow_instances (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    status       TEXT NOT NULL,         -- complete, sleeping, waiting,
                                        -- failed
    output       TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    runs         INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    until        INTEGER,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    PRIMARY KEY (instance_id, name)
);

CREATE TABLE workflow_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL
                 REFERENCES workflow_instances (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
