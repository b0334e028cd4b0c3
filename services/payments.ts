/**
 * Payment outcomes: a request was paid, failed or canceled. One entry for every source (a manual
 * mark today, a collector's webhook tomorrow). A cycle request of a live subscription goes through
 * its workflow's `recordPayment` update (the workflow owns dunning and status); pack and one-time
 * requests never touch a subscription's status, so they are marked in Postgres directly, as are
 * the requests of a subscription that has ended.
 */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { recordEvent } from '../db/queries/events';
import {
  REQUEST_TRANSITIONS,
  getPaymentRequest,
  setPaymentRequestStatus,
  type PaymentRequestRow,
} from '../db/queries/payment-requests';
import { getSubscription } from '../db/queries/subscriptions';
import { ApiError, notFound } from '../lib/errors';
import { isWorkflowGone, rejectionType } from '../temporal/rejections';
import { toApiError } from './workflow-errors';
import { recordSubscriptionPayment } from '../temporal/subscription-calls';
import { Rejection } from '../workflows/definitions';

/** A payment outcome of one request. */
export interface PaymentOutcome {
  agencyId: string;
  requestId: string;
  status: 'paid' | 'failed' | 'canceled';
  externalReference: string | null;
  /** A failed Stripe auto-charge: the subscription workflow retries it on this schedule. */
  retry?: { days: number[]; reason: string | null };
}

const notMarkable = (r: PaymentRequestRow, status: PaymentOutcome['status']) =>
  new ApiError(
    'conflict',
    r.status === status
      ? `payment request ${r.id} is already ${status}`
      : `payment request ${r.id} is ${r.status}: only ${REQUEST_TRANSITIONS[status].join(', ')} requests can become ${status}`,
    [{ field: 'status', message: `not allowed from ${r.status}` }],
  );

/** Marks a request in Postgres (pack, one-time, or of an ended subscription), with its event. */
async function markDirectly(sql: Sql, r: PaymentRequestRow, o: PaymentOutcome): Promise<void> {
  if (r.status === o.status) throw notMarkable(r, o.status);
  await sql.begin(async (tx) => {
    const done = await setPaymentRequestStatus(tx, {
      requestId: r.id,
      agencyId: r.agencyId,
      status: o.status,
      at: new Date(),
      externalReference: o.externalReference,
    });
    if (!done?.changed) throw notMarkable(done?.row ?? r, o.status);
    await recordEvent(tx, {
      agencyId: r.agencyId,
      type: `payment_request.${o.status}`,
      clientId: r.clientId,
      subjectType: 'payment_request',
      subjectId: r.id,
      data: {
        subscriptionId: r.subscriptionId,
        status: o.status,
        externalReference: o.externalReference,
        totalMinor: r.totalMinor,
        currency: r.currency,
      },
      dedupeKey: `request:${r.id}:${o.status}`,
    });
  });
}

/**
 * Records a payment outcome; returns the request as it is now. 404 for no such request (or
 * another agency's); 409 when the request cannot take this status from the one it has.
 */
export async function recordPaymentOutcome(
  deps: { sql: Sql; temporal: Client },
  o: PaymentOutcome,
): Promise<PaymentRequestRow> {
  const { sql, temporal } = deps;
  const { agencyId, requestId: id } = o;
  const row = await getPaymentRequest(sql, agencyId, id);
  if (!row) throw notFound('payment request', id);
  const sub =
    row.type === 'cycle' && row.subscriptionId
      ? await getSubscription(sql, agencyId, row.subscriptionId)
      : null;
  let viaWorkflow = sub !== null && sub.status !== 'canceled';
  if (viaWorkflow) {
    try {
      await recordSubscriptionPayment(temporal, sub!.id, {
        requestId: id,
        status: o.status,
        externalReference: o.externalReference,
        ...(o.retry ? { retry: o.retry } : {}),
      });
    } catch (err) {
      const type = rejectionType(err);
      // Ended meanwhile: the workflow no longer owns the request.
      if (type === Rejection.SubscriptionCanceled || isWorkflowGone(err)) {
        viaWorkflow = false;
      } else if (type === Rejection.RequestNotOpen || type === Rejection.InvalidTransition) {
        throw notMarkable((await getPaymentRequest(sql, agencyId, id)) ?? row, o.status);
      } else {
        toApiError(err);
      }
    }
  }
  if (!viaWorkflow) await markDirectly(sql, (await getPaymentRequest(sql, agencyId, id))!, o);
  return (await getPaymentRequest(sql, agencyId, id))!;
}
