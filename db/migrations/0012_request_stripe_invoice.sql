-- The Stripe invoice a stripe-mode payment request was presented as: its id (recorded as soon as
-- the collector created it, so invoice webhooks find their request, and a presentation retried
-- after Stripe forgot its idempotency keys resumes that invoice instead of creating another), its
-- number, hosted page and PDF (recorded when Stripe gives them: at finalization, or from an
-- invoice event). stripe_event_created is the `created` of the latest invoice event applied to
-- the request: Stripe does not promise order, and an older failure never overrides a newer event.
-- stripe_invoice_id itself is from 0001 (never written until now).
alter table payment_requests
  add column stripe_invoice_number text,
  add column stripe_hosted_invoice_url text,
  add column stripe_invoice_pdf text,
  add column stripe_event_created timestamptz;

create unique index payment_requests_stripe_invoice on payment_requests (stripe_invoice_id)
  where stripe_invoice_id is not null;
