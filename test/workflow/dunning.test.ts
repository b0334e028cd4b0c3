/**
 * Manual collection and dunning on the time-skipping server: overdue at the due date, past due,
 * paid and active again; blocked at the grace end, still blocked when paid, canceled, and a new
 * subscription active; cancel at period end and now. Access and the event feed follow each step.
 */
import { describe, expect, it } from 'vitest';
import { insertPaymentRequest } from '../../db/queries/payment-requests';
import {
  CurrentPeriodEndAttr,
  SubscriptionStatusAttr,
  subscriptionWorkflowId,
} from '../../workflows/definitions';
import {
  DAY_MS,
  access,
  iso,
  liveState,
  mark,
  requestsOf,
  sleepUntil,
  useHarness,
  startSubscription,
  subscriptionRow,
  waitFor,
  waitForRequests,
  waitForStatus,
  cancelNow,
  subscribe,
} from './harness';

const h = useHarness();

async function eventTypes(clientId: string): Promise<string[]> {
  const res = await h.api.call('GET', `/v1/events?clientId=${clientId}&limit=100`);
  expect(res.status).toBe(200);
  return (res.body.data as any[]).map((e) => e.type).reverse();
}

async function searchAttributes(subscriptionId: string) {
  const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
  return (await handle.describe()).typedSearchAttributes;
}

async function setup(fields: Record<string, unknown> = {}) {
  const { plan, client, sub, first } = await subscribe(h.api, {
    plan: { flatFeeMinor: 3000, dueDays: 7, graceDays: 5, ...fields },
  });
  const t0 = Date.parse(first.issuedAt);
  await waitFor(async () => (await access(h.api, client.id)).allowed, 'access allowed');
  return { plan, client, sub, first, t0 };
}

describe('dunning', () => {
  it('past due at the due date, then paid, then active again', async () => {
    const { client, sub, first, t0 } = await setup();
    expect(first).toMatchObject({
      status: 'pending',
      totalMinor: 3000,
      dueAt: iso(t0 + 7 * DAY_MS),
      graceEndsAt: iso(t0 + 12 * DAY_MS),
    });

    await sleepUntil(h.env, t0 + 7 * DAY_MS);
    await waitForStatus(h.api, sub.id, 'past_due');
    expect((await requestsOf(h.api, sub.id))[0].status).toBe('overdue');
    // Operators find it by status in the Temporal UI.
    await waitFor(
      async () => (await searchAttributes(sub.id)).get(SubscriptionStatusAttr) === 'past_due',
      'SubscriptionStatus past_due',
    );
    expect((await searchAttributes(sub.id)).get(CurrentPeriodEndAttr)?.toISOString()).toBe(
      (await subscriptionRow(h.api, sub.id)).currentPeriodEnd,
    );
    await waitFor(async () => !(await access(h.api, client.id)).allowed, 'access paused');
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: ['payment_overdue'],
    });

    // A pack request never moves the subscription: marked directly, status stays past_due.
    const { request: pack } = await insertPaymentRequest(h.db.sql, {
      agencyId: h.api.agencyId,
      clientId: client.id,
      subscriptionId: null,
      type: 'pack',
      periodIndex: null,
      status: 'pending',
      draft: {
        currency: 'USD',
        lines: [],
        subtotalMinor: 500,
        discountMinor: 0,
        taxMinor: 0,
        totalMinor: 500,
      },
      issuedAt: new Date(t0),
      dueAt: new Date(t0 + DAY_MS),
      graceEndsAt: null,
      idempotencyKey: `pack-test-${sub.id}`,
    });
    const packPaid = await mark(h.api, pack.id, 'paid', 'cash');
    expect(packPaid.status).toBe(200);
    expect(packPaid.body).toMatchObject({ status: 'paid', externalReference: 'cash' });
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('past_due');

    const paid = await mark(h.api, first.id, 'paid', 'wire-20270107');
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', externalReference: 'wire-20270107' });
    // The update answers once the workflow stored it: the read model is already current.
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('active');
    expect(await access(h.api, client.id)).toMatchObject({ allowed: true, reasons: [] });
    await waitFor(
      async () => (await searchAttributes(sub.id)).get(SubscriptionStatusAttr) === 'active',
      'SubscriptionStatus active again',
    );

    // Past the grace end nothing happens: it was paid in time.
    await sleepUntil(h.env, t0 + 13 * DAY_MS);
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('active');
    expect((await liveState(h, sub.id)).nextTimer?.kind).toBe('period_end');

    // Marking it again is a conflict that names the state; unknown status is a 400.
    const again = await mark(h.api, first.id, 'paid');
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already paid');
    expect((await mark(h.api, first.id, 'refunded')).status).toBe(400);
    expect((await mark(h.api, 'req_nope', 'paid')).status).toBe(404);
    const other = await h.api.newAgency('Other');
    const foreign = await h.api.call(
      'POST',
      `/v1/payment-requests/${first.id}/mark`,
      { status: 'paid' },
      other.key,
    );
    expect(foreign.status).toBe(404);

    expect(await eventTypes(client.id)).toEqual(
      expect.arrayContaining([
        'payment_request.issued',
        'subscription.active',
        'payment_request.overdue',
        'subscription.past_due',
        'payment_request.paid',
        'access.changed',
      ]),
    );
  });

  it('blocked at the grace end, still blocked when paid, canceled, then a new one is active', async () => {
    const { plan, client, sub, first, t0 } = await setup();
    await sleepUntil(h.env, t0 + 12 * DAY_MS);
    await waitForStatus(h.api, sub.id, 'blocked');
    await waitFor(
      async () => (await access(h.api, client.id)).reasons.includes('subscription_blocked'),
      'blocked access',
    );
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: ['subscription_blocked'],
    });

    // Blocked is not billed again: the next period opens without a request.
    const periodEnd = Date.parse((await subscriptionRow(h.api, sub.id)).currentPeriodEnd);
    await sleepUntil(h.env, periodEnd + 3_600_000);
    await waitFor(async () => (await subscriptionRow(h.api, sub.id)).currentPeriodIndex === 1);
    expect(await requestsOf(h.api, sub.id)).toHaveLength(1);

    const paid = await mark(h.api, first.id, 'paid');
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('paid');
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('blocked');
    expect((await access(h.api, client.id)).reasons).toEqual(['subscription_blocked']);

    // A blocked subscription cannot change in place, nor can a second one start beside it.
    const change = await h.api.call('POST', `/v1/subscriptions/${sub.id}/change`, {
      rateMinorPerMinute: '30',
    });
    expect(change.status).toBe(409);
    const twice = await h.api.call('POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
    });
    expect(twice.status).toBe(409);

    const canceled = await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, {
      when: 'now',
      reason: 'blocked for non-payment',
    });
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    expect(canceled.body).toMatchObject({
      status: 'canceled',
      cancelReason: 'blocked for non-payment',
    });
    expect(await access(h.api, client.id)).toMatchObject({
      allowed: false,
      reasons: ['no_subscription'],
    });
    const result = await h.env.client.workflow.getHandle(subscriptionWorkflowId(sub.id)).result();
    expect(result.status).toBe('canceled');

    const next = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    const [req] = await waitForRequests(h.api, next.id, 1);
    expect(req).toMatchObject({ periodIndex: 0, totalMinor: 3000, status: 'pending' });
    await waitForStatus(h.api, next.id, 'active');
    await waitFor(async () => (await access(h.api, client.id)).allowed, 'access back');

    const types = await eventTypes(client.id);
    for (const t of [
      'payment_request.overdue',
      'subscription.past_due',
      'subscription.blocked',
      'payment_request.paid',
      'subscription.canceled',
      'access.changed',
    ])
      expect(types).toContain(t);
    // Access went: resumed, overdue, blocked, no subscription, resumed.
    const changes = await h.api.call(
      'GET',
      `/v1/events?clientId=${client.id}&type=access.changed&limit=100`,
    );
    expect((changes.body.data as any[]).reverse().map((e) => e.data.reasons)).toEqual([
      [],
      ['payment_overdue'],
      ['subscription_blocked'],
      ['no_subscription'],
      [],
    ]);
  });

  it('cancels at the period end, without billing the next period', async () => {
    const { client, sub, first, t0 } = await setup();
    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
    const res = await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, {
      when: 'period_end',
      reason: 'switching provider',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    const periodEnd = Date.parse(res.body.currentPeriodEnd);
    expect(periodEnd).toBeGreaterThan(t0);

    await sleepUntil(h.env, periodEnd + DAY_MS);
    await waitForStatus(h.api, sub.id, 'canceled');
    const row = await subscriptionRow(h.api, sub.id);
    expect(row).toMatchObject({
      canceledAt: iso(periodEnd),
      currentPeriodEnd: iso(periodEnd),
      cancelReason: 'switching provider',
    });
    expect(await requestsOf(h.api, sub.id)).toHaveLength(1);
    expect((await access(h.api, client.id)).reasons).toEqual(['no_subscription']);
    const again = await cancelNow(h.api, sub.id);
    expect(again.status).toBe(409);
  });

  it('cancels now; an unpaid request of the ended subscription can still be marked', async () => {
    const { sub, first, t0 } = await setup();
    await sleepUntil(h.env, t0 + 3 * DAY_MS);
    const res = await cancelNow(h.api, sub.id);
    expect(res.status).toBe(200);
    const now = await h.env.currentTimeMs();
    expect(res.body.status).toBe('canceled');
    expect(Date.parse(res.body.canceledAt)).toBeLessThanOrEqual(now);
    expect(Date.parse(res.body.canceledAt)).toBeGreaterThanOrEqual(t0 + 3 * DAY_MS);
    expect(res.body.currentPeriodEnd).toBe(res.body.canceledAt);

    // The workflow has ended: the request is marked in Postgres directly.
    const paid = await mark(h.api, first.id, 'paid', 'late-cheque');
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', externalReference: 'late-cheque' });
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('canceled');
  });

  it('a refused mark is refused by the validator: it never reaches the workflow history', async () => {
    const { sub, first } = await setup();
    const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(sub.id));
    const updateEvents = async () => {
      const { events } = await handle.fetchHistory();
      return (events ?? []).filter(
        (e) =>
          e.workflowExecutionUpdateAcceptedEventAttributes ||
          e.workflowExecutionUpdateCompletedEventAttributes,
      ).length;
    };
    const before = await updateEvents();
    expect((await mark(h.api, first.id, 'failed')).status).toBe(200);
    const afterFailed = await updateEvents();
    expect(afterFailed).toBe(before + 2); // accepted + completed
    expect((await mark(h.api, first.id, 'failed')).status).toBe(409);
    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
    expect((await mark(h.api, first.id, 'paid')).status).toBe(409);
    expect((await mark(h.api, first.id, 'canceled')).status).toBe(409);
    expect(await updateEvents()).toBe(afterFailed + 2);
    await cancelNow(h.api, sub.id);
  });

  it('a failed payment keeps the request open; paid later it clears', async () => {
    const { sub, first, t0 } = await setup();
    const failed = await mark(h.api, first.id, 'failed', 'card-declined');
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('failed');
    expect((await liveState(h, sub.id)).openRequests.map((r) => r.status)).toEqual(['failed']);
    await sleepUntil(h.env, t0 + 8 * DAY_MS);
    await waitForStatus(h.api, sub.id, 'past_due');
    expect((await mark(h.api, first.id, 'failed')).status).toBe(409);
    expect((await mark(h.api, first.id, 'paid')).status).toBe(200);
    expect((await subscriptionRow(h.api, sub.id)).status).toBe('active');
    expect((await liveState(h, sub.id)).openRequests).toEqual([]);
    await cancelNow(h.api, sub.id);
  });
});
