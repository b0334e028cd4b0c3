/**
 * Crash test: the API process (`tsx api/main.ts`, a child against the test database and a real
 * Temporal test server) is killed with SIGKILL between storing usage and signaling the workflow,
 * and while a POST is in flight. After a restart nothing is lost and nothing counted twice: the
 * workflow's folded total equals Postgres and equals what the client meant to send.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { getFreePort, waitForPort } from '../../lib/ports';
import { stateQuery, subscriptionWorkflowId } from '../../workflows/definitions';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestWorker, createTimeSkippingEnv } from '../helpers/temporal';
import { createFixture, type Fixture } from '../helpers/usage-fixtures';

let db: TestDb;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let api: TestApi;
let child: ChildProcess | null = null;
let port = 0;

async function startApi(dispatch: 'on' | 'paused'): Promise<void> {
  port = await getFreePort();
  child = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: env.address,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      USAGE_DISPATCH: dispatch,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, '127.0.0.1', 60_000);
}

function kill(): Promise<void> {
  const c = child!;
  child = null;
  return new Promise((done) => {
    c.once('exit', () => done());
    c.kill('SIGKILL');
  });
}

function post(events: unknown[]) {
  return fetch(`http://127.0.0.1:${port}/v1/usage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
}

const batch = (f: Fixture, tag: string, n: number, seconds: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}`,
    client: i % 2 ? f.clientId : f.externalId,
    agent: f.agentIds[i % f.agentIds.length],
    metric: 'voice_seconds',
    quantity: seconds,
    time: new Date().toISOString(),
  }));

async function folded(f: Fixture): Promise<number> {
  const state = await env.client.workflow
    .getHandle(subscriptionWorkflowId(f.subscriptionId))
    .query(stateQuery);
  return state.usage.totalSeconds;
}

async function stored(f: Fixture): Promise<{ n: number; seconds: number }> {
  const [row] = await db.sql<{ n: number; seconds: number }[]>`
    select count(*)::int as n, coalesce(sum(quantity), 0)::bigint as seconds
    from usage_events where subscription_id = ${f.subscriptionId}`;
  return row!;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = await createTestDb();
  env = await createTimeSkippingEnv();
  worker = await createTestWorker(env, db.sql);
  running = worker.run();
  api = await createTestApi(db.sql, env.client);
});

afterAll(async () => {
  if (child) await kill();
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

describe('usage survives the API being killed', () => {
  it('between storing and signaling: the outbox signals after the restart, once', async () => {
    const f = await createFixture(api, { agents: 3 });
    await startApi('paused');
    const sent = [batch(f, 'a', 300, 60), batch(f, 'b', 200, 30)];
    for (const events of sent) {
      const res = await post(events);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { accepted: number }).accepted).toBe(events.length);
    }
    const expected = 300 * 60 + 200 * 30;
    expect(await stored(f)).toEqual({ n: 500, seconds: expected });
    // Stored and owed, never signaled: the workflow has not seen it.
    expect((await db.sql`select 1 from usage_outbox`).length).toBe(2);
    expect(await folded(f)).toBe(0);

    await kill();
    await startApi('on');
    await waitFor(async () => (await folded(f)) === expected, 'folded after restart');
    await waitFor(
      async () => (await db.sql`select 1 from usage_outbox`).length === 0,
      'outbox drained',
    );

    // The ingestor, unsure, sends everything again: all duplicates, nothing counted twice.
    for (const events of sent) {
      const res = await post(events);
      const body = (await res.json()) as { accepted: number; duplicates: string[] };
      expect(body).toMatchObject({ accepted: 0 });
      expect(body.duplicates).toHaveLength(events.length);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stored(f)).toEqual({ n: 500, seconds: expected });
    expect(await folded(f)).toBe(expected);
    await kill();
  });

  it('while a POST is in flight: a retry of the same batch stores exactly what was missing', async () => {
    const f = await createFixture(api, { agents: 2 });
    await startApi('on');
    const events = batch(f, 'c', 1000, 45);
    const inFlight = post(events).then(
      (r) => r.status,
      () => 'connection lost',
    );
    await new Promise((r) => setTimeout(r, 5));
    await kill();
    const outcome = await inFlight;
    const before = await stored(f);
    // Either the batch committed whole or not at all (one transaction).
    expect([0, 1000]).toContain(before.n);

    await startApi('on');
    const retry = await post(events);
    const body = (await retry.json()) as { accepted: number; duplicates: string[] };
    expect(body.accepted + body.duplicates.length).toBe(1000);
    expect(body.accepted).toBe(1000 - before.n);
    const expected = 1000 * 45;
    expect(await stored(f)).toEqual({ n: 1000, seconds: expected });
    await waitFor(async () => (await folded(f)) === expected, `folded (first POST: ${outcome})`);
    await kill();
  });
});
