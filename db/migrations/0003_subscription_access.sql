-- The subscription workflow's read model, the agency event feed and the access outbox (issue 4).

-- What the workflow mirrors beyond its status: access holds it asserts on top of the status
-- (the usage pools add `minutes_exhausted`), and the plan/rate change waiting for the next period.
alter table subscriptions
  add column access_holds text[] not null default '{}',
  add column pending_change jsonb;

-- The feed is read newest first, filtered by type or by client.
create index events_agency_type on events (agency_id, type, id desc);
create index events_agency_client on events (agency_id, client_id, id desc);
