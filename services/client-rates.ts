/**
 * A client's per-minute rate: the rule it must keep, and its delivery to the running
 * subscription's workflow (a `changeTerms` update, effective from the next period). The rate is
 * queued in the transaction that changes the client row and delivered right after commit; when that fails
 * (Temporal unreachable, the worker far behind), the sweeper next to every worker delivers it.
 *
 * Deliveries may overlap (the API's, a sweeper's) and land out of order: each carries when its
 * rate was decided, and the workflow ignores a rate decided before the one it has (an older
 * client rate, or the subscription's own rate changed while this one was owed), so the latest
 * rate wins in any order. A delivery marks only its own version delivered: a newer rate queued
 * meanwhile stays owed until its own delivery (or the sweeper's). The workflow takes the same
 * change twice as one.
 */
import type { Client } from '@temporalio/client';
import { compareRates } from '../billing/money';
import type { AnySql, Sql } from '../db/client';
import {
  dropRateChange,
  getRateChange,
  markRateDelivered,
  queueRateChange,
} from '../db/queries/rate-changes';
import { getLiveSubscription, subscriptionIsLive } from '../db/queries/subscriptions';
import { invalidField } from '../lib/errors';
import { isWorkflowGone, rejectionType } from '../temporal/rejections';
import { changeSubscriptionTerms } from '../temporal/subscription-calls';
import { Rejection } from '../workflows/definitions';
import type { ServiceDeps } from './deps';

/** How long one update may take before the delivery is left to the sweeper. */
const UPDATE_DEADLINE_MS = 5_000;

/** Delivers the rate owed to the subscription's workflow, if any. */
export async function deliverRateChange(
  deps: { sql: Sql; temporal: Client },
  subscriptionId: string,
): Promise<void> {
  const owed = await getRateChange(deps.sql, subscriptionId);
  // Already delivered by another: nothing to do.
  if (!owed || owed.version === owed.deliveredVersion) return;
  try {
    await changeSubscriptionTerms(
      deps.temporal,
      subscriptionId,
      { rateMinorPerMinute: owed.rateMinorPerMinute, rateDecidedAtMs: owed.decidedAtMs },
      { deadlineMs: UPDATE_DEADLINE_MS },
    );
  } catch (err) {
    // Canceled or blocked meanwhile (or ended and gone): there is nothing left to change. A
    // workflow not found whose row is live was not started yet: the next sweep delivers.
    const type = rejectionType(err);
    const ended =
      type === Rejection.SubscriptionCanceled ||
      type === Rejection.SubscriptionBlocked ||
      (isWorkflowGone(err) && !(await subscriptionIsLive(deps.sql, subscriptionId)));
    if (!ended) throw err;
    return dropRateChange(deps.sql, subscriptionId);
  }
  await markRateDelivered(deps.sql, subscriptionId, owed.version);
}

/** The agency's per-minute rate to a client must be above the platform's. */
export function checkClientRate(rate: string | null | undefined, platformRate: string) {
  if (rate != null && compareRates(rate, platformRate) <= 0) {
    throw invalidField(
      'rateMinorPerMinute',
      `must be above the platform rate of ${platformRate} minor units per minute`,
    );
  }
}

/**
 * A client's new per-minute rate, owed to its running subscription from its next period (called
 * in the transaction that changes the client): queued in that transaction (the rate-change
 * outbox), so it commits with the client row. Returns the delivery to run once committed; should
 * it fail, the worker's sweeper delivers. No running subscription: nothing.
 */
export async function queueClientRateChange(
  deps: Pick<ServiceDeps, 'sql' | 'temporal' | 'log'>,
  tx: AnySql,
  agencyId: string,
  clientId: string,
  rateMinorPerMinute: string | null,
): Promise<() => Promise<void>> {
  const sub = await getLiveSubscription(tx, agencyId, clientId);
  if (!sub || sub.status === 'blocked') return async () => {};
  await queueRateChange(tx, sub.id, rateMinorPerMinute);
  return () =>
    deliverRateChange(deps, sub.id).catch((err: unknown) =>
      deps.log.warn(
        { err, subscriptionId: sub.id },
        'rate change not delivered yet; the worker sweeper delivers it',
      ),
    );
}
