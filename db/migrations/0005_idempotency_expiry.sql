-- Idempotency keys are kept 24 hours; this index lets the API purge expired ones cheaply.
create index idempotency_keys_created_at on idempotency_keys (created_at);
