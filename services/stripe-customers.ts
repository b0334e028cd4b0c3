/**
 * Clients in stripe mode: one Stripe Customer per client on the agency's connected account
 * (created once, lazily, with an idempotency key derived from the client and the account), a
 * Checkout session in setup mode that saves the client's card, and the card on file kept from
 * the Connect events (checkout.session.completed, payment_method.detached). Every call acts on
 * the connected account (the Stripe-Account header), never on the platform's own.
 */
import Stripe from 'stripe';
import type { StripePlatform } from '../collection/stripe/client';
import type { AnySql, Sql } from '../db/client';
import {
  clearClientCard,
  getClientStripe,
  lockClientByCustomer,
  saveStripeCustomer,
  setClientCard,
  type ClientStripe,
} from '../db/queries/client-stripe';
import { chargeableStripeAccount } from '../db/queries/stripe';
import { ApiError, invalidField, notFound } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { requireStripe, StripeNotConfiguredError } from './stripe-connect';

/**
 * The idempotency key of a customer creation: the same for every attempt for one client on one
 * connected account (retries, concurrent setups, a crash before the id was stored), a new one
 * on a new account after the agency reconnected.
 */
export function customerCreationKey(clientId: string, accountId: string): string {
  return `tally:customer:${clientId}:${accountId}`;
}

export interface StripeCustomerDeps {
  sql: Sql;
  stripe: StripePlatform | null;
}

/** Where the client, the agency and the platform stand for stripe-mode collection. */
export interface StripeClientContext {
  platform: StripePlatform;
  client: ClientStripe;
  accountId: string;
}

/**
 * The client in stripe mode with the agency's chargeable account, or a 409 saying which of the
 * three is missing (404 for an unknown client).
 */
async function stripeClient(
  deps: StripeCustomerDeps,
  agencyId: string,
  clientId: string,
): Promise<StripeClientContext> {
  // Unknown (or another agency's) client first: a 404 says nothing about the platform.
  const client = await getClientStripe(deps.sql, agencyId, clientId);
  if (!client) throw notFound('client', clientId);
  if (!deps.stripe) throw new ApiError('conflict', new StripeNotConfiguredError().message);
  const platform = requireStripe(deps.stripe);
  if (client.billingMode !== 'stripe') {
    throw new ApiError(
      'conflict',
      `client ${clientId} is in ${client.billingMode} billing mode, not stripe: a card on file is only for stripe mode (PATCH its billingMode first)`,
    );
  }
  const accountId = await chargeableStripeAccount(deps.sql, agencyId);
  if (!accountId) {
    throw new ApiError(
      'conflict',
      'the agency has no Stripe account that can take charges: connect it (POST /v1/agency/stripe/connect) and finish onboarding until charges are enabled',
    );
  }
  return { platform, client, accountId };
}

/**
 * The client's customer on the account: the stored one, or a new one created once (the same
 * idempotency key for every attempt) and stored. A customer on an earlier account is replaced.
 */
export async function ensureCustomer(sql: Sql, ctx: StripeClientContext): Promise<string> {
  const { client, accountId } = ctx;
  if (client.customerId && client.customerAccount === accountId) return client.customerId;
  const customer = await ctx.platform.stripe.customers.create(
    {
      // Only what does not change: the same key with other parameters would be refused.
      metadata: { tally_client_id: client.clientId, tally_agency_id: client.agencyId },
    },
    { stripeAccount: accountId, idempotencyKey: customerCreationKey(client.clientId, accountId) },
  );
  return saveStripeCustomer(sql, client.agencyId, client.clientId, accountId, customer.id);
}

export interface SetupUrls {
  successUrl?: string | undefined;
  cancelUrl?: string | undefined;
}

export interface PaymentMethodSetup {
  sessionId: string;
  url: string;
  expiresAt: Date;
  customerId: string;
  accountId: string;
}

/**
 * Starts saving a card for the client: a Checkout session in setup mode for its customer on the
 * agency's connected account. The card reaches the client only through
 * checkout.session.completed, never through the browser's return to `successUrl`.
 */
export async function startPaymentMethodSetup(
  deps: StripeCustomerDeps,
  agencyId: string,
  clientId: string,
  urls: SetupUrls,
): Promise<PaymentMethodSetup> {
  const ctx = await stripeClient(deps, agencyId, clientId);
  const { settings, stripe } = ctx.platform;
  const successUrl = urls.successUrl ?? settings.setupSuccessUrl;
  const cancelUrl = urls.cancelUrl ?? settings.setupCancelUrl;
  if (!successUrl) {
    throw invalidField('successUrl', 'required: the platform has no STRIPE_SETUP_SUCCESS_URL');
  }
  if (!cancelUrl) {
    throw invalidField('cancelUrl', 'required: the platform has no STRIPE_SETUP_CANCEL_URL');
  }
  const customerId = await ensureCustomer(deps.sql, ctx);
  // No idempotency key of ours: each setup gets a fresh session (a session completes once).
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'setup',
      customer: customerId,
      // Stripe offers the payment methods that suit the currency; the plan's, or USD without one.
      currency: (ctx.client.planCurrency ?? 'USD').toLowerCase(),
      success_url: successUrl,
      cancel_url: cancelUrl,
      client_reference_id: clientId,
      metadata: { tally_client_id: clientId },
      setup_intent_data: { metadata: { tally_client_id: clientId } },
    },
    { stripeAccount: ctx.accountId },
  );
  if (!session.url) throw new Error(`Stripe answered checkout session ${session.id} without a url`);
  return {
    sessionId: session.id,
    url: session.url,
    expiresAt: new Date(session.expires_at * 1000),
    customerId,
    accountId: ctx.accountId,
  };
}

/** The client's Stripe side (its card on file, or none), or a 404. */
export async function getClientPaymentMethod(
  sql: AnySql,
  agencyId: string,
  clientId: string,
): Promise<ClientStripe> {
  const client = await getClientStripe(sql, agencyId, clientId);
  if (!client) throw notFound('client', clientId);
  return client;
}

/** The client whose card on file changed, so that its access is recomputed. */
export interface CardChange {
  clientId: string;
  agencyId: string;
}

const idOf = (x: string | { id: string } | null | undefined) =>
  x === null || x === undefined ? null : typeof x === 'string' ? x : x.id;

/**
 * checkout.session.completed of a setup session: the SetupIntent is re-read from Stripe, as the
 * event names it only; its card becomes the customer's default invoice payment method and the
 * client's card on file. A completion older than the one that set the stored card is ignored,
 * at Stripe as here, so Stripe's default and the stored card stay the same card. Events of one
 * account are handled one at a time (the caller holds the account's lock).
 */
export async function applySetupSessionCompleted(args: {
  tx: AnySql;
  stripe: Stripe;
  accountId: string;
  session: Stripe.Checkout.Session;
  eventCreated: Date;
  log: Logger;
}): Promise<CardChange | null> {
  const { tx, stripe, accountId, session, eventCreated, log } = args;
  const customerId = idOf(session.customer);
  const setupIntentId = idOf(session.setup_intent);
  if (session.mode !== 'setup' || !customerId || !setupIntentId) return null;
  const client = await lockClientByCustomer(tx, accountId, customerId);
  if (!client) {
    log.warn({ account: accountId, customer: customerId }, 'setup session for no client; ignored');
    return null;
  }
  if (client.cardEventCreated && eventCreated.getTime() < client.cardEventCreated.getTime()) {
    log.info({ clientId: client.clientId }, 'setup session older than the card on file; ignored');
    return null;
  }
  const intent = await stripe.setupIntents.retrieve(
    setupIntentId,
    { expand: ['payment_method'] },
    { stripeAccount: accountId },
  );
  const pm = intent.payment_method;
  if (!pm || typeof pm === 'string' || pm.type !== 'card' || !pm.card) {
    log.warn({ clientId: client.clientId, setupIntentId }, 'setup intent without a card; ignored');
    return null;
  }
  const owner = idOf(pm.customer);
  if (owner !== null && owner !== customerId) {
    log.warn({ clientId: client.clientId, paymentMethod: pm.id }, 'card of another customer');
    return null;
  }
  try {
    await stripe.customers.update(
      customerId,
      { invoice_settings: { default_payment_method: pm.id } },
      // The same key for a redelivery of this completion: one update.
      { stripeAccount: accountId, idempotencyKey: `tally:default-card:${session.id}` },
    );
  } catch (err) {
    // Detached meanwhile (its payment_method.detached may have come first): not a card on file.
    if (err instanceof Stripe.errors.StripeInvalidRequestError) {
      log.warn({ clientId: client.clientId, error: err.message }, 'card not usable; ignored');
      return null;
    }
    throw err;
  }
  await setClientCard(
    tx,
    client.clientId,
    {
      paymentMethodId: pm.id,
      brand: pm.card.brand,
      last4: pm.card.last4,
      expMonth: pm.card.exp_month,
      expYear: pm.card.exp_year,
    },
    eventCreated,
  );
  return { clientId: client.clientId, agencyId: client.agencyId };
}

/**
 * payment_method.detached: when it is the card on file, the client has none any more (a detached
 * card cannot be attached again, so no order of events brings it back; nothing to re-read).
 */
export async function applyPaymentMethodDetached(
  tx: AnySql,
  accountId: string,
  paymentMethod: Stripe.PaymentMethod,
): Promise<CardChange | null> {
  return clearClientCard(tx, accountId, paymentMethod.id);
}
