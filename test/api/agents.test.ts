/** A client's agents: add, list, get, rename, remove (not while a live subscription covers them). */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { db, api } = useTestApi();

const newClient = async () => (await api.call('POST', '/v1/clients', { name: 'Client' })).body;
const addAgent = (clientId: string, body: Record<string, unknown>, key = api.key) =>
  api.call('POST', `/v1/clients/${clientId}/agents`, body, key);

describe('POST /v1/clients/{id}/agents', () => {
  it('adds an agent', async () => {
    const client = await newClient();
    const res = await addAgent(client.id, { name: 'Front desk', externalId: 'retell-123' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'agent',
      clientId: client.id,
      name: 'Front desk',
      externalId: 'retell-123',
    });
  });

  it('names bad fields; 409 on an external id already used in the agency', async () => {
    const client = await newClient();
    const bad = await addAgent(client.id, { name: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('name');
    await addAgent(client.id, { name: 'A', externalId: 'vapi-1' });
    const dup = await addAgent((await newClient()).id, { name: 'B', externalId: 'vapi-1' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.details[0].field).toBe('externalId');
  });

  it('answers 404 for an unknown client', async () => {
    expect((await addAgent('cli_missing', { name: 'x' })).status).toBe(404);
  });
});

describe('GET /v1/clients/{id}/agents and /agents/{agentId}', () => {
  it('lists the client\u2019s agents only, and gets one', async () => {
    const [mine, theirs] = [await newClient(), await newClient()];
    const a = (await addAgent(mine.id, { name: 'A' })).body;
    const b = (await addAgent(mine.id, { name: 'B' })).body;
    await addAgent(theirs.id, { name: 'C' });
    const list = await api.call('GET', `/v1/clients/${mine.id}/agents`);
    expect(list.body.data.map((x: any) => x.id)).toEqual([b.id, a.id]);
    const page = await api.call('GET', `/v1/clients/${mine.id}/agents?limit=1&after=${b.id}`);
    expect(page.body.data.map((x: any) => x.id)).toEqual([a.id]);
    expect((await api.call('GET', `/v1/clients/${mine.id}/agents/${a.id}`)).body).toEqual(a);
    // An agent is reached only through its own client.
    expect((await api.call('GET', `/v1/clients/${theirs.id}/agents/${a.id}`)).status).toBe(404);
  });

  it('answers 404 for an unknown client or agent', async () => {
    const client = await newClient();
    expect((await api.call('GET', '/v1/clients/cli_missing/agents')).status).toBe(404);
    expect((await api.call('GET', `/v1/clients/${client.id}/agents/agt_missing`)).status).toBe(404);
  });
});

describe('PATCH /v1/clients/{id}/agents/{agentId}', () => {
  it('changes only the fields sent', async () => {
    const client = await newClient();
    const agent = (await addAgent(client.id, { name: 'Old', externalId: 'ext-keep' })).body;
    const res = await api.call('PATCH', `/v1/clients/${client.id}/agents/${agent.id}`, {
      name: 'New',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'New', externalId: 'ext-keep' });
  });

  it('names bad fields and answers 404 for an unknown agent', async () => {
    const client = await newClient();
    const agent = (await addAgent(client.id, { name: 'A' })).body;
    const bad = await api.call('PATCH', `/v1/clients/${client.id}/agents/${agent.id}`, {
      clientId: 'cli_other',
    });
    expect(bad.status).toBe(400);
    expect(
      (await api.call('PATCH', `/v1/clients/${client.id}/agents/agt_missing`, { name: 'x' }))
        .status,
    ).toBe(404);
  });
});

describe('DELETE /v1/clients/{id}/agents/{agentId}', () => {
  it('removes an agent', async () => {
    const client = await newClient();
    const agent = (await addAgent(client.id, { name: 'A' })).body;
    expect((await api.call('DELETE', `/v1/clients/${client.id}/agents/${agent.id}`)).status).toBe(
      204,
    );
    expect((await api.call('GET', `/v1/clients/${client.id}/agents/${agent.id}`)).status).toBe(404);
  });

  it('refuses while a live subscription covers the agent (409), and 404 when unknown', async () => {
    const client = await newClient();
    const agent = (await addAgent(client.id, { name: 'Busy' })).body;
    const plan = (
      await api.call('POST', '/v1/plans', {
        name: 'P',
        currency: 'USD',
        flatFeeMinor: 100,
        rhythm: 'month',
      })
    ).body;
    await db.sql`
      insert into subscriptions (id, agency_id, client_id, plan_id, terms, agent_ids, billing_mode,
        status, start_at, workflow_id)
      values ('sub_busy', ${api.agencyId}, ${client.id}, ${plan.id}, ${db.sql.json({})},
        ${[agent.id]}, 'manual', 'past_due', now(), 'subscription-sub_busy')`;
    const res = await api.call('DELETE', `/v1/clients/${client.id}/agents/${agent.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('sub_busy');
    expect((await api.call('GET', `/v1/clients/${client.id}/agents/${agent.id}`)).status).toBe(200);
    await db.sql`update subscriptions set status = 'canceled' where id = 'sub_busy'`;
    expect((await api.call('DELETE', `/v1/clients/${client.id}/agents/${agent.id}`)).status).toBe(
      204,
    );
    expect((await api.call('DELETE', `/v1/clients/${client.id}/agents/${agent.id}`)).status).toBe(
      404,
    );
  });
});
