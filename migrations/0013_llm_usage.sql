-- Migration 0013: what each call to an LLM provider cost.
--
-- A row a call (issue 16's agents): who, which provider and model, the
-- tokens in and out, how long it took, and how it ended (ok, or the
-- error's class).  A user's budget (requests and tokens a day) is the
-- sum of the day's rows; "ttai llm usage" shows them.

CREATE TABLE llm_usage (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,       -- epoch ms
    user_id        TEXT NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    latency_ms     INTEGER NOT NULL DEFAULT 0,
    outcome        TEXT NOT NULL           -- ok, overloaded, rate_limited, ...
);

CREATE INDEX llm_usage_user ON llm_usage (user_id, at);
