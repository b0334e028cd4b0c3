-- Idempotency keys are scoped: to an agency (its id) or, for the platform bootstrap
-- (POST /v1/agencies, answered before any agency exists), to 'admin'. agency_id stays for
-- tenant rows so they still belong to exactly one agency.
alter table idempotency_keys add column scope text;
update idempotency_keys set scope = agency_id;
alter table idempotency_keys alter column scope set not null;
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys alter column agency_id drop not null;
alter table idempotency_keys add primary key (scope, key);
alter table idempotency_keys
  add constraint idempotency_keys_scope check (scope = 'admin' or scope = agency_id);
