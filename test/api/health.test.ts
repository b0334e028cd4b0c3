/**
 * GET /health (README, "API guide"): 200 when Postgres and Temporal both answer, 503 otherwise,
 * naming which one is down. Real Postgres and a real (time-skipping) Temporal server; "down" is
 * a Temporal address nothing listens on and a Postgres client that was closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { createSql, type Sql } from '../../db/client';
import { testApiDeps } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';
import { createTimeSkippingEnv } from '../helpers/temporal';

let db: TestDb;
let env: TestWorkflowEnvironment;
let closed: Sql;
const unreachable = unreachableTemporalClient();

beforeAll(async () => {
  db = await createTestDb();
  env = await createTimeSkippingEnv();
  closed = createSql(db.url, { max: 1 });
  await closed.end();
});
afterAll(async () => {
  await unreachable.connection.close();
  await env?.teardown();
  await db?.drop();
});

async function health(sql: Sql, temporal: typeof unreachable) {
  const app = createApp(testApiDeps(sql, temporal));
  const res = await app.request('/health');
  return { status: res.status, body: await res.json() };
}

describe('GET /health', () => {
  it('answers 200 when Postgres and Temporal both answer', async () => {
    expect(await health(db.sql, env.client)).toEqual({
      status: 200,
      body: { status: 'ok', postgres: 'up', temporal: 'up' },
    });
  });

  it('answers 503 naming Temporal when it does not answer', async () => {
    expect(await health(db.sql, unreachable)).toEqual({
      status: 503,
      body: { status: 'degraded', postgres: 'up', temporal: 'down' },
    });
  });

  it('answers 503 naming Postgres when it does not answer', async () => {
    expect(await health(closed, env.client)).toEqual({
      status: 503,
      body: { status: 'degraded', postgres: 'down', temporal: 'up' },
    });
  });
});
