/** Add-on packs: catalog (create, update, archive, list, get) and assignment per client. */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { api } = useTestApi();

const packBody = { name: '500 minutes', minutes: 500, priceMinor: 4500, currency: 'USD' };
const newPack = async (body: Record<string, unknown> = {}, key = api.key) =>
  (await api.call('POST', '/v1/packs', { ...packBody, ...body }, key)).body;
const newClient = async () => (await api.call('POST', '/v1/clients', { name: 'Client' })).body;

describe('POST /v1/packs', () => {
  it('creates a pack', async () => {
    const res = await api.call('POST', '/v1/packs', packBody);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'pack', ...packBody, archivedAt: null });
    expect(res.body.id).toMatch(/^pck_/);
  });

  it.each([
    [{ minutes: 0 }, 'minutes'],
    [{ minutes: 2.5 }, 'minutes'],
    [{ priceMinor: -5 }, 'priceMinor'],
    [{ priceMinor: '45.00' }, 'priceMinor'],
    [{ currency: 'dollars' }, 'currency'],
    [{ name: '' }, 'name'],
  ])('refuses %j naming %s', async (change, field) => {
    const res = await api.call('POST', '/v1/packs', { ...packBody, ...change });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe(field);
  });
});

describe('GET /v1/packs and /v1/packs/{id}', () => {
  it('lists active packs (archived on request) and gets one', async () => {
    const agency = await api.newAgency('Packs');
    const a = await newPack({ name: 'A' }, agency.key);
    const b = await newPack({ name: 'B' }, agency.key);
    await api.call('POST', `/v1/packs/${a.id}/archive`, undefined, agency.key);
    const active = await api.call('GET', '/v1/packs', undefined, agency.key);
    expect(active.body.data.map((p: any) => p.id)).toEqual([b.id]);
    const all = await api.call(
      'GET',
      '/v1/packs?includeArchived=true&limit=1',
      undefined,
      agency.key,
    );
    expect(all.body).toEqual({ data: [expect.objectContaining({ id: b.id })], nextCursor: b.id });
    expect((await api.call('GET', `/v1/packs/${a.id}`, undefined, agency.key)).body.name).toBe('A');
  });

  it('answers 404 for an unknown pack', async () => {
    expect((await api.call('GET', '/v1/packs/pck_missing')).status).toBe(404);
  });
});

describe('PATCH /v1/packs/{id}', () => {
  it('changes only the fields sent', async () => {
    const pack = await newPack();
    const res = await api.call('PATCH', `/v1/packs/${pack.id}`, { priceMinor: 3900 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...packBody, priceMinor: 3900 });
  });

  it('names bad fields; keeps the currency of an assigned pack (409)', async () => {
    const pack = await newPack();
    const bad = await api.call('PATCH', `/v1/packs/${pack.id}`, { minutes: -1 });
    expect(bad.body.error.details[0].field).toBe('minutes');
    const client = await newClient();
    await api.call('POST', `/v1/clients/${client.id}/packs`, { packId: pack.id });
    const res = await api.call('PATCH', `/v1/packs/${pack.id}`, { currency: 'EUR' });
    expect(res.status).toBe(409);
    expect(res.body.error.details[0].field).toBe('currency');
    expect((await api.call('GET', `/v1/packs/${pack.id}`)).body.currency).toBe('USD');
    expect((await api.call('PATCH', '/v1/packs/pck_missing', { name: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/packs/{id}/archive', () => {
  it('archives a pack', async () => {
    const pack = await newPack();
    const res = await api.call('POST', `/v1/packs/${pack.id}/archive`);
    expect(res.status).toBe(200);
    expect(res.body.archivedAt).not.toBeNull();
  });

  it('answers 404 for an unknown pack', async () => {
    expect((await api.call('POST', '/v1/packs/pck_missing/archive')).status).toBe(404);
  });
});

describe('client packs', () => {
  it('assigns (201, then 200 when already assigned), lists only the client\u2019s, unassigns', async () => {
    const [mine, theirs] = [await newClient(), await newClient()];
    const [p1, p2, p3] = [
      await newPack({ name: 'P1' }),
      await newPack({ name: 'P2' }),
      await newPack(),
    ];
    const first = await api.call('POST', `/v1/clients/${mine.id}/packs`, { packId: p1.id });
    expect(first.status).toBe(201);
    expect(first.body.id).toBe(p1.id);
    expect((await api.call('POST', `/v1/clients/${mine.id}/packs`, { packId: p1.id })).status).toBe(
      200,
    );
    await api.call('POST', `/v1/clients/${mine.id}/packs`, { packId: p2.id });
    await api.call('POST', `/v1/clients/${theirs.id}/packs`, { packId: p3.id });

    const list = await api.call('GET', `/v1/clients/${mine.id}/packs`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((p: any) => p.id)).toEqual([p2.id, p1.id]);

    // An archived pack disappears from the client's list unless asked for.
    await api.call('POST', `/v1/packs/${p2.id}/archive`);
    expect(
      (await api.call('GET', `/v1/clients/${mine.id}/packs`)).body.data.map((p: any) => p.id),
    ).toEqual([p1.id]);
    expect(
      (await api.call('GET', `/v1/clients/${mine.id}/packs?includeArchived=true`)).body.data,
    ).toHaveLength(2);

    const removed = await api.call('DELETE', `/v1/clients/${mine.id}/packs/${p1.id}`);
    expect(removed.status).toBe(204);
    expect(
      (await api.call('GET', `/v1/clients/${mine.id}/packs?includeArchived=true`)).body.data.map(
        (p: any) => p.id,
      ),
    ).toEqual([p2.id]);
    expect((await api.call('DELETE', `/v1/clients/${mine.id}/packs/${p1.id}`)).status).toBe(404);
  });

  it('refuses archived, unknown, foreign and other-currency packs, naming packId', async () => {
    const client = await newClient();
    const archived = await newPack();
    await api.call('POST', `/v1/packs/${archived.id}/archive`);
    const other = await api.newAgency('Other');
    const foreign = await newPack({}, other.key);
    for (const packId of [archived.id, 'pck_missing', foreign.id]) {
      const res = await api.call('POST', `/v1/clients/${client.id}/packs`, { packId });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('packId');
    }
    const plan = (
      await api.call('POST', '/v1/plans', {
        name: 'EUR',
        currency: 'EUR',
        flatFeeMinor: 100,
        rhythm: 'month',
      })
    ).body;
    await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });
    const usd = await newPack();
    const res = await api.call('POST', `/v1/clients/${client.id}/packs`, { packId: usd.id });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('EUR');
    expect((await api.call('GET', `/v1/clients/${client.id}/packs`)).body.data).toEqual([]);
  });

  it('answers 404 for an unknown client', async () => {
    const pack = await newPack();
    expect(
      (await api.call('POST', '/v1/clients/cli_missing/packs', { packId: pack.id })).status,
    ).toBe(404);
    expect((await api.call('GET', '/v1/clients/cli_missing/packs')).status).toBe(404);
    expect((await api.call('DELETE', `/v1/clients/cli_missing/packs/${pack.id}`)).status).toBe(404);
  });
});
