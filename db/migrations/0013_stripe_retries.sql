-- Stripe retries (3/5/7 days by default): the agency's schedule of days between a failed charge
-- and each retry, and on a payment request the reason of its last failed charge and when the
-- workflow retries it next (null: no retry planned), for the portal's failed-payment banner.
-- The subscription workflow owns the schedule; these columns mirror it.
alter table agencies
  add column stripe_retry_days integer[] not null default '{3,5,7}'
    check (cardinality(stripe_retry_days) between 1 and 10
      and 1 <= all(stripe_retry_days) and 60 >= all(stripe_retry_days));

alter table payment_requests
  add column last_failure_reason text,
  add column next_retry_at timestamptz;
