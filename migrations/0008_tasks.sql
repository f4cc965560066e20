-- Migration 0008: MCP tasks (the io.modelcontextprotocol/tasks extension
-- of MCP 2026-07-28).
--
-- A tool call that a client lets become a task starts a workflow
-- instance, and the task is that instance seen by the user who asked:
-- its id is the instance's (32 random hex digits, which nobody can
-- guess), its status the instance's, its result the instance's output.
-- The row says whose it is, which tool, and the lifetimes it was given.

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY
                 REFERENCES workflow_instances (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    tool         TEXT NOT NULL,
    ttl_ms       INTEGER NOT NULL,
    poll_ms      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE INDEX tasks_user ON tasks (user_id, created_at);
