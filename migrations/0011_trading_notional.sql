-- Migration 0011: what each order was worth, for the day's limit.
--
-- The operator's limit on a user's orders of a day (ttai_trading_limits
-- max_day) adds up the notional, in USD, of the orders sent that day;
-- each audit row of a sent order carries it.  Rows of refusals carry
-- what the refused order would have been worth.

ALTER TABLE order_audit ADD COLUMN notional REAL;
