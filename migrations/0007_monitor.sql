-- Migration 0007: the PORTFOLIO_MONITOR, alert rules and what they fired.
--
-- A user with rules has a row in monitor_users; the worker that runs the
-- monitor claims the users whose next_at (epoch ms) has passed, for a
-- lease, evaluates their rules, and writes what it saw in one
-- transaction: the rules' states, the alerts that fired, the positions it
-- fetched, and the user's next_at.  A worker that dies in a pass leaves
-- its users to the next claim once their lease has passed.
--
-- alert_state is the hysteresis: one row per rule and subject (a symbol,
-- a position, an order) that has fired and not yet cleared; a rule fires
-- for a subject only while it has no row here.

CREATE TABLE alert_rules (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    params       TEXT NOT NULL,          -- JSON, checked by its kind
    note         TEXT,
    webhook      TEXT,                   -- a URL the operator allows
    created_at   INTEGER NOT NULL,
    evaluated_at INTEGER,
    last_value   REAL,
    last_error   TEXT
);

CREATE INDEX alert_rules_user ON alert_rules (user_id, created_at);

CREATE TABLE alert_state (
    rule_id      TEXT NOT NULL
                 REFERENCES alert_rules (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    fired_at     INTEGER NOT NULL,
    PRIMARY KEY (rule_id, subject)
) WITHOUT ROWID;

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    rule_id      TEXT NOT NULL,          -- kept when the rule is deleted
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    value        REAL,
    message      TEXT NOT NULL,
    fired_at     INTEGER NOT NULL,
    webhook      TEXT,
    webhook_status TEXT,                 -- pending, sent, failed
    webhook_attempts INTEGER NOT NULL DEFAULT 0,
    webhook_next INTEGER,
    webhook_lease TEXT
);

CREATE INDEX alerts_user ON alerts (user_id, id);
CREATE INDEX alerts_webhook ON alerts (webhook_status, webhook_next)
    WHERE webhook_status = 'pending';

CREATE TABLE monitor_users (
    user_id      TEXT PRIMARY KEY,
    next_at      INTEGER NOT NULL,
    lease        TEXT,
    passes       INTEGER NOT NULL DEFAULT 0,
    evaluated_at INTEGER,
    last_error   TEXT
);

CREATE INDEX monitor_users_due ON monitor_users (next_at);

-- The seed's positions table: one row per position and snapshot, kept
-- for the monitor's history period
CREATE TABLE positions (
    user_id      TEXT NOT NULL,
    account_number TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    snapshot_at  INTEGER NOT NULL,
    underlying   TEXT,
    instrument_type TEXT,
    quantity     REAL,
    average_open_price REAL,
    price        REAL,                   -- the quote at the snapshot
    close_price  REAL,
    multiplier   REAL,
    expires_at   TEXT,
    pnl          REAL,                   -- US dollars, since open
    pnl_percent  REAL,
    PRIMARY KEY (user_id, account_number, symbol, snapshot_at)
) WITHOUT ROWID;

CREATE INDEX positions_time ON positions (snapshot_at);
