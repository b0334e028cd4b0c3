/** The pure parts of the collection seam: idempotency keys, the backoff, the registry. */
import { describe, expect, it } from 'vitest';
import { collectionBackoffMs } from '../../background/collection-presenter';
import { collectionKey } from '../../collection/idempotency';
import { manualCollector } from '../../collection/manual';
import { collectorFor } from '../../collection/registry';

describe('collectionKey', () => {
  it('is the same for a request and step every time, and differs per request and per step', () => {
    expect(collectionKey('req_1', 'invoice.create')).toBe(collectionKey('req_1', 'invoice.create'));
    const keys = new Set([
      collectionKey('req_1', 'invoice.create'),
      collectionKey('req_1', 'invoice.finalize'),
      collectionKey('req_2', 'invoice.create'),
    ]);
    expect(keys.size).toBe(3);
  });

  it('refuses an empty request id or a step that is no name', () => {
    expect(() => collectionKey('', 'invoice.create')).toThrow(/request id/);
    for (const step of ['', 'Invoice Create', 'a:b', 'x'.repeat(65)])
      expect(() => collectionKey('req_1', step)).toThrow(/step/);
  });
});

describe('collectionBackoffMs', () => {
  it('doubles from the base per attempt, up to the cap', () => {
    expect([1, 2, 3, 4].map((a) => collectionBackoffMs(a, 30_000, 200_000))).toEqual([
      30_000, 60_000, 120_000, 200_000,
    ]);
    expect(collectionBackoffMs(40)).toBe(6 * 3_600_000);
  });
});

describe('collectorFor', () => {
  it('presents manual and (until a Stripe collector exists) stripe mode by hand', () => {
    expect(collectorFor('manual')).toBe(manualCollector);
    expect(collectorFor('stripe')).toBe(manualCollector);
    expect(collectorFor('track_only')).toBe(manualCollector);
  });
});
