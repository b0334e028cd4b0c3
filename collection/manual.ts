/**
 * The manual collector: in `manual` billing mode the agency collects by hand and marks the
 * request paid, failed or canceled through the API. Presenting is therefore nothing to do; the
 * request itself is left exactly as issued.
 */
import type { Collector } from './collector';

/** Presents nothing and answers presented. */
export const manualCollector: Collector = {
  name: 'manual',
  present: () => Promise.resolve({ status: 'presented', externalId: null, hostedUrl: null }),
};
