/**
 * The subscription-side routes, in process against a time-skipping server: happy paths, bad
 * input answered 4xx naming the field and changing nothing, and tenants kept apart. (The route
 * table walk in route-table.test.ts covers no key and ingest keys for every route.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  createPlan,
  startHarness,
  startSubscription,
  subscriptionRow,
  waitFor,
  waitForRequests,
  type Harness,
} from '../workflow/harness';

let h: Harness;
let other: { agencyId: string; key: string; ingestKey: string };
beforeAll(async () => {
  h = await startHarness();
  other = await h.api.newAgency('Other');
});
afterAll(async () => {
  await h?.stop();
});

describe('GET /v1/clients/{id}/access', () => {
  it('answers for a client with nothing stored yet, and after a change', async () => {
    const client = await createClient(h.api);
    const res = await h.api.call('GET', `/v1/clients/${client.id}/access`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: 'access',
      clientId: client.id,
      allowed: false,
      reasons: ['no_subscription'],
      version: 0,
      changedAt: null,
    });
    expect((await h.api.call('POST', `/v1/clients/${client.id}/disable`)).status).toBe(200);
    const after = await h.api.call('GET', `/v1/clients/${client.id}/access`);
    expect(after.body).toMatchObject({
      allowed: false,
      reasons: ['client_disabled', 'no_subscription'],
      version: 1,
    });
    expect(after.body.changedAt).not.toBeNull();
  });

  it('404 for an unknown client or another agency\u2019s; 403 for an ingest key', async () => {
    const client = await createClient(h.api);
    expect((await h.api.call('GET', '/v1/clients/cli_nope/access')).status).toBe(404);
    expect(
      (await h.api.call('GET', `/v1/clients/${client.id}/access`, undefined, other.key)).status,
    ).toBe(404);
    expect(
      (await h.api.call('GET', `/v1/clients/${client.id}/access`, undefined, h.api.ingestKey))
        .status,
    ).toBe(403);
  });
});

describe('GET /v1/events', () => {
  it('pages newest first, filters by type and client, keeps agencies apart', async () => {
    const plan = await createPlan(h.api);
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, sub.id, 1);
    await waitFor(
      async () =>
        (await h.api.call('GET', `/v1/events?clientId=${client.id}`)).body.data.length >= 3,
    );
    const all = (await h.api.call('GET', `/v1/events?clientId=${client.id}&limit=100`)).body.data;
    const ids = all.map((e: any) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);

    const page1 = await h.api.call('GET', `/v1/events?clientId=${client.id}&limit=2`);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.nextCursor).toBe(page1.body.data[1].id);
    const page2 = await h.api.call(
      'GET',
      `/v1/events?clientId=${client.id}&limit=2&after=${page1.body.nextCursor}`,
    );
    expect(page2.body.data[0].id).toBe(ids[2]);

    const issued = await h.api.call(
      'GET',
      `/v1/events?type=payment_request.issued&clientId=${client.id}`,
    );
    expect(issued.body.data).toHaveLength(1);
    expect(issued.body.data[0]).toMatchObject({
      object: 'event',
      type: 'payment_request.issued',
      clientId: client.id,
      subjectType: 'payment_request',
      data: { subscriptionId: sub.id, periodIndex: 0, totalMinor: 4900, currency: 'USD' },
    });
    const theirs = await h.api.call('GET', '/v1/events?limit=100', undefined, other.key);
    expect(theirs.body.data).toEqual([]);
    expect((await h.api.call('GET', '/v1/events?limit=0')).status).toBe(400);
  });
});

describe('subscription changes: bad input changes nothing', () => {
  it('start: a startAt more than a period back, an unknown coupon, another agency\u2019s coupon', async () => {
    const plan = await createPlan(h.api, { rhythm: 'week' });
    const client = await createClient(h.api);
    const old = await h.api.call('POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
      startAt: new Date(Date.now() - 8 * 86_400_000).toISOString(),
    });
    expect(old.status).toBe(400);
    expect(old.body.error.details[0].field).toBe('startAt');
    const unknown = await h.api.call('POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
      couponId: 'cpn_nope',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].field).toBe('couponId');
    const foreign = await h.api.call(
      'POST',
      '/v1/coupons',
      { name: 'Theirs', kind: 'percent', percentOff: '10', duration: 'once' },
      other.key,
    );
    const theirs = await h.api.call('POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
      couponId: foreign.body.id,
    });
    expect(theirs.status).toBe(400);
    const list = await h.api.call('GET', `/v1/subscriptions?clientId=${client.id}`);
    expect(list.body.data).toEqual([]);
  });

  it('cancel, coupon and change: validated, tenant-scoped, nothing changed on refusal', async () => {
    const plan = await createPlan(h.api);
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, sub.id, 1);

    const noWhen = await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, {});
    expect(noWhen.status).toBe(400);
    expect(noWhen.body.error.details[0].field).toBe('when');
    const badWhen = await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, {
      when: 'tomorrow',
    });
    expect(badWhen.status).toBe(400);
    const foreignCancel = await h.api.call(
      'POST',
      `/v1/subscriptions/${sub.id}/cancel`,
      { when: 'now' },
      other.key,
    );
    expect(foreignCancel.status).toBe(404);

    const badCoupon = await h.api.call('POST', `/v1/subscriptions/${sub.id}/coupon`, {
      couponId: 'cpn_nope',
    });
    expect(badCoupon.status).toBe(400);
    const archived = await h.api.call('POST', '/v1/coupons', {
      name: 'Old',
      kind: 'percent',
      percentOff: '10',
      duration: 'once',
    });
    await h.api.call('POST', `/v1/coupons/${archived.body.id}/archive`);
    const archivedCoupon = await h.api.call('POST', `/v1/subscriptions/${sub.id}/coupon`, {
      couponId: archived.body.id,
    });
    expect(archivedCoupon.status).toBe(400);

    const badRate = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '1.2345678',
    });
    expect(badRate.status).toBe(400);
    expect(badRate.body.error.details[0].field).toBe('rateMinorPerMinute');
    const unknownPlan = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      planId: 'pln_nope',
    });
    expect(unknownPlan.status).toBe(400);
    const extra = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '30',
      flatFeeMinor: 1,
    });
    expect(extra.status).toBe(400);

    const row = await subscriptionRow(h.api, sub.id);
    expect(row).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: false,
      coupon: null,
      pendingChange: null,
    });

    const live = await h.api.call('GET', `/v1/subscriptions/${sub.id}?live=true`);
    expect(live.status).toBe(200);
    expect(live.body.live).toMatchObject({
      status: 'active',
      periodIndex: 0,
      pendingChange: null,
      nextTimer: { kind: 'due' },
    });
    expect(live.body.live.openRequests).toHaveLength(1);
    expect((await h.api.call('GET', `/v1/subscriptions/${sub.id}`)).body.live).toBeUndefined();
    expect(
      (await h.api.call('GET', `/v1/subscriptions/${sub.id}?live=true`, undefined, other.key))
        .status,
    ).toBe(404);
    await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
  });

  it('mark: a body without status is a 400; a canceled request cannot be paid', async () => {
    const plan = await createPlan(h.api);
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    const [req] = await waitForRequests(h.api, sub.id, 1);
    const none = await h.api.call('POST', `/v1/payment-requests/${req.id}/mark`, {});
    expect(none.status).toBe(400);
    expect(none.body.error.details[0].field).toBe('status');
    const canceled = await h.api.call('POST', `/v1/payment-requests/${req.id}/mark`, {
      status: 'canceled',
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    const paid = await h.api.call('POST', `/v1/payment-requests/${req.id}/mark`, {
      status: 'paid',
    });
    expect(paid.status).toBe(409);
    expect(paid.body.error.message).toContain('is canceled');
    await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
  });
});
