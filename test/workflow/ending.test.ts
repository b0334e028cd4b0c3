/**
 * Terms and the last request (README, "Subscriptions, dunning and access"): terms are frozen at
 * start, so editing or archiving the plan changes nothing for a running subscription, and the
 * tax rate given at start is charged on every request, after the coupon; cancel `now` issues a
 * final usage request at once, `period_end` at renewal, neither with a fee.
 */
import { describe, expect, it } from 'vitest';
import { boundaryMs } from '../../billing/periods';
import { createFixture } from '../helpers/usage-fixtures';
import {
  DAY_MS,
  iso,
  liveState,
  mark,
  requestsOf,
  sleepUntil,
  storeUsage,
  useHarness,
  subscriptionRow,
  waitFor,
  waitForRequests,
  waitForStatus,
  MONTHLY,
} from './harness';

const h = useHarness();

let seq = 0;

/** Stores voice seconds at the test server's clock and waits until the workflow folded them. */
async function talk(subscriptionId: string, clientId: string, seconds: number) {
  await storeUsage(h, [{ id: `end${++seq}`, client: clientId, quantity: seconds }]);
  await waitFor(
    async () => (await liveState(h, subscriptionId)).usage.totalSeconds === seconds,
    `usage ${seconds}`,
  );
}

async function lines(requestId: string) {
  const res = await h.api.call('GET', `/v1/payment-requests/${requestId}`);
  expect(res.status).toBe(200);
  return (res.body.lines as any[]).map((l) => [l.kind, l.amountMinor]);
}

/** A manual client on a $30/month plan billing overage at 10 minor units a minute. */
async function started() {
  const f = await createFixture(h.api, {
    plan: { flatFeeMinor: 3000, overageRateMinorPerMinute: '10', includedMinutes: 0 },
  });
  const [first] = await waitForRequests(h.api, f.subscriptionId, 1);
  expect(first).toMatchObject({ periodIndex: 0, totalMinor: 3000 });
  expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
  const anchor = Date.parse((await subscriptionRow(h.api, f.subscriptionId)).startAt);
  return { ...f, first, anchor };
}

describe('terms and the last request', () => {
  it('editing and archiving the plan leave a running subscription on its frozen terms', async () => {
    const f = await started();
    const edited = await h.api.call('PATCH', `/v1/plans/${f.planId}`, {
      flatFeeMinor: 9900,
      overageRateMinorPerMinute: '50',
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ flatFeeMinor: 9900, overageRateMinorPerMinute: '50' });
    expect((await h.api.call('POST', `/v1/plans/${f.planId}/archive`)).status).toBe(200);

    await talk(f.subscriptionId, f.clientId, 10 * 60);
    await sleepUntil(h.env, boundaryMs(f.anchor, MONTHLY, 1));
    const [, second] = await waitForRequests(h.api, f.subscriptionId, 2);
    // The old fee in advance and the old rate in arrears: 3000 + 10 min x 10.
    expect(second).toMatchObject({ periodIndex: 1, totalMinor: 3100 });
    expect(await lines(second.id)).toEqual([
      ['recurring', 3000],
      ['usage', 100],
    ]);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('the tax rate given at start is taxed on every request, after the coupon', async () => {
    const coupon = await h.api.call('POST', '/v1/coupons', {
      name: 'Welcome',
      kind: 'percent',
      percentOff: '10',
      duration: 'once',
    });
    expect(coupon.status, JSON.stringify(coupon.body)).toBe(201);
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 4900,
        overageRateMinorPerMinute: '10',
        includedMinutes: 0,
        taxBehavior: 'exclusive',
      },
      subscribe: false,
    });
    const sub = await h.api.call('POST', '/v1/subscriptions', {
      clientId: f.clientId,
      planId: f.planId,
      couponId: coupon.body.id,
      taxRateBps: 2000,
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    const [first] = await waitForRequests(h.api, sub.body.id, 1);
    // 4900 - 10% = 4410, plus 20% tax on that: 882.
    expect(await lines(first.id)).toEqual([
      ['recurring', 4900],
      ['discount', -490],
      ['tax', 882],
    ]);
    expect(first).toMatchObject({ totalMinor: 5292 });
    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);

    // Next period: the coupon is spent, the tax stays, on the fee and the usage alike.
    await talk(sub.body.id, f.clientId, 15 * 60);
    const anchor = Date.parse((await subscriptionRow(h.api, sub.body.id)).startAt);
    await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, 1));
    const [, second] = await waitForRequests(h.api, sub.body.id, 2);
    expect(await lines(second.id)).toEqual([
      ['recurring', 4900],
      ['usage', 150],
      ['tax', 1010],
    ]);
    expect(second).toMatchObject({ totalMinor: 6060 });
    await h.api.call('POST', `/v1/subscriptions/${sub.body.id}/cancel`, { when: 'now' });
  });

  it('cancel now issues the final usage request at once, without a fee', async () => {
    const f = await started();
    await sleepUntil(h.env, f.anchor + 3 * DAY_MS);
    await talk(f.subscriptionId, f.clientId, 20 * 60);
    const res = await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, {
      when: 'now',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('canceled');
    // Already stored when the cancel answers: no waiting.
    const all = await requestsOf(h.api, f.subscriptionId);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({
      periodIndex: 0,
      totalMinor: 200,
      status: 'pending',
      issuedAt: res.body.canceledAt,
    });
    expect(await lines(all[1].id)).toEqual([['usage', 200]]);
  });

  it('cancel at the period end issues the final usage request at renewal, and no next fee', async () => {
    const f = await started();
    await talk(f.subscriptionId, f.clientId, 30 * 60);
    const res = await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, {
      when: 'period_end',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    // Not before the period ends.
    expect(await requestsOf(h.api, f.subscriptionId)).toHaveLength(1);

    const end = boundaryMs(f.anchor, MONTHLY, 1);
    await sleepUntil(h.env, end + DAY_MS);
    await waitForStatus(h.api, f.subscriptionId, 'canceled');
    const all = await requestsOf(h.api, f.subscriptionId);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ periodIndex: 0, totalMinor: 300, issuedAt: iso(end) });
    expect(await lines(all[1].id)).toEqual([['usage', 300]]);
  });
});
