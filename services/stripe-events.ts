/**
 * Connect webhook events in: verified over the raw body, stored once by event id (a redelivery
 * or replay does nothing), routed by the event's `account` to the agency that owns it, and
 * handed to the handler for its type, all in one transaction (a crash leaves the event unstored,
 * so Stripe's redelivery finds it new). An event for an account no agency has is stored and
 * acknowledged, never failed: Stripe would redeliver it for days.
 */
import type { Client } from '@temporalio/client';
import Stripe from 'stripe';
import type { StripePlatform } from '../collection/stripe/client';
import { recomputeAccess, type AccessChange } from '../db/queries/access';
import type { Sql } from '../db/client';
import { recordEvent } from '../db/queries/events';
import type { StripeEventContext, StripeEventHandler } from './stripe-event-context';
import {
  disconnectStripeAccount,
  insertStripeEvent,
  lockStripeAccount,
  markStripeEventProcessed,
  setStripeAccountStatus,
} from '../db/queries/stripe';
import type { Logger } from '../lib/logger';
import { deliverAccessChange } from './access';
import { accountStatusOf } from './stripe-connect';
import {
  applyPaymentMethodDetached,
  applySetupSessionCompleted,
  type CardChange,
} from './stripe-customers';
import {
  INVOICE_OUTCOME_EVENTS,
  onInvoiceFinalized,
  onInvoiceOutcome,
} from './stripe-invoice-events';

/** How old a signature's timestamp may be (Stripe's own default): older is a replay. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

export type StripeSignatureProblem = 'bad_signature' | 'stale_timestamp';

/** The body is not a Connect event signed with our secret within the tolerance. */
export class StripeSignatureError extends Error {
  override name = 'StripeSignatureError';
  constructor(
    readonly problem: StripeSignatureProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies Stripe-Signature over the raw body and parses the event it signs. */
export function verifyStripeEvent(
  platform: StripePlatform,
  rawBody: Uint8Array,
  signature: string | undefined,
): Stripe.Event {
  try {
    return platform.stripe.webhooks.constructEvent(
      rawBody,
      signature ?? '',
      platform.settings.connectWebhookSecret,
      STRIPE_SIGNATURE_TOLERANCE_SECONDS,
    );
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) {
      // A valid signature over a body that is not JSON.
      throw new StripeSignatureError('bad_signature', 'the signed body is not a JSON event');
    }
    if (/tolerance/i.test(err.message)) {
      throw new StripeSignatureError(
        'stale_timestamp',
        `Stripe-Signature: the signature's timestamp is more than ${STRIPE_SIGNATURE_TOLERANCE_SECONDS} s old (a delayed or replayed delivery)`,
      );
    }
    throw new StripeSignatureError(
      'bad_signature',
      'Stripe-Signature: missing, malformed, or not made with the Connect webhook secret over this body',
    );
  }
}

/** What became of a received event. */
export type StripeEventOutcome =
  /** A handler ran. */
  | 'processed'
  /** Stored only: nothing handles its type (yet). */
  | 'stored'
  /** Seen before: nothing done. */
  | 'duplicate'
  /** Stored only: no agency has the account. */
  | 'unknown_account';

export type { StripeEventContext, StripeEventHandler } from './stripe-event-context';

/**
 * The dispatch table: event type to handler. A type not listed is stored and acknowledged.
 * The invoice events hand their outcome to services/payments.ts, the path a manual mark takes
 * to the subscription workflow (services/stripe-invoice-events.ts): invoice.paid (paid),
 * invoice.payment_failed (a failed attempt) and invoice.payment_action_required (the customer
 * must authenticate: a failed attempt until they do). Subscribe the Connect endpoint to the
 * types listed here.
 */
export const stripeEventHandlers: Readonly<Record<string, StripeEventHandler>> = {
  'account.updated': onAccountUpdated,
  'account.application.deauthorized': onApplicationDeauthorized,
  'checkout.session.completed': onCheckoutSessionCompleted,
  'payment_method.detached': onPaymentMethodDetached,
  'invoice.finalized': onInvoiceFinalized,
  ...Object.fromEntries(INVOICE_OUTCOME_EVENTS.map((type) => [type, onInvoiceOutcome])),
};

export interface StripeEventDeps {
  sql: Sql;
  stripe: StripePlatform;
  log: Logger;
  /** Pushes an access change's webhook once committed; absent: the sweeper starts it. */
  temporal?: Client;
}

/** Stores the event once and runs its handler when an agency owns its account. */
export async function receiveStripeEvent(
  deps: StripeEventDeps,
  event: Stripe.Event,
): Promise<StripeEventOutcome> {
  const accountId = event.account ?? null;
  const changes: AccessChange[] = [];
  const outcome = await deps.sql.begin(async (tx) => {
    const account = accountId ? await lockStripeAccount(tx, accountId) : null;
    const stored = await insertStripeEvent(tx, {
      id: event.id,
      account: accountId,
      type: event.type,
      created: new Date(event.created * 1000),
      agencyId: account?.agencyId ?? null,
    });
    if (!stored) return 'duplicate';
    if (!account) {
      deps.log.warn(
        { stripeEventId: event.id, type: event.type, account: accountId },
        'stripe event for an account no agency has; stored and acknowledged',
      );
      return 'unknown_account';
    }
    const handler = stripeEventHandlers[event.type];
    if (!handler) return 'stored';
    await handler({
      tx,
      sql: deps.sql,
      temporal: deps.temporal,
      stripe: deps.stripe.stripe,
      event,
      account,
      log: deps.log,
      pushAccess: (change) => changes.push(change),
    });
    await markStripeEventProcessed(tx, event.id);
    return 'processed' as const;
  });
  const { temporal } = deps;
  if (temporal) {
    await Promise.all(changes.map((c) => deliverAccessChange({ sql: deps.sql, temporal }, c)));
  }
  return outcome;
}

/** Where an event stands against the status applied last, by Stripe's `created` (seconds). */
export function statusEventOrder(
  applied: Date | null,
  created: Date,
): 'newer' | 'same_second' | 'older' {
  if (applied === null || created.getTime() > applied.getTime()) return 'newer';
  return created.getTime() === applied.getTime() ? 'same_second' : 'older';
}

/**
 * account.updated: the status moves only forward in event time. An older event (Stripe does
 * not promise order) is ignored; one from the same second as the last says nothing about
 * order, so the account is re-read from Stripe instead.
 */
async function onAccountUpdated({ tx, stripe, event, account, log }: StripeEventContext) {
  const created = new Date(event.created * 1000);
  const order = statusEventOrder(account.statusEventCreated, created);
  if (order === 'older') {
    log.info(
      { stripeEventId: event.id, account: account.accountId },
      'account.updated older than the status applied; ignored',
    );
    return;
  }
  const object =
    order === 'newer'
      ? (event.data.object as Stripe.Account)
      : await stripe.accounts.retrieve(account.accountId);
  await setStripeAccountStatus(tx, account.accountId, accountStatusOf(object), created);
}

/**
 * account.application.deauthorized: the account revoked the platform's access. The agency is
 * disconnected (stripe-mode collection stops: chargeableStripeAccount answers null) and its
 * event feed says so.
 */
async function onApplicationDeauthorized({ tx, event, account }: StripeEventContext) {
  const disconnected = await disconnectStripeAccount(
    tx,
    account.accountId,
    new Date(event.created * 1000),
  );
  if (!disconnected) return;
  await recordEvent(tx, {
    agencyId: account.agencyId,
    type: 'stripe_account.disconnected',
    clientId: null,
    subjectType: 'stripe_account',
    subjectId: account.accountId,
    data: { accountId: account.accountId, reason: event.type, stripeEventId: event.id },
    dedupeKey: `stripe-event:${event.id}`,
  });
}

/**
 * The client's card on file changed: its access is recomputed in the event's transaction (the
 * card rule applies: this platform has a Stripe set-up) and pushed once committed.
 */
async function cardChanged(ctx: StripeEventContext, change: CardChange | null) {
  if (!change) return;
  const access = await recomputeAccess(ctx.tx, change.clientId, { stripeConfigured: true });
  if (access) ctx.pushAccess(access);
}

/**
 * checkout.session.completed: a setup session's card becomes the client's card on file (see
 * applySetupSessionCompleted for the re-read and the ordering). Other modes are not ours yet.
 */
async function onCheckoutSessionCompleted(ctx: StripeEventContext) {
  const session = ctx.event.data.object as Stripe.Checkout.Session;
  const change = await applySetupSessionCompleted({
    tx: ctx.tx,
    stripe: ctx.stripe,
    accountId: ctx.account.accountId,
    session,
    eventCreated: new Date(ctx.event.created * 1000),
    log: ctx.log,
  });
  await cardChanged(ctx, change);
}

/** payment_method.detached: the card on file removed at Stripe is no card on file here either. */
async function onPaymentMethodDetached(ctx: StripeEventContext) {
  const pm = ctx.event.data.object as Stripe.PaymentMethod;
  await cardChanged(ctx, await applyPaymentMethodDetached(ctx.tx, ctx.account.accountId, pm));
}
