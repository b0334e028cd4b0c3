/**
 * The collection seam: how an issued payment request is presented to whoever collects it. The
 * subscription workflow stays provider-neutral (it issues a request, hears that a payment attempt
 * succeeded or failed, records a payment, runs the dunning timers); which collector takes a
 * request (manual today, Stripe on the agency's connected account later) is decided here, from
 * the client's billing mode at issue, and reached only through the collection outbox.
 *
 * How results come back: a collector never changes a request's status, and never talks to the
 * workflow. `present` answers only whether the request was handed over (and what the collector
 * calls it). Payment outcomes arrive later on their own path, through the payments service
 * (services/payments.ts): a manual mark today, a Stripe webhook tomorrow, both into the
 * subscription workflow's recordPayment update.
 */
import type { BillingMode } from '../billing/terms';
import type { PaymentRequestLineRow, RequestType } from '../db/queries/payment-requests';

/** What a collector needs to present one request, read when its turn comes. */
export interface CollectionRequest {
  requestId: string;
  agencyId: string;
  clientId: string;
  subscriptionId: string | null;
  /** The client's billing mode when the request was issued (it chose the collector). */
  billingMode: BillingMode;
  type: RequestType;
  /** The request's status now: pending or overdue (paid and canceled ones are never presented). */
  status: string;
  currency: string;
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  totalMinor: number;
  lines: PaymentRequestLineRow[];
  issuedAt: Date;
  dueAt: Date;
  graceEndsAt: Date | null;
  /** Which claim this is (1 the first time); a retry presents the same request again. */
  attempt: number;
  /** When it was queued for collection (a retry much later may outlive a provider's keys). */
  queuedAt: Date;
}

/** What a collector answers once the request is handed over. */
export interface PresentResult {
  status: 'presented';
  /** The collector's own id for it (e.g. a Stripe invoice id); null when it keeps none. */
  externalId: string | null;
  /** Where the client pays (e.g. a hosted invoice page); null when there is none. */
  hostedUrl: string | null;
}

/**
 * Presents issued requests to one way of collecting. `present` may run more than once for a
 * request (a presenter that died before recording the result, a lease that ran out): every
 * outside call it makes carries `collectionKey(request.requestId, step)`, so a second run does
 * nothing twice. Throwing means "not presented": the presenter retries later with backoff, or
 * never again for a PermanentCollectionError.
 */
export interface Collector {
  /** Recorded on the outbox row that this collector presented. */
  readonly name: string;
  present(request: CollectionRequest): Promise<PresentResult>;
}

/** A failure a retry cannot fix (e.g. no connected account): the presenter stops trying. */
export class PermanentCollectionError extends Error {
  override name = 'PermanentCollectionError';
}
