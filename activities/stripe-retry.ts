/**
 * The Stripe retry activity: charges a failed request's invoice again on the agency's
 * connected account, one pay call keyed `collect:<request>:pay.retry<attempt>` (the first
 * charge, by the collector, is `collect:<request>:pay`), so an activity retry of one attempt
 * charges once and each attempt is its own charge. The invoice is read first: one paid
 * meanwhile (the client paid on the hosted page, an earlier attempt whose answer was lost) is
 * not charged again, whatever Stripe still remembers of its keys. The workflow decides what the
 * answer means (subscription-entity.ts, retryDone).
 */
import Stripe from 'stripe';
import { collectionKey } from '../collection/idempotency';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import { getAgency } from '../db/queries/agencies';
import { getPaymentRequest } from '../db/queries/payment-requests';
import { chargeableStripeAccount } from '../db/queries/stripe';
import type {
  RetryChargeInput,
  RetryChargeResult,
  StripeRetryActivities,
} from '../workflows/activity-contract';

export interface StripeRetryDeps {
  sql: Sql;
  /** The platform's Stripe set-up; null: a retry cannot charge and counts as failed. */
  stripe?: StripePlatform | null;
}

/** Statuses of an invoice that takes no payment any more. */
const CLOSED = new Set(['void', 'uncollectible']);

export function createStripeRetryActivities({ sql, stripe = null }: StripeRetryDeps) {
  return {
    async retryStripePayment(input: RetryChargeInput): Promise<RetryChargeResult> {
      const { agencyId, requestId, attempt } = input;
      const agency = await getAgency(sql, agencyId);
      const failedPaymentAction = agency?.failedPaymentAction ?? 'block';
      const request = await getPaymentRequest(sql, agencyId, requestId);
      const invoiceId = request?.stripeInvoiceId ?? null;
      const answer = (outcome: 'paid' | 'failed', reason: string | null): RetryChargeResult => ({
        outcome,
        reason,
        invoiceId,
        failedPaymentAction,
      });
      if (request?.status === 'paid') return answer('paid', null);
      if (!stripe) return answer('failed', 'the platform has no Stripe set-up');
      if (!invoiceId)
        return answer('failed', 'the request was never presented as a Stripe invoice');
      const accountId = await chargeableStripeAccount(sql, agencyId);
      if (!accountId)
        return answer('failed', 'the agency\u2019s Stripe account cannot take charges');
      const invoice = await stripe.stripe.invoices.retrieve(
        invoiceId,
        {},
        { stripeAccount: accountId },
      );
      if (invoice.status === 'paid') return answer('paid', null);
      if (CLOSED.has(invoice.status ?? ''))
        return answer('failed', `the invoice is ${invoice.status}`);
      try {
        const paid = await stripe.stripe.invoices.pay(
          invoiceId,
          {},
          {
            stripeAccount: accountId,
            idempotencyKey: collectionKey(requestId, `pay.retry${attempt}`),
          },
        );
        // Pay answers a paid invoice or an error; anything else is not money received.
        return paid.status === 'paid'
          ? answer('paid', null)
          : answer('failed', `the charge did not complete (invoice ${paid.status})`);
      } catch (err) {
        // A declined card (or one that needs the client's authentication) is this attempt's
        // answer; anything else (Stripe unreachable, 5xx) is retried by the activity.
        if (err instanceof Stripe.errors.StripeCardError) return answer('failed', err.message);
        throw err;
      }
    },
  } satisfies StripeRetryActivities;
}
