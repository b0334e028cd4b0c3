/** Agency bootstrap (admin key) and self-service settings. */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { ADMIN_KEY, useTestApi, testApiDeps } from '../helpers/api';

const { db, api, temporal } = useTestApi();

const webhookSecretOf = async (agencyId: string) =>
  (await db.sql`select webhook_secret from agencies where id = ${agencyId}`)[0]!
    .webhook_secret as string;

describe('POST /v1/agencies (platform admin key)', () => {
  it('creates an agency and shows its first key and webhook secret once', async () => {
    const res = await api.call(
      'POST',
      '/v1/agencies',
      { name: 'Northwind Voice', webhookUrl: 'https://northwind.example/hooks' },
      ADMIN_KEY,
    );
    expect(res.status).toBe(201);
    expect(res.body.agency).toMatchObject({
      object: 'agency',
      name: 'Northwind Voice',
      webhookUrl: 'https://northwind.example/hooks',
      failedPaymentAction: 'block',
    });
    expect(res.body.apiKey.key).toMatch(/^tly_live_/);
    expect(res.body.webhookSecret).toBe(await webhookSecretOf(res.body.agency.id));
    // The key works at once, for this agency; only its hash is stored.
    const me = await api.call('GET', '/v1/agency', undefined, res.body.apiKey.key);
    expect(me.body.id).toBe(res.body.agency.id);
    const stored = await db.sql`select hash from api_keys where id = ${res.body.apiKey.id}`;
    expect(stored[0]!.hash).not.toContain(res.body.apiKey.key);
  });

  it('names bad fields', async () => {
    const res = await api.call(
      'POST',
      '/v1/agencies',
      { name: '', webhookUrl: 'ftp://x' },
      ADMIN_KEY,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.field).sort()).toEqual(['name', 'webhookUrl']);
  });

  it('refuses a wrong admin key and agency keys', async () => {
    for (const key of ['wrong-admin-key-0123456789abcdef', api.key, null]) {
      const res = await api.call('POST', '/v1/agencies', { name: 'Nope' }, key);
      expect(res.status).toBe(401);
    }
    expect(await db.sql`select 1 from agencies where name = 'Nope'`).toHaveLength(0);
  });

  it('is off (403, pointing at the CLI) when no admin key is configured', async () => {
    const app = createApp(testApiDeps(db.sql, temporal));
    const res = await app.request('/v1/agencies', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Nope' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toContain('npm run tally -- create-agency');
  });
});

describe('GET /v1/agency', () => {
  it('answers the calling agency, without its webhook secret', async () => {
    const res = await api.call('GET', '/v1/agency');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: 'agency',
      id: api.agencyId,
      name: 'Acme Voice Agency',
    });
    expect(JSON.stringify(res.body)).not.toContain(await webhookSecretOf(api.agencyId));
    const other = await api.newAgency('Other Co');
    expect((await api.call('GET', '/v1/agency', undefined, other.key)).body.id).toBe(
      other.agencyId,
    );
  });

  it('answers 401 for an unknown key or a malformed header', async () => {
    expect((await api.call('GET', '/v1/agency', undefined, 'tly_live_nope')).status).toBe(401);
    const res = await api.app.request('/v1/agency', { headers: { authorization: api.key } });
    expect(res.status).toBe(401);
  });
});

describe('PATCH /v1/agency', () => {
  it('changes only the fields sent', async () => {
    const agency = await api.newAgency('Patchable');
    const set = await api.call(
      'PATCH',
      '/v1/agency',
      { webhookUrl: 'https://p.example/h', failedPaymentAction: 'cancel' },
      agency.key,
    );
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      name: 'Patchable',
      webhookUrl: 'https://p.example/h',
      failedPaymentAction: 'cancel',
    });
    const renamed = await api.call('PATCH', '/v1/agency', { name: 'Renamed' }, agency.key);
    expect(renamed.body).toMatchObject({
      name: 'Renamed',
      webhookUrl: 'https://p.example/h',
      failedPaymentAction: 'cancel',
    });
    const cleared = await api.call('PATCH', '/v1/agency', { webhookUrl: null }, agency.key);
    expect(cleared.body.webhookUrl).toBeNull();
  });

  it('names bad fields, refuses the secret and unknown fields, and changes nothing', async () => {
    const before = (await api.call('GET', '/v1/agency')).body;
    for (const [body, field] of [
      [{ webhookUrl: 'not a url' }, 'webhookUrl'],
      [{ failedPaymentAction: 'refund' }, 'failedPaymentAction'],
      [{ name: '   ' }, 'name'],
      [{ stripeRetryDays: [] }, 'stripeRetryDays'],
      [{ stripeRetryDays: [3, 0, 7] }, 'stripeRetryDays.1'],
      [{ stripeRetryDays: [3, 5.5] }, 'stripeRetryDays.1'],
      [{ stripeRetryDays: [61] }, 'stripeRetryDays.0'],
      [{ stripeRetryDays: Array(11).fill(1) }, 'stripeRetryDays'],
      [{ stripeRetryDays: '3,5,7' }, 'stripeRetryDays'],
    ] as const) {
      const res = await api.call('PATCH', '/v1/agency', body);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe(field);
    }
    expect((await api.call('PATCH', '/v1/agency', { webhookSecret: 'mine' })).status).toBe(400);
    expect((await api.call('GET', '/v1/agency')).body).toEqual(before);
  });
});

describe('stripeRetryDays (the Stripe retry schedule)', () => {
  it('is 3, 5, 7 by default, set with PATCH, shown by GET and in the OpenAPI document', async () => {
    const agency = await api.newAgency('Retrier');
    expect(
      (await api.call('GET', '/v1/agency', undefined, agency.key)).body.stripeRetryDays,
    ).toEqual([3, 5, 7]);
    const set = await api.call('PATCH', '/v1/agency', { stripeRetryDays: [1, 2] }, agency.key);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.stripeRetryDays).toEqual([1, 2]);
    expect(
      (await api.call('GET', '/v1/agency', undefined, agency.key)).body.stripeRetryDays,
    ).toEqual([1, 2]);
    const doc = (await (await api.app.request('/openapi.json')).json()) as any;
    expect(doc.components.schemas.Agency.properties.stripeRetryDays).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: 10,
    });
    expect(doc.components.schemas.PaymentRequest.required).toEqual(
      expect.arrayContaining(['lastFailureReason', 'nextRetryAt']),
    );
  });
});

describe('POST /v1/agency/webhook-secret/rotate', () => {
  it('replaces the secret and shows the new one once', async () => {
    const before = await webhookSecretOf(api.agencyId);
    const res = await api.call('POST', '/v1/agency/webhook-secret/rotate');
    expect(res.status).toBe(200);
    expect(res.body.webhookSecret).toMatch(/^whsec_/);
    expect(res.body.webhookSecret).not.toBe(before);
    expect(await webhookSecretOf(api.agencyId)).toBe(res.body.webhookSecret);
  });

  it('rotates only the caller\u2019s secret', async () => {
    const other = await api.newAgency('Bystander');
    const before = await webhookSecretOf(other.agencyId);
    await api.call('POST', '/v1/agency/webhook-secret/rotate');
    expect(await webhookSecretOf(other.agencyId)).toBe(before);
  });
});
