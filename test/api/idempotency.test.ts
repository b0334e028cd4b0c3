/**
 * Idempotency-Key on POST: replay with the same status and body, 422 on reuse with another
 * body or path, 409 while in flight, concurrent duplicates executed once, secrets not kept.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from 'hono';
import { ADMIN_KEY, useTestApi, testApiDeps } from '../helpers/api';
import { newApp } from '../../api/hono';
import { idempotency } from '../../api/middleware/idempotency';
import type { ApiDeps } from '../../api/context';
import { claimIdempotencyKey, storeIdempotentResponse } from '../../db/queries/idempotency';

const { db, api, temporal } = useTestApi();

const plan = (name = 'Starter') => ({
  name,
  currency: 'USD',
  flatFeeMinor: 4900,
  includedMinutes: 500,
  rhythm: 'month',
});
const post = (path: string, body: unknown, key: string, apiKey = api.key) =>
  api.call('POST', path, body, apiKey, { 'Idempotency-Key': key });
const countPlans = async (name: string) =>
  (await db.sql`select count(*)::int as n from plans where name = ${name}`)[0]!.n as number;

describe('Idempotency-Key', () => {
  it('replays the stored answer with the same status and body, executing once', async () => {
    const first = await post('/v1/plans', plan('Replay'), 'k-replay');
    expect(first.status).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    const second = await post('/v1/plans', plan('Replay'), 'k-replay');
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await countPlans('Replay')).toBe(1);
  });

  it('replays the very bytes it answered first', async () => {
    const send = () =>
      api.app.request('/v1/clients', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${api.key}`,
          'content-type': 'application/json',
          'Idempotency-Key': 'k-bytes',
        },
        body: JSON.stringify({ name: 'Bytes', email: 'b@bytes.example', billingMode: 'manual' }),
      });
    const first = await send();
    const second = await send();
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await second.text()).toBe(await first.text());
  });

  it('treats the same JSON in another key order as the same body', async () => {
    const body = plan('Order');
    const first = await post('/v1/plans', body, 'k-order');
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await post('/v1/plans', reordered, 'k-order');
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
  });

  it('answers 422 when the key is reused with another body, and executes nothing', async () => {
    await post('/v1/plans', plan('Conflict A'), 'k-conflict');
    const res = await post('/v1/plans', plan('Conflict B'), 'k-conflict');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_conflict');
    expect(res.body.error.details[0].field).toBe('Idempotency-Key');
    expect(await countPlans('Conflict B')).toBe(0);
  });

  it('answers 422 when the key is reused on another path', async () => {
    await post('/v1/plans', plan('Path'), 'k-path');
    const res = await post('/v1/clients', { name: 'Path client' }, 'k-path');
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('/v1/plans');
  });

  it('keeps keys per agency: another agency\u2019s same key is its own request', async () => {
    const mine = await post('/v1/plans', plan('Scoped'), 'k-shared');
    const other = await api.newAgency('Other');
    const theirs = await post('/v1/plans', plan('Scoped'), 'k-shared', other.key);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('Idempotent-Replayed')).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('answers 409 while the same key is in flight, and takes over an abandoned claim', async () => {
    const body = plan('Flight');
    // A claim with no answer yet, as a concurrent request leaves it mid-way.
    const { createHash } = await import('node:crypto');
    const canonical = JSON.stringify(Object.fromEntries(Object.entries(body).sort()));
    await db.sql`
      insert into idempotency_keys (scope, agency_id, key, method, path, request_hash)
      values (${api.agencyId}, ${api.agencyId}, 'k-flight', 'POST', '/v1/plans',
        ${createHash('sha256').update(canonical).digest('hex')})`;
    const busy = await post('/v1/plans', body, 'k-flight');
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('idempotency_in_progress');
    expect(await countPlans('Flight')).toBe(0);
    // The process that held it died: after the lock timeout the key is claimed again.
    await db.sql`update idempotency_keys set created_at = now() - interval '2 minutes' where key = 'k-flight'`;
    const retried = await post('/v1/plans', body, 'k-flight');
    expect(retried.status).toBe(201);
    expect(await countPlans('Flight')).toBe(1);
  });

  it('executes concurrent duplicates once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => post('/v1/plans', plan('Race'), 'k-race')),
    );
    expect(await countPlans('Race')).toBe(1);
    const created = answers.filter((a) => a.status === 201);
    expect(created.filter((a) => a.headers.get('Idempotent-Replayed') === null)).toHaveLength(1);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    for (const a of answers) {
      if (a.status !== 201) {
        expect(a.status).toBe(409);
        expect(a.body.error.code).toBe('idempotency_in_progress');
      }
    }
  });

  it('keeps no error answer: a retry after the cause is fixed runs again', async () => {
    const client = await api.call('POST', '/v1/clients', { name: 'Retry' });
    const missing = await post(
      `/v1/clients/${client.body.id}/packs`,
      { packId: 'pck_later' },
      'k-err',
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].field).toBe('packId');
    // Same key, same body: still an error (executed again, not replayed).
    const again = await post(
      `/v1/clients/${client.body.id}/packs`,
      { packId: 'pck_later' },
      'k-err',
    );
    expect(again.status).toBe(400);
    expect(again.headers.get('Idempotent-Replayed')).toBeNull();
    const rows = await db.sql`select 1 from idempotency_keys where key = 'k-err'`;
    expect(rows).toHaveLength(0);
  });

  it('answers a committed request although its copy cannot be stored yet, and never runs it twice', async () => {
    // Storing the answer fails, as it would with Postgres gone right after the commit.
    await db.sql`
      create function refuse_answer() returns trigger language plpgsql
      as $$ begin raise exception 'injected: answer not stored'; end $$`;
    await db.sql`
      create trigger refuse_answer before update on idempotency_keys
      for each row when (new.status_code is not null) execute function refuse_answer()`;
    let first;
    try {
      first = await post('/v1/plans', plan('Unkept'), 'k-unkept');
      expect(first.status).toBe(201);
      expect(first.body.name).toBe('Unkept');
      // The key stays claimed: a retry is told to wait, not run again.
      const retry = await post('/v1/plans', plan('Unkept'), 'k-unkept');
      expect(retry.status).toBe(409);
      expect(retry.body.error.code).toBe('idempotency_in_progress');
    } finally {
      await db.sql`drop trigger refuse_answer on idempotency_keys`;
      await db.sql`drop function refuse_answer()`;
    }
    // Postgres takes the copy again: the background store keeps it, and a retry replays it.
    let replay = await post('/v1/plans', plan('Unkept'), 'k-unkept');
    const until = Date.now() + 15_000;
    while (replay.status === 409 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      replay = await post('/v1/plans', plan('Unkept'), 'k-unkept');
    }
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await countPlans('Unkept')).toBe(1);
  }, 30_000);

  it('stores a late copy only while the request\u2019s claim holds, never on a claim taken over', async () => {
    const claim = {
      scope: api.agencyId,
      agencyId: api.agencyId,
      key: 'k-late',
      method: 'POST',
      path: '/v1/plans',
      requestHash: 'h',
    };
    expect(await claimIdempotencyKey(db.sql, claim)).toBeNull();
    const answer = { contentType: 'application/json', body: '{"late":true}' };
    const row = async () =>
      (
        await db.sql`select status_code as "statusCode" from idempotency_keys where key = 'k-late'`
      )[0]!;
    // Lapsed (a retry may take it over, or already has): the late copy is not stored.
    await db.sql`update idempotency_keys set created_at = now() - interval '2 minutes' where key = 'k-late'`;
    await storeIdempotentResponse(db.sql, claim.scope, claim.key, 201, answer, {
      whileClaimed: true,
    });
    expect((await row()).statusCode).toBeNull();
    // Still held: stored.
    await db.sql`update idempotency_keys set created_at = now() where key = 'k-late'`;
    await storeIdempotentResponse(db.sql, claim.scope, claim.key, 201, answer, {
      whileClaimed: true,
    });
    expect((await row()).statusCode).toBe(201);
  });

  it('refuses a malformed key, naming the header', async () => {
    const res = await post('/v1/plans', plan('Bad key'), 'has spaces in it');
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('Idempotency-Key');
    expect(await countPlans('Bad key')).toBe(0);
  });

  it('ignores the header on other methods', async () => {
    const created = await api.call('POST', '/v1/plans', plan('Patch'));
    const patch = (name: string) =>
      api.call('PATCH', `/v1/plans/${created.body.id}`, { name }, api.key, {
        'Idempotency-Key': 'k-patch',
      });
    expect((await patch('One')).body.name).toBe('One');
    expect((await patch('Two')).body.name).toBe('Two');
  });

  it('replays an API key creation without the key, and never stores the key', async () => {
    const first = await post('/v1/api-keys', { kind: 'ingest', name: 'replayed' }, 'k-secret');
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^tly_ingest_/);
    const second = await post('/v1/api-keys', { kind: 'ingest', name: 'replayed' }, 'k-secret');
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual({ ...first.body, key: null });
    const stored =
      await db.sql`select response::text as r from idempotency_keys where key = 'k-secret'`;
    expect(stored[0]!.r).not.toContain(first.body.key);
  });

  it('replays a webhook secret rotation without the secret, rotating once, storing no secret', async () => {
    const first = await post('/v1/agency/webhook-secret/rotate', undefined, 'k-rotate');
    expect(first.status).toBe(200);
    expect(first.body.webhookSecret).toEqual(expect.any(String));
    const second = await post('/v1/agency/webhook-secret/rotate', undefined, 'k-rotate');
    expect(second.status).toBe(200);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body).toEqual({ ...first.body, webhookSecret: null });
    const current =
      await db.sql`select webhook_secret as s from agencies where id = ${api.agencyId}`;
    expect(current[0]!.s).toBe(first.body.webhookSecret);
    const stored =
      await db.sql`select response::text as r from idempotency_keys where key = 'k-rotate'`;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.r).not.toContain(first.body.webhookSecret);
  });

  it('covers agency creation with the admin key, scoped to the platform', async () => {
    const create = () =>
      api.call('POST', '/v1/agencies', { name: 'Idempotent Agency' }, ADMIN_KEY, {
        'Idempotency-Key': 'k-agency',
      });
    const first = await create();
    expect(first.status).toBe(201);
    const second = await create();
    expect(second.status).toBe(201);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(second.body.agency).toEqual(first.body.agency);
    expect(second.body.apiKey).toEqual({ ...first.body.apiKey, key: null });
    expect(second.body.webhookSecret).toBeNull();
    const agencies = await db.sql`select id from agencies where name = 'Idempotent Agency'`;
    expect(agencies).toHaveLength(1);
  });
});

describe('expiry', () => {
  it('lets a key past 24 hours be used again, and purges expired keys as keyed requests flow', async () => {
    await post('/v1/plans', plan('Old'), 'k-old');
    await db.sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-old'`;
    const reused = await post('/v1/plans', plan('New'), 'k-old');
    expect(reused.status).toBe(201);
    expect(reused.headers.get('Idempotent-Replayed')).toBeNull();
    expect(await countPlans('New')).toBe(1);

    await db.sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-old'`;
    for (let i = 0; i < 100; i++) {
      await api.call('POST', '/v1/agency/webhook-secret/rotate', undefined, api.key, {
        'Idempotency-Key': `k-purge-${i}`,
      });
    }
    const deadline = Date.now() + 2_000;
    let left = 1;
    while (left > 0 && Date.now() < deadline) {
      left = (await db.sql`select count(*)::int as n from idempotency_keys where key = 'k-old'`)[0]!
        .n;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(left).toBe(0);
    expect(
      (await db.sql`select count(*)::int as n from idempotency_keys where key like 'k-purge-%'`)[0]!
        .n,
    ).toBe(100);
  });
});

describe('the idempotency middleware on its own', () => {
  it('does not keep a 5xx answer, so the retry executes', async () => {
    const deps: ApiDeps = testApiDeps(db.sql, temporal);
    let executions = 0;
    const app = newApp();
    app.use('*', async (c: Context, next) => {
      c.set('deps', deps);
      c.set('agencyId', api.agencyId);
      await next();
    });
    app.use('*', idempotency);
    app.post('/thing', (c) => {
      executions++;
      return executions === 1 ? c.json({ oops: true }, 500) : c.json({ n: executions }, 201);
    });
    const call = () =>
      app.request('/thing', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Idempotency-Key': 'k-5xx' },
        body: '{"a":1}',
      });
    expect((await call()).status).toBe(500);
    const second = await call();
    expect(second.status).toBe(201);
    const third = await call();
    expect(third.status).toBe(201);
    expect(third.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await third.json()).toEqual({ n: 2 });
    expect(executions).toBe(2);
  });
});
