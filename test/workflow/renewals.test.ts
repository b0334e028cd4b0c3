/**
 * Renewals on the time-skipping server, with exact amounts and dates: twelve monthly periods,
 * a scheduled start, month-end clamping, weekly and yearly rhythms. Each period is one workflow
 * run (continue-as-new), whose history stays the same size however many periods have passed.
 */
import { describe, expect, it } from 'vitest';
import type { History } from '@temporalio/common/lib/proto-utils';
import { boundaryMs } from '../../billing/periods';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import { handoverDelayMs } from '../../workflows/subscription-rules';
import {
  DAY_MS,
  access,
  createClient,
  createPlan,
  iso,
  liveState,
  requestsOf,
  sleepUntil,
  useHarness,
  startSubscription,
  subscriptionRow,
  waitFor,
  waitForRequests,
  waitForStatus,
  MONTHLY,
  anchorOf,
  cancelNow,
  payPending,
  subscribe,
} from './harness';
import { runHistories } from '../../temporal/histories';

const h = useHarness();

/** Every run of a continued-as-new chain, oldest first, with its history. */
async function runChain(workflowId: string): Promise<History[]> {
  const histories: History[] = [];
  for await (const history of runHistories(h.env.client, workflowId)) histories.push(history);
  return histories;
}

describe('renewals', () => {
  it('bills twelve monthly periods, one request each, on the anchored dates', async () => {
    const { sub } = await subscribe(h.api, { plan: { flatFeeMinor: 4900 } });
    const anchor = await anchorOf(h.api, sub.id);

    for (let n = 1; n < 12; n++) {
      await payPending(h.api, sub.id);
      await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, n));
      await waitForRequests(h.api, sub.id, n + 1);
    }
    await payPending(h.api, sub.id);
    // The last renewal's run hands over within the hour after it.
    await h.env.sleep('1 hour');

    const requests = await requestsOf(h.api, sub.id);
    expect(requests).toHaveLength(12);
    requests.forEach((r, n) => {
      expect(r.periodIndex).toBe(n);
      expect(r.totalMinor).toBe(4900);
      expect(r.status).toBe('paid');
      expect(r.issuedAt).toBe(iso(boundaryMs(anchor, MONTHLY, n)));
      expect(Date.parse(r.dueAt) - Date.parse(r.issuedAt)).toBe(7 * DAY_MS);
    });
    const last = await h.api.call('GET', `/v1/payment-requests/${requests[11].id}`);
    expect(last.body.lines).toEqual([
      expect.objectContaining({
        kind: 'recurring',
        amountMinor: 4900,
        periodStart: iso(boundaryMs(anchor, MONTHLY, 11)),
        periodEnd: iso(boundaryMs(anchor, MONTHLY, 12)),
      }),
    ]);
    const row = await subscriptionRow(h.api, sub.id);
    expect(row).toMatchObject({
      status: 'active',
      currentPeriodIndex: 11,
      currentPeriodEnd: iso(boundaryMs(anchor, MONTHLY, 12)),
    });
    const closed = await h.db.sql`
      select index from periods where subscription_id = ${sub.id} and closed_at is not null order by index`;
    expect(closed.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // One run per period (a run renews, then hands over to the next within the hour); every
    // run in between holds the same steps, so the same history length, however many periods
    // have passed.
    const runs = await runChain(subscriptionWorkflowId(sub.id));
    expect(runs).toHaveLength(12);
    const sizes = runs.map((r) => r.events!.length);
    expect(new Set(sizes.slice(1, 11)).size, `history sizes ${sizes.join(',')}`).toBe(1);
    // Each hands over at the same moment after its renewal (fixed by the subscription id),
    // within the hour: the requests of a mass renewal come first, the new runs after.
    const handoverAfterRenewal = runs.slice(0, 11).map((r, k) => {
      const t = r.events!.at(-1)!.eventTime!;
      return (
        Number(t.seconds) * 1000 +
        Math.round((t.nanos ?? 0) / 1e6) -
        boundaryMs(anchor, MONTHLY, k + 1)
      );
    });
    const delay = handoverDelayMs(sub.id, 28 * DAY_MS);
    expect(delay).toBeLessThan(3_600_000);
    for (const d of handoverAfterRenewal) {
      expect(d).toBeGreaterThanOrEqual(delay);
      expect(d).toBeLessThan(delay + 5_000); // the workflow task that hands over
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    expect((await cancelNow(h.api, sub.id)).status).toBe(200);
  });

  it('a scheduled start sleeps until its date, then bills the first period', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 2000 });
    const client = await createClient(h.api);
    const startAt = (await h.env.currentTimeMs()) + 10 * DAY_MS + 3_600_000;
    const sub = await startSubscription(h.api, {
      clientId: client.id,
      planId: plan.id,
      startAt: iso(startAt),
    });
    await waitFor(async () => (await subscriptionRow(h.api, sub.id)).currentPeriodStart !== null);
    expect(await subscriptionRow(h.api, sub.id)).toMatchObject({
      status: 'scheduled',
      currentPeriodStart: iso(startAt),
    });
    const live = await liveState(h, sub.id);
    expect(live.nextTimer).toEqual({ kind: 'start', at: iso(startAt) });
    expect(await requestsOf(h.api, sub.id)).toEqual([]);
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: ['no_subscription'],
    });

    await sleepUntil(h.env, startAt);
    const [first] = await waitForRequests(h.api, sub.id, 1);
    expect(first).toMatchObject({ periodIndex: 0, totalMinor: 2000, issuedAt: iso(startAt) });
    await waitForStatus(h.api, sub.id, 'active');
    await waitFor(async () => (await access(h.api, client.id)).allowed, 'access allowed');
    expect((await cancelNow(h.api, sub.id)).status).toBe(200);
  });

  it('clamps month ends: Jan 31, Feb 29 (leap year), Mar 31, Apr 30', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 1000 });
    const client = await createClient(h.api);
    const startAt = Date.parse('2028-01-31T00:00:00.000Z');
    const sub = await startSubscription(h.api, {
      clientId: client.id,
      planId: plan.id,
      startAt: iso(startAt),
    });
    const boundaries = [
      '2028-01-31T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
      '2028-03-31T00:00:00.000Z',
      '2028-04-30T00:00:00.000Z',
    ];
    for (let n = 0; n < 3; n++) {
      await sleepUntil(h.env, Date.parse(boundaries[n]!));
      await waitForRequests(h.api, sub.id, n + 1);
      await payPending(h.api, sub.id);
    }
    const requests = await requestsOf(h.api, sub.id);
    expect(requests.map((r) => r.issuedAt)).toEqual(boundaries.slice(0, 3));
    const lines = await Promise.all(
      requests.map(async (r) => (await h.api.call('GET', `/v1/payment-requests/${r.id}`)).body),
    );
    expect(lines.map((r) => [r.lines[0].periodStart, r.lines[0].periodEnd])).toEqual([
      [boundaries[0], boundaries[1]],
      [boundaries[1], boundaries[2]],
      [boundaries[2], boundaries[3]],
    ]);
    expect((await cancelNow(h.api, sub.id)).status).toBe(200);
  });

  it('renews weekly and yearly rhythms on their own dates', async () => {
    const weekly = await createPlan(h.api, { flatFeeMinor: 1500, rhythm: 'week', dueDays: 3 });
    const yearly = await createPlan(h.api, { flatFeeMinor: 99000, rhythm: 'year', dueDays: 30 });
    const c1 = await createClient(h.api);
    const c2 = await createClient(h.api);
    const start = (await h.env.currentTimeMs()) + DAY_MS;
    const w = await startSubscription(h.api, {
      clientId: c1.id,
      planId: weekly.id,
      startAt: iso(start),
    });
    const y = await startSubscription(h.api, {
      clientId: c2.id,
      planId: yearly.id,
      startAt: iso(start),
    });
    for (let n = 0; n < 3; n++) {
      await sleepUntil(h.env, start + n * 7 * DAY_MS);
      await waitForRequests(h.api, w.id, n + 1);
      await payPending(h.api, w.id);
    }
    expect((await cancelNow(h.api, w.id)).status).toBe(200);
    expect((await requestsOf(h.api, w.id)).map((r) => [r.issuedAt, r.totalMinor])).toEqual([
      [iso(start), 1500],
      [iso(start + 7 * DAY_MS), 1500],
      [iso(start + 14 * DAY_MS), 1500],
    ]);

    await payPending(h.api, y.id);
    const nextYear = boundaryMs(start, { rhythm: 'year', intervalCount: 1 }, 1);
    await sleepUntil(h.env, nextYear);
    const yr = await waitForRequests(h.api, y.id, 2);
    expect(yr.map((r) => [r.issuedAt, r.totalMinor, r.periodIndex])).toEqual([
      [iso(start), 99000, 0],
      [iso(nextYear), 99000, 1],
    ]);
    expect(Date.parse(yr[1].dueAt) - nextYear).toBe(30 * DAY_MS);
    expect((await cancelNow(h.api, y.id)).status).toBe(200);
  });
});
