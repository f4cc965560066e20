-- Migration 0009: trading (README, "Trading safely").
--
-- A confirmation (a token preview_order gave, or a human's answer) is
-- used once: its nonce is the key, so a second use, or two calls racing
-- with one token, insert one row and the others fail, whatever process
-- they run in.  The client order id of the order it confirms goes with
-- it, so that a retry after a lost answer finds that order instead of
-- placing another.
--
-- Every attempt to trade is kept in order_audit, and kept as it was
-- written: the triggers refuse to change or delete a row.

CREATE TABLE order_confirmations (
    nonce        TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    used_at      INTEGER NOT NULL
);

CREATE TABLE order_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,       -- epoch ms
    user_id      TEXT NOT NULL,
    account      TEXT,
    tool         TEXT NOT NULL,          -- place_order, cancel_order, ...
    client_id    TEXT,
    request      TEXT NOT NULL,          -- the canonical order, as JSON
    preview      TEXT,                   -- the dry run, as JSON
    decision     TEXT NOT NULL,          -- sent, refused, declined, ...
    reason       TEXT,
    status       INTEGER,                -- TastyTrade's HTTP status
    response     TEXT,                   -- and its answer
    order_id     TEXT
);

CREATE INDEX order_audit_user ON order_audit (user_id, at);

CREATE TRIGGER order_audit_no_update BEFORE UPDATE ON order_audit
BEGIN
    SELECT RAISE(ABORT, 'the order audit is append-only');
END;

CREATE TRIGGER order_audit_no_delete BEFORE DELETE ON order_audit
BEGIN
    SELECT RAISE(ABORT, 'the order audit is append-only');
END;
