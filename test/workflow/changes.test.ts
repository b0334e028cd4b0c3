/**
 * Changes to a running subscription on the time-skipping server, with exact amounts: a rate
 * change takes effect at the next period (the closed period's usage keeps its rate), a plan
 * switch bills the new plan from the next period, coupons discount once, forever or for three
 * periods, and can be attached and removed.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import type { Client } from '@temporalio/client';
import { deliverRateChange } from '../../services/client-rates';
import {
  claimOwedRateChanges,
  getRateChange,
  queueRateChange,
} from '../../db/queries/rate-changes';
import { sweepRateChanges } from '../../background/rate-change-sweeper';
import { boundaryMs } from '../../billing/periods';
import { PlanIdAttr, subscriptionWorkflowId } from '../../workflows/definitions';
import {
  createClient,
  createPlan,
  iso,
  liveState,
  mark,
  requestsOf,
  sleepUntil,
  useHarness,
  startSubscription,
  subscriptionRow,
  waitForRequests,
  MONTHLY,
  anchorOf,
  cancelNow,
  payPending,
  subscribe,
} from './harness';

const h = useHarness();

/** A running subscription billing usage at its client's rate of 25, its first request issued. */
const rateSubscription = () =>
  subscribe(h.api, {
    plan: { flatFeeMinor: 1000, overageRateMinorPerMinute: '20' },
    client: { rateMinorPerMinute: '25' },
  });

/** How many `subscription.change_scheduled` events the subscription has. */
async function scheduledChanges(subscriptionId: string) {
  const [row] = await h.db.sql<{ n: number }[]>`
    select count(*)::int as n from events
    where type = 'subscription.change_scheduled' and subject_id = ${subscriptionId}`;
  return row!.n;
}

async function linesOf(requestId: string) {
  const res = await h.api.call('GET', `/v1/payment-requests/${requestId}`);
  return (res.body.lines as any[]).map((l) => [l.kind, l.unitAmountMinor, l.amountMinor]);
}

async function coupon(fields: Record<string, unknown>) {
  const res = await h.api.call('POST', '/v1/coupons', { name: 'Promo', ...fields });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe('changes to a running subscription', () => {
  // First in the file: usage is posted at the real clock, before the test server's clock moves.
  it('a rate change takes effect at the next period; the closed period keeps its rate', async () => {
    const { client, sub, first } = await subscribe(h.api, {
      plan: { flatFeeMinor: 1000, includedMinutes: 0, overageRateMinorPerMinute: '20' },
      client: { rateMinorPerMinute: '25' },
    });
    const anchor = await anchorOf(h.api, sub.id);
    const end0 = boundaryMs(anchor, MONTHLY, 1);

    // 10 minutes in period 0, through the usage API.
    const usage = await h.api.call(
      'POST',
      '/v1/usage',
      {
        events: [
          {
            id: `call-${sub.id}`,
            client: client.id,
            metric: 'voice_seconds',
            quantity: 600,
            time: new Date(Math.max(anchor, Date.now()) + 1000).toISOString(),
          },
        ],
      },
      h.api.ingestKey,
    );
    expect(usage.status, JSON.stringify(usage.body)).toBeLessThan(300);
    expect(usage.body.accepted).toBe(1);

    const below = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '10',
    });
    expect(below.status).toBe(400);
    expect(below.body.error.details[0].field).toBe('rateMinorPerMinute');

    const change = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '40',
    });
    expect(change.status, JSON.stringify(change.body)).toBe(200);
    expect(change.body.pendingChange).toMatchObject({
      rateMinorPerMinute: '40',
      effectiveFromPeriodIndex: 1,
      effectiveAtMs: end0,
    });
    const live = await liveState(h, sub.id);
    expect(live.rateMinorPerMinute).toBe('25');
    expect(live.pendingChange).toMatchObject({
      rateMinorPerMinute: '40',
      effectiveFromPeriodIndex: 1,
      effectiveAt: iso(end0),
    });

    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
    await sleepUntil(h.env, end0);
    const [, second] = await waitForRequests(h.api, sub.id, 2);
    // Period 0's 10 minutes at the rate of period 0 (25), not the new one.
    expect(await linesOf(second.id)).toEqual([
      ['recurring', '1000', 1000],
      ['usage', '25', 250],
    ]);
    expect(second.totalMinor).toBe(1250);
    const after = await liveState(h, sub.id);
    expect(after).toMatchObject({ periodIndex: 1, rateMinorPerMinute: '40', pendingChange: null });
    const row = await subscriptionRow(h.api, sub.id);
    expect(row.terms.rateMinorPerMinute).toBe('40');
    expect(row.pendingChange).toBeNull();

    // 10 minutes in period 1 are billed at 40. (Stored directly: the usage API refuses times
    // ahead of the real clock, which the test server's clock has left behind.)
    await h.db.sql`
      insert into usage_events (agency_id, event_id, client_id, subscription_id, metric, quantity, occurred_at)
      values (${h.api.agencyId}, ${`late-${sub.id}`}, ${client.id}, ${sub.id}, 'voice_seconds', 600,
        ${new Date(end0 + 60_000)})`;
    await payPending(h.api, sub.id);
    await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, 2));
    const [, , third] = await waitForRequests(h.api, sub.id, 3);
    expect(await linesOf(third.id)).toEqual([
      ['recurring', '1000', 1000],
      ['usage', '40', 400],
    ]);
    await cancelNow(h.api, sub.id);
  });

  it('a client rate change reaches the running subscription from its next period', async () => {
    const { client, sub } = await rateSubscription();
    // Through an API whose Temporal does not answer, the client still changes, and the rate is
    // owed to the subscription in the same transaction: the worker's sweeper delivers it.
    const cut = createApp({
      sql: h.db.sql,
      temporal: unreachableTemporalClient(),
      log: createLogger('silent'),
      platformRateMinorPerMinute: '15',
      adminKey: undefined,
      stripe: null,
    });
    const patchWhileDown = (rateMinorPerMinute: string) =>
      cut.request(`/v1/clients/${client.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${h.api.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rateMinorPerMinute }),
      });
    // A change that only the workflow can make is refused as retryable, changing nothing.
    const cancelWhileDown = await cut.request(`/v1/subscriptions/${sub.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.api.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ when: 'now' }),
    });
    expect(cancelWhileDown.status).toBe(503);
    expect(((await cancelWhileDown.json()) as { error: { code: string } }).error.code).toBe(
      'unavailable',
    );
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('active');
    expect((await patchWhileDown('28')).status).toBe(200);
    expect((await patchWhileDown('30')).status).toBe(200);
    expect((await h.api.call('GET', `/v1/clients/${client.id}`)).body.rateMinorPerMinute).toBe(
      '30',
    );
    expect((await liveState(h, sub.id)).pendingChange).toBeNull();
    // The latest rate wins: one delivery, of 30.
    expect(await sweepRateChanges(h.db.sql, h.env.client, { olderThanMs: 0 })).toBe(1);
    const live = await liveState(h, sub.id);
    expect(live.rateMinorPerMinute).toBe('25');
    expect(live.pendingChange).toMatchObject({
      rateMinorPerMinute: '30',
      effectiveFromPeriodIndex: 1,
    });
    expect(await sweepRateChanges(h.db.sql, h.env.client, { olderThanMs: 0 })).toBe(0);
    // Delivered twice (two sweepers, or the API racing one): the workflow takes it once.
    await h.db.sql`update rate_change_outbox set delivered_version = 0`;
    expect(await sweepRateChanges(h.db.sql, h.env.client, { olderThanMs: 0 })).toBe(1);
    expect(await scheduledChanges(sub.id)).toBe(1);

    // With Temporal up, the clients route tells the subscription before it answers.
    const patched = await h.api.call('PATCH', `/v1/clients/${client.id}`, {
      rateMinorPerMinute: '35',
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await liveState(h, sub.id)).pendingChange).toMatchObject({
      rateMinorPerMinute: '35',
      effectiveFromPeriodIndex: 1,
    });
    const [owed] = await h.db.sql`
      select count(*)::int as n from rate_change_outbox where version > delivered_version`;
    expect(owed!.n).toBe(0);
    await cancelNow(h.api, sub.id);
  });

  it('rate deliveries landing out of order end on the latest rate', async () => {
    const { sub } = await rateSubscription();
    await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '28'));
    // Delivery A of 28 is slow: before its update lands, 30 is queued and delivered (B), so A's
    // 28 lands after B's 30.
    let overtaken = false;
    const slow = {
      workflow: h.env.client.workflow,
      withDeadline: async <R>(_deadline: number, send: () => Promise<R>) => {
        if (!overtaken) {
          overtaken = true;
          await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '30'));
          await deliverRateChange({ sql: h.db.sql, temporal: h.env.client }, sub.id);
          expect((await liveState(h, sub.id)).pendingChange!.rateMinorPerMinute).toBe('30');
        }
        return send();
      },
    } as unknown as Client;
    await deliverRateChange({ sql: h.db.sql, temporal: slow }, sub.id);
    // A's 28 landed last but was decided before 30: the workflow ignores it and ends on 30.
    expect((await liveState(h, sub.id)).pendingChange!.rateMinorPerMinute).toBe('30');
    expect(await getRateChange(h.db.sql, sub.id)).toMatchObject({
      version: 2,
      deliveredVersion: 2,
    });
    // A sweeper claims what it delivers: a second sweeper finds nothing to take meanwhile.
    await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '32'));
    await h.db.sql`update rate_change_outbox set updated_at = now() - interval '1 minute'`;
    const claim = () => claimOwedRateChanges(h.db.sql, { olderThanMs: 30_000, limit: 10 });
    expect(await claim()).toEqual([sub.id]);
    expect(await claim()).toEqual([]);
    await cancelNow(h.api, sub.id);
    // Ended: the owed rate is dropped, not retried forever.
    await deliverRateChange({ sql: h.db.sql, temporal: h.env.client }, sub.id);
    expect(await getRateChange(h.db.sql, sub.id)).toBeNull();
  });

  it('a client rate owed from before a change of the subscription\u2019s own rate does not override it', async () => {
    const { client, sub } = await rateSubscription();
    // A client rate of 28 is owed (its PATCH found Temporal unreachable) when the agency sets the
    // subscription's own rate to 40.
    await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '28'));
    const changed = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '40',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await liveState(h, sub.id)).pendingChange!.rateMinorPerMinute).toBe('40');
    // The sweeper delivers the older 28 afterwards: the workflow keeps 40, with no new event.
    expect(await sweepRateChanges(h.db.sql, h.env.client, { olderThanMs: 0 })).toBe(1);
    expect((await liveState(h, sub.id)).pendingChange!.rateMinorPerMinute).toBe('40');
    expect(await scheduledChanges(sub.id)).toBe(1);
    // A client rate decided after it still reaches the subscription.
    const patched = await h.api.call('PATCH', `/v1/clients/${client.id}`, {
      rateMinorPerMinute: '45',
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await liveState(h, sub.id)).pendingChange!.rateMinorPerMinute).toBe('45');
    await cancelNow(h.api, sub.id);
  });

  it('of two client rate changes, the one committed last is decided last', async () => {
    const { sub } = await rateSubscription();
    // A begins first but queues its 30 after B (begun later) queued and committed 35: the rate
    // owed is A's, and it must count as decided after B's, or the workflow would ignore it.
    let decidedB = 0;
    await h.db.sql.begin(async (a) => {
      await a`select 1`;
      await new Promise((r) => setTimeout(r, 20));
      await h.db.sql.begin((b) => queueRateChange(b, sub.id, '35'));
      decidedB = (await getRateChange(h.db.sql, sub.id))!.decidedAtMs;
      await queueRateChange(a, sub.id, '30');
    });
    const owed = (await getRateChange(h.db.sql, sub.id))!;
    expect(owed.rateMinorPerMinute).toBe('30');
    expect(owed.decidedAtMs).toBeGreaterThan(decidedB);
    await cancelNow(h.api, sub.id);
    // Ended: its owed rate is dropped (not left for the next test's sweep).
    await deliverRateChange({ sql: h.db.sql, temporal: h.env.client }, sub.id);
  });

  it('a rate change racing a subscription start is not lost: the start takes the committed rate', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 1000, overageRateMinorPerMinute: '20' });
    const client = await createClient(h.api, { rateMinorPerMinute: '25' });
    // A change to the client in flight (as PATCH holds it): locked, rate written, not committed.
    let commit!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const change = h.db.sql.begin(async (tx) => {
      await tx`select 1 from clients where id = ${client.id} for update`;
      await tx`update clients set rate_minor_per_minute = 40 where id = ${client.id}`;
      locked();
      await new Promise<void>((r) => (commit = r));
    });
    await isLocked;
    const starting = startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await new Promise((r) => setTimeout(r, 300));
    commit();
    await change;
    const sub = await starting;
    // The subscription was inserted after the change committed, with its rate.
    expect((await subscriptionRow(h.api, sub.id)).terms.rateMinorPerMinute).toBe('40');
    expect((await liveState(h, sub.id)).rateMinorPerMinute).toBe('40');
    await cancelNow(h.api, sub.id);
  });

  it('a plan switch bills the new plan from the next period, on its own rhythm', async () => {
    const monthlyPlan = await createPlan(h.api, { flatFeeMinor: 4900 });
    const weeklyPlan = await createPlan(h.api, { flatFeeMinor: 1500, rhythm: 'week' });
    const euroPlan = await createPlan(h.api, { flatFeeMinor: 1500, currency: 'EUR' });
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: monthlyPlan.id });
    await waitForRequests(h.api, sub.id, 1);
    const anchor = await anchorOf(h.api, sub.id);

    const euro = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      planId: euroPlan.id,
    });
    expect(euro.status).toBe(422);
    expect(euro.body.error.details[0].field).toBe('planId');
    expect((await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {})).status).toBe(400);

    const res = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      planId: weeklyPlan.id,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.planId).toBe(monthlyPlan.id);

    const end0 = boundaryMs(anchor, MONTHLY, 1);
    await payPending(h.api, sub.id);
    await sleepUntil(h.env, end0);
    const [, second] = await waitForRequests(h.api, sub.id, 2);
    expect(second.totalMinor).toBe(1500);
    const detail = await h.api.call('GET', `/v1/payment-requests/${second.id}`);
    expect(detail.body.lines[0]).toMatchObject({
      periodStart: iso(end0),
      periodEnd: iso(end0 + 7 * 86_400_000),
    });
    const row = await subscriptionRow(h.api, sub.id);
    expect(row).toMatchObject({
      planId: weeklyPlan.id,
      currentPeriodEnd: iso(end0 + 7 * 86_400_000),
    });
    const described = await h.env.client.workflow
      .getHandle(subscriptionWorkflowId(sub.id))
      .describe();
    expect(described.typedSearchAttributes.get(PlanIdAttr)).toBe(weeklyPlan.id);

    await payPending(h.api, sub.id);
    await sleepUntil(h.env, end0 + 7 * 86_400_000);
    const all = await waitForRequests(h.api, sub.id, 3);
    expect(all[2]).toMatchObject({ totalMinor: 1500, issuedAt: iso(end0 + 7 * 86_400_000) });
    await cancelNow(h.api, sub.id);
  });

  it('coupons: once, forever, and for three periods', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 4900 });
    const once = await coupon({ kind: 'percent', percentOff: '20', duration: 'once' });
    const forever = await coupon({
      kind: 'fixed',
      amountOffMinor: 500,
      currency: 'USD',
      duration: 'forever',
    });
    const three = await coupon({
      kind: 'percent',
      percentOff: '50',
      duration: 'repeating',
      durationPeriods: 3,
    });

    const subs: Record<string, { id: string; anchor: number }> = {};
    for (const [name, couponId] of [
      ['once', once],
      ['three', three],
    ] as const) {
      const client = await createClient(h.api);
      const sub = await startSubscription(h.api, {
        clientId: client.id,
        planId: plan.id,
        couponId,
      });
      await waitForRequests(h.api, sub.id, 1);
      subs[name] = {
        id: sub.id,
        anchor: await anchorOf(h.api, sub.id),
      };
    }
    // `forever` is attached to a running subscription: it applies from the next request.
    const client = await createClient(h.api);
    const f = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, f.id, 1);
    const attached = await h.api.call('POST', `/v1/subscriptions/${f.id}/coupon`, {
      couponId: forever,
    });
    expect(attached.status, JSON.stringify(attached.body)).toBe(200);
    expect(attached.body.coupon).toMatchObject({ couponId: forever, remaining: null });
    subs.forever = { id: f.id, anchor: await anchorOf(h.api, f.id) };

    // All three started at (nearly) the same moment: renew them together, four periods.
    for (let n = 1; n <= 4; n++) {
      for (const s of Object.values(subs)) await payPending(h.api, s.id);
      await sleepUntil(
        h.env,
        Math.max(...Object.values(subs).map((s) => boundaryMs(s.anchor, MONTHLY, n))),
      );
      for (const s of Object.values(subs)) await waitForRequests(h.api, s.id, n + 1);
    }
    const totals = async (id: string) => (await requestsOf(h.api, id)).map((r) => r.totalMinor);
    expect(await totals(subs.once!.id)).toEqual([3920, 4900, 4900, 4900, 4900]);
    expect(await totals(subs.three!.id)).toEqual([2450, 2450, 2450, 4900, 4900]);
    expect(await totals(subs.forever!.id)).toEqual([4900, 4400, 4400, 4400, 4400]);
    const [, discounted] = await requestsOf(h.api, subs.forever!.id);
    expect(await linesOf(discounted.id)).toEqual([
      ['recurring', '4900', 4900],
      ['discount', null, -500],
    ]);
    expect((await subscriptionRow(h.api, subs.three!.id)).coupon).toBeNull();

    // Removed, the next request is full price; another currency's fixed coupon is refused.
    const removed = await h.api.call('DELETE', `/v1/subscriptions/${f.id}/coupon`);
    expect(removed.status).toBe(200);
    expect(removed.body.coupon).toBeNull();
    const euro = await coupon({
      kind: 'fixed',
      amountOffMinor: 500,
      currency: 'EUR',
      duration: 'once',
    });
    const wrong = await h.api.call('POST', `/v1/subscriptions/${f.id}/coupon`, { couponId: euro });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details[0].field).toBe('couponId');
    await payPending(h.api, f.id);
    await sleepUntil(h.env, boundaryMs(subs.forever!.anchor, MONTHLY, 5));
    const all = await waitForRequests(h.api, f.id, 6);
    expect(all[5].totalMinor).toBe(4900);
    for (const s of Object.values(subs)) await cancelNow(h.api, s.id);
  });

  // Last in the file: it moves the test server's clock past a period end.
  it('a rate delivered after the period ended applies from the period after', async () => {
    const { sub, first } = await rateSubscription();
    const anchor = await anchorOf(h.api, sub.id);
    // Owed in period 0 (Temporal unreachable when the client changed), delivered in period 1.
    await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '30'));
    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
    await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, 1));
    await waitForRequests(h.api, sub.id, 2);
    expect(await sweepRateChanges(h.db.sql, h.env.client, { olderThanMs: 0 })).toBe(1);
    const live = await liveState(h, sub.id);
    expect(live).toMatchObject({ periodIndex: 1, rateMinorPerMinute: '25' });
    expect(live.pendingChange).toMatchObject({
      rateMinorPerMinute: '30',
      effectiveFromPeriodIndex: 2,
    });
    await cancelNow(h.api, sub.id);
  });
});
