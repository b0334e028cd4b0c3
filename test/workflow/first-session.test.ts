/**
 * The README's "A first session", call for call and with its bodies: a plan, a client, the plan
 * assigned with PUT, a subscription started from the client alone (its assigned plan), the first
 * cycle request, marked paid with an external reference, and access. Real stack, time-skipping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, waitForRequests, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('a first session (README)', () => {
  it('runs as documented: the subscription takes the client’s assigned plan', async () => {
    const plan = await h.api.call('POST', '/v1/plans', {
      name: 'Growth',
      tier: 'growth',
      currency: 'USD',
      flatFeeMinor: 2500,
      overageRateMinorPerMinute: '5',
      includedMinutes: 500,
      rhythm: 'month',
      dueDays: 7,
      graceDays: 5,
      packsAllowed: true,
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const client = await h.api.call('POST', '/v1/clients', {
      name: 'Dental Co',
      email: 'ops@dental.example',
      billingMode: 'manual',
    });
    expect(client.status, JSON.stringify(client.body)).toBe(201);
    const clientId = client.body.id as string;

    // Without an assigned plan (and no planId), nothing starts, and planId is named.
    const early = await h.api.call('POST', '/v1/subscriptions', { clientId });
    expect(early.status).toBe(400);
    expect(early.body.error.details[0].field).toBe('planId');
    expect((await h.api.call('GET', `/v1/subscriptions?clientId=${clientId}`)).body.data).toEqual(
      [],
    );

    const assigned = await h.api.call('PUT', `/v1/clients/${clientId}/plan`, {
      planId: plan.body.id,
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    const sub = await h.api.call('POST', '/v1/subscriptions', { clientId });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    expect(sub.body).toMatchObject({
      planId: plan.body.id,
      workflowId: `subscription-${sub.body.id}`,
    });

    const [first] = await waitForRequests(h.api, sub.body.id, 1);
    expect(first).toMatchObject({ type: 'cycle', periodIndex: 0, totalMinor: 2500 });
    const paid = await h.api.call('POST', `/v1/payment-requests/${first.id}/mark`, {
      status: 'paid',
      externalReference: 'bank-4711',
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', externalReference: 'bank-4711' });
    await waitFor(
      async () => (await h.api.call('GET', `/v1/clients/${clientId}/access`)).body.allowed,
      'access allowed',
    );
    expect((await h.api.call('GET', `/v1/clients/${clientId}/access`)).body).toMatchObject({
      allowed: true,
      reasons: [],
    });
    await h.api.call('POST', `/v1/subscriptions/${sub.body.id}/cancel`, { when: 'now' });
  });
});
