/**
 * A real crash: the worker runs as its own process (`worker/main.ts`) against a Temporal dev
 * server and the test database; it is killed with SIGKILL in the middle of a renewal (some
 * periods' requests stored, others not), then started again. Every subscription still ends up
 * with exactly one request per period: activities are idempotent and Temporal re-runs what the
 * dead worker left unfinished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { startTestProcesses, waitUntil, type TestProcesses } from '../helpers/processes';

const N = 60;
const DAY = 86_400_000;

let db: TestDb;
let processes: TestProcesses;
let connection: Connection;
let api: TestApi;

const countRequests = async (period: number) =>
  (
    await db.sql<{ n: number }[]>`
      select count(*)::int as n from payment_requests where period_index = ${period}`
  )[0]!.n;

beforeAll(async () => {
  db = await createTestDb();
  processes = await startTestProcesses('crash');
  connection = await Connection.connect({ address: processes.temporal.address });
  api = await createTestApi(db.sql, new Client({ connection, namespace: 'default' }));
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await processes?.stopAll();
  await db?.drop();
});

const startWorker = () => processes.startWorker({ DATABASE_URL: db.url });

describe('worker crash during a renewal', () => {
  it('SIGKILL mid-renewal, restart: every period has exactly one request', async () => {
    const first = await startWorker();
    const plan = await api.call('POST', '/v1/plans', {
      name: 'Daily',
      currency: 'USD',
      flatFeeMinor: 700,
      rhythm: 'day',
    });
    expect(plan.status).toBe(201);
    // Backdated by a day less a little: every period 0 ends at the same moment, soon.
    const boundary = Date.now() + 40_000;
    const startAt = new Date(boundary - DAY).toISOString();
    const subs: string[] = [];
    for (let i = 0; i < N; i++) {
      const client = await api.call('POST', '/v1/clients', { name: `Client ${i}` });
      const sub = await api.call('POST', '/v1/subscriptions', {
        clientId: client.body.id,
        planId: plan.body.id,
        startAt,
      });
      expect(sub.status, JSON.stringify(sub.body)).toBe(201);
      subs.push(sub.body.id);
    }
    await waitUntil(async () => (await countRequests(0)) === N, 'first requests', 60_000);
    expect(Date.now()).toBeLessThan(boundary);

    // Kill the worker as soon as the renewal has stored some, but not all, requests.
    await waitUntil(async () => (await countRequests(1)) > 0, 'renewal under way', 60_000, 5);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = await countRequests(1);
    expect(atKill).toBeLessThan(N);

    await startWorker();
    await waitUntil(async () => (await countRequests(1)) === N, 'all renewals', 90_000);
    const perPeriod = await db.sql<{ subscriptionId: string; period: number; n: number }[]>`
      select subscription_id as "subscriptionId", period_index as period, count(*)::int as n
      from payment_requests group by 1, 2 order by 1, 2`;
    expect(perPeriod).toHaveLength(2 * N);
    expect(perPeriod.every((r) => r.n === 1)).toBe(true);
    expect(new Set(perPeriod.map((r) => r.subscriptionId))).toEqual(new Set(subs));
    // The feed, too, saw each request issued once.
    const [issued] = await db.sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct subject_id)::int as distinct
      from events where type = 'payment_request.issued'`;
    expect(issued).toEqual({ n: 2 * N, distinct: 2 * N });
    await waitUntil(
      async () =>
        (
          await db.sql<{ n: number }[]>`
            select count(*)::int as n from subscriptions where current_period_index = 1`
        )[0]!.n === N,
      'rows mirror period 1',
      30_000,
    );
  }, 240_000);
});
