/**
 * Shared set-up of the subscription workflow tests: a database, a time-skipping Temporal server,
 * a worker with the real activities, and the API in process. Plus small helpers that drive the
 * API and wait for the workflow's effects to reach Postgres.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ingestBatch, type BatchResult } from '../../services/usage-ingest';
import { createDispatcher, type Dispatcher } from '../../background/usage-dispatcher';
import { createLogger } from '../../lib/logger';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestWorker, createTimeSkippingEnv } from '../helpers/temporal';
import { stateQuery, subscriptionWorkflowId } from '../../workflows/definitions';
import type { StripePlatform } from '../../collection/stripe/client';

export interface Harness {
  db: TestDb;
  env: TestWorkflowEnvironment;
  worker: Worker;
  api: TestApi;
  stop(): Promise<void>;
}

/** The file's harness (one per test file), so helpers can wait for workflows to settle. */
let current: Harness | null = null;

/**
 * `sweep: false`: the worker runs without its sweepers (for tests that sweep themselves).
 * `stripeConfigured`: the worker runs as on a platform with a Stripe set-up (access rules).
 */
export interface HarnessOptions {
  sweep?: boolean;
  stripeConfigured?: boolean;
  /** The API's Stripe platform (e.g. on stripe-mock), for tests that POST Stripe events. */
  stripe?: StripePlatform;
  /** The worker uses `stripe` too: its Stripe retries (activities) and its presenter. */
  workerStripe?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDb();
  const env = await createTimeSkippingEnv();
  const worker = await createTestWorker(env, db.sql, undefined, {
    ...options,
    stripe:
      options.workerStripe && options.stripe
        ? { platform: options.stripe, platformRateMinorPerMinute: '15' }
        : null,
  });
  const running = worker.run();
  const api = await createTestApi(db.sql, env.client, { stripe: options.stripe ?? null });
  return (current = {
    db,
    env,
    worker,
    api,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await db.drop();
    },
  });
}

/**
 * The file's harness, started before its tests and stopped after them. The returned object reads
 * through to it, so a test file can keep `const h = useHarness()` at the top level.
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const get = () => {
    if (!started) throw new Error('harness used before beforeAll started it');
    return started;
  };
  return {
    get db() {
      return get().db;
    },
    get env() {
      return get().env;
    },
    get worker() {
      return get().worker;
    },
    get api() {
      return get().api;
    },
    stop: () => get().stop(),
  };
}

/** One dispatcher per harness database, driven by hand (no loop, no gap between signals). */
const dispatchers = new WeakMap<TestDb, Dispatcher>();

function dispatcherOf(h: Harness): Dispatcher {
  let d = dispatchers.get(h.db);
  if (!d) {
    d = createDispatcher({
      sql: h.db.sql,
      temporal: h.env.client,
      log: createLogger('silent'),
      minGapMs: 0,
    });
    dispatchers.set(h.db, d);
  }
  return d;
}

/** Signals the workflows until the usage outbox is empty, like the API's dispatcher would. */
export async function dispatchUsage(h: Harness): Promise<void> {
  while ((await h.db.sql`select 1 from usage_outbox limit 1`).length > 0)
    await dispatcherOf(h).tick();
}

/**
 * Stores usage events (voice seconds unless given) at the test server's clock, expects none
 * rejected, and dispatches them. The HTTP route checks times against the real clock, which the
 * test server leaves behind once it skips ahead.
 */
export async function storeUsage(
  h: Harness,
  events: Record<string, unknown>[],
): Promise<BatchResult> {
  const now = await h.env.currentTimeMs();
  const res = await ingestBatch(
    h.db.sql,
    h.api.agencyId,
    events.map((e) => ({ metric: 'voice_seconds', time: new Date(now).toISOString(), ...e })),
    now,
  );
  expect(res.rejected).toEqual([]);
  await dispatchUsage(h);
  return res;
}

/**
 * Waits until the subscription's workflow has nothing in flight (no workflow task, no
 * activity). A renewal stores its request and then continues as new; the time-skipping test
 * server mishandles a query that lands in that window (the old run's leftover query task never
 * completes and time skipping stays locked), so tests let a renewal finish before querying.
 */
export async function waitForIdle(subscriptionId: string): Promise<void> {
  if (!current) return;
  const handle = current.env.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
  let quiet = 0;
  await waitFor(async () => {
    const d = await handle.describe();
    const busy =
      d.status.name === 'RUNNING' &&
      (d.raw.pendingWorkflowTask != null || (d.raw.pendingActivities?.length ?? 0) > 0);
    quiet = busy ? 0 : quiet + 1;
    return quiet >= 2;
  }, `workflow of ${subscriptionId} idle`);
}

export const DAY_MS = 86_400_000;

/** Advances the test server's clock to `atMs` (timers due meanwhile fire in order). */
export async function sleepUntil(env: TestWorkflowEnvironment, atMs: number): Promise<void> {
  const now = await env.currentTimeMs();
  if (atMs > now) await env.sleep(atMs - now);
}

export async function waitFor(
  check: () => Promise<boolean>,
  what = 'condition',
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function createPlan(api: TestApi, fields: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/v1/plans', {
    name: 'Growth',
    currency: 'USD',
    flatFeeMinor: 4900,
    includedMinutes: 500,
    rhythm: 'month',
    dueDays: 7,
    graceDays: 5,
    ...fields,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

export async function createClient(api: TestApi, fields: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/v1/clients', {
    name: 'Dental Co',
    billingMode: 'manual',
    ...fields,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

/** Creates a pack of `minutes` in USD and assigns it to the client; returns the pack's id. */
export async function createPack(
  api: TestApi,
  clientId: string,
  minutes: number,
  priceMinor: number,
): Promise<string> {
  const pack = await api.call('POST', '/v1/packs', {
    name: `${minutes} minutes`,
    minutes,
    priceMinor,
    currency: 'USD',
  });
  expect(pack.status, JSON.stringify(pack.body)).toBe(201);
  const assigned = await api.call('POST', `/v1/clients/${clientId}/packs`, {
    packId: pack.body.id,
  });
  expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
  return pack.body.id as string;
}

export async function startSubscription(api: TestApi, body: Record<string, unknown>) {
  const res = await api.call('POST', '/v1/subscriptions', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; workflowId: string };
}

/**
 * A plan and a client (createPlan and createClient, with `plan` and `client` fields over their
 * defaults) and a subscription of the one to the other (`subscription`: more body fields),
 * returned once its first request is issued.
 */
export async function subscribe(
  api: TestApi,
  fields: {
    plan?: Record<string, unknown>;
    client?: Record<string, unknown>;
    subscription?: Record<string, unknown>;
  } = {},
) {
  const plan = await createPlan(api, fields.plan);
  const client = await createClient(api, fields.client);
  const sub = await startSubscription(api, {
    clientId: client.id,
    planId: plan.id,
    ...fields.subscription,
  });
  const [first] = await waitForRequests(api, sub.id, 1);
  return { plan, client, sub, first: first! };
}

/** The instant the subscription's periods are anchored to (its start, as the read model has it). */
export async function anchorOf(api: TestApi, subscriptionId: string): Promise<number> {
  return Date.parse((await subscriptionRow(api, subscriptionId)).startAt);
}

/** Pays every pending request of the subscription through the API; each must be taken. */
export async function payPending(api: TestApi, subscriptionId: string): Promise<void> {
  for (const r of await requestsOf(api, subscriptionId))
    if (r.status === 'pending') expect((await mark(api, r.id, 'paid')).status).toBe(200);
}

/** Ends the subscription at once through the API; returns the response. */
export function cancelNow(api: TestApi, subscriptionId: string) {
  return api.call('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { when: 'now' });
}

/** The subscription's payment requests, oldest first. */
export async function requestsOf(api: TestApi, subscriptionId: string): Promise<any[]> {
  const res = await api.call(
    'GET',
    `/v1/payment-requests?subscriptionId=${subscriptionId}&limit=100`,
  );
  expect(res.status).toBe(200);
  return (res.body.data as any[]).reverse();
}

export async function waitForRequests(api: TestApi, subscriptionId: string, count: number) {
  await waitFor(
    async () => (await requestsOf(api, subscriptionId)).length >= count,
    `${count} requests of ${subscriptionId}`,
  );
  await waitForIdle(subscriptionId);
  return requestsOf(api, subscriptionId);
}

export async function subscriptionRow(api: TestApi, id: string) {
  const res = await api.call('GET', `/v1/subscriptions/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

export async function waitForStatus(api: TestApi, id: string, status: string) {
  await waitFor(
    async () => (await subscriptionRow(api, id)).status === status,
    `subscription ${id} ${status}`,
  );
}

export function liveState(h: Harness, subscriptionId: string) {
  return h.env.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).query(stateQuery);
}

/** Marks a request through the API; returns the response. */
export function mark(api: TestApi, requestId: string, status: string, externalReference?: string) {
  return api.call('POST', `/v1/payment-requests/${requestId}/mark`, {
    status,
    ...(externalReference ? { externalReference } : {}),
  });
}

export async function access(api: TestApi, clientId: string) {
  const res = await api.call('GET', `/v1/clients/${clientId}/access`);
  expect(res.status).toBe(200);
  return res.body as { allowed: boolean; reasons: string[]; version: number };
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** The cadence of a monthly plan (createPlan's default), for boundaryMs. */
export const MONTHLY = { rhythm: 'month' as const, intervalCount: 1 };
