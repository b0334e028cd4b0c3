/** API keys: created shown once, stored hashed, listed without secrets, revoked at once. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { KeyCache } from '../../api/middleware/key-cache';
import { hashKey, insertApiKey, revokeApiKey } from '../../db/queries/agencies';
import { createLogger } from '../../lib/logger';
import { useTestApi, testApiDeps } from '../helpers/api';

const { db, api, temporal } = useTestApi();

describe('POST /v1/api-keys', () => {
  it('creates an agency key that works, stored only as a hash', async () => {
    const res = await api.call('POST', '/v1/api-keys', { kind: 'agency', name: 'ci' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'api_key',
      kind: 'agency',
      name: 'ci',
      revokedAt: null,
    });
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    expect((await api.call('GET', '/v1/plans', undefined, res.body.key)).status).toBe(200);
    const [row] = await db.sql`select hash from api_keys where id = ${res.body.id}`;
    expect(row!.hash).toBe(hashKey(res.body.key));
    // SHA-256 of the key, as documented, and the key itself nowhere in its row.
    expect(row!.hash).toBe(createHash('sha256').update(res.body.key).digest('hex'));
    const [whole] = await db.sql`select row_to_json(k)::text as t from api_keys k
      where id = ${res.body.id}`;
    expect(whole!.t).not.toContain(res.body.key);
  });

  it('creates an ingest key that may post usage only', async () => {
    const res = await api.call('POST', '/v1/api-keys', { kind: 'ingest', name: 'platform' });
    expect(res.body.key).toMatch(/^tly_ingest_/);
    const denied = await api.call('GET', '/v1/clients', undefined, res.body.key);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('ingest key');
    const mint = await api.call('POST', '/v1/api-keys', { kind: 'agency' }, res.body.key);
    expect(mint.status).toBe(403);
  });

  it('names a bad kind', async () => {
    const res = await api.call('POST', '/v1/api-keys', { kind: 'admin' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('kind');
  });
});

describe('GET /v1/api-keys and /v1/api-keys/{id}', () => {
  it('lists and gets keys without their secrets', async () => {
    const agency = await api.newAgency('Lister');
    const created = await api.call('POST', '/v1/api-keys', { kind: 'agency' }, agency.key);
    const list = await api.call('GET', '/v1/api-keys?limit=10', undefined, agency.key);
    expect(list.status).toBe(200);
    // initial + ingestor (from the helper) + the new one
    expect(list.body.data).toHaveLength(3);
    const text = JSON.stringify(list.body);
    for (const secret of [agency.key, agency.ingestKey, created.body.key]) {
      expect(text).not.toContain(secret);
    }
    expect(list.body.data.every((k: any) => !('key' in k))).toBe(true);
    const one = await api.call('GET', `/v1/api-keys/${created.body.id}`, undefined, agency.key);
    expect(one.body).toEqual({ ...created.body, key: undefined });
  });

  it('answers 404 for an unknown key id', async () => {
    expect((await api.call('GET', '/v1/api-keys/key_missing')).status).toBe(404);
  });
});

describe('POST /v1/api-keys/{id}/revoke', () => {
  it('stops the key at once, though it was just used (and cached)', async () => {
    const created = await api.call('POST', '/v1/api-keys', { kind: 'agency' });
    for (let i = 0; i < 3; i++) {
      expect((await api.call('GET', '/v1/plans', undefined, created.body.key)).status).toBe(200);
    }
    const revoked = await api.call('POST', `/v1/api-keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const after = await api.call('GET', '/v1/plans', undefined, created.body.key);
    expect(after.status).toBe(401);
    // Revoking again changes nothing.
    const again = await api.call('POST', `/v1/api-keys/${created.body.id}/revoke`);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it('refuses to revoke the last active agency key (409)', async () => {
    const agency = await api.newAgency('Lonely');
    const [only] = (await api.call('GET', '/v1/api-keys', undefined, agency.key)).body.data.filter(
      (k: any) => k.kind === 'agency',
    );
    const res = await api.call('POST', `/v1/api-keys/${only.id}/revoke`, undefined, agency.key);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('last active agency key');
    expect((await api.call('GET', '/v1/agency', undefined, agency.key)).status).toBe(200);
    // With a second agency key, the first can go (even revoking itself).
    await api.call('POST', '/v1/api-keys', { kind: 'agency' }, agency.key);
    const ok = await api.call('POST', `/v1/api-keys/${only.id}/revoke`, undefined, agency.key);
    expect(ok.status).toBe(200);
    expect((await api.call('GET', '/v1/agency', undefined, agency.key)).status).toBe(401);
  });

  it('answers 404 for an unknown key id', async () => {
    expect((await api.call('POST', '/v1/api-keys/key_missing/revoke')).status).toBe(404);
  });
});

describe('revocation reaches every API process', () => {
  it('another process (its own key cache) refuses the key within a notification, not a TTL', async () => {
    const created = await api.call('POST', '/v1/api-keys', { kind: 'agency' });
    const secondProcess = createApp(testApiDeps(db.sql, temporal));
    const get = () =>
      secondProcess.request('/v1/agency', {
        headers: { authorization: `Bearer ${created.body.key}` },
      });
    expect((await get()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // its LISTEN is up: lookups are now cached
    expect((await get()).status).toBe(200);
    await api.call('POST', `/v1/api-keys/${created.body.id}/revoke`);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 2_000) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await get()).status;
    }
    expect(status).toBe(401); // well inside the 5 s TTL: the NOTIFY did it
  });
});

describe('KeyCache', () => {
  it('drops a key when any process revokes it', async () => {
    const cache = new KeyCache(db.sql, createLogger('silent'));
    cache.start();
    await cache.ready;
    const agency = await api.newAgency('Cached');
    const extra = await insertApiKey(db.sql, agency.agencyId, 'agency', null);
    const hash = hashKey(extra.key);
    cache.set(hash, { agencyId: agency.agencyId, kind: 'agency' }, cache.epoch());
    expect(cache.get(hash)).not.toBeNull();
    expect((await revokeApiKey(db.sql, agency.agencyId, extra.id)).outcome).toBe('revoked');
    const started = Date.now();
    while (cache.get(hash) && Date.now() - started < 2_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(cache.get(hash)).toBeNull();
  });

  it('does not cache a lookup that raced a revocation, and expires entries', async () => {
    const cache = new KeyCache(db.sql, createLogger('silent'), { ttlMs: 50 });
    cache.start();
    await cache.ready;
    const epoch = cache.epoch();
    cache.forget('some-other-hash'); // a revocation lands while our lookup is in flight
    cache.set('h', { agencyId: 'agy_x', kind: 'agency' }, epoch);
    expect(cache.get('h')).toBeNull();
    cache.set('h', { agencyId: 'agy_x', kind: 'agency' }, cache.epoch());
    expect(cache.get('h')).not.toBeNull();
    await new Promise((r) => setTimeout(r, 80));
    expect(cache.get('h')).toBeNull();
  });

  it('caches nothing until revocations can be heard', () => {
    const cache = new KeyCache(db.sql, createLogger('silent'));
    cache.set('h', { agencyId: 'agy_x', kind: 'agency' }, cache.epoch());
    expect(cache.get('h')).toBeNull();
  });
});
