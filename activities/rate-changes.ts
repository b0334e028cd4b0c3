/**
 * Delivering a client's new per-minute rate to its running subscription's workflow (a
 * `changeTerms` update, effective from the next period). The API queues the rate in the
 * transaction that changes the client row and delivers it right after commit; when that fails
 * (Temporal unreachable, the worker far behind), the sweeper next to every worker delivers it.
 * Delivering twice is harmless: the update sets the pending rate, it does not add to it.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { rejectionType, sendWhileRenewing } from '../api/routes/workflow-updates';
import type { Sql } from '../db/client';
import { getRateChange, settleRateChange } from '../db/queries/rate-changes';
import { changeTermsUpdate, subscriptionWorkflowId } from '../workflows/definitions';

/** Delivers the rate owed to the subscription's workflow, if any, and settles it. */
export async function deliverRateChange(
  deps: { sql: Sql; temporal: Client },
  subscriptionId: string,
): Promise<void> {
  const owed = await getRateChange(deps.sql, subscriptionId);
  if (!owed) return;
  try {
    await sendWhileRenewing(() =>
      deps.temporal.workflow
        .getHandle(subscriptionWorkflowId(subscriptionId))
        .executeUpdate(changeTermsUpdate, {
          args: [{ rateMinorPerMinute: owed.rateMinorPerMinute }],
        }),
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
  }
  await settleRateChange(deps.sql, subscriptionId, owed.version);
}

async function isLive(sql: Sql, subscriptionId: string): Promise<boolean> {
  const rows = await sql`
    select 1 from subscriptions where id = ${subscriptionId} and status <> 'canceled'`;
  return rows.length > 0;
}
