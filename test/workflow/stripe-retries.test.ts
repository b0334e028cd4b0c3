/**
 * Stripe retries on the time-skipping server. A stripe-mode auto-charge request is presented by
 * the real collector (stripe-mock behind the recording client, which has the card decline: a
 * 402 card_error, as Stripe answers a declined pay call), invoice.payment_failed arrives signed,
 * and the workflow charges again 3, then 5, then 7 days later, each pay call with its own key
 * on the connected account. All failed: past due, then blocked when the grace period (started
 * then) ends, or canceled (agency's failedPaymentAction). Paid on the second retry: active.
 */
import { describe, expect, it } from 'vitest';
import { collectorsFor } from '../../background/sweepers';
import { presentDueRequests } from '../../background/collection-presenter';
import { saveStripeAccount } from '../../db/queries/stripe';
import {
  signStripePayload,
  stripeEventBody,
  testStripePlatform,
  type RecordedStripeRequest,
} from '../helpers/stripe';
import {
  DAY_MS,
  sleepUntil,
  subscribe,
  subscriptionRow,
  useHarness,
  waitFor,
  waitForIdle,
  waitForStatus,
} from './harness';

const { platform, recorder } = testStripePlatform();
const h = useHarness({ stripe: platform, workerStripe: true, sweep: false });

/** Idempotency keys whose pay call Stripe answers paid; every other pay call is declined. */
const paysThatSucceed = new Set<string>();

const declined = (key: string) => ({
  status: 402,
  body: {
    error: {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: `Your card has insufficient funds. (${key.split(':').pop()})`,
    },
  },
});

recorder.answer = (r: RecordedStripeRequest) => {
  // stripe-mock answers one fixture id for every invoice: one per request here, as Stripe would.
  if (r.method === 'POST' && r.path === '/v1/invoices') {
    const id = `in_${r.params['metadata[tally_request_id]']}`;
    return { patch: (body) => ({ ...body, id }) };
  }
  const pay = /^\/v1\/invoices\/([^/]+)\/pay$/.exec(r.path);
  if (pay && r.idempotencyKey) {
    if (!paysThatSucceed.has(r.idempotencyKey)) return declined(r.idempotencyKey);
    return { patch: (body) => ({ ...body, id: pay[1], status: 'paid' }) };
  }
  return null;
};

const accountId = `acct_test_retries_${process.pid}`;
let connected = false;

async function connect(): Promise<void> {
  if (connected) return;
  connected = true;
  await saveStripeAccount(
    h.db.sql,
    { agencyId: h.api.agencyId, accountId, type: 'standard', generation: 1 },
    {
      chargesEnabled: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
      disabledReason: null,
    },
  );
}

const request = async (id: string) => {
  const res = await h.api.call('GET', `/v1/payment-requests/${id}`);
  expect(res.status).toBe(200);
  return res.body;
};

async function deliver(
  requestId: string,
  type: string,
  status: string,
  collectionMethod = 'charge_automatically',
) {
  const body = stripeEventBody({
    type,
    account: accountId,
    object: {
      id: `in_${requestId}`,
      object: 'invoice',
      status,
      collection_method: collectionMethod,
      metadata: { tally_request_id: requestId },
    },
  });
  const res = await h.api.app.request('/stripe/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body) },
    body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The pay calls made for a request's invoice, in order. */
const payCalls = (requestId: string) =>
  recorder.requests.filter(
    (r) => r.method === 'POST' && r.path === `/v1/invoices/in_${requestId}/pay`,
  );

async function eventTypes(clientId: string): Promise<string[]> {
  const res = await h.api.call('GET', `/v1/events?clientId=${clientId}&limit=100`);
  expect(res.status).toBe(200);
  return (res.body.data as any[]).map((e) => e.type).reverse();
}

/**
 * A stripe-mode auto-charge subscription whose first request the collector presented, its first
 * charge declined and invoice.payment_failed delivered: the first retry is planned.
 */
async function firstChargeFailed(failedPaymentAction: 'block' | 'cancel') {
  await connect();
  const set = await h.api.call('PATCH', '/v1/agency', { failedPaymentAction });
  expect(set.status).toBe(200);
  const s = await subscribe(h.api, {
    client: { billingMode: 'stripe', collectionMethod: 'charge_automatically' },
  });
  const collectors = collectorsFor(h.db.sql, { platform, platformRateMinorPerMinute: '15' });
  const presented = await presentDueRequests({ sql: h.db.sql, collectors });
  expect(presented.presented).toBeGreaterThanOrEqual(1);
  const id = s.first.id;
  expect(payCalls(id).map((c) => c.idempotencyKey)).toEqual([`collect:${id}:pay`]);
  expect((await request(id)).lastFailureReason).toBe('Your card has insufficient funds. (pay)');

  await deliver(id, 'invoice.payment_failed', 'open');
  await waitFor(async () => (await request(id)).nextRetryAt !== null, 'first retry planned');
  await waitForIdle(s.sub.id);
  const failed = await request(id);
  expect(failed.status).toBe('failed');
  // 3 days after the failure, to the millisecond (both the workflow's clock).
  expect(Date.parse(failed.nextRetryAt) - Date.parse(failed.failedAt)).toBe(3 * DAY_MS);
  return { ...s, id };
}

/** Lets the planned retry run; returns the request once the workflow stored its outcome. */
async function runRetry(subscriptionId: string, id: string) {
  const before = await request(id);
  const at = Date.parse(before.nextRetryAt);
  const calls = payCalls(id).length;
  await sleepUntil(h.env, at + 1_000);
  await waitFor(async () => payCalls(id).length > calls, 'retry pay call');
  await waitFor(
    async () => (await request(id)).nextRetryAt !== before.nextRetryAt,
    'retry outcome stored',
  );
  await waitForIdle(subscriptionId);
  return { at, request: await request(id) };
}

const within = (ms: number, expected: number) => {
  expect(ms).toBeGreaterThanOrEqual(expected);
  expect(ms).toBeLessThan(expected + 60_000);
};

describe('Stripe retries', () => {
  it('retries at +3, +5, +7 days with a key each; all failed: past due, then blocked at the grace end', async () => {
    const s = await firstChargeFailed('block');

    const r1 = await runRetry(s.sub.id, s.id);
    expect(r1.request).toMatchObject({
      status: 'failed',
      lastFailureReason: 'Your card has insufficient funds. (pay.retry1)',
    });
    within(Date.parse(r1.request.nextRetryAt) - r1.at, 5 * DAY_MS);

    const r2 = await runRetry(s.sub.id, s.id);
    expect(r2.request.lastFailureReason).toBe('Your card has insufficient funds. (pay.retry2)');
    within(Date.parse(r2.request.nextRetryAt) - r2.at, 7 * DAY_MS);
    // Past the due date (7 days) and the plan's grace end (12 days) meanwhile: past due, never
    // blocked while retries are planned.
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('past_due');

    const r3 = await runRetry(s.sub.id, s.id);
    expect(r3.request).toMatchObject({
      status: 'failed',
      nextRetryAt: null,
      lastFailureReason: 'Your card has insufficient funds. (pay.retry3)',
    });
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('past_due');
    // The grace period (5 days) starts when the last retry failed.
    const graceEnd = Date.parse(r3.request.graceEndsAt);
    within(graceEnd - r3.at, 5 * DAY_MS);

    await sleepUntil(h.env, graceEnd - 60_000);
    await waitForIdle(s.sub.id);
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('past_due');
    await sleepUntil(h.env, graceEnd + 1_000);
    await waitForStatus(h.api, s.sub.id, 'blocked');

    // One pay call per attempt, each with its own key, all on the connected account.
    const calls = payCalls(s.id);
    expect(calls.map((c) => c.idempotencyKey)).toEqual([
      `collect:${s.id}:pay`,
      `collect:${s.id}:pay.retry1`,
      `collect:${s.id}:pay.retry2`,
      `collect:${s.id}:pay.retry3`,
    ]);
    expect(new Set(calls.map((c) => c.account))).toEqual(new Set([accountId]));

    // Paying later does not unblock (as for manual collection).
    await deliver(s.id, 'invoice.paid', 'paid');
    await waitFor(async () => (await request(s.id)).status === 'paid', 'paid stored');
    await waitForIdle(s.sub.id);
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('blocked');
    const types = await eventTypes(s.client.id);
    expect(types.filter((t) => t.startsWith('payment_request.retry_'))).toEqual([
      'payment_request.retry_scheduled',
      'payment_request.retry_failed',
      'payment_request.retry_failed',
      'payment_request.retry_failed',
    ]);
    expect(types.indexOf('subscription.payment_retries_exhausted')).toBeLessThan(
      types.indexOf('subscription.blocked'),
    );
  });

  it('cancel: all failed, the subscription is past due and then canceled; enabling the client does not revive it', async () => {
    const s = await firstChargeFailed('cancel');
    await runRetry(s.sub.id, s.id);
    await runRetry(s.sub.id, s.id);
    const r3 = await runRetry(s.sub.id, s.id);
    expect(r3.request.nextRetryAt).toBeNull();
    await waitForStatus(h.api, s.sub.id, 'canceled');
    expect((await subscriptionRow(h.api, s.sub.id)).cancelReason).toBe('payment_failed');
    const types = await eventTypes(s.client.id);
    expect(types.lastIndexOf('subscription.past_due')).toBeLessThan(
      types.indexOf('subscription.canceled'),
    );
    expect(payCalls(s.id)).toHaveLength(4);

    for (const step of ['disable', 'enable']) {
      const res = await h.api.call('POST', `/v1/clients/${s.client.id}/${step}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('canceled');
  });

  it('paid on the second retry: active again, and no third retry', async () => {
    const s = await firstChargeFailed('block');
    await runRetry(s.sub.id, s.id);
    paysThatSucceed.add(`collect:${s.id}:pay.retry2`);
    // Day 7 passed before the second retry (day 8): past due until it pays.
    const second = Date.parse((await request(s.id)).nextRetryAt);
    await sleepUntil(h.env, second - 60_000);
    await waitForIdle(s.sub.id);
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('past_due');

    await sleepUntil(h.env, second + 1_000);
    await waitFor(async () => (await request(s.id)).status === 'paid', 'paid on the retry');
    await waitForStatus(h.api, s.sub.id, 'active');
    expect((await request(s.id)).nextRetryAt).toBeNull();

    await sleepUntil(h.env, second + 8 * DAY_MS);
    await waitForIdle(s.sub.id);
    expect(payCalls(s.id).map((c) => c.idempotencyKey)).toEqual([
      `collect:${s.id}:pay`,
      `collect:${s.id}:pay.retry1`,
      `collect:${s.id}:pay.retry2`,
    ]);
    expect((await subscriptionRow(h.api, s.sub.id)).status).toBe('active');
  });

  it('send_invoice: a failure is not retried; past due at the due date, blocked at the plan\u2019s grace end', async () => {
    await connect();
    const s = await subscribe(h.api, {
      client: { billingMode: 'stripe', collectionMethod: 'send_invoice' },
    });
    const collectors = collectorsFor(h.db.sql, { platform, platformRateMinorPerMinute: '15' });
    await presentDueRequests({ sql: h.db.sql, collectors });
    const id = s.first.id;
    const created = recorder.requests.find(
      (r) => r.path === '/v1/invoices' && r.params['metadata[tally_request_id]'] === id,
    );
    // The due window: days_until_due from the plan (7).
    expect(created?.params).toMatchObject({
      collection_method: 'send_invoice',
      days_until_due: '7',
    });
    await deliver(id, 'invoice.payment_failed', 'open', 'send_invoice');
    await waitFor(async () => (await request(id)).status === 'failed', 'failed stored');
    await waitForIdle(s.sub.id);
    expect((await request(id)).nextRetryAt).toBeNull();
    const { dueAt, graceEndsAt } = await request(id);
    await sleepUntil(h.env, Date.parse(dueAt) + 1_000);
    await waitForStatus(h.api, s.sub.id, 'past_due');
    await sleepUntil(h.env, Date.parse(graceEndsAt) + 1_000);
    await waitForStatus(h.api, s.sub.id, 'blocked');
    expect(payCalls(id)).toEqual([]);
  });
});
