/**
 * The wallet is per client and survives subscriptions (README, "Usage metering"): minutes a pack
 * credited and one subscription left unspent are spent by the client's next subscription, before
 * anything is billed. Real stack on the time-skipping server, usage dispatched by hand.
 */
import { describe, expect, it } from 'vitest';
import { createFixture } from '../helpers/usage-fixtures';
import {
  createPack,
  liveState,
  requestsOf,
  startSubscription,
  waitFor,
  waitForRequests,
  storeUsage,
  useHarness,
} from './harness';

const h = useHarness();

let seq = 0;

/** Stores voice seconds at the test server's clock and waits until the workflow folded them. */
async function talk(subscriptionId: string, clientId: string, seconds: number) {
  await storeUsage(h, [{ id: `w${++seq}`, client: clientId, quantity: seconds }]);
  await waitFor(
    async () => (await liveState(h, subscriptionId)).usage.totalSeconds === seconds,
    `usage ${seconds}`,
  );
  return (await liveState(h, subscriptionId)).usage;
}

async function balance(clientId: string): Promise<number> {
  const res = await h.api.call('GET', `/v1/clients/${clientId}/wallet`);
  expect(res.status).toBe(200);
  return res.body.balanceSeconds;
}

describe('the wallet', () => {
  it('survives the subscription: the next one spends what is left before billing', async () => {
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 1000,
        overageRateMinorPerMinute: '10',
        includedMinutes: 0,
        packsAllowed: true,
      },
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const packId = await createPack(h.api, f.clientId, 50, 1500);
    const applied = await h.api.call('POST', `/v1/clients/${f.clientId}/packs/${packId}/apply`, {
      status: 'paid',
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);

    // First subscription: 20 of the 50 wallet minutes, nothing billable; ended now.
    expect(await talk(f.subscriptionId, f.clientId, 20 * 60)).toMatchObject({
      walletSeconds: 1200,
      billableSeconds: 0,
    });
    const ended = await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, {
      when: 'now',
    });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(await requestsOf(h.api, f.subscriptionId)).toHaveLength(1); // no usage to bill
    await waitFor(async () => (await balance(f.clientId)) === 1800, 'wallet debited');

    // Second subscription of the same client: 40 minutes = the 30 left in the wallet + 10 billed.
    const next = await startSubscription(h.api, { clientId: f.clientId, planId: f.planId });
    await waitForRequests(h.api, next.id, 1);
    expect(await talk(next.id, f.clientId, 40 * 60)).toMatchObject({
      walletSeconds: 1800,
      billableSeconds: 600,
    });
    const canceled = await h.api.call('POST', `/v1/subscriptions/${next.id}/cancel`, {
      when: 'now',
    });
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    const [, final] = await requestsOf(h.api, next.id);
    expect(final).toMatchObject({ totalMinor: 100 });
    await waitFor(async () => (await balance(f.clientId)) === 0, 'wallet spent');
  });
});
