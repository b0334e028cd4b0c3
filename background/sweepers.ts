/**
 * The loops every process that runs a worker starts. The sweepers (every 30 s) hand over what a
 * crash left behind: webhook deliveries never dispatched, rate changes not yet delivered to their
 * subscriptions, subscription workflows never started. The collection presenter (every 5 s)
 * hands issued payment requests to their collector. Each round claims its rows, so any number of
 * workers may run them at once.
 */
import type { Client } from '@temporalio/client';
import type { Collectors } from '../collection/registry';
import { defaultCollectors } from '../collection/registry';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import type { Logger } from '../lib/logger';
import { createStripeCollector } from '../services/stripe-collector';
import { presentDueRequests } from './collection-presenter';
import { sweepRateChanges } from './rate-change-sweeper';
import { sweepSubscriptionStarts } from './subscription-sweeper';
import { startSweeper } from './sweeper';
import { sweepWebhookDeliveries } from './webhook-sweeper';

/** The platform's Stripe set-up as collection needs it. */
export interface StripeCollection {
  platform: StripePlatform;
  platformRateMinorPerMinute: string;
}

/**
 * The collectors the presenter uses: stripe mode presents invoices on the agency's connected
 * account when the platform has Stripe set up; without it, stripe mode stays with the manual
 * collector.
 */
export function collectorsFor(
  sql: Sql,
  stripe: StripeCollection | null | undefined,
  log?: Logger,
): Collectors {
  if (!stripe) return defaultCollectors;
  return {
    ...defaultCollectors,
    stripe: createStripeCollector({ sql, ...stripe, ...(log ? { log } : {}) }),
  };
}

/** Starts the sweepers and the presenter; they stop on their own once `isRunning()` answers false. */
export function startSweepers(o: {
  sql: Sql;
  temporal: Client;
  isRunning: () => boolean;
  /** The platform's Stripe set-up; absent or null: stripe mode is presented manually. */
  stripe?: StripeCollection | null;
  log?: Logger;
}): void {
  const { sql, temporal } = o;
  const common = { isRunning: o.isRunning, ...(o.log ? { log: o.log } : {}) };
  const logged = o.log ? { log: o.log } : {};
  const collectors = collectorsFor(sql, o.stripe, o.log);
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
      const r = await presentDueRequests({ sql, collectors, ...logged });
      return r.presented + r.skipped + r.retrying + r.gaveUp;
    },
    intervalMs: 5_000,
  });
}
