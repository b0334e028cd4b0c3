/** The OpenAPI 3.1 document: valid, built from the routes, listing every one of them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileErrors, validate } from '@readme/openapi-parser';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';

let db: TestDb;
let api: TestApi;
let doc: any;
const temporal = unreachableTemporalClient();

beforeAll(async () => {
  db = await createTestDb();
  api = await createTestApi(db.sql, temporal);
  const res = await api.app.request('/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(async () => {
  await temporal.connection.close();
  await db?.drop();
});

const operations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, ops]) =>
    Object.entries<any>(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );

describe('GET /openapi.json', () => {
  it('passes the OpenAPI 3.1 validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // The validator dereferences in place: give it a copy.
    const result = await validate(structuredClone(doc));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('lists every route the app serves, and nothing it does not', () => {
    const served = new Set(
      api.app.routes
        .filter(
          (r) =>
            r.method !== 'ALL' &&
            !['/openapi.json', '/docs', '/docs/assets/:file', '/portal/assets/portal.css'].includes(
              r.path,
            ),
        )
        .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
    );
    const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
    expect([...documented].sort()).toEqual([...served].sort());
    // The routes, by name, so a route lost from both sides is noticed too.
    for (const route of [
      'POST /v1/agencies',
      'GET /v1/agency',
      'PATCH /v1/agency',
      'POST /v1/agency/webhook-secret/rotate',
      'POST /v1/api-keys',
      'GET /v1/api-keys',
      'POST /v1/api-keys/{id}/revoke',
      'POST /v1/clients',
      'PATCH /v1/clients/{id}',
      'POST /v1/clients/{id}/disable',
      'POST /v1/clients/{id}/enable',
      'POST /v1/clients/{id}/agents',
      'DELETE /v1/clients/{id}/agents/{agentId}',
      'POST /v1/clients/{id}/portal-users',
      'PUT /v1/clients/{id}/plan',
      'DELETE /v1/clients/{id}/plan',
      'POST /v1/plans/{id}/archive',
      'POST /v1/packs',
      'POST /v1/clients/{id}/packs',
      'DELETE /v1/clients/{id}/packs/{packId}',
      'POST /v1/coupons',
      'POST /v1/one-time-products',
    ]) {
      expect(documented, route).toContain(route);
    }
  });

  it('documents Idempotency-Key on every POST, and the error shape on every /v1 route', () => {
    for (const { method, path, op } of operations()) {
      if (!path.startsWith('/v1/')) continue;
      const name = `${method} ${path}`;
      if (method === 'POST') {
        expect(
          op.parameters?.some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key'),
          name,
        ).toBe(true);
        expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['409', '422']));
        const ok = Object.entries<any>(op.responses).filter(([s]) => s.startsWith('2'));
        for (const [, response] of ok) {
          expect(response.headers?.['Idempotent-Replayed'], name).toBeDefined();
        }
      }
      expect(op.responses['401'], name).toBeDefined();
      expect(op.responses['404'], name).toBeDefined();
    }
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it('marks the bootstrap route with the admin scheme and the rest with bearer keys', () => {
    expect(doc.paths['/v1/agencies'].post.security).toEqual([{ adminKey: [] }]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'adminKey',
      'bearer',
      'portalSession',
    ]);
  });
});

describe('GET /docs', () => {
  it('serves the interactive docs page pointing at the document', async () => {
    const res = await api.app.request('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger');
    const init = await (await api.app.request('/docs/assets/init.js')).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('loads nothing from elsewhere: every asset is served here, under a strict CSP', async () => {
    const res = await api.app.request('/docs');
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // No other host, and no inline script (a <script> must have a src).
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref.startsWith('/docs/assets/'), ref).toBe(true);
      const asset = await api.app.request(ref);
      expect(asset.status, ref).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(100);
    }
    const bundle = await api.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await api.app.request('/docs/assets/../package.json')).status).toBe(404);
    expect((await api.app.request('/docs/assets/index.html')).status).toBe(404);
  });
});
