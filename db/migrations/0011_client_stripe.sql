-- Clients in stripe mode: how the client pays (ChatDash's "Auto-charge" or "Request Payment"),
-- its Stripe Customer on the agency's connected account, and the card on file.
--
-- The customer lives on one connected account: stripe_customer_account says which, so that after
-- the agency reconnects (a new account) the client gets a new customer there instead of charging
-- one Stripe no longer lets us reach. The card columns describe that customer's default invoice
-- payment method as Tally set it from a completed setup session; card_event_created is the
-- `created` of the event that set it, so an older completion arriving late never replaces it.

alter table clients
  add column collection_method text not null default 'charge_automatically'
    check (collection_method in ('charge_automatically', 'send_invoice')),
  add column stripe_customer_account text,
  add column payment_method_id text,
  add column card_brand text,
  add column card_last4 text,
  add column card_exp_month integer check (card_exp_month between 1 and 12),
  add column card_exp_year integer,
  add column card_event_created timestamptz,
  add column card_updated_at timestamptz,
  add constraint clients_stripe_customer_account
    check ((stripe_customer_id is null) = (stripe_customer_account is null));

-- A setup session's completion finds its client by the customer it was for.
create unique index clients_stripe_customer on clients (stripe_customer_account, stripe_customer_id)
  where stripe_customer_id is not null;
