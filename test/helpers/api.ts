/** The API in process (app.request), with an agency created straight in the database. */
import { afterAll, beforeAll } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/context';
import type { StripePlatform } from '../../collection/stripe/client';
import type { Sql } from '../../db/client';
import { createAgency, insertApiKey } from '../../db/queries/agencies';
import { createLogger } from '../../lib/logger';
import { createTestDb, type TestDb } from './db';
import { unreachableTemporalClient } from './lazy-temporal';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/**
 * The API's dependencies as the tests run it: silent log, platform rate 15, no admin key, no
 * Stripe, unless `o` says otherwise.
 */
export function testApiDeps(sql: Sql, temporal: Client, o: Partial<ApiDeps> = {}): ApiDeps {
  return {
    sql,
    temporal,
    log: createLogger('silent'),
    platformRateMinorPerMinute: '15',
    adminKey: undefined,
    stripe: null,
    ...o,
  };
}

export interface TestApi {
  app: ReturnType<typeof createApp>;
  agencyId: string;
  key: string;
  ingestKey: string;
  /** JSON request with this agency's key unless another is given (null: none). */
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; headers: Headers }>;
  newAgency(name?: string): Promise<{ agencyId: string; key: string; ingestKey: string }>;
}

export async function createTestApi(
  sql: Sql,
  temporal: Client,
  options: { platformRate?: string; stripe?: StripePlatform | null } = {},
): Promise<TestApi> {
  const app = createApp(
    testApiDeps(sql, temporal, {
      log: createLogger(process.env.TEST_LOG ?? 'silent'),
      platformRateMinorPerMinute: options.platformRate ?? '15',
      adminKey: ADMIN_KEY,
      stripe: options.stripe ?? null,
    }),
  );
  const newAgency = async (name = 'Acme Voice Agency') => {
    const { agency, apiKey } = await createAgency(sql, { name, webhookUrl: null });
    const ingest = await insertApiKey(sql, agency.id, 'ingest', 'ingestor');
    return { agencyId: agency.id, key: apiKey.key, ingestKey: ingest.key };
  };
  const first = await newAgency();
  return {
    app,
    ...first,
    newAgency,
    async call(method, path, body, key = first.key, headers = {}) {
      const res = await app.request(path, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
  };
}

/** An object that reads through to `get()` once it is set (module-level use in test files). */
function later<T extends object>(what: string, get: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, prop) {
      const target = get();
      if (!target) throw new Error(`${what} used before beforeAll created it`);
      return Reflect.get(target, prop);
    },
  });
}

/**
 * The file's database and API in process, for routes that never call Temporal: created before
 * its tests, dropped after them. `db` and `api` read through to them once beforeAll has run.
 */
export function useTestApi(): { db: TestDb; api: TestApi; temporal: Client } {
  let db: TestDb | undefined;
  let api: TestApi | undefined;
  const temporal = unreachableTemporalClient();
  beforeAll(async () => {
    db = await createTestDb();
    api = await createTestApi(db.sql, temporal);
  });
  afterAll(async () => {
    await temporal.connection.close();
    await db?.drop();
  });
  return { db: later('test db', () => db), api: later('test api', () => api), temporal };
}
