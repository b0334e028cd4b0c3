/**
 * POST /v1/usage: per-event acceptance (valid stored, invalid reported by index and field), a
 * batch with nothing valid refused, duplicates counted once, the future refused, keys and tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { asAgency, createFixture, postUsage, voice, type Fixture } from '../helpers/usage-fixtures';

let db: TestDb;
let env: TestWorkflowEnvironment;
let api: TestApi;
let f: Fixture;

beforeAll(async () => {
  db = await createTestDb();
  env = await createTimeSkippingEnv();
  api = await createTestApi(db.sql, env.client);
  f = await createFixture(api, { agents: 2 });
});

afterAll(async () => {
  await env?.teardown();
  await db?.drop();
});

const stored = async (clientId: string) =>
  db.sql<{ eventId: string; quantity: number; agentId: string | null; subscriptionId: string }[]>`
    select event_id as "eventId", quantity, agent_id as "agentId", subscription_id as "subscriptionId"
    from usage_events where client_id = ${clientId} order by quantity desc, event_id`;

describe('POST /v1/usage', () => {
  it('stores a batch and names the subscription in the outbox in the same transaction', async () => {
    await db.sql`delete from usage_outbox`;
    const res = await postUsage(api, [
      voice(f.clientId, 60, { agent: f.agentIds[0] }),
      voice(f.externalId, 30, { agent: f.agentExternalIds[1] }),
      voice(f.externalId, 15),
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: 'usage_batch',
      received: 3,
      accepted: 3,
      duplicates: [],
      rejected: [],
    });
    const rows = await stored(f.clientId);
    expect(rows.map((r) => [r.quantity, r.agentId, r.subscriptionId])).toEqual([
      [60, f.agentIds[0], f.subscriptionId],
      [30, f.agentIds[1], f.subscriptionId],
      [15, null, f.subscriptionId],
    ]);
    const outbox = await db.sql`select subscription_ids from usage_outbox`;
    expect(outbox.map((r) => r.subscription_ids)).toEqual([[f.subscriptionId]]);
  });

  it('stores the valid events of a mixed batch and reports each invalid one by index and field', async () => {
    const g = await createFixture(api);
    const ok1 = voice(g.clientId, 10);
    const ok2 = voice(g.clientId, 20);
    const res = await postUsage(api, [
      ok1,
      { ...voice(g.clientId, 5), quantity: -1 },
      { ...voice(g.clientId, 5), metric: 'minutes' },
      ok2,
      { ...voice(g.clientId, 5), time: 'yesterday' },
      { ...voice(g.clientId, 5), quantiy: 3 },
      voice('no-such-client', 5),
      voice(g.clientId, 5, { agent: f.agentIds[0] }), // another client's agent
      'not an event',
    ]);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: any) => [r.index, r.field])).toEqual([
      [1, 'events.1.quantity'],
      [2, 'events.2.metric'],
      [4, 'events.4.time'],
      [5, 'events.5.quantiy'],
      [6, 'events.6.client'],
      [7, 'events.7.agent'],
      [8, 'events.8'],
    ]);
    expect(res.body.rejected[0]).toMatchObject({
      id: expect.any(String),
      message: expect.any(String),
    });
    expect((await stored(g.clientId)).map((r) => r.eventId)).toEqual([ok2.id, ok1.id]);
  });

  it('refuses a batch with no valid event as a whole (400, every problem named)', async () => {
    const g = await createFixture(api);
    const res = await postUsage(api, [
      { ...voice(g.clientId, 5), quantity: 1.5 },
      { ...voice(g.clientId, 5), id: '' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual([
      { field: 'events.0.quantity', message: expect.any(String) },
      { field: 'events.1.id', message: expect.any(String) },
    ]);
    expect(await stored(g.clientId)).toEqual([]);
  });

  it('refuses a malformed batch: not JSON, no events, more than 1,000 events', async () => {
    const g = await createFixture(api);
    const raw = await api.app.request('/v1/usage', {
      method: 'POST',
      headers: { authorization: `Bearer ${api.ingestKey}`, 'content-type': 'application/json' },
      body: '{"events": [',
    });
    expect(raw.status).toBe(400);
    for (const body of [{}, { events: [] }, { events: 'x' }]) {
      const res = await api.call('POST', '/v1/usage', body, api.ingestKey);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('events');
    }
    const many = Array.from({ length: 1001 }, () => voice(g.clientId, 1));
    const res = await postUsage(api, many);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('events');
    expect(await stored(g.clientId)).toEqual([]);
  });

  it('counts the same event id once, in one batch or across batches, and reports duplicates', async () => {
    const g = await createFixture(api);
    const a = voice(g.clientId, 60);
    const b = voice(g.clientId, 30);
    const first = await postUsage(api, [a, a, b]);
    expect(first.body).toMatchObject({ accepted: 2, duplicates: [a.id] });
    const again = await postUsage(api, [b, { ...a, quantity: 999 }]);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: [b.id, a.id], rejected: [] });
    const rows = await stored(g.clientId);
    expect(rows.map((r) => r.quantity)).toEqual([60, 30]);
    // The id is unique per agency: another agency may use the same one.
    const other = await api.newAgency('Other');
    const og = await createFixture(asAgency(api, other));
    const theirs = await postUsage(
      api,
      [{ ...a, client: og.clientId, time: new Date().toISOString() }],
      other.ingestKey,
    );
    expect(theirs.body, JSON.stringify(theirs.body)).toMatchObject({ accepted: 1 });
  });

  it('refuses events more than 5 minutes ahead, and before the subscription started', async () => {
    const g = await createFixture(api);
    const now = Date.now();
    const res = await postUsage(api, [
      voice(g.clientId, 1, { time: new Date(now + 4 * 60_000).toISOString() }),
      voice(g.clientId, 1, { time: new Date(now + 6 * 60_000).toISOString() }),
      voice(g.clientId, 1, { time: new Date(now - 86_400_000).toISOString() }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected.map((r: any) => [r.index, r.field])).toEqual([
      [1, 'events.1.time'],
      [2, 'events.2.time'],
    ]);
    expect(res.body.rejected[0].message).toMatch(/future/);
    expect(res.body.rejected[1].message).toMatch(/before/);
  });

  it('refuses usage of a client without a live subscription', async () => {
    const g = await createFixture(api, { subscribe: false });
    const res = await postUsage(api, [voice(g.clientId, 10)]);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ field: 'events.0.client' });
    expect(res.body.error.details[0].message).toMatch(/no live subscription/);
  });

  it('counts value_count events only when their boolean property is true', async () => {
    const g = await createFixture(api);
    const base = {
      client: g.clientId,
      metric: 'value_count',
      quantity: 1,
      time: new Date().toISOString(),
    };
    const res = await postUsage(api, [
      {
        ...base,
        id: 'vc-1',
        property: 'appointment_booked',
        properties: { appointment_booked: true },
      },
      {
        ...base,
        id: 'vc-2',
        property: 'appointment_booked',
        properties: { appointment_booked: false },
      },
      {
        ...base,
        id: 'vc-3',
        property: 'appointment_booked',
        properties: { appointment_booked: 'yes' },
      },
      { ...base, id: 'vc-4', properties: { appointment_booked: true } },
      { ...voice(g.clientId, 5), property: 'x' },
    ]);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: any) => r.field)).toEqual([
      'events.2.properties.appointment_booked',
      'events.3.property',
      'events.4.property',
    ]);
    const rows = await db.sql`
      select event_id, quantity, value_property from usage_events
      where client_id = ${g.clientId} order by event_id`;
    expect(rows.map((r) => [r.event_id, r.quantity, r.value_property])).toEqual([
      ['vc-1', 1, 'appointment_booked'],
      ['vc-2', 0, 'appointment_booked'],
    ]);
  });

  it('takes ingest keys and agency keys; ingest keys reach nothing else; no key is 401', async () => {
    const g = await createFixture(api);
    expect((await postUsage(api, [voice(g.clientId, 1)], api.key)).status).toBe(200);
    expect((await postUsage(api, [voice(g.clientId, 1)], api.ingestKey)).status).toBe(200);
    expect((await postUsage(api, [voice(g.clientId, 1)], null)).status).toBe(401);
    expect((await api.call('GET', '/v1/clients', undefined, api.ingestKey)).status).toBe(403);
  });

  it('does not let an agency post usage for another agency\u2019s client', async () => {
    const other = await api.newAgency('Intruder');
    const res = await postUsage(
      api,
      [voice(f.clientId, 100), voice(f.externalId, 100)],
      other.ingestKey,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.field)).toEqual([
      'events.0.client',
      'events.1.client',
    ]);
  });
});
