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
 * Stripe does each step once. Stripe prunes keys after 24 h, so a retry queued longer ago than
 * that (STRIPE_KEY_TRUST_MS) first looks for what an earlier attempt made: the invoice recorded
 * on the request, or one found by its metadata; it resumes that invoice (adding only the items
 * not on it, finalizing only a draft, paying only an unpaid one) instead of creating another.
 * Just before paying, the request is read again: one a manual mark or an invoice event settled
 * meanwhile is not charged. The payment's outcome is not this collector's business: it arrives
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
import { getPaymentRequest } from '../db/queries/payment-requests';
import {
  getRequestInvoiceId,
  recordRequestInvoice,
  recordFailureReason,
} from '../db/queries/request-stripe';
import { chargeableStripeAccount } from '../db/queries/stripe';
import type { Logger } from '../lib/logger';
import { ensureCustomer } from './stripe-customers';

export interface StripeCollectorDeps {
  sql: Sql;
  platform: StripePlatform;
  /** The platform rate (minor units per minute) the fee's usage part is charged at. */
  platformRateMinorPerMinute: string;
  log?: Logger;
  /** The clock the 24 h key rule reads (tests move it); default the system's. */
  now?: () => Date;
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

/**
 * How long after a request was queued its keys are trusted: Stripe prunes idempotency keys after
 * 24 h; an hour's margin covers a presentation that starts just before and runs past it.
 */
export const STRIPE_KEY_TRUST_MS = 23 * 3_600_000;

/** A retry (not the first claim) queued longer ago than Stripe is known to keep keys. */
export function keysMayBeForgotten(r: { attempt: number; queuedAt: Date }, now: Date): boolean {
  return r.attempt > 1 && now.getTime() - r.queuedAt.getTime() > STRIPE_KEY_TRUST_MS;
}

/** Statuses after which an invoice takes no payment (paid already, or closed). */
const SETTLED = new Set(['paid', 'void', 'uncollectible']);

/**
 * The invoice an earlier attempt made for the request on the account: the one recorded on the
 * request, else one Stripe finds by the request id in its metadata (made, then the attempt
 * crashed before recording it). A voided one does not count.
 */
async function existingInvoice(
  deps: StripeCollectorDeps,
  requestId: string,
  accountId: string,
): Promise<Stripe.Invoice | null> {
  const { stripe } = deps.platform;
  const recorded = await getRequestInvoiceId(deps.sql, requestId);
  if (recorded) return stripe.invoices.retrieve(recorded, {}, { stripeAccount: accountId });
  const found = await stripe.invoices.search(
    { query: `metadata['tally_request_id']:'${requestId}'`, limit: 10 },
    { stripeAccount: accountId },
  );
  const invoice = found.data.find(
    (i) => i.metadata?.['tally_request_id'] === requestId && i.status !== 'void',
  );
  if (invoice)
    deps.log?.info(
      { requestId, invoice: invoice.id },
      'resuming the invoice an earlier attempt made',
    );
  return invoice ?? null;
}

/** The line positions (tally_line_position) already on an invoice. */
async function linePositionsOn(
  stripe: Stripe,
  invoiceId: string,
  accountId: string,
): Promise<Set<string>> {
  const positions = new Set<string>();
  for await (const line of stripe.invoices.listLineItems(
    invoiceId,
    { limit: 100 },
    { stripeAccount: accountId },
  )) {
    const position = line.metadata?.['tally_line_position'];
    if (position) positions.add(position);
  }
  return positions;
}

/**
 * Whether the request still wants paying, read just before the pay call: a manual mark or an
 * invoice event may have settled it since it was claimed, and paying then would charge twice.
 */
async function stillOwed(sql: Sql, r: CollectionRequest): Promise<boolean> {
  const now = await getPaymentRequest(sql, r.agencyId, r.requestId);
  return now !== null && now.status !== 'paid' && now.status !== 'canceled';
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

  // A retry later than Stripe keeps keys: the first attempt may have made the invoice (and
  // more) already, and the same keys would now make it all again. Look before creating.
  const resumed = keysMayBeForgotten(r, deps.now?.() ?? new Date())
    ? await existingInvoice(deps, r.requestId, accountId)
    : null;
  const invoice =
    resumed ??
    (await stripe.invoices.create(
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
    ));
  // Recorded at once, before any item: an invoice event that arrives meanwhile finds its request,
  // and a presentation retried after Stripe forgot the keys resumes this invoice.
  if (!(await recordRequestInvoice(sql, r.requestId, { invoiceId: invoice.id }))) {
    // The request already names another invoice (presented before, or a second path made
    // this one): charging this one too would bill the request twice. Left a draft, never paid.
    throw new PermanentCollectionError(
      `request ${r.requestId} is already presented as another Stripe invoice; invoice ${invoice.id} is left a draft and not charged`,
    );
  }
  let status = invoice.status;
  if (status === 'draft') {
    const added = resumed ? await linePositionsOn(stripe, invoice.id, accountId) : new Set();
    for (const line of r.lines) {
      if (added.has(String(line.position))) continue;
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
  }
  // A resumed invoice past draft was finalized by the first attempt: finalizing again fails.
  const finalized =
    status === 'draft' || !resumed
      ? await stripe.invoices.finalizeInvoice(invoice.id, {}, on('finalize'))
      : invoice;
  status = finalized.status;
  await recordRequestInvoice(sql, r.requestId, {
    invoiceId: invoice.id,
    number: finalized.number ?? null,
    hostedUrl: finalized.hosted_invoice_url ?? null,
    pdfUrl: finalized.invoice_pdf ?? null,
  });
  if (chargeAutomatically && (await stillOwed(sql, r)) && !SETTLED.has(status ?? '')) {
    try {
      await stripe.invoices.pay(invoice.id, {}, on('pay'));
    } catch (err) {
      // A declined card is an outcome, not a failure to present: the invoice is there, open, and
      // the outcome reaches the request through invoice.payment_failed.
      if (!(err instanceof Stripe.errors.StripeCardError)) throw err;
      // The decline's message is the failed-payment banner's reason; the retry schedule comes
      // with invoice.payment_failed (the subscription workflow).
      await recordFailureReason(sql, r.requestId, err.message);
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
