/**
 * Invoice events in: invoice.paid, invoice.payment_failed and invoice.payment_action_required
 * become payment outcomes of the request the invoice presents, through the same path a manual
 * mark takes (services/payments.ts: the subscription workflow's recordPayment update for a cycle
 * request of a live subscription, Postgres directly otherwise). invoice.finalized only records
 * the invoice's number and URLs.
 *
 * Never backwards. Stripe does not promise order, so:
 * - `paid` is final: a paid request never becomes failed (the request transitions refuse it, and
 *   the workflow's validator too); a paid event always applies, whatever came before it, since
 *   Stripe never unpays an invoice.
 * - A failure older (by the event's `created`) than the latest invoice event applied to the
 *   request is ignored.
 * - A failure is checked against Stripe before it is recorded: the invoice is re-read on the
 *   connected account, and if Stripe says it is paid (the success event is still on its way)
 *   the request is recorded paid instead; void or uncollectible: nothing is recorded. A re-read
 *   that answers `draft` says nothing (an invoice that had a payment attempt is never a draft;
 *   only stripe-mock's fixture is), so the event's own object decides.
 * - Other types (payment_intent.canceled, charge.failed, ...) never change a request: a late
 *   `payment_intent.canceled` does not flip a paid request (lago-api #5630).
 * A subscription is never reactivated by any of it: a request of a canceled subscription is
 * marked in Postgres and its subscription left as it is (services/payments.ts).
 */
import type Stripe from 'stripe';
import {
  advanceInvoiceEventWatermark,
  findInvoiceRequest,
  recordRequestInvoice,
  type InvoiceRequest,
} from '../db/queries/request-stripe';
import { getAgency } from '../db/queries/agencies';
import { ApiError } from '../lib/errors';
import { recordPaymentOutcome } from './payments';
import type { StripeEventContext } from './stripe-event-context';

/** The invoice event types that carry a payment outcome. */
export const INVOICE_OUTCOME_EVENTS = [
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.payment_action_required',
] as const;

export type InvoiceOutcomeDecision =
  | { apply: 'paid' | 'failed' }
  | { apply: null; why: 'older_than_applied' | 'request_settled' | 'invoice_not_payable' };

/**
 * What an invoice event does to its request (pure; see the file comment). `reread` is the
 * invoice's status as Stripe answers it now, or null when it was not re-read (a paid event).
 */
export function decideInvoiceOutcome(o: {
  type: (typeof INVOICE_OUTCOME_EVENTS)[number];
  created: Date;
  /** The latest invoice event already applied to the request. */
  applied: Date | null;
  requestStatus: string;
  eventStatus: string | null;
  reread: string | null;
}): InvoiceOutcomeDecision {
  if (o.requestStatus === 'paid' || o.requestStatus === 'canceled')
    return { apply: null, why: 'request_settled' };
  if (o.type === 'invoice.paid') return { apply: 'paid' };
  const stripeSays = o.reread && o.reread !== 'draft' ? o.reread : o.eventStatus;
  if (stripeSays === 'paid') return { apply: 'paid' };
  if (stripeSays === 'void' || stripeSays === 'uncollectible')
    return { apply: null, why: 'invoice_not_payable' };
  if (o.applied && o.created.getTime() < o.applied.getTime())
    return { apply: null, why: 'older_than_applied' };
  return { apply: 'failed' };
}

/** The request an invoice event is about (by recorded id, else metadata), or null. */
async function requestOf(ctx: StripeEventContext, invoice: Stripe.Invoice) {
  const metadataId = invoice.metadata?.['tally_request_id'] ?? null;
  const found = await findInvoiceRequest(ctx.tx, ctx.account.agencyId, invoice.id!, metadataId);
  if (!found)
    ctx.log.warn(
      { stripeEventId: ctx.event.id, invoice: invoice.id, account: ctx.account.accountId },
      'invoice event for no payment request of this agency; stored and acknowledged',
    );
  return found;
}

/** Records the number and URLs the event's invoice carries (after the outcome: no lock held). */
async function recordFacts(ctx: StripeEventContext, req: InvoiceRequest, invoice: Stripe.Invoice) {
  const recorded = await recordRequestInvoice(ctx.tx, req.requestId, {
    invoiceId: invoice.id!,
    number: invoice.number ?? null,
    hostedUrl: invoice.hosted_invoice_url ?? null,
    pdfUrl: invoice.invoice_pdf ?? null,
  });
  if (!recorded)
    ctx.log.error(
      { requestId: req.requestId, invoice: invoice.id, recorded: req.invoiceId },
      'a second Stripe invoice names this payment request; its facts are not recorded',
    );
}

/** invoice.finalized: the number and URLs only. */
export async function onInvoiceFinalized(ctx: StripeEventContext): Promise<void> {
  const invoice = ctx.event.data.object as Stripe.Invoice;
  const req = await requestOf(ctx, invoice);
  if (req) await recordFacts(ctx, req, invoice);
}

/**
 * A failed auto-charge is retried by the subscription workflow on the agency's schedule (its
 * stripeRetryDays now). The reason: what the event's invoice says, else null (the collector
 * stored the decline message when it charged).
 */
async function retryOf(
  ctx: StripeEventContext,
  type: (typeof INVOICE_OUTCOME_EVENTS)[number],
  invoice: Stripe.Invoice,
): Promise<{ days: number[]; reason: string | null }> {
  const agency = await getAgency(ctx.tx, ctx.account.agencyId);
  const reason =
    type === 'invoice.payment_action_required'
      ? 'the payment needs the client\u2019s authentication on the invoice page'
      : (invoice.last_finalization_error?.message ?? null);
  return { days: agency?.stripeRetryDays ?? [3, 5, 7], reason };
}

/** invoice.paid, invoice.payment_failed, invoice.payment_action_required: see the file comment. */
export async function onInvoiceOutcome(ctx: StripeEventContext): Promise<void> {
  const { event, log } = ctx;
  const type = event.type as (typeof INVOICE_OUTCOME_EVENTS)[number];
  const invoice = event.data.object as Stripe.Invoice;
  const req = await requestOf(ctx, invoice);
  if (!req) return;
  const created = new Date(event.created * 1000);
  const reread =
    type === 'invoice.paid' || req.status === 'paid' || req.status === 'canceled'
      ? null
      : (
          await ctx.stripe.invoices.retrieve(
            invoice.id!,
            {},
            { stripeAccount: ctx.account.accountId },
          )
        ).status;
  const decision = decideInvoiceOutcome({
    type,
    created,
    applied: req.eventCreated,
    requestStatus: req.status,
    eventStatus: invoice.status ?? null,
    reread,
  });
  const at = { stripeEventId: event.id, type, requestId: req.requestId, invoice: invoice.id };
  if (decision.apply === null) {
    log.info({ ...at, why: decision.why }, 'invoice event changes nothing');
  } else if (!ctx.temporal) {
    throw new Error('invoice outcomes need a Temporal client (the subscription workflow)');
  } else {
    const retry =
      decision.apply === 'failed' && invoice.collection_method === 'charge_automatically'
        ? await retryOf(ctx, type, invoice)
        : undefined;
    try {
      await recordPaymentOutcome(
        { sql: ctx.sql, temporal: ctx.temporal },
        {
          agencyId: ctx.account.agencyId,
          requestId: req.requestId,
          status: decision.apply,
          externalReference: invoice.id!,
          ...(retry ? { retry } : {}),
        },
      );
      log.info({ ...at, status: decision.apply }, 'payment outcome recorded from Stripe');
    } catch (err) {
      // Settled meanwhile (a manual mark, another path): the request keeps what it has.
      if (!(err instanceof ApiError && err.code === 'conflict')) throw err;
      log.info({ ...at, why: err.message }, 'invoice event changes nothing');
    }
  }
  await recordFacts(ctx, req, invoice);
  await advanceInvoiceEventWatermark(ctx.tx, req.requestId, created);
}
