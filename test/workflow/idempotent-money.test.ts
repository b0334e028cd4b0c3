/**
 * Idempotency-Key on the POSTs that move money or start billing (README, "Conventions"): a retry
 * with the same key replays the first answer and does nothing again: one subscription and one
 * first request, one wallet credit and one pack request, one mark. Real stack, time-skipping.
 */
import { describe, expect, it } from 'vitest';
import {
  createClient,
  createPack,
  createPlan,
  mark,
  requestsOf,
  useHarness,
  waitForIdle,
  waitForRequests,
} from './harness';

const h = useHarness();

const keyed = (path: string, body: unknown, key: string) =>
  h.api.call('POST', path, body, h.api.key, { 'Idempotency-Key': key });

async function count(query: Promise<{ n: number }[]>) {
  return (await query)[0]!.n;
}

describe('Idempotency-Key on billing', () => {
  it('starting a subscription twice with one key starts one, billed once', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 2000 });
    const client = await createClient(h.api);
    const body = { clientId: client.id, planId: plan.id };
    const first = await keyed('/v1/subscriptions', body, 'k-sub');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await keyed('/v1/subscriptions', body, 'k-sub');
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    await waitForRequests(h.api, first.body.id, 1);
    expect(
      await count(
        h.db.sql`select count(*)::int as n from subscriptions where client_id = ${client.id}`,
      ),
    ).toBe(1);
    expect(
      await count(
        h.db.sql`select count(*)::int as n from payment_requests where client_id = ${client.id}`,
      ),
    ).toBe(1);
    await h.api.call('POST', `/v1/subscriptions/${first.body.id}/cancel`, { when: 'now' });
  });

  it('applying a pack twice with one key credits the wallet once and issues one request', async () => {
    const plan = await createPlan(h.api, { packsAllowed: true });
    const client = await createClient(h.api);
    const sub = await keyed('/v1/subscriptions', { clientId: client.id, planId: plan.id }, 'k-s2');
    await waitForRequests(h.api, sub.body.id, 1);
    const packId = await createPack(h.api, client.id, 100, 1500);
    const path = `/v1/clients/${client.id}/packs/${packId}/apply`;
    const first = await keyed(path, { status: 'pending' }, 'k-pack');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await keyed(path, { status: 'pending' }, 'k-pack');
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    const wallet = await h.api.call('GET', `/v1/clients/${client.id}/wallet`);
    expect(wallet.body.balanceSeconds).toBe(6000);
    expect(wallet.body.ledger.data).toHaveLength(1);
    expect(
      await count(
        h.db.sql`select count(*)::int as n from payment_requests
                 where client_id = ${client.id} and type = 'pack'`,
      ),
    ).toBe(1);
    await waitForIdle(sub.body.id);
    await h.api.call('POST', `/v1/subscriptions/${sub.body.id}/cancel`, { when: 'now' });
  });

  it('marking a request paid twice with one key replays the 200 and records one payment', async () => {
    const plan = await createPlan(h.api);
    const client = await createClient(h.api);
    const sub = await keyed('/v1/subscriptions', { clientId: client.id, planId: plan.id }, 'k-s3');
    const [req] = await waitForRequests(h.api, sub.body.id, 1);
    const path = `/v1/payment-requests/${req.id}/mark`;
    const body = { status: 'paid', externalReference: 'wire-1' };
    const first = await keyed(path, body, 'k-mark');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const second = await keyed(path, body, 'k-mark');
    expect(second.status).toBe(200);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    // Without the key the same mark is a conflict: the replay above was not a second mark.
    expect((await mark(h.api, req.id, 'paid')).status).toBe(409);
    expect(
      await count(
        h.db.sql`select count(*)::int as n from events
                 where subject_id = ${req.id} and type = 'payment_request.paid'`,
      ),
    ).toBe(1);
    expect((await requestsOf(h.api, sub.body.id))[0].status).toBe('paid');
    await h.api.call('POST', `/v1/subscriptions/${sub.body.id}/cancel`, { when: 'now' });
  });
});
