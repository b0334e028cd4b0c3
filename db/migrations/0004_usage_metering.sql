-- Usage metering: the signal outbox, period closes (what each close counted and billed), period
-- sums by subscription and time.

-- One row per ingest transaction (or wallet change) naming the subscriptions whose workflows are
-- owed a usage signal. Written in the same transaction as the events, deleted by the dispatcher
-- only after every named workflow was signaled: a crash between storing and signaling loses nothing.
create table usage_outbox (
  id bigint generated always as identity primary key,
  subscription_ids text[] not null,
  created_at timestamptz not null default now()
);

-- Dispatch generations, carried as the signal's throughSeq: strictly increasing across
-- dispatcher restarts, so a workflow re-reads its usage on every new dispatch.
create sequence usage_dispatch_seq;

-- One row per closed period of a subscription. The close locks the subscription row, so every
-- event with seq <= through_seq was committed when it read: events of earlier periods with a
-- higher seq are late usage, billed by the next close. `final` closes the subscription's usage
-- for good (its final request is issued): later events for it are refused, never stored unbilled.
create table usage_period_closes (
  subscription_id text not null,
  period_index integer not null,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  start_at timestamptz not null,
  end_at timestamptz not null,
  through_seq bigint not null,
  final boolean not null default false,
  -- the pools as billed (PeriodUsage plus terms), kept current as late usage consumes leftovers
  snapshot jsonb not null,
  closed_at timestamptz not null default now(),
  primary key (subscription_id, period_index)
);
create index usage_period_closes_client on usage_period_closes (client_id, start_at);

-- The name of the boolean property a value_count event counts.
alter table usage_events add column value_property text;

-- Period sums read events by subscription and time; nothing reads them by client and time.
create index usage_events_subscription_time on usage_events (subscription_id, occurred_at);
drop index usage_events_client_time;

-- The ingest path checks clients, agents and subscriptions once per batch and locks each
-- subscription row once per batch; per-row foreign-key triggers would repeat that work for every
-- event (three lookups and row locks each). Nothing deletes agencies, clients or subscriptions.
alter table usage_events drop constraint usage_events_agency_id_fkey;
alter table usage_events drop constraint usage_events_client_id_fkey;
alter table usage_events drop constraint usage_events_subscription_id_fkey;
