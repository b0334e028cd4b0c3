/**
 * The security test of every route, read from the served OpenAPI document so that routes added
 * later are walked too: no key gets 401; an ingest key gets 403 everywhere but POST /v1/usage;
 * another agency's key gets 404 on this agency's resources (one of each kind is created and its
 * id put in the path) and never sees them in a list; admin routes refuse agency keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { getPlan, snapshotTerms } from '../../db/queries/plans';

/** The only route an ingest key may call (issue 3: "they may only post usage"). */
const INGEST_ALLOWED = new Set(['POST /v1/usage']);

const db = await createTestDb();
const temporal = unreachableTemporalClient();
const api: TestApi = await createTestApi(db.sql, temporal);
const doc: any = await (await api.app.request('/openapi.json')).json();

interface Operation {
  method: string;
  path: string;
  op: any;
}
const operations: Operation[] = Object.entries<any>(doc.paths)
  .filter(([path]) => path.startsWith('/v1/'))
  .flatMap(([path, ops]) =>
    Object.entries<any>(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
const isAdmin = (o: Operation) =>
  (o.op.security ?? doc.security ?? []).some((s: object) => 'adminKey' in s);

let other: { agencyId: string; key: string; ingestKey: string };
/** Path segment before a parameter -> the id of agency A's resource of that kind. */
const fixtures: Record<string, string> = {};

beforeAll(async () => {
  other = await api.newAgency('Other agency');
  const must = async (method: string, path: string, body?: unknown) => {
    const res = await api.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const plan = await must('POST', '/v1/plans', {
    name: 'Walk plan',
    currency: 'USD',
    flatFeeMinor: 1000,
    rhythm: 'month',
  });
  const client = await must('POST', '/v1/clients', { name: 'Walk client' });
  const pack = await must('POST', '/v1/packs', {
    name: 'Walk pack',
    minutes: 100,
    priceMinor: 500,
    currency: 'USD',
  });
  await must('POST', `/v1/clients/${client.id}/packs`, { packId: pack.id });
  const coupon = await must('POST', '/v1/coupons', {
    name: 'Walk coupon',
    kind: 'percent',
    percentOff: '10',
    duration: 'once',
  });
  const product = await must('POST', '/v1/one-time-products', {
    name: 'Setup',
    priceMinor: 5000,
    currency: 'USD',
  });
  const agent = await must('POST', `/v1/clients/${client.id}/agents`, { name: 'Receptionist' });
  const user = await must('POST', `/v1/clients/${client.id}/portal-users`, {
    email: 'owner@walk.example',
  });
  const portalSession = await must('POST', `/v1/clients/${client.id}/portal-sessions`, {
    portalUserId: user.id,
  });
  const key = await must('POST', '/v1/api-keys', { kind: 'agency', name: 'walk' });
  await must('PUT', `/v1/clients/${client.id}/plan`, { planId: plan.id });

  // Rows other areas create through workflows, written directly: the routes only read them here.
  const subscriptionId = 'sub_walk';
  // Real terms, as a start snapshots them: reports compute from them.
  const terms = snapshotTerms((await getPlan(db.sql, api.agencyId, plan.id))!) as never;
  await db.sql`
    insert into subscriptions (id, agency_id, client_id, plan_id, terms, agent_ids, billing_mode,
      status, start_at, workflow_id)
    values (${subscriptionId}, ${api.agencyId}, ${client.id}, ${plan.id}, ${db.sql.json(terms)},
      ${[agent.id]}, 'manual', 'active', now(), 'subscription-sub_walk')`;
  const requestId = 'req_walk';
  await db.sql`
    insert into payment_requests (id, agency_id, client_id, subscription_id, type, period_index,
      status, currency, subtotal_minor, total_minor, issued_at, due_at, idempotency_key)
    values (${requestId}, ${api.agencyId}, ${client.id}, ${subscriptionId}, 'cycle', 0, 'pending',
      'USD', 1000, 1000, now(), now() + interval '7 days', 'walk-request')`;
  const eventId = 'evt_walk';
  await db.sql`
    insert into events (id, agency_id, type, client_id, subject_type, subject_id)
    values (${eventId}, ${api.agencyId}, 'walk.test', ${client.id}, 'client', ${client.id})`;

  Object.assign(fixtures, {
    clients: client.id,
    plans: plan.id,
    packs: pack.id,
    coupons: coupon.id,
    'one-time-products': product.id,
    agents: agent.id,
    'portal-users': user.id,
    'portal-sessions': portalSession.id,
    'api-keys': key.id,
    subscriptions: subscriptionId,
    'payment-requests': requestId,
    events: eventId,
  });
});

afterAll(async () => {
  await temporal.connection.close();
  await db.drop();
});

/** The path with each `{param}` replaced by agency A's resource of the kind named before it. */
function concretePath(path: string): string {
  return path.replace(/\/([^/]+)\/\{[^}]+\}/g, (_m, collection: string) => {
    const id = fixtures[collection];
    if (!id) {
      throw new Error(
        `route-table walk: no fixture for "/${collection}/{...}" in ${path}; add one to this test`,
      );
    }
    return `/${collection}/${id}`;
  });
}

const resolve = (schema: any): any =>
  schema?.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()]) : schema;

/** A minimal value that satisfies a JSON schema (the route then reaches its own checks). */
function sample(input: any): unknown {
  const schema = resolve(input) ?? {};
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    return sample(alternatives.find((s: any) => resolve(s)?.type !== 'null') ?? alternatives[0]);
  }
  const type = Array.isArray(schema.type)
    ? schema.type.find((t: string) => t !== 'null')
    : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name: string) => [name, sample(schema.properties?.[name])]),
      );
    case 'array':
      return schema.minItems ? [sample(schema.items)] : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum ?? 0) + 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.format === 'email') return 'walk@example.com';
      if (schema.format === 'uri') return 'https://example.com/hook';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return null;
  }
}

function request(o: Operation, key: string | null, path = o.path) {
  const body = o.op.requestBody?.content?.['application/json']?.schema;
  const query = (o.op.parameters ?? [])
    .filter((p: any) => p.in === 'query' && p.required)
    .map((p: any) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`)
    .join('&');
  return api.call(
    o.method,
    query ? `${path}?${query}` : path,
    body ? sample(body) : undefined,
    key,
  );
}

describe('the route table', () => {
  it('is walked at all (the document lists the /v1 routes)', () => {
    expect(operations.length).toBeGreaterThan(40);
  });

  it('pages every collection: each GET of a collection answers a cursor page', () => {
    // A GET whose path ends with a plural name (not an id) lists something; a few singular
    // nouns end in "s" too.
    const singular = new Set(['access', 'status', 'settings']);
    const collections = operations.filter((o) => {
      const last = o.path.split('/').pop()!;
      return o.method === 'GET' && /^[a-z-]+s$/.test(last) && !singular.has(last);
    });
    expect(collections.length).toBeGreaterThan(10);
    for (const o of collections) {
      const ok = resolve(o.op.responses?.['200']?.content?.['application/json']?.schema);
      expect(ok?.properties?.nextCursor, `${o.method} ${o.path}`).toBeDefined();
    }
  });
});

describe.each(operations.map((o) => [`${o.method} ${o.path}`, o] as const))('%s', (_name, o) => {
  it('without a key: 401', async () => {
    const res = await request(o, null);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized', requestId: expect.any(String) });
  });

  if (isAdmin(o)) {
    it('with an agency or ingest key instead of the admin key: 401', async () => {
      for (const key of [api.key, api.ingestKey]) {
        const res = await request(o, key);
        expect(res.status).toBe(401);
      }
    });
    return;
  }

  if (INGEST_ALLOWED.has(`${o.method} ${o.path}`)) {
    it('with an ingest key: allowed', async () => {
      const res = await request(o, api.ingestKey);
      expect([401, 403]).not.toContain(res.status);
    });
  } else {
    it('with an ingest key: 403', async () => {
      const res = await request(o, api.ingestKey, concretePath(o.path));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    });
  }

  const isList = (() => {
    const ok = resolve(o.op.responses?.['200']?.content?.['application/json']?.schema);
    return Boolean(ok?.properties?.nextCursor);
  })();
  if (isList) {
    it('is a cursor-paginated list: takes limit and after, refuses a limit outside 1..100 naming it', async () => {
      const names = (o.op.parameters ?? [])
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name);
      expect(names).toEqual(expect.arrayContaining(['limit', 'after']));
      for (const limit of ['0', '101']) {
        const res = await api.call(o.method, `${concretePath(o.path)}?limit=${limit}`);
        expect(res.status, `limit=${limit}`).toBe(400);
        expect(res.body.error.details[0].field).toBe('limit');
      }
      expect((await api.call(o.method, `${concretePath(o.path)}?limit=100`)).status).toBe(200);
    });
  }

  if (o.path.includes('{')) {
    it('with another agency\u2019s key on this agency\u2019s resource: 404', async () => {
      const res = await request(o, other.key, concretePath(o.path));
      expect(res.body.error?.code, JSON.stringify(res.body)).toBe('not_found');
      expect(res.status).toBe(404);
    });
  } else if (o.method === 'GET') {
    it('with another agency\u2019s key: none of this agency\u2019s rows', async () => {
      const res = await request(o, other.key);
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      for (const id of Object.values(fixtures)) expect(text).not.toContain(id);
      expect(text).not.toContain(api.agencyId);
    });
  }
});
