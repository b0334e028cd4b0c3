/** Assigning a plan to a client: active plans only, same currency as its packs, no live subscription. */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { db, api } = useTestApi();

const newPlan = async (currency = 'USD', key = api.key) =>
  (
    await api.call(
      'POST',
      '/v1/plans',
      { name: `Plan ${currency}`, currency, flatFeeMinor: 1000, rhythm: 'month' },
      key,
    )
  ).body;
const newClient = async () => (await api.call('POST', '/v1/clients', { name: 'Client' })).body;

/** A subscription row as the subscription area writes it (its workflow is not needed here). */
async function subscribe(clientId: string, planId: string, status: string) {
  const id = `sub_${Math.random().toString(36).slice(2)}`;
  await db.sql`
    insert into subscriptions (id, agency_id, client_id, plan_id, terms, billing_mode, status,
      start_at, workflow_id)
    values (${id}, ${api.agencyId}, ${clientId}, ${planId}, ${db.sql.json({})}, 'manual', ${status},
      now(), ${`subscription-${id}`})`;
  return id;
}

describe('PUT /v1/clients/{id}/plan', () => {
  it('assigns and reassigns while no subscription is live', async () => {
    const [a, b, client] = [await newPlan(), await newPlan(), await newClient()];
    const assigned = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: a.id });
    expect(assigned.status).toBe(200);
    expect(assigned.body.planId).toBe(a.id);
    const reassigned = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: b.id });
    expect(reassigned.body.planId).toBe(b.id);
    // A canceled subscription is not live: reassigning is fine.
    await subscribe(client.id, b.id, 'canceled');
    expect(
      (await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: a.id })).body.planId,
    ).toBe(a.id);
  });

  it.each(['active', 'scheduled', 'past_due', 'blocked'])(
    'refuses to reassign while a %s subscription is live (409), changing nothing',
    async (status) => {
      const [a, b, client] = [await newPlan(), await newPlan(), await newClient()];
      await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: a.id });
      const sub = await subscribe(client.id, a.id, status);
      const res = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: b.id });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      expect(res.body.error.message).toContain(sub);
      expect(res.body.error.message).toContain('cancel it');
      expect((await api.call('GET', `/v1/clients/${client.id}`)).body.planId).toBe(a.id);
      // Re-assigning the same plan is not a change: answered as is.
      const same = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: a.id });
      expect(same.status).toBe(200);
    },
  );

  it('assigns only active plans of this agency, naming planId', async () => {
    const client = await newClient();
    const archived = await newPlan();
    await api.call('POST', `/v1/plans/${archived.id}/archive`);
    const res = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: archived.id });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('planId');
    expect(res.body.error.message).toContain('archived');

    const other = await api.newAgency('Other');
    const foreign = await newPlan('USD', other.key);
    const cross = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: foreign.id });
    expect(cross.status).toBe(400);
    expect(cross.body.error.details[0].field).toBe('planId');
    expect((await api.call('GET', `/v1/clients/${client.id}`)).body.planId).toBeNull();

    const missing = await api.call('PUT', `/v1/clients/${client.id}/plan`, {});
    expect(missing.body.error.details[0].field).toBe('planId');
  });

  it('refuses a plan in another currency than the client\u2019s packs', async () => {
    const client = await newClient();
    const pack = (
      await api.call('POST', '/v1/packs', {
        name: 'USD pack',
        minutes: 100,
        priceMinor: 900,
        currency: 'USD',
      })
    ).body;
    await api.call('POST', `/v1/clients/${client.id}/packs`, { packId: pack.id });
    const eur = await newPlan('EUR');
    const res = await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: eur.id });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('planId');
    expect(res.body.error.message).toContain('USD');
    const usd = await newPlan('USD');
    expect(
      (await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: usd.id })).status,
    ).toBe(200);
  });

  it('answers 404 for an unknown client', async () => {
    const plan = await newPlan();
    expect(
      (await api.call('PUT', '/v1/clients/cli_missing/plan', { planId: plan.id })).status,
    ).toBe(404);
  });
});

describe('DELETE /v1/clients/{id}/plan', () => {
  it('removes the plan while no subscription is live', async () => {
    const [plan, client] = [await newPlan(), await newClient()];
    await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });
    const res = await api.call('DELETE', `/v1/clients/${client.id}/plan`);
    expect(res.status).toBe(200);
    expect(res.body.planId).toBeNull();
  });

  it('refuses while a subscription is live (409), keeping the plan', async () => {
    const [plan, client] = [await newPlan(), await newClient()];
    await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });
    await subscribe(client.id, plan.id, 'active');
    const res = await api.call('DELETE', `/v1/clients/${client.id}/plan`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('live subscription');
    expect((await api.call('GET', `/v1/clients/${client.id}`)).body.planId).toBe(plan.id);
  });

  it('answers 404 for an unknown client', async () => {
    expect((await api.call('DELETE', '/v1/clients/cli_missing/plan')).status).toBe(404);
  });
});
