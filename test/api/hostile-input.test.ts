/**
 * Hostile input, over every operation of the OpenAPI document: a NUL character (which Postgres
 * refuses in text and jsonb) or an unpaired surrogate in any path parameter, query parameter or
 * top-level string of a JSON body answers 400 naming the field, never 500; so does a missing body
 * where the route requires one, a malformed cursor and a malformed date. Generated from the
 * document, so a new route is covered without a line here.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { api, db } = useTestApi();

interface Operation {
  method: string;
  path: string;
  op: any;
}

let docCache: any;
async function doc(): Promise<any> {
  docCache ??= await (await api.app.request('/openapi.json')).json();
  return docCache;
}

/** The /v1 operations an agency key may call (the bootstrap route takes the admin key). */
async function operations(): Promise<Operation[]> {
  const d = await doc();
  return Object.entries<any>(d.paths)
    .filter(([path]) => path.startsWith('/v1/') && path !== '/v1/agencies')
    .flatMap(([path, ops]) =>
      Object.entries<any>(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
}

function resolve(d: any, schema: any): any {
  if (schema?.$ref) return resolve(d, d.components.schemas[schema.$ref.split('/').pop()]);
  return schema;
}

/** Top-level string properties of a body schema, across its oneOf/anyOf branches. */
function stringProperties(d: any, schema: any): string[] {
  const s = resolve(d, schema);
  if (!s) return [];
  const branches = [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])];
  const own = Object.entries<any>(s.properties ?? {})
    .filter(([, p]) => {
      const r = resolve(d, p);
      const types = [r?.type, ...(r?.anyOf ?? []).map((b: any) => resolve(d, b)?.type)].flat();
      return types.includes('string');
    })
    .map(([name]) => name);
  return [...new Set([...own, ...branches.flatMap((b) => stringProperties(d, b))])];
}

const fill = (path: string, values: Record<string, string> = {}) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'x_0');

async function send(method: string, url: string, body?: string, key: string = api.key) {
  const res = await api.app.request(url, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const fieldsOf = (body: any): string[] =>
  (body?.error?.details ?? []).map((d: { field: string }) => d.field);

const BAD_TEXTS = [
  ['NUL', 'a\u0000b', 'a%00b'],
  ['unpaired surrogate', 'a\ud800b', 'a%ED%A0%80b'],
] as const;

describe('hostile input over every operation', () => {
  it('a NUL in any path parameter: 400 naming it', async () => {
    let checked = 0;
    for (const { method, path } of await operations()) {
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const res = await send(
          method,
          fill(path, { [name!]: 'a%00b' }),
          method === 'GET' ? undefined : '{}',
        );
        expect(res.status, `${method} ${path} ${name}`).toBe(400);
        expect(fieldsOf(res.body), `${method} ${path} ${name}`).toContain(name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('a NUL in any query parameter: 400 naming it', async () => {
    let checked = 0;
    for (const { method, path, op } of await operations()) {
      for (const p of op.parameters ?? []) {
        if (p.in !== 'query') continue;
        const res = await send(method, `${fill(path)}?${p.name}=a%00b`);
        expect(res.status, `${method} ${path} ?${p.name}`).toBe(400);
        expect(fieldsOf(res.body), `${method} ${path} ?${p.name}`).toContain(p.name);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  for (const [what, text] of BAD_TEXTS) {
    it(`a ${what} in any top-level string of a JSON body: 400 naming it`, async () => {
      const d = await doc();
      let checked = 0;
      for (const { method, path, op } of await operations()) {
        const schema = op.requestBody?.content?.['application/json']?.schema;
        for (const name of stringProperties(d, schema)) {
          const res = await send(method, fill(path), JSON.stringify({ [name]: text }));
          expect(res.status, `${method} ${path} .${name}`).toBe(400);
          expect(fieldsOf(res.body), `${method} ${path} .${name}`).toContain(name);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(40);
    });
  }

  it('a NUL in an object key or a nested string of a body: 400 naming its path', async () => {
    const client = await api.call('POST', '/v1/clients', { name: 'Nested' });
    expect(client.status).toBe(201);
    const nested = await send(
      'PATCH',
      `/v1/clients/${client.body.id}`,
      JSON.stringify({ metadata: { 'k\u0000': 'v' } }),
    );
    expect(nested.status).toBe(400);
    expect(fieldsOf(nested.body)[0]).toMatch(/^metadata\.k/);
    const plan = await send(
      'POST',
      '/v1/subscriptions',
      JSON.stringify({ clientId: client.body.id, agentIds: ['agt_1', 'a\u0000'] }),
    );
    expect(plan.status).toBe(400);
    expect(fieldsOf(plan.body)).toContain('agentIds.1');
  });

  it('a NUL in a usage event: that event is rejected naming the field, none stored', async () => {
    const client = await api.call('POST', '/v1/clients', { name: 'Ingest', externalId: 'ing-1' });
    const event = {
      id: 'nul-1',
      client: 'ing-1',
      metric: 'voice_seconds',
      quantity: 60,
      time: new Date().toISOString(),
    };
    for (const [field, bad] of [
      ['id', { ...event, id: 'n\u0000' }],
      ['client', { ...event, client: 'ing\u0000' }],
      ['properties.k', { ...event, properties: { k: 'v\u0000' } }],
      ['properties.k\u0000', { ...event, properties: { 'k\u0000': true } }],
    ] as const) {
      const res = await send('POST', '/v1/usage', JSON.stringify({ events: [bad] }), api.ingestKey);
      expect(res.status, field).toBe(400);
      expect(fieldsOf(res.body), field).toEqual([`events.0.${field}`]);
    }
    const [row] =
      await db.sql`select count(*)::int as n from usage_events where client_id = ${client.body.id}`;
    expect(row?.n).toBe(0);
  });

  it('a missing body where the route requires one: 400 naming the body', async () => {
    let checked = 0;
    for (const { method, path, op } of await operations()) {
      if (!op.requestBody?.required || path === '/v1/usage') continue;
      const res = await send(method, fill(path));
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(fieldsOf(res.body), `${method} ${path}`).toEqual(['body']);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('malformed cursors and dates: 400 naming the field', async () => {
    for (const path of [
      '/v1/plans',
      '/v1/clients',
      '/v1/coupons',
      '/v1/packs',
      '/v1/events',
      '/v1/payment-requests',
      '/v1/subscriptions',
    ]) {
      const res = await send('GET', `${path}?after=${encodeURIComponent("' or 1=1 --")}`);
      expect(res.status, path).toBe(400);
      expect(fieldsOf(res.body), path).toEqual(['after']);
    }
    const client = await api.call('POST', '/v1/clients', { name: 'Dates' });
    for (const after of ['0', 'yesterday', '0000-01-01T00:00:00Z', '2026-13-01T00:00:00Z']) {
      const res = await send('GET', `/v1/clients/${client.body.id}/usage/history?after=${after}`);
      expect(res.status, after).toBe(400);
      expect(fieldsOf(res.body), after).toEqual(['after']);
    }
    const start = await send(
      'POST',
      '/v1/subscriptions',
      JSON.stringify({ clientId: client.body.id, startAt: '0000-01-01T00:00:00Z' }),
    );
    expect(start.status).toBe(400);
    expect(fieldsOf(start.body)).toContain('startAt');
  });
});
