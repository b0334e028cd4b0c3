/**
 * The collection presenter runs next to every worker: a cycle request issued by a running
 * subscription is handed to its collector (manual here) on its own, once, and the request itself
 * is left to the agency (still pending).
 */
import { describe, expect, it } from 'vitest';
import { getCollection } from '../../db/queries/collection';
import { subscribe, useHarness, waitFor } from './harness';

const h = useHarness();

describe('the worker’s collection presenter', () => {
  it('presents a subscription’s cycle request without being asked', async () => {
    const { first } = await subscribe(h.api);
    // The presenter's round comes every 5 s of real time.
    await waitFor(
      async () => (await getCollection(h.db.sql, first.id))?.status === 'presented',
      'cycle request presented',
      15_000,
    );
    expect(await getCollection(h.db.sql, first.id)).toMatchObject({
      status: 'presented',
      collector: 'manual',
      billingMode: 'manual',
      attempts: 1,
    });
    const request = await h.api.call('GET', `/v1/payment-requests/${first.id}`);
    expect(request.body.status).toBe('pending');
  });
});
