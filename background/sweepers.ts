/**
 * The sweepers every process that runs a worker starts: each round (every 30 s) hands over what a
 * crash left behind: webhook deliveries never dispatched, rate changes not yet delivered to their
 * subscriptions, subscription workflows never started.
 */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import type { Logger } from '../lib/logger';
import { sweepRateChanges } from './rate-change-sweeper';
import { sweepSubscriptionStarts } from './subscription-sweeper';
import { startSweeper } from './sweeper';
import { sweepWebhookDeliveries } from './webhook-sweeper';

/** Starts the three sweepers; they stop on their own once `isRunning()` answers false. */
export function startSweepers(o: {
  sql: Sql;
  temporal: Client;
  isRunning: () => boolean;
  log?: Logger;
}): void {
  const { sql, temporal } = o;
  const common = { isRunning: o.isRunning, ...(o.log ? { log: o.log } : {}) };
  const logged = o.log ? { log: o.log } : {};
  startSweeper({
    ...common,
    what: 'deliveries',
    sweep: () => sweepWebhookDeliveries(sql, temporal),
    intervalMs: 30_000,
  });
  startSweeper({
    ...common,
    what: 'rate changes',
    sweep: () => sweepRateChanges(sql, temporal, logged),
    intervalMs: 30_000,
  });
  startSweeper({
    ...common,
    what: 'subscriptions',
    sweep: () => sweepSubscriptionStarts(sql, temporal, logged),
    intervalMs: 30_000,
  });
}
