-- When each subscription's workflow was started. The API inserts the row, then starts the
-- workflow: a crash in between would leave a live row that no workflow bills. Rows whose start
-- was never recorded are started by the worker's sweeper (worker/subscription-sweeper.ts).
alter table subscriptions add column workflow_started_at timestamptz;
-- Rows from before this column had their workflows started by the API.
update subscriptions set workflow_started_at = created_at;
create index subscriptions_workflow_not_started on subscriptions (created_at)
  where workflow_started_at is null;
