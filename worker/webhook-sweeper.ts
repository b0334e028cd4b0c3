/**
 * The webhook sweeper: every outbox row needs a delivery workflow. Normally it is started right
 * after the row commits; a crash between the commit and the start leaves a row behind, and a
 * delivery workflow that was terminated leaves one pending. The sweeper (re)starts those.
 * Starting is idempotent (workflow id per row), so several workers sweeping at once is harmless.
 */
import type { Client } from '@temporalio/client';
import { dispatchDeliveries } from '../activities/webhooks';
import type { Sql } from '../db/client';
import { listDeliveriesToDispatch } from '../db/queries/webhooks';
import type { Logger } from '../lib/logger';

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

/** Sweeps every `intervalMs` while `isRunning()`; the timer never keeps the process alive. */
export function startWebhookSweeper(o: {
  sql: Sql;
  temporal: Client;
  isRunning: () => boolean;
  log?: Logger;
  intervalMs?: number;
}): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (!o.isRunning()) return clearInterval(timer);
    if (busy) return;
    busy = true;
    sweepWebhookDeliveries(o.sql, o.temporal)
      .then((n) => {
        if (n > 0) o.log?.info({ deliveries: n }, 'webhook sweeper started deliveries');
      })
      .catch((err: Error) => o.log?.warn({ err }, 'webhook sweep failed; next round retries'))
      .finally(() => {
        busy = false;
      });
  }, o.intervalMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
