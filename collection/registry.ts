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
 * Today's collectors: manual mode by hand; stripe mode too, until the Stripe collector lands;
 * track_only bills nothing, so a request there (none is issued today) has nothing to present.
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
