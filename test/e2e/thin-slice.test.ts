/**
 * The foundation's thin slice, end to end on real Postgres and a real (time-skipping) Temporal
 * server: plan, client and subscription through the API; the workflow issues one cycle request
 * per period, each readable through the API; search attributes are set for operators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestWorker, createTimeSkippingEnv } from '../helpers/temporal';
import {
  AgencyIdAttr,
  ClientIdAttr,
  CurrentPeriodEndAttr,
  SubscriptionStatusAttr,
  stateQuery,
  subscriptionWorkflowId,
} from '../../workflows/definitions';

let db: TestDb;
let env: TestWorkflowEnvironment;
let worker: Worker;
let api: TestApi;
let running: Promise<void>;

beforeAll(async () => {
  db = await createTestDb();
  env = await createTimeSkippingEnv();
  worker = await createTestWorker(env, db.sql);
  running = worker.run();
  api = await createTestApi(db.sql, env.client);
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

describe('thin slice: API -> workflow -> Postgres', () => {
  it('bills one cycle request per monthly period, readable through the API', async () => {
    const plan = await api.call('POST', '/v1/plans', {
      name: 'Starter',
      tier: 'starter',
      currency: 'USD',
      flatFeeMinor: 4900,
      includedMinutes: 500,
      rhythm: 'month',
      dueDays: 7,
      graceDays: 5,
    });
    expect(plan.status).toBe(201);
    const client = await api.call('POST', '/v1/clients', {
      name: 'Dental Co',
      email: 'ops@dental.example',
      billingMode: 'manual',
    });
    expect(client.status).toBe(201);
    const sub = await api.call('POST', '/v1/subscriptions', {
      clientId: client.body.id,
      planId: plan.body.id,
    });
    expect(sub.status).toBe(201);
    expect(sub.body.workflowId).toBe(`subscription-${sub.body.id}`);

    const handle = env.client.workflow.getHandle(subscriptionWorkflowId(sub.body.id));
    const list = async () =>
      (await api.call('GET', `/v1/payment-requests?subscriptionId=${sub.body.id}&limit=100`)).body
        .data as any[];

    // The first request: recurring fee for period 0, in advance, due after the plan's window.
    await waitFor(async () => (await list()).length === 1);
    const [first] = await list();
    expect(first.type).toBe('cycle');
    expect(first.totalMinor).toBe(4900);
    expect(first.periodIndex).toBe(0);
    expect(Date.parse(first.dueAt) - Date.parse(first.issuedAt)).toBe(7 * 86_400_000);
    const detail = await api.call('GET', `/v1/payment-requests/${first.id}`);
    expect(detail.body.lines).toEqual([
      expect.objectContaining({ kind: 'recurring', amountMinor: 4900, quantity: '1' }),
    ]);

    // Pay each request as it comes so the subscription stays active, and skip 3 periods.
    for (let period = 1; period <= 3; period++) {
      const open = (await list()).filter((r) => r.status === 'pending');
      for (const r of open)
        await handle.executeUpdate('recordPayment', {
          args: [{ requestId: r.id, status: 'paid' }],
        });
      await env.sleep('32 days');
      await waitFor(async () => (await list()).length === period + 1);
    }
    const all = await list();
    const byPeriod = new Map<number, number>();
    for (const r of all) byPeriod.set(r.periodIndex, (byPeriod.get(r.periodIndex) ?? 0) + 1);
    expect([...byPeriod.entries()].sort()).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(all.every((r) => r.totalMinor === 4900)).toBe(true);

    const state = await handle.query(stateQuery);
    expect(state.periodIndex).toBe(3);
    expect(state.status).toBe('active');

    const description = await handle.describe();
    const attrs = description.typedSearchAttributes;
    expect(attrs.get(AgencyIdAttr)).toBe(api.agencyId);
    expect(attrs.get(ClientIdAttr)).toBe(client.body.id);
    expect(attrs.get(SubscriptionStatusAttr)).toBe('active');
    expect(attrs.get(CurrentPeriodEndAttr)?.toISOString()).toBe(state.periodEnd);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
