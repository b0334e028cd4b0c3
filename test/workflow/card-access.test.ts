/**
 * ChatDash's rule at subscription start, through the real worker: on a platform with a Stripe
 * set-up, an auto-charge stripe-mode client without a card on file may not run campaigns
 * (`payment_method_missing`), stored by the workflow's first commit; a send_invoice one may.
 */
import { describe, expect, it } from 'vitest';
import {
  access,
  createClient,
  createPlan,
  startSubscription,
  useHarness,
  waitFor,
} from './harness';

const h = useHarness({ stripeConfigured: true });

async function startedClient(fields: Record<string, unknown>) {
  const plan = await createPlan(h.api);
  const client = await createClient(h.api, { billingMode: 'stripe', ...fields });
  await startSubscription(h.api, { clientId: client.id, planId: plan.id });
  await waitFor(async () => (await access(h.api, client.id)).version > 0, 'access stored');
  return client.id;
}

describe('a card on file, at subscription start', () => {
  it('is missing for an auto-charge stripe client: campaigns paused', async () => {
    const clientId = await startedClient({});
    expect(await access(h.api, clientId)).toMatchObject({
      allowed: false,
      reasons: ['payment_method_missing'],
    });
  });

  it('is not needed for a send_invoice stripe client', async () => {
    const clientId = await startedClient({ collectionMethod: 'send_invoice' });
    expect(await access(h.api, clientId)).toMatchObject({ allowed: true, reasons: [] });
  });
});
