/** Coupons: percent or fixed, once / forever / repeating; name editable, terms fixed. */
import { describe, expect, it } from 'vitest';
import { couponFromCatalog } from '../../billing/terms';
import { getCoupon } from '../../db/queries/coupons';
import { useTestApi } from '../helpers/api';

const { db, api } = useTestApi();

const percent = { name: 'Launch 20%', kind: 'percent', percentOff: '20', duration: 'once' };
const fixed = {
  name: '$10 off for 3 months',
  kind: 'fixed',
  amountOffMinor: 1000,
  currency: 'USD',
  duration: 'repeating',
  durationPeriods: 3,
};

describe('POST /v1/coupons', () => {
  it('creates percent and fixed coupons, usable as catalog terms', async () => {
    const p = await api.call('POST', '/v1/coupons', { ...percent, percentOff: '12.50' });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({
      object: 'coupon',
      kind: 'percent',
      percentOff: '12.5',
      amountOffMinor: null,
      currency: null,
      duration: 'once',
      durationPeriods: null,
    });
    const f = await api.call('POST', '/v1/coupons', fixed);
    expect(f.body).toMatchObject({ ...fixed, percentOff: null });
    const forever = await api.call('POST', '/v1/coupons', { ...percent, duration: 'forever' });
    expect(forever.status).toBe(201);
    // The subscription area attaches catalog coupons with couponFromCatalog.
    const row = await getCoupon(db.sql, api.agencyId, f.body.id);
    expect(couponFromCatalog(row!)).toMatchObject({
      kind: 'fixed',
      amountOffMinor: 1000,
      remaining: 3,
    });
  });

  it.each([
    [{ ...percent, percentOff: null }, 'percentOff'],
    [{ ...percent, percentOff: '0' }, 'percentOff'],
    [{ ...percent, percentOff: '100.01' }, 'percentOff'],
    [{ ...percent, percentOff: 20 }, 'percentOff'],
    [{ ...percent, amountOffMinor: 100 }, 'amountOffMinor'],
    [{ ...percent, currency: 'USD' }, 'currency'],
    [{ ...fixed, amountOffMinor: null }, 'amountOffMinor'],
    [{ ...fixed, amountOffMinor: 0 }, 'amountOffMinor'],
    [{ ...fixed, currency: null }, 'currency'],
    [{ ...fixed, percentOff: '5' }, 'percentOff'],
    [{ ...fixed, durationPeriods: null }, 'durationPeriods'],
    [{ ...percent, durationPeriods: 2 }, 'durationPeriods'],
    [{ ...percent, duration: 'weekly' }, 'duration'],
    [{ ...percent, kind: 'bogo' }, 'kind'],
  ])('refuses %j naming %s, creating nothing', async (body, field) => {
    const count = async () => (await db.sql`select count(*)::int as n from coupons`)[0]!.n;
    const before = await count();
    const res = await api.call('POST', '/v1/coupons', body);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe(field);
    expect(await count()).toBe(before);
  });

  it('accepts 100 percent exactly', async () => {
    expect((await api.call('POST', '/v1/coupons', { ...percent, percentOff: '100' })).status).toBe(
      201,
    );
  });
});

describe('GET /v1/coupons and /v1/coupons/{id}', () => {
  it('lists active coupons (archived on request) and gets one', async () => {
    const agency = await api.newAgency('Coupons');
    const a = (await api.call('POST', '/v1/coupons', percent, agency.key)).body;
    const b = (await api.call('POST', '/v1/coupons', fixed, agency.key)).body;
    await api.call('POST', `/v1/coupons/${a.id}/archive`, undefined, agency.key);
    const active = await api.call('GET', '/v1/coupons', undefined, agency.key);
    expect(active.body.data.map((c: any) => c.id)).toEqual([b.id]);
    const all = await api.call('GET', '/v1/coupons?includeArchived=true', undefined, agency.key);
    expect(all.body.data.map((c: any) => c.id)).toEqual([b.id, a.id]);
    expect((await api.call('GET', `/v1/coupons/${b.id}`, undefined, agency.key)).body).toEqual(b);
  });

  it('answers 404 for an unknown coupon', async () => {
    expect((await api.call('GET', '/v1/coupons/cpn_missing')).status).toBe(404);
  });
});

describe('PATCH /v1/coupons/{id}', () => {
  it('renames a coupon', async () => {
    const c = (await api.call('POST', '/v1/coupons', percent)).body;
    const res = await api.call('PATCH', `/v1/coupons/${c.id}`, { name: 'Spring' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...percent, name: 'Spring' });
  });

  it('refuses to change its terms, and answers 404 for an unknown coupon', async () => {
    const c = (await api.call('POST', '/v1/coupons', percent)).body;
    const res = await api.call('PATCH', `/v1/coupons/${c.id}`, { percentOff: '50' });
    expect(res.status).toBe(400);
    expect((await api.call('GET', `/v1/coupons/${c.id}`)).body.percentOff).toBe('20');
    expect((await api.call('PATCH', '/v1/coupons/cpn_missing', { name: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/coupons/{id}/archive', () => {
  it('archives a coupon', async () => {
    const c = (await api.call('POST', '/v1/coupons', percent)).body;
    const res = await api.call('POST', `/v1/coupons/${c.id}/archive`);
    expect(res.status).toBe(200);
    expect(res.body.archivedAt).not.toBeNull();
  });

  it('answers 404 for an unknown coupon', async () => {
    expect((await api.call('POST', '/v1/coupons/cpn_missing/archive')).status).toBe(404);
  });
});
