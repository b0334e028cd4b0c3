/** One-time products: create, update, archive, list, get. */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { api } = useTestApi();

const product = {
  name: 'Onboarding',
  description: 'Agent setup and call-flow design',
  priceMinor: 25000,
  currency: 'USD',
};
const create = async (body: Record<string, unknown> = {}, key = api.key) =>
  api.call('POST', '/v1/one-time-products', { ...product, ...body }, key);

describe('POST /v1/one-time-products', () => {
  it('creates a product', async () => {
    const res = await create();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'one_time_product', ...product, archivedAt: null });
    expect(res.body.id).toMatch(/^otp_/);
    const bare = await api.call('POST', '/v1/one-time-products', {
      name: 'Setup',
      priceMinor: 0,
      currency: 'GBP',
    });
    expect(bare.body.description).toBeNull();
  });

  it.each([
    [{ priceMinor: -1 }, 'priceMinor'],
    [{ priceMinor: 1.5 }, 'priceMinor'],
    [{ currency: 'US' }, 'currency'],
    [{ name: '' }, 'name'],
    [{ description: 'x'.repeat(2001) }, 'description'],
  ])('refuses %j naming %s', async (change, field) => {
    const res = await create(change);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe(field);
  });
});

describe('GET /v1/one-time-products and /v1/one-time-products/{id}', () => {
  it('lists active products (archived on request) and gets one', async () => {
    const agency = await api.newAgency('Products');
    const a = (await create({ name: 'A' }, agency.key)).body;
    const b = (await create({ name: 'B' }, agency.key)).body;
    await api.call('POST', `/v1/one-time-products/${a.id}/archive`, undefined, agency.key);
    const active = await api.call('GET', '/v1/one-time-products', undefined, agency.key);
    expect(active.body.data.map((p: any) => p.id)).toEqual([b.id]);
    const all = await api.call(
      'GET',
      '/v1/one-time-products?includeArchived=true',
      undefined,
      agency.key,
    );
    expect(all.body.data.map((p: any) => p.id)).toEqual([b.id, a.id]);
    expect(
      (await api.call('GET', `/v1/one-time-products/${a.id}`, undefined, agency.key)).body.name,
    ).toBe('A');
  });

  it('answers 404 for an unknown product', async () => {
    expect((await api.call('GET', '/v1/one-time-products/otp_missing')).status).toBe(404);
  });
});

describe('PATCH /v1/one-time-products/{id}', () => {
  it('changes only the fields sent', async () => {
    const p = (await create()).body;
    const res = await api.call('PATCH', `/v1/one-time-products/${p.id}`, { priceMinor: 20000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...product, priceMinor: 20000 });
    const cleared = await api.call('PATCH', `/v1/one-time-products/${p.id}`, { description: null });
    expect(cleared.body.description).toBeNull();
  });

  it('names bad fields and answers 404 for an unknown product', async () => {
    const p = (await create()).body;
    const res = await api.call('PATCH', `/v1/one-time-products/${p.id}`, { currency: 'usd' });
    expect(res.body.error.details[0].field).toBe('currency');
    expect(
      (await api.call('PATCH', '/v1/one-time-products/otp_missing', { name: 'x' })).status,
    ).toBe(404);
  });
});

describe('POST /v1/one-time-products/{id}/archive', () => {
  it('archives a product', async () => {
    const p = (await create()).body;
    const res = await api.call('POST', `/v1/one-time-products/${p.id}/archive`);
    expect(res.status).toBe(200);
    expect(res.body.archivedAt).not.toBeNull();
  });

  it('answers 404 for an unknown product', async () => {
    expect((await api.call('POST', '/v1/one-time-products/otp_missing/archive')).status).toBe(404);
  });
});
