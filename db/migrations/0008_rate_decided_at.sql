-- When the owed rate was decided (written after the client row's lock, on Postgres's clock, and
-- never earlier than the rate it replaces: the rate committed last is decided last). A workflow
-- takes a rate only if it was decided after the rate it has: a client rate still owed when the
-- subscription's own rate is changed (POST /v1/subscriptions/{id}/change) does not override it.
alter table rate_change_outbox add column decided_at timestamptz not null default clock_timestamp();
