-- Migration 0010: a user's own permission to trade.
--
-- Trading needs a grant the user gave: through sign-in, the scope its
-- client asked for and the user ticked; for access tokens made by hand
-- (ttai token), this flag, which "ttai users trading enable|disable ID"
-- sets.  Off for everyone until then.

ALTER TABLE users ADD COLUMN trading INTEGER NOT NULL DEFAULT 0;
