/**
 * The loops every process that runs a worker starts. The sweepers (every 30 s) hand over what a
 * crash left behind: webhook deliveries never dispatched, rate changes not yet delivered to their
 * subscriptions, subscription workflows never started. The collection presenter (every 5 s)
 * hands issued payment requests to their collector. Each round claims its rows, so any number of
 * workers may run them at once.
 */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import type { Logger } from '../lib/logger';
import { presentDueRequests } from './collection-presenter';
import { sweepRateChanges } from './rate-change-sweeper';
import { sweepSubscriptionStarts } from './subscription-sweeper';
import { startSweeper } from './sweeper';
import { sweepWebhookDeliveries } from './webhook-sweeper';

/** Starts the sweepers and the presenter; they stop on their own once `isRunning()` answers false. */
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
  startSweeper({
    ...common,
    what: 'payment requests',
    sweep: async () => {
      const r = await presentDueRequests({ sql, ...logged });
      return r.presented + r.skipped + r.retrying + r.gaveUp;
    },
    intervalMs: 5_000,
  });
}
