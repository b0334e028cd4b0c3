-- A client's new per-minute rate owed to its running subscription's workflow (from the next
-- period). Written in the transaction that changes the client row; delivered as a workflow update
-- right after commit, or by the worker's sweeper when that failed (Temporal unreachable). One row
-- per subscription: the latest rate wins. `version` counts the rates queued, `delivered_version`
-- the latest one known to have reached the workflow: owed while version > delivered_version.
create table rate_change_outbox (
  subscription_id text primary key references subscriptions (id) on delete cascade,
  -- null: back to the plan's overage rate
  rate_minor_per_minute text,
  version bigint not null default 1,
  delivered_version bigint not null default 0,
  -- when last queued or claimed by a sweeper (a claim holds off other sweepers for a while)
  updated_at timestamptz not null default now()
);
create index rate_change_outbox_owed on rate_change_outbox (updated_at)
  where version > delivered_version;
