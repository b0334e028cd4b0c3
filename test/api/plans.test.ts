/** Plans: every field of PRODUCT.md, the rules between them, archive, and edits. */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { db, api } = useTestApi();

const full = {
  name: 'Growth',
  tier: 'growth',
  description: 'For busy practices',
  currency: 'EUR',
  flatFeeMinor: 9900,
  overageRateMinorPerMinute: '12.5',
  includedMinutes: 1000,
  rhythm: 'week',
  intervalCount: 2,
  dueDays: 3,
  graceDays: 10,
  packsAllowed: true,
  chatMode: true,
  chatsPerMinute: '2.5',
  taxBehavior: 'inclusive',
};
const minimal = { name: 'Basic', currency: 'USD', flatFeeMinor: 2900, rhythm: 'month' };

describe('POST /v1/plans', () => {
  it('stores every field as given', async () => {
    const res = await api.call('POST', '/v1/plans', full);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'plan', ...full, archivedAt: null });
    expect(res.body.id).toMatch(/^pln_/);
  });

  it('fills documented defaults', async () => {
    const res = await api.call('POST', '/v1/plans', minimal);
    expect(res.body).toMatchObject({
      tier: null,
      description: null,
      overageRateMinorPerMinute: null,
      includedMinutes: 0,
      intervalCount: 1,
      dueDays: 7,
      graceDays: 7,
      packsAllowed: false,
      chatMode: false,
      chatsPerMinute: null,
      taxBehavior: 'exclusive',
    });
  });

  it('accepts an overage-only plan and a zero-decimal currency', async () => {
    const res = await api.call('POST', '/v1/plans', {
      name: 'Pay as you go',
      currency: 'JPY',
      overageRateMinorPerMinute: '20',
      rhythm: 'month',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ flatFeeMinor: 0, overageRateMinorPerMinute: '20' });
  });

  it.each([
    [{ flatFeeMinor: 0 }, 'flatFeeMinor'],
    [{ currency: 'usd' }, 'currency'],
    [{ currency: 'XYZ' }, 'currency'],
    [{ flatFeeMinor: 10.5 }, 'flatFeeMinor'],
    [{ flatFeeMinor: -1 }, 'flatFeeMinor'],
    [{ overageRateMinorPerMinute: 12.5 }, 'overageRateMinorPerMinute'],
    [{ overageRateMinorPerMinute: '1.2345678' }, 'overageRateMinorPerMinute'],
    [{ rhythm: 'fortnight' }, 'rhythm'],
    [{ intervalCount: 0 }, 'intervalCount'],
    [{ dueDays: 400 }, 'dueDays'],
    [{ graceDays: -1 }, 'graceDays'],
    [{ includedMinutes: 1.5 }, 'includedMinutes'],
    [{ chatMode: true }, 'chatsPerMinute'],
    [{ chatMode: true, chatsPerMinute: '0' }, 'chatsPerMinute'],
    [{ taxBehavior: 'none' }, 'taxBehavior'],
    [{ name: '' }, 'name'],
  ])('refuses %j naming %s, creating nothing', async (change, field) => {
    const before = await db.sql`select count(*)::int as n from plans`;
    const res = await api.call('POST', '/v1/plans', { ...minimal, ...change });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    expect(await db.sql`select count(*)::int as n from plans`).toEqual(before);
  });
});

describe('GET /v1/plans and /v1/plans/{id}', () => {
  it('lists active plans newest first, archived ones on request, and gets one', async () => {
    const agency = await api.newAgency('Catalog');
    const a = (await api.call('POST', '/v1/plans', { ...minimal, name: 'A' }, agency.key)).body;
    const b = (await api.call('POST', '/v1/plans', { ...minimal, name: 'B' }, agency.key)).body;
    await api.call('POST', `/v1/plans/${a.id}/archive`, undefined, agency.key);
    const active = await api.call('GET', '/v1/plans', undefined, agency.key);
    expect(active.body.data.map((p: any) => p.id)).toEqual([b.id]);
    const all = await api.call('GET', '/v1/plans?includeArchived=true', undefined, agency.key);
    expect(all.body.data.map((p: any) => p.id)).toEqual([b.id, a.id]);
    const paged = await api.call(
      'GET',
      `/v1/plans?includeArchived=true&limit=1&after=${b.id}`,
      undefined,
      agency.key,
    );
    expect(paged.body.data.map((p: any) => p.id)).toEqual([a.id]);
    expect((await api.call('GET', `/v1/plans/${a.id}`, undefined, agency.key)).body.name).toBe('A');
  });

  it('answers 404 for an unknown plan and 400 for a bad filter', async () => {
    expect((await api.call('GET', '/v1/plans/pln_missing')).status).toBe(404);
    const bad = await api.call('GET', '/v1/plans?includeArchived=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('includeArchived');
  });
});

describe('PATCH /v1/plans/{id}', () => {
  it('changes only the fields sent', async () => {
    const plan = (await api.call('POST', '/v1/plans', full)).body;
    const res = await api.call('PATCH', `/v1/plans/${plan.id}`, { name: 'Growth 2', dueDays: 14 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...full, name: 'Growth 2', dueDays: 14 });
  });

  it('checks the rules against the plan as it would become', async () => {
    const plan = (await api.call('POST', '/v1/plans', minimal)).body;
    const res = await api.call('PATCH', `/v1/plans/${plan.id}`, { flatFeeMinor: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('flatFeeMinor');
    const chat = await api.call('PATCH', `/v1/plans/${plan.id}`, { chatMode: true });
    expect(chat.body.error.details[0].field).toBe('chatsPerMinute');
    expect((await api.call('GET', `/v1/plans/${plan.id}`)).body.flatFeeMinor).toBe(2900);
  });

  it('keeps the currency of a plan in use (409), and changes it when unused', async () => {
    const plan = (await api.call('POST', '/v1/plans', minimal)).body;
    expect(
      (await api.call('PATCH', `/v1/plans/${plan.id}`, { currency: 'GBP' })).body.currency,
    ).toBe('GBP');
    const client = (await api.call('POST', '/v1/clients', { name: 'User' })).body;
    await api.call('PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });
    const res = await api.call('PATCH', `/v1/plans/${plan.id}`, { currency: 'USD' });
    expect(res.status).toBe(409);
    expect(res.body.error.details[0].field).toBe('currency');
    expect((await api.call('GET', `/v1/plans/${plan.id}`)).body.currency).toBe('GBP');
  });

  it('refuses unknown fields and answers 404 for an unknown plan', async () => {
    const plan = (await api.call('POST', '/v1/plans', minimal)).body;
    const unknown = await api.call('PATCH', `/v1/plans/${plan.id}`, { archivedAt: null });
    expect(unknown.status).toBe(400);
    expect((await api.call('PATCH', '/v1/plans/pln_missing', { name: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/plans/{id}/archive', () => {
  it('archives once (a second archive keeps the first date)', async () => {
    const plan = (await api.call('POST', '/v1/plans', minimal)).body;
    const first = await api.call('POST', `/v1/plans/${plan.id}/archive`);
    expect(first.status).toBe(200);
    expect(first.body.archivedAt).not.toBeNull();
    const second = await api.call('POST', `/v1/plans/${plan.id}/archive`);
    expect(second.body.archivedAt).toBe(first.body.archivedAt);
  });

  it('answers 404 for an unknown plan', async () => {
    expect((await api.call('POST', '/v1/plans/pln_missing/archive')).status).toBe(404);
  });
});
