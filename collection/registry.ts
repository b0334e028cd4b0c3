/**
 * Which collector presents a request, by the billing mode recorded when it was issued. Resolved
 * when presenting, not at issue, so a collector added later (Stripe) takes the rows still owed.
 */
import type { BillingMode } from '../billing/terms';
import type { Collector } from './collector';
import { manualCollector } from './manual';

/** A collector per billing mode. */
export type Collectors = Readonly<Record<BillingMode, Collector>>;

/**
 * The collectors without a platform Stripe set-up: manual mode by hand, and stripe mode too (the
 * worker puts the Stripe collector, services/stripe-collector.ts, in its place when the platform
 * has Stripe set up); track_only bills nothing, so a request there (none is issued today) has
 * nothing to present.
 */
export const defaultCollectors: Collectors = {
  manual: manualCollector,
  stripe: manualCollector,
  track_only: manualCollector,
};

/** The collector for a billing mode. */
export function collectorFor(
  mode: BillingMode,
  collectors: Collectors = defaultCollectors,
): Collector {
  const collector = collectors[mode];
  if (!collector) throw new Error(`no collector for billing mode ${String(mode)}`);
  return collector;
}
