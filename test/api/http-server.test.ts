/**
 * The API served over real HTTP (@hono/node-server), as `npm run api` serves it: headers are
 * read from Node's request there (api/hono.ts `requestHeader`), not through `app.request()`.
 */
import { request } from 'node:http';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../api/server';
import { createAgency } from '../../db/queries/agencies';
import { insertClient } from '../../db/queries/clients';
import { newId } from '../../lib/ids';
import { testApiDeps } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';

let db: TestDb;
let server: ServerType;
let base: string;
let key: string;
let clientId: string;
const temporal = unreachableTemporalClient();

beforeAll(async () => {
  db = await createTestDb();
  const started = await startServer(testApiDeps(db.sql, temporal), 0, '127.0.0.1', {
    usageDispatch: 'paused',
  });
  server = started.server;
  base = `http://127.0.0.1:${started.port}`;
  const { agency, apiKey } = await createAgency(db.sql, { name: 'Wire Agency', webhookUrl: null });
  key = apiKey.key;
  clientId = (
    await insertClient(db.sql, agency.id, newId('cli'), {
      externalId: null,
      name: 'Wire Client',
      email: 'wire@example.com',
      billingMode: 'manual',
      billingEnabled: true,
      rateMinorPerMinute: '25',
      disabled: false,
      planId: null,
    })
  ).id;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await temporal.connection.close();
  await db?.drop();
});

/** A GET with raw header lines, sent as given (node:http adds none, so Host is ours). */
function get(path: string, headers: [string, string][]) {
  return new Promise<{ status: number; body: any; requestId: string | undefined }>(
    (resolve, reject) => {
      const req = request(
        `${base}${path}`,
        { headers: [['host', '127.0.0.1'], ...headers].flat() },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: JSON.parse(text),
              requestId: res.headers['x-request-id'] as string | undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

describe('the API over HTTP', () => {
  it('authenticates the bearer key from the wire, whatever the header name case', async () => {
    const res = await get(`/v1/clients/${clientId}`, [['AUTHORIZATION', `Bearer ${key}`]]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: clientId, name: 'Wire Client' });
  });

  it('answers 401 without a key and with an unknown one', async () => {
    expect((await get(`/v1/clients/${clientId}`, [])).status).toBe(401);
    const wrong = await get(`/v1/clients/${clientId}`, [['authorization', 'Bearer tly_nope']]);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });

  it('echoes the caller’s X-Request-Id, and makes one up without it', async () => {
    const given = await get(`/v1/clients/${clientId}`, [
      ['authorization', `Bearer ${key}`],
      ['X-Request-Id', 'req-from-the-caller'],
    ]);
    expect(given.requestId).toBe('req-from-the-caller');
    const made = await get(`/v1/clients/${clientId}`, [['authorization', `Bearer ${key}`]]);
    expect(made.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
