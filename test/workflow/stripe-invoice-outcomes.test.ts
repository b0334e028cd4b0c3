/**
 * Invoice events reach a live subscription through its workflow, as a manual mark does: a signed
 * invoice.payment_failed and then invoice.paid POSTed raw to the Connect endpoint move the cycle
 * request to failed and then paid in the workflow (its open requests) and in Postgres; a late
 * failure never reopens it; and a paid event for a request of a canceled subscription marks the
 * request but never reactivates the subscription.
 */
import { describe, expect, it } from 'vitest';
import { saveStripeAccount } from '../../db/queries/stripe';
import { recordRequestInvoice } from '../../db/queries/request-stripe';
import { signStripePayload, stripeEventBody, testStripePlatform } from '../helpers/stripe';
import { subscribe, subscriptionRow, useHarness, waitFor, waitForIdle, liveState } from './harness';

const { platform } = testStripePlatform();
const h = useHarness({ stripe: platform });

let seq = 0;

/** The harness agency's connected account, saved once. */
async function account(): Promise<string> {
  const accountId = `acct_test_wf_${process.pid}`;
  if (seq++ === 0)
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
  return accountId;
}

/** A stripe-mode subscription whose first request was presented as invoice `in_...`. */
async function presented() {
  const accountId = await account();
  const s = await subscribe(h.api, {
    client: { billingMode: 'stripe', collectionMethod: 'send_invoice' },
  });
  const invoiceId = `in_test_wf_${process.pid}_${seq}`;
  await recordRequestInvoice(h.db.sql, s.first.id, { invoiceId });
  return { ...s, accountId, invoiceId };
}

async function deliver(
  p: Awaited<ReturnType<typeof presented>>,
  type: string,
  created: number,
  status = type === 'invoice.paid' ? 'paid' : 'open',
) {
  const body = stripeEventBody({
    type,
    account: p.accountId,
    created,
    object: {
      id: p.invoiceId,
      object: 'invoice',
      status,
      metadata: { tally_request_id: p.first.id },
    },
  });
  const res = await h.api.app.request('/stripe/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body) },
    body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { outcome: string };
}

const requestStatus = async (id: string) =>
  (await h.api.call('GET', `/v1/payment-requests/${id}`)).body.status as string;

describe('invoice events through the subscription workflow', () => {
  it('failed, then paid: the workflow records both; a late failure changes nothing', async () => {
    const p = await presented();
    const t = Math.floor(Date.now() / 1000) - 60;
    expect((await deliver(p, 'invoice.payment_failed', t)).outcome).toBe('processed');
    await waitFor(async () => (await requestStatus(p.first.id)) === 'failed', 'failed stored');
    await waitForIdle(p.sub.id);
    expect((await liveState(h, p.sub.id)).openRequests).toMatchObject([
      { id: p.first.id, status: 'failed' },
    ]);

    expect((await deliver(p, 'invoice.paid', t + 20)).outcome).toBe('processed');
    await waitFor(async () => (await requestStatus(p.first.id)) === 'paid', 'paid stored');
    await waitForIdle(p.sub.id);
    expect((await liveState(h, p.sub.id)).openRequests).toEqual([]);

    // An older failure delivered late: answered 200, the request stays paid.
    expect((await deliver(p, 'invoice.payment_failed', t + 10)).outcome).toBe('processed');
    expect(await requestStatus(p.first.id)).toBe('paid');
    expect((await subscriptionRow(h.api, p.sub.id)).status).toBe('active');
    const paidEvents = await h.db.sql`
      select 1 from events where subject_id = ${p.first.id} and type = 'payment_request.paid'`;
    expect(paidEvents).toHaveLength(1);
  });

  it('a paid event for a request of a canceled subscription never reactivates it', async () => {
    const p = await presented();
    const cancel = await h.api.call('POST', `/v1/subscriptions/${p.sub.id}/cancel`, {
      when: 'now',
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    await waitFor(
      async () => (await subscriptionRow(h.api, p.sub.id)).status === 'canceled',
      'canceled stored',
    );
    expect((await deliver(p, 'invoice.paid', Math.floor(Date.now() / 1000))).outcome).toBe(
      'processed',
    );
    expect(await requestStatus(p.first.id)).toBe('paid');
    expect((await subscriptionRow(h.api, p.sub.id)).status).toBe('canceled');
  });
});
