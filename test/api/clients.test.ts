/** Clients: create, list, get, update, disable and enable, on real Postgres through the API. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import type * as clientRates from '../../services/client-rates';

// The seams other areas fill (access, running subscriptions): here, only whether they are called.
const hook = vi.hoisted(() => ({
  calls: [] as [string, string][],
  rates: [] as [string, string, string | null][],
}));
vi.mock('../../services/access', () => ({
  clientAccessChanged: async (_deps: unknown, _tx: unknown, agencyId: string, clientId: string) => {
    hook.calls.push([agencyId, clientId]);
    return async () => {};
  },
}));
vi.mock('../../services/client-rates', async (importOriginal) => ({
  ...(await importOriginal<typeof clientRates>()),
  queueClientRateChange: async (
    _deps: unknown,
    _tx: unknown,
    agencyId: string,
    clientId: string,
    rate: string | null,
  ) => {
    hook.rates.push([agencyId, clientId, rate]);
    return async () => {};
  },
}));

let db: TestDb;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, unreachableTemporalClient());
});
afterAll(async () => {
  await db?.drop();
});

const newClient = (body: Record<string, unknown> = {}) =>
  api.call('POST', '/v1/clients', { name: 'Dental Co', ...body });

describe('POST /v1/clients', () => {
  it('creates a client with its billing settings', async () => {
    const res = await newClient({
      email: 'ops@dental.example',
      billingMode: 'stripe',
      billingEnabled: false,
      rateMinorPerMinute: '25.5',
      externalId: 'dental-1',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'client',
      name: 'Dental Co',
      email: 'ops@dental.example',
      billingMode: 'stripe',
      billingEnabled: false,
      rateMinorPerMinute: '25.5',
      externalId: 'dental-1',
      disabled: false,
      planId: null,
    });
    expect(res.body.id).toMatch(/^cli_/);
  });

  it('defaults to manual billing, enabled, no rate', async () => {
    const res = await newClient();
    expect(res.body).toMatchObject({
      billingMode: 'manual',
      billingEnabled: true,
      rateMinorPerMinute: null,
      email: null,
    });
  });

  it('refuses a rate at or below the platform rate, naming the field', async () => {
    for (const rate of ['15', '14.999999', '0']) {
      const res = await newClient({ rateMinorPerMinute: rate });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details[0].field).toBe('rateMinorPerMinute');
      expect(res.body.error.message).toContain('platform rate of 15');
    }
    expect((await newClient({ rateMinorPerMinute: '15.000001' })).status).toBe(201);
  });

  it('names each bad field', async () => {
    const res = await newClient({ name: '', email: 'not-an-email', billingMode: 'cash' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.field).sort()).toEqual([
      'billingMode',
      'email',
      'name',
    ]);
  });

  it('answers 409 naming externalId when the agency already uses it', async () => {
    expect((await newClient({ externalId: 'dup-1' })).status).toBe(201);
    const res = await newClient({ externalId: 'dup-1' });
    expect(res.status).toBe(409);
    expect(res.body.error.details[0].field).toBe('externalId');
    // Another agency may use the same external id.
    const other = await api.newAgency('Other');
    expect(
      (await api.call('POST', '/v1/clients', { name: 'X', externalId: 'dup-1' }, other.key)).status,
    ).toBe(201);
  });
});

describe('GET /v1/clients and /v1/clients/{id}', () => {
  it('pages newest first with a cursor, and gets one', async () => {
    const fresh = await api.newAgency('Pager');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await api.call('POST', '/v1/clients', { name: `C${i}` }, fresh.key)).body.id as string,
      );
    }
    const first = await api.call('GET', '/v1/clients?limit=2', undefined, fresh.key);
    expect(first.body.data.map((c: any) => c.id)).toEqual([ids[4], ids[3]]);
    const second = await api.call(
      'GET',
      `/v1/clients?limit=2&after=${first.body.nextCursor}`,
      undefined,
      fresh.key,
    );
    expect(second.body.data.map((c: any) => c.id)).toEqual([ids[2], ids[1]]);
    const last = await api.call(
      'GET',
      `/v1/clients?limit=2&after=${second.body.nextCursor}`,
      undefined,
      fresh.key,
    );
    expect(last.body).toEqual({
      data: [expect.objectContaining({ id: ids[0] })],
      nextCursor: null,
    });

    const one = await api.call('GET', `/v1/clients/${ids[2]}`, undefined, fresh.key);
    expect(one.status).toBe(200);
    expect(one.body.name).toBe('C2');
  });

  it('refuses a bad page size, naming the field', async () => {
    const res = await api.call('GET', '/v1/clients?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('limit');
  });

  it('answers 404 for an unknown client', async () => {
    const res = await api.call('GET', '/v1/clients/cli_missing');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('never lists another agency\u2019s clients', async () => {
    const mine = await newClient({ name: 'Mine' });
    const other = await api.newAgency('Other list');
    const list = await api.call('GET', '/v1/clients?limit=100', undefined, other.key);
    expect(list.body.data.map((c: any) => c.id)).not.toContain(mine.body.id);
  });
});

describe('PATCH /v1/clients/{id}', () => {
  it('changes only the fields sent', async () => {
    const created = await newClient({
      email: 'a@b.example',
      billingMode: 'track_only',
      rateMinorPerMinute: '30',
      externalId: 'keep-me',
    });
    const res = await api.call('PATCH', `/v1/clients/${created.body.id}`, { name: 'Renamed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Renamed',
      email: 'a@b.example',
      billingMode: 'track_only',
      rateMinorPerMinute: '30',
      externalId: 'keep-me',
    });
    const cleared = await api.call('PATCH', `/v1/clients/${created.body.id}`, { email: null });
    expect(cleared.body.email).toBeNull();
    expect(cleared.body.rateMinorPerMinute).toBe('30');
  });

  it('refuses unknown fields and a low rate, naming them, and changes nothing', async () => {
    const created = await newClient({ rateMinorPerMinute: '30' });
    const unknown = await api.call('PATCH', `/v1/clients/${created.body.id}`, { disabled: true });
    expect(unknown.status).toBe(400);
    const low = await api.call('PATCH', `/v1/clients/${created.body.id}`, {
      name: 'Nope',
      rateMinorPerMinute: '10',
    });
    expect(low.status).toBe(400);
    expect(low.body.error.details[0].field).toBe('rateMinorPerMinute');
    const after = await api.call('GET', `/v1/clients/${created.body.id}`);
    expect(after.body).toMatchObject({
      name: 'Dental Co',
      disabled: false,
      rateMinorPerMinute: '30',
    });
  });

  it('tells running subscriptions about a rate change, and only then', async () => {
    const created = await newClient({ rateMinorPerMinute: '30' });
    const id = created.body.id as string;
    hook.rates.length = 0;
    await api.call('PATCH', `/v1/clients/${id}`, { name: 'Same rate' });
    await api.call('PATCH', `/v1/clients/${id}`, { rateMinorPerMinute: '30.000' });
    expect(hook.rates).toEqual([]);
    await api.call('PATCH', `/v1/clients/${id}`, { rateMinorPerMinute: '32.5' });
    await api.call('PATCH', `/v1/clients/${id}`, { rateMinorPerMinute: null });
    expect(hook.rates).toEqual([
      [api.agencyId, id, '32.5'],
      [api.agencyId, id, null],
    ]);
    await api.call('PATCH', `/v1/clients/${id}`, { rateMinorPerMinute: '5' });
    expect(hook.rates).toHaveLength(2);
  });

  it('answers 404 for an unknown client', async () => {
    expect((await api.call('PATCH', '/v1/clients/cli_missing', { name: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/clients/{id}/disable and /enable', () => {
  it('disables and enables, and tells the access seam each time', async () => {
    const created = await newClient();
    const id = created.body.id as string;
    hook.calls.length = 0;
    const disabled = await api.call('POST', `/v1/clients/${id}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled).toBe(true);
    expect((await api.call('GET', `/v1/clients/${id}`)).body.disabled).toBe(true);
    const enabled = await api.call('POST', `/v1/clients/${id}/enable`);
    expect(enabled.body.disabled).toBe(false);
    expect(hook.calls).toEqual([
      [api.agencyId, id],
      [api.agencyId, id],
    ]);
  });

  it('answers 404 for an unknown client and calls no seam', async () => {
    hook.calls.length = 0;
    expect((await api.call('POST', '/v1/clients/cli_missing/disable')).status).toBe(404);
    expect((await api.call('POST', '/v1/clients/cli_missing/enable')).status).toBe(404);
    expect(hook.calls).toEqual([]);
  });

  it('cannot disable another agency\u2019s client', async () => {
    const created = await newClient();
    const other = await api.newAgency('Intruder');
    const res = await api.call(
      'POST',
      `/v1/clients/${created.body.id}/disable`,
      undefined,
      other.key,
    );
    expect(res.status).toBe(404);
    expect((await api.call('GET', `/v1/clients/${created.body.id}`)).body.disabled).toBe(false);
  });
});
