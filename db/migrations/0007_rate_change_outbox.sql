-- A client's new per-minute rate owed to its running subscription's workflow (from the next
-- period). Written in the transaction that changes the client row; delivered as a workflow update
-- right after commit, or by the worker's sweeper when that failed (Temporal unreachable). One row
-- per subscription: the latest rate wins, and `version` tells a delivery whether it is still the
-- latest when it deletes the row.
create table rate_change_outbox (
  subscription_id text primary key references subscriptions (id),
  -- null: back to the plan's overage rate
  rate_minor_per_minute text,
  version bigint not null default 1,
  updated_at timestamptz not null default now()
);
