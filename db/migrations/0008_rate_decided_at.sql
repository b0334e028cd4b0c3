-- When the owed rate was decided (the client row's transaction, on Postgres's clock). A workflow
-- takes a rate only if it was decided after the rate it has: a client rate still owed when the
-- subscription's own rate is changed (POST /v1/subscriptions/{id}/change) does not override it.
alter table rate_change_outbox add column decided_at timestamptz not null default now();
