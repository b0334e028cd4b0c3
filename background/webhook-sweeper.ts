/**
 * The webhook sweeper: every outbox row needs a delivery workflow. Normally it is started right
 * after the row commits; a crash between the commit and the start leaves a row behind, and a
 * delivery workflow that was terminated leaves one pending. The sweeper (re)starts those.
 * Starting is idempotent (workflow id per row), so several workers sweeping at once is harmless.
 */
import type { Client } from '@temporalio/client';
import { dispatchDeliveries } from '../temporal/webhook-deliveries';
import type { Sql } from '../db/client';
import { listDeliveriesToDispatch } from '../db/queries/webhooks';

export interface SweepOptions {
  /** A row this old and never dispatched was left behind by a crash. */
  undispatchedAfterMs?: number;
  /** A row this long dispatched and still pending: make sure its workflow still runs. */
  redispatchAfterMs?: number;
  limit?: number;
}

/** Starts delivery workflows for rows left behind; returns how many it handed over. */
export async function sweepWebhookDeliveries(
  sql: Sql,
  temporal: Client,
  o: SweepOptions = {},
): Promise<number> {
  const ids = await listDeliveriesToDispatch(sql, {
    undispatchedAfterMs: o.undispatchedAfterMs ?? 10_000,
    redispatchAfterMs: o.redispatchAfterMs ?? 15 * 60_000,
    limit: o.limit ?? 500,
  });
  await dispatchDeliveries(sql, temporal, ids);
  return ids.length;
}
