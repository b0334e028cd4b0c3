/**
 * Periods that issue no request (README, "Each period end"): `track_only` clients get periods
 * and reports, no requests; zero-amount requests are not issued, while a period with billable
 * usage still is; a scheduled subscription canceled before its start bills nothing. Real stack
 * on the time-skipping server, usage dispatched by hand.
 */
import { describe, expect, it } from 'vitest';
import { boundaryMs } from '../../billing/periods';
import { createFixture } from '../helpers/usage-fixtures';
import {
  DAY_MS,
  access,
  liveState,
  requestsOf,
  sleepUntil,
  storeUsage,
  useHarness,
  subscriptionRow,
  waitFor,
  waitForIdle,
  waitForRequests,
  MONTHLY,
} from './harness';

const h = useHarness();

let seq = 0;

/** Stores voice seconds at the test server's clock and signals the workflow, like the API. */
async function talk(clientId: string, seconds: number) {
  await storeUsage(h, [{ id: `u${++seq}`, client: clientId, quantity: seconds }]);
}

/** Moves the clock past boundary `n` and waits until the workflow has opened period `n`. */
async function renewTo(subscriptionId: string, anchor: number, n: number) {
  await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, n));
  await waitFor(
    async () => (await subscriptionRow(h.api, subscriptionId)).currentPeriodIndex === n,
    `period ${n}`,
  );
  await waitForIdle(subscriptionId);
}

async function history(clientId: string) {
  const res = await h.api.call('GET', `/v1/clients/${clientId}/usage/history`);
  expect(res.status).toBe(200);
  return (res.body.data as any[]).map((p) => [
    p.periodIndex,
    p.closed,
    p.usedSeconds,
    p.billableSeconds,
  ]);
}

describe('periods without a request', () => {
  it('track_only: periods renew and usage is reported, but no request is ever issued', async () => {
    const f = await createFixture(h.api, {
      plan: { flatFeeMinor: 2500, overageRateMinorPerMinute: '10', includedMinutes: 10 },
      client: { billingMode: 'track_only' },
    });
    const sub = f.subscriptionId;
    await waitFor(async () => (await access(h.api, f.clientId)).allowed, 'access allowed');
    await waitForIdle(sub);
    const anchor = Date.parse((await subscriptionRow(h.api, sub)).startAt);

    // 30 minutes against 10 included: 20 would be billable in a billed mode.
    await talk(f.clientId, 30 * 60);
    await waitFor(
      async () => (await liveState(h, sub)).usage.totalSeconds === 1800,
      'usage folded',
    );
    await renewTo(sub, anchor, 1);
    await renewTo(sub, anchor, 2);

    expect(await requestsOf(h.api, sub)).toEqual([]);
    const all = await h.api.call('GET', `/v1/payment-requests?clientId=${f.clientId}`);
    expect(all.status).toBe(200);
    expect(all.body.data).toEqual([]);
    expect((await liveState(h, sub)).openRequests).toEqual([]);
    expect(await history(f.clientId)).toEqual([
      [2, false, 0, 0],
      [1, true, 0, 0],
      [0, true, 1800, 1200],
    ]);
    expect(await subscriptionRow(h.api, sub)).toMatchObject({ status: 'active' });
    expect(await access(h.api, f.clientId)).toMatchObject({ allowed: true, reasons: [] });
    await h.api.call('POST', `/v1/subscriptions/${sub}/cancel`, { when: 'now' });
    expect(await requestsOf(h.api, sub)).toEqual([]);
  });

  it('a scheduled subscription canceled before its start bills nothing, then or later', async () => {
    const f = await createFixture(h.api, {
      plan: { flatFeeMinor: 2500 },
      startAt: new Date((await h.env.currentTimeMs()) + 10 * DAY_MS).toISOString(),
    });
    const sub = f.subscriptionId;
    await waitFor(async () => (await subscriptionRow(h.api, sub)).status === 'scheduled');
    const startAt = Date.parse((await subscriptionRow(h.api, sub)).startAt);
    const res = await h.api.call('POST', `/v1/subscriptions/${sub}/cancel`, { when: 'now' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('canceled');
    await sleepUntil(h.env, startAt + DAY_MS);
    expect(await requestsOf(h.api, sub)).toEqual([]);
    expect(await access(h.api, f.clientId)).toMatchObject({
      allowed: false,
      reasons: ['no_subscription'],
    });
  });

  it('zero-amount requests are not issued; a period with billable usage still is', async () => {
    const f = await createFixture(h.api, {
      plan: { flatFeeMinor: 0, overageRateMinorPerMinute: '10', includedMinutes: 0 },
    });
    const sub = f.subscriptionId;
    await waitFor(async () => (await access(h.api, f.clientId)).allowed, 'access allowed');
    await waitForIdle(sub);
    const anchor = Date.parse((await subscriptionRow(h.api, sub)).startAt);

    // Period 0: no fee, no usage: nothing at the start, nothing at its end.
    expect(await requestsOf(h.api, sub)).toEqual([]);
    await renewTo(sub, anchor, 1);
    expect(await requestsOf(h.api, sub)).toEqual([]);

    // Period 1: 60 minutes at 10 minor units a minute, billed in arrears at its end.
    await talk(f.clientId, 60 * 60);
    await waitFor(
      async () => (await liveState(h, sub)).usage.totalSeconds === 3600,
      'usage folded',
    );
    await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, 2));
    const [req] = await waitForRequests(h.api, sub, 1);
    expect(req).toMatchObject({ type: 'cycle', periodIndex: 2, totalMinor: 600 });
    const lines = (await h.api.call('GET', `/v1/payment-requests/${req.id}`)).body.lines as any[];
    expect(lines.map((l) => [l.kind, l.amountMinor])).toEqual([['usage', 600]]);
    expect(await requestsOf(h.api, sub)).toHaveLength(1);
    await h.api.call('POST', `/v1/subscriptions/${sub}/cancel`, { when: 'now' });
  });
});
