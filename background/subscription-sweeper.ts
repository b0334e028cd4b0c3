/**
 * The subscription sweeper: every live subscription row needs its workflow, or nothing bills it.
 * The API starts the workflow right after inserting the row and records the start; a crash in
 * between leaves the row unrecorded, and the sweeper starts its workflow from the row (terms,
 * rate, agents and coupon as frozen there; the first period from the row's start time). Starting
 * is idempotent (workflow id per subscription), so several workers sweeping at once is harmless,
 * and a workflow that was running after all is only recorded.
 */
import type { Client } from '@temporalio/client';
import { startSubscriptionWorkflow } from '../temporal/subscription-start';
import { periodAt } from '../billing/periods';
import type { Sql } from '../db/client';
import { listUnstartedSubscriptions, markWorkflowStarted } from '../db/queries/subscriptions';
import type { Logger } from '../lib/logger';
import { handleEach } from './sweeper';

export interface SubscriptionSweepOptions {
  /** A row this old with no recorded start was left behind (the API records it in moments). */
  olderThanMs?: number;
  limit?: number;
  log?: Logger;
}

/**
 * Starts the workflows of rows left behind; returns how many it started. A row whose first period
 * would already be over (the workers were down that long) starts now instead of from its start
 * time: it was never billed, and a catch-up would issue requests already past due and pause the
 * client's campaigns at once.
 */
export async function sweepSubscriptionStarts(
  sql: Sql,
  temporal: Client,
  o: SubscriptionSweepOptions = {},
): Promise<number> {
  const rows = await listUnstartedSubscriptions(sql, {
    olderThanMs: o.olderThanMs ?? 60_000,
    limit: o.limit ?? 100,
  });
  // One row failing (e.g. its terms no longer valid) must not hold up the rows behind it.
  return handleEach(
    rows,
    async (row) => {
      const startAtMs = row.startAt.getTime();
      const late = periodAt(startAtMs, row.terms, 0).endMs <= Date.now();
      await startSubscriptionWorkflow(temporal, row, late ? null : startAtMs);
      await markWorkflowStarted(sql, row.id);
      if (late) o.log?.warn({ subscriptionId: row.id }, 'unstarted subscription starts now');
    },
    (row, err) =>
      o.log?.error({ err, subscriptionId: row.id }, 'could not start a subscription workflow'),
  );
}
