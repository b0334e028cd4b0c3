/**
 * The subscription sweeper: every live subscription row needs its workflow, or nothing bills it.
 * The API starts the workflow right after inserting the row and records the start; a crash in
 * between leaves the row unrecorded, and the sweeper starts its workflow from the row (terms,
 * rate, agents and coupon as frozen there; the first period from the row's start time). Starting
 * is idempotent (workflow id per subscription), so several workers sweeping at once is harmless,
 * and a workflow that was running after all is only recorded.
 */
import type { Client } from '@temporalio/client';
import { startSubscriptionWorkflow } from '../activities/subscription-start';
import type { Sql } from '../db/client';
import { listUnstartedSubscriptions, markWorkflowStarted } from '../db/queries/subscriptions';

export interface SubscriptionSweepOptions {
  /** A row this old with no recorded start was left behind (the API records it in moments). */
  olderThanMs?: number;
  limit?: number;
}

/** Starts the workflows of rows left behind; returns how many rows it handled. */
export async function sweepSubscriptionStarts(
  sql: Sql,
  temporal: Client,
  o: SubscriptionSweepOptions = {},
): Promise<number> {
  const rows = await listUnstartedSubscriptions(sql, {
    olderThanMs: o.olderThanMs ?? 60_000,
    limit: o.limit ?? 100,
  });
  for (const row of rows) {
    await startSubscriptionWorkflow(temporal, row, row.startAt.getTime());
    await markWorkflowStarted(sql, row.id);
  }
  return rows.length;
}
