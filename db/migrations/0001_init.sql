-- Tally's initial schema. Every tenant row carries agency_id; money is bigint minor units;
-- per-minute rates are exact numerics in minor units per minute; usage is counted in seconds.

create table agencies (
  id text primary key,
  name text not null,
  webhook_url text,
  webhook_secret text not null,
  stripe_account_id text,
  -- what follows when every Stripe retry failed: block after grace, or cancel
  failed_payment_action text not null default 'block' check (failed_payment_action in ('block', 'cancel')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table api_keys (
  id text primary key,
  agency_id text not null references agencies (id),
  kind text not null check (kind in ('agency', 'ingest')),
  name text,
  prefix text not null,
  hash text not null unique,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index api_keys_agency on api_keys (agency_id, id);

create table plans (
  id text primary key,
  agency_id text not null references agencies (id),
  name text not null,
  tier text,
  description text,
  currency char(3) not null,
  flat_fee_minor bigint not null default 0 check (flat_fee_minor >= 0),
  overage_rate_minor_per_minute numeric(20, 6) check (overage_rate_minor_per_minute >= 0),
  included_minutes integer not null default 0 check (included_minutes >= 0),
  rhythm text not null check (rhythm in ('day', 'week', 'month', 'year')),
  interval_count integer not null default 1 check (interval_count between 1 and 366),
  due_days integer not null default 7 check (due_days between 0 and 365),
  grace_days integer not null default 7 check (grace_days between 0 and 365),
  packs_allowed boolean not null default false,
  chat_mode boolean not null default false,
  chats_per_minute numeric(20, 6),
  tax_behavior text not null default 'exclusive' check (tax_behavior in ('inclusive', 'exclusive')),
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (flat_fee_minor > 0 or overage_rate_minor_per_minute is not null)
);
create index plans_agency on plans (agency_id, id);

create table clients (
  id text primary key,
  agency_id text not null references agencies (id),
  external_id text,
  name text not null,
  email text,
  billing_mode text not null default 'manual' check (billing_mode in ('stripe', 'manual', 'track_only')),
  billing_enabled boolean not null default true,
  rate_minor_per_minute numeric(20, 6),
  disabled boolean not null default false,
  plan_id text references plans (id),
  stripe_customer_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agency_id, external_id)
);
create index clients_agency on clients (agency_id, id);

create table agents (
  id text primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  name text not null,
  external_id text,
  created_at timestamptz not null default now(),
  unique (agency_id, external_id)
);
create index agents_client on agents (client_id, id);

create table portal_users (
  id text primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  email text not null,
  permissions text[] not null default '{manage_billing}',
  created_at timestamptz not null default now(),
  unique (client_id, email)
);

create table packs (
  id text primary key,
  agency_id text not null references agencies (id),
  name text not null,
  minutes integer not null check (minutes > 0),
  price_minor bigint not null check (price_minor >= 0),
  currency char(3) not null,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index packs_agency on packs (agency_id, id);

create table client_packs (
  client_id text not null references clients (id),
  pack_id text not null references packs (id),
  agency_id text not null references agencies (id),
  created_at timestamptz not null default now(),
  primary key (client_id, pack_id)
);

create table coupons (
  id text primary key,
  agency_id text not null references agencies (id),
  name text not null,
  kind text not null check (kind in ('percent', 'fixed')),
  percent_off numeric(7, 4) check (percent_off > 0 and percent_off <= 100),
  amount_off_minor bigint check (amount_off_minor > 0),
  currency char(3),
  duration text not null check (duration in ('once', 'forever', 'repeating')),
  duration_periods integer check (duration_periods > 0),
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index coupons_agency on coupons (agency_id, id);

create table one_time_products (
  id text primary key,
  agency_id text not null references agencies (id),
  name text not null,
  description text,
  price_minor bigint not null check (price_minor >= 0),
  currency char(3) not null,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index one_time_products_agency on one_time_products (agency_id, id);

create table subscriptions (
  id text primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  plan_id text not null references plans (id),
  -- plan terms (and per-client rate) frozen at start; the workflow is the owner of changes
  terms jsonb not null,
  agent_ids text[] not null default '{}',
  billing_mode text not null check (billing_mode in ('stripe', 'manual', 'track_only')),
  status text not null check (status in ('scheduled', 'active', 'past_due', 'blocked', 'canceled')),
  start_at timestamptz not null,
  current_period_index integer not null default 0,
  current_period_start timestamptz,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  cancel_reason text,
  coupon jsonb,
  workflow_id text not null unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index subscriptions_agency on subscriptions (agency_id, id);
-- one live subscription per client: a blocked one must be canceled before a new one starts
create unique index subscriptions_one_live_per_client on subscriptions (client_id) where status <> 'canceled';

create table periods (
  subscription_id text not null references subscriptions (id),
  index integer not null,
  agency_id text not null references agencies (id),
  start_at timestamptz not null,
  end_at timestamptz not null,
  closed_at timestamptz,
  usage jsonb,
  primary key (subscription_id, index)
);

create table payment_requests (
  id text primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  subscription_id text references subscriptions (id),
  type text not null check (type in ('cycle', 'pack', 'one_time')),
  -- for cycle requests: the period the recurring line pays for
  period_index integer,
  status text not null check (status in ('pending', 'paid', 'overdue', 'failed', 'canceled')),
  currency char(3) not null,
  subtotal_minor bigint not null,
  discount_minor bigint not null default 0,
  tax_minor bigint not null default 0,
  total_minor bigint not null check (total_minor >= 0),
  issued_at timestamptz not null,
  due_at timestamptz not null,
  grace_ends_at timestamptz,
  paid_at timestamptz,
  failed_at timestamptz,
  canceled_at timestamptz,
  external_reference text,
  -- derived from workflow data (subscription, period, kind): a retried activity inserts once
  idempotency_key text not null unique,
  stripe_invoice_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index payment_requests_agency on payment_requests (agency_id, id);
create index payment_requests_subscription on payment_requests (subscription_id, period_index);
create index payment_requests_client on payment_requests (client_id, id);

create table payment_request_lines (
  request_id text not null references payment_requests (id),
  position integer not null,
  kind text not null check (kind in ('recurring', 'usage', 'late_usage', 'discount', 'tax', 'pack', 'one_time')),
  description text not null,
  quantity numeric(20, 6),
  unit_amount_minor numeric(20, 6),
  amount_minor bigint not null,
  period_start timestamptz,
  period_end timestamptz,
  details jsonb,
  primary key (request_id, position)
);

create table usage_events (
  agency_id text not null references agencies (id),
  event_id text not null,
  seq bigint generated always as identity,
  client_id text not null references clients (id),
  agent_id text,
  subscription_id text references subscriptions (id),
  metric text not null check (metric in ('voice_seconds', 'chat_interactions', 'conversations', 'value_count')),
  quantity bigint not null check (quantity >= 0),
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  properties jsonb,
  primary key (agency_id, event_id)
);
create index usage_events_client_time on usage_events (client_id, occurred_at);
create index usage_events_subscription_seq on usage_events (subscription_id, seq);

create table wallet_ledger (
  id bigint generated always as identity primary key,
  agency_id text not null references agencies (id),
  client_id text not null references clients (id),
  seconds bigint not null,
  reason text not null check (reason in ('pack', 'usage', 'adjustment')),
  -- what caused it (pack request id, subscription period): unique so a retry credits once
  reference text not null unique,
  created_at timestamptz not null default now()
);
create index wallet_ledger_client on wallet_ledger (client_id, id);

create table access_states (
  client_id text primary key references clients (id),
  agency_id text not null references agencies (id),
  allowed boolean not null,
  reasons text[] not null,
  version integer not null default 1,
  changed_at timestamptz not null default now()
);

create table events (
  id text primary key,
  agency_id text not null references agencies (id),
  type text not null,
  client_id text,
  subject_type text not null,
  subject_id text not null,
  data jsonb not null default '{}',
  -- a retried activity records the same event once
  dedupe_key text unique,
  created_at timestamptz not null default now()
);
create index events_agency on events (agency_id, id desc);

create table webhook_deliveries (
  id text primary key,
  agency_id text not null references agencies (id),
  event_id text not null references events (id),
  url text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered')),
  attempts integer not null default 0,
  last_error text,
  dispatched_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (event_id, url)
);
create index webhook_deliveries_pending on webhook_deliveries (created_at) where status = 'pending';

create table idempotency_keys (
  agency_id text not null references agencies (id),
  key text not null,
  method text not null,
  path text not null,
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (agency_id, key)
);
