/**
 * Delivering a client's new per-minute rate to its running subscription's workflow (a
 * `changeTerms` update, effective from the next period). The API queues the rate in the
 * transaction that changes the client row and delivers it right after commit; when that fails
 * (Temporal unreachable, the worker far behind), the sweeper next to every worker delivers it.
 *
 * Deliveries may overlap (the API's, a sweeper's) and land out of order, so each one, after its
 * update landed, checks that the rate it sent is still the latest queued; if not, it sends the
 * latest too, since its own may have landed after it. The last update to land is therefore the
 * latest rate. The workflow takes the same change twice as one, and ignores a rate decided
 * before the one it has (e.g. the subscription's own rate, changed while this one was owed).
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { rejectionType, sendWhileRenewing } from '../lib/workflow-updates';
import type { Sql } from '../db/client';
import { dropRateChange, getRateChange, markRateDelivered } from '../db/queries/rate-changes';
import { changeTermsUpdate, subscriptionWorkflowId } from '../workflows/definitions';

/** How long one update may take before the delivery is left to the sweeper. */
const UPDATE_DEADLINE_MS = 5_000;
/** Newer rates chased after a delivery; past that, the newer rate's own delivery sends it. */
const MAX_ROUNDS = 5;

/** Delivers the rate owed to the subscription's workflow, if any. */
export async function deliverRateChange(
  deps: { sql: Sql; temporal: Client },
  subscriptionId: string,
): Promise<void> {
  const handle = deps.temporal.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const owed = await getRateChange(deps.sql, subscriptionId);
    // Already delivered by another: nothing to do, unless this delivery sent an older rate.
    if (!owed || (round === 0 && owed.version === owed.deliveredVersion)) return;
    try {
      await sendWhileRenewing(() =>
        deps.temporal.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
          handle.executeUpdate(changeTermsUpdate, {
            args: [
              { rateMinorPerMinute: owed.rateMinorPerMinute, rateDecidedAtMs: owed.decidedAtMs },
            ],
          }),
        ),
      );
    } catch (err) {
      // Canceled or blocked meanwhile (or ended and gone): there is nothing left to change. A
      // workflow not found whose row is live was not started yet: the next sweep delivers.
      const type = rejectionType(err);
      const ended =
        type === 'SubscriptionCanceled' ||
        type === 'SubscriptionBlocked' ||
        (err instanceof WorkflowNotFoundError && !(await isLive(deps.sql, subscriptionId)));
      if (!ended) throw err;
      return dropRateChange(deps.sql, subscriptionId);
    }
    if (await markRateDelivered(deps.sql, subscriptionId, owed.version)) return;
  }
}

async function isLive(sql: Sql, subscriptionId: string): Promise<boolean> {
  const rows = await sql`
    select 1 from subscriptions where id = ${subscriptionId} and status <> 'canceled'`;
  return rows.length > 0;
}
