-- Stripe Connect: each agency's connected account and its status, and every Connect webhook
-- event received (stored once by its id, so a replay does nothing).
--
-- The account lives in its own table, not in columns on agencies: its status is Stripe's, kept
-- current by webhook events with their own ordering watermark, on a write path apart from the
-- agency's settings; events are routed by account id, which wants its own unique index; and an
-- agency without Stripe has no row at all. agencies.stripe_account_id (from 0001, shown by
-- GET /v1/agency) mirrors the account in use: set with the row, cleared when Stripe reports the
-- platform deauthorized, in the same transaction.

create table agency_stripe_accounts (
  agency_id text primary key references agencies (id),
  account_id text not null unique,
  account_type text not null check (account_type in ('standard', 'express')),
  -- 1 for the agency's first account, +1 for each account created after a deauthorization; part
  -- of the creation's idempotency key, so a reconnect gets a new account and a retry the same.
  generation integer not null default 1 check (generation >= 1),
  charges_enabled boolean not null default false,
  payouts_enabled boolean not null default false,
  details_submitted boolean not null default false,
  -- requirements.currently_due and requirements.disabled_reason of the account
  requirements_due text[] not null default '{}',
  disabled_reason text,
  -- `created` of the account.updated event applied last: an older event never overwrites it
  status_event_created timestamptz,
  disconnected_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table stripe_events (
  id text primary key,
  -- the connected account the event is about (Connect events carry it)
  account text,
  type text not null,
  created timestamptz not null,
  received_at timestamptz not null default now(),
  -- set when a handler ran; null: stored only (no handler for the type, or no agency for the account)
  processed_at timestamptz,
  agency_id text references agencies (id)
);
create index stripe_events_agency on stripe_events (agency_id, created) where agency_id is not null;
