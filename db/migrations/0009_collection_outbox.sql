-- Every issued payment request (cycle, final, pack, one-time) owed to its collector: the manual
-- collector today (the agency collects by hand), a Stripe collector later (an invoice on the
-- agency's connected account). One row per request, written in the statement that inserts the
-- request, so a crash can neither lose a request's presentation nor present it twice. The
-- collection presenter claims due rows with a lease, calls the collector outside any
-- transaction and records what it answered.
create table collection_outbox (
  request_id text primary key references payment_requests (id),
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  -- the client's billing mode when the request was issued; the collector is resolved from it when
  -- presenting (a stripe-mode request is presented by the manual collector until a Stripe one exists)
  billing_mode text not null check (billing_mode in ('stripe', 'manual', 'track_only')),
  -- skipped: the request was already paid or canceled when its turn came (nothing to collect)
  status text not null default 'pending'
    check (status in ('pending', 'presented', 'skipped', 'failed_permanently')),
  -- claims so far: each claim counts one and leases the row until next_attempt_at
  attempts integer not null default 0,
  last_error text,
  next_attempt_at timestamptz not null default now(),
  -- the collector that presented it and what it answered (e.g. an invoice id and its hosted page)
  collector text,
  external_id text,
  hosted_url text,
  created_at timestamptz not null default now(),
  presented_at timestamptz
);
create index collection_outbox_due on collection_outbox (next_attempt_at) where status = 'pending';
create index collection_outbox_agency on collection_outbox (agency_id, request_id);
