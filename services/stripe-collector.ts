/**
 * The Stripe collector: presents a stripe-mode client's issued payment request as an invoice on
 * the agency's connected account (every call carries the Stripe-Account header). The invoice is
 * created first, empty (`pending_invoice_items_behavior: 'exclude'`), and each request line is
 * then added to it by id: an invoice created over the customer's pending items would also sweep
 * in the items of another request of the same client presented at the same moment (the presenter
 * presents a batch at once), or an item a crashed attempt left behind. Then the invoice is
 * finalized and, for auto-charge, paid; the engine does both itself (`auto_advance: false`), so
 * Stripe never retries a charge in parallel with us.
 *
 * Every call's idempotency key is `collectionKey(requestId, step)` (steps `invoice`, `item.<line
 * position>`, `finalize`, `pay`; a step name has no colon), so a second presentation of
 * the same row (a retry, a lease that ran out) sends the same keys with the same parameters and
 * Stripe does each step once. (Stripe prunes keys after 24 h; a presentation retried later than
 * that is not handled yet.) The payment's outcome is not this collector's business: it arrives
 * later through the webhooks.
 */
import Stripe from 'stripe';
import { platformFeeMinor } from '../billing/platform-fee';
import {
  PermanentCollectionError,
  type CollectionRequest,
  type Collector,
  type PresentResult,
} from '../collection/collector';
import { collectionKey } from '../collection/idempotency';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import { getClientStripe } from '../db/queries/client-stripe';
import { recordRequestInvoice } from '../db/queries/request-stripe';
import { chargeableStripeAccount } from '../db/queries/stripe';
import type { Logger } from '../lib/logger';
import { ensureCustomer } from './stripe-customers';

export interface StripeCollectorDeps {
  sql: Sql;
  platform: StripePlatform;
  /** The platform rate (minor units per minute) the fee's usage part is charged at. */
  platformRateMinorPerMinute: string;
  log?: Logger;
}

const DAY_MS = 86_400_000;

/** Whole days from issue to due (send_invoice's `days_until_due`), never negative. */
export function daysUntilDue(issuedAt: Date, dueAt: Date): number {
  return Math.max(0, Math.round((dueAt.getTime() - issuedAt.getTime()) / DAY_MS));
}

/** The Stripe collector for the platform (see the file comment). */
export function createStripeCollector(deps: StripeCollectorDeps): Collector {
  return { name: 'stripe', present: (request) => presentAsInvoice(deps, request) };
}

async function presentAsInvoice(
  deps: StripeCollectorDeps,
  r: CollectionRequest,
): Promise<PresentResult> {
  const { sql, platform } = deps;
  const { stripe } = platform;
  // The invoice is the sum of its items: lines that do not add up to the request's total would
  // bill the client another amount than the one Tally issued.
  const linesTotal = r.lines.reduce((sum, l) => sum + l.amountMinor, 0);
  if (linesTotal !== r.totalMinor) {
    throw new PermanentCollectionError(
      `request ${r.requestId}: its lines add up to ${linesTotal}, its total is ${r.totalMinor}`,
    );
  }
  const accountId = await chargeableStripeAccount(sql, r.agencyId);
  if (!accountId) {
    throw new PermanentCollectionError(
      `agency ${r.agencyId} has no Stripe account that can take charges (none connected, disconnected, or charges not enabled): request ${r.requestId} cannot be presented as an invoice`,
    );
  }
  const client = await getClientStripe(sql, r.agencyId, r.clientId);
  if (!client) throw new PermanentCollectionError(`client ${r.clientId} not found`);
  const customer = await ensureCustomer(sql, { platform, client, accountId });
  const on = (step: string) => ({
    stripeAccount: accountId,
    idempotencyKey: collectionKey(r.requestId, step),
  });
  const currency = r.currency.toLowerCase();
  const metadata = { tally_request_id: r.requestId, tally_agency_id: r.agencyId };
  const chargeAutomatically = client.collectionMethod === 'charge_automatically';
  const fee = platformFeeMinor({
    lines: r.lines,
    totalMinor: r.totalMinor,
    platformRateMinorPerMinute: deps.platformRateMinorPerMinute,
    flatFeeBps: platform.settings.flatFeeBps,
  });

  const invoice = await stripe.invoices.create(
    {
      customer,
      currency,
      collection_method: client.collectionMethod,
      ...(chargeAutomatically ? {} : { days_until_due: daysUntilDue(r.issuedAt, r.dueAt) }),
      auto_advance: false,
      pending_invoice_items_behavior: 'exclude',
      // Stripe takes no fee of 0: without one the parameter is left out.
      ...(fee > 0 ? { application_fee_amount: fee } : {}),
      metadata,
    },
    on('invoice'),
  );
  // Recorded at once, before any item: an invoice event that arrives meanwhile finds its request,
  // and a presentation retried after Stripe forgot the keys resumes this invoice.
  await recordRequestInvoice(sql, r.requestId, { invoiceId: invoice.id });
  for (const line of r.lines) {
    await stripe.invoiceItems.create(
      {
        customer,
        invoice: invoice.id,
        currency,
        // A discount line is negative: a negative item lowers the invoice.
        amount: line.amountMinor,
        description: line.description,
        metadata: {
          ...metadata,
          tally_line_position: String(line.position),
          tally_kind: line.kind,
        },
      },
      on(`item.${line.position}`),
    );
  }
  const finalized = await stripe.invoices.finalizeInvoice(invoice.id, {}, on('finalize'));
  await recordRequestInvoice(sql, r.requestId, {
    invoiceId: invoice.id,
    number: finalized.number ?? null,
    hostedUrl: finalized.hosted_invoice_url ?? null,
    pdfUrl: finalized.invoice_pdf ?? null,
  });
  if (chargeAutomatically) {
    try {
      await stripe.invoices.pay(invoice.id, {}, on('pay'));
    } catch (err) {
      // A declined card is an outcome, not a failure to present: the invoice is there, open, and
      // the outcome reaches the request through invoice.payment_failed.
      if (!(err instanceof Stripe.errors.StripeCardError)) throw err;
      deps.log?.info(
        { requestId: r.requestId, invoice: invoice.id, code: err.code },
        'invoice presented; the card was declined',
      );
    }
  }
  return {
    status: 'presented',
    externalId: finalized.id,
    hostedUrl: finalized.hosted_invoice_url ?? null,
  };
}
