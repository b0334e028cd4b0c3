/**
 * Packs, wallet and usage reports through the API: applying a pack (and every reason it is
 * refused), the wallet ledger with pages, the report of this period with per-agent names and the
 * 90% warning, the BuildVoiceAI margin table, and the invoice PDF's access rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTestWorker, createTimeSkippingEnv } from '../helpers/temporal';
import { asAgency, createFixture, postUsage, voice, type Fixture } from '../helpers/usage-fixtures';

let db: TestDb;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let api: TestApi;

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

async function pack(minutes: number, priceMinor: number, currency = 'USD') {
  const res = await api.call('POST', '/v1/packs', {
    name: `${minutes} min`,
    minutes,
    priceMinor,
    currency,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function assign(f: Fixture, packId: string) {
  const res = await api.call('POST', `/v1/clients/${f.clientId}/packs`, { packId });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

const apply = (f: Fixture, packId: string, body: unknown = { status: 'pending' }, key?: string) =>
  api.call('POST', `/v1/clients/${f.clientId}/packs/${packId}/apply`, body, key);

/** Waits until the workflow mirrored its first period into the subscription row. */
async function periodStarted(f: Fixture) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [row] =
      await db.sql`select current_period_start from subscriptions where id = ${f.subscriptionId}`;
    if (row?.current_period_start) return;
    if (Date.now() > deadline) throw new Error('period not mirrored');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('applying a pack', () => {
  it('credits the wallet at once and issues a pack request, pending or paid', async () => {
    const f = await createFixture(api, { plan: { packsAllowed: true } });
    const p = await pack(100, 2000);
    await assign(f, p);
    const pending = await apply(f, p);
    expect(pending.status, JSON.stringify(pending.body)).toBe(201);
    expect(pending.body).toMatchObject({
      object: 'pack_application',
      creditedSeconds: 6000,
      walletBalanceSeconds: 6000,
      paymentRequest: {
        type: 'pack',
        status: 'pending',
        totalMinor: 2000,
        currency: 'USD',
        graceEndsAt: null,
        paidAt: null,
      },
    });
    const paid = await apply(f, p, { status: 'paid' });
    expect(paid.body.paymentRequest).toMatchObject({ status: 'paid', paidAt: expect.any(String) });
    expect(paid.body.walletBalanceSeconds).toBe(12000);
    const request = await api.call('GET', `/v1/payment-requests/${pending.body.paymentRequest.id}`);
    expect(request.body).toMatchObject({ type: 'pack', subscriptionId: null, status: 'pending' });
    expect(request.body.lines).toEqual([
      expect.objectContaining({ kind: 'pack', amountMinor: 2000 }),
    ]);
    const events =
      await db.sql`select type from events where client_id = ${f.clientId} and type = 'wallet.credited'`;
    expect(events).toHaveLength(2);
  });

  it('refuses what the rules forbid, changing nothing', async () => {
    const noPacks = await createFixture(api, { plan: { packsAllowed: false } });
    const f = await createFixture(api, { plan: { packsAllowed: true } });
    const p = await pack(10, 500);
    const unassigned = await pack(10, 500);
    const euro = await pack(10, 500, 'EUR');
    await assign(noPacks, p);
    await assign(f, p);
    await assign(f, euro).catch(() => {});
    expect((await apply(noPacks, p)).status).toBe(409); // the plan allows no packs
    expect((await apply(f, unassigned)).status).toBe(409); // not assigned to this client
    expect((await apply(f, 'pck_nope')).status).toBe(404);
    expect(
      (await api.call('POST', `/v1/clients/cli_nope/packs/${p}/apply`, { status: 'paid' })).status,
    ).toBe(404);
    const bad = await apply(f, p, { status: 'overdue' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('status');
    expect((await apply(f, p, { status: 'paid' }, api.ingestKey)).status).toBe(403);
    const other = asAgency(api, await api.newAgency('Other'));
    expect(
      (await other.call('POST', `/v1/clients/${f.clientId}/packs/${p}/apply`, { status: 'paid' }))
        .status,
    ).toBe(404);
    await api.call('POST', `/v1/packs/${p}/archive`);
    expect((await apply(f, p)).status).toBe(409); // archived
    const [ledger] =
      await db.sql`select count(*)::int as n from wallet_ledger where client_id in ${db.sql([f.clientId, noPacks.clientId])}`;
    expect(ledger!.n).toBe(0);
  });
});

describe('the wallet', () => {
  it('shows the balance (never expires) and the ledger newest first, in pages', async () => {
    const f = await createFixture(api, { plan: { packsAllowed: true } });
    const p = await pack(10, 100);
    await assign(f, p);
    for (let i = 0; i < 3; i++) expect((await apply(f, p, { status: 'paid' })).status).toBe(201);
    const first = await api.call('GET', `/v1/clients/${f.clientId}/wallet?limit=2`);
    expect(first.body).toMatchObject({
      balanceSeconds: 1800,
      balanceMinutes: '30',
      neverExpires: true,
    });
    expect(first.body.ledger.data).toHaveLength(2);
    expect(first.body.ledger.nextCursor).toEqual(expect.any(String));
    const second = await api.call(
      'GET',
      `/v1/clients/${f.clientId}/wallet?limit=2&after=${first.body.ledger.nextCursor}`,
    );
    expect(second.body.ledger.data).toHaveLength(1);
    expect(second.body.ledger.nextCursor).toBeNull();
    const ids = [...first.body.ledger.data, ...second.body.ledger.data].map((e: any) =>
      Number(e.id),
    );
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await api.call('GET', `/v1/clients/${f.clientId}/wallet?after=abc`)).status).toBe(400);
    const other = asAgency(api, await api.newAgency('Other'));
    expect((await other.call('GET', `/v1/clients/${f.clientId}/wallet`)).status).toBe(404);
  });
});

describe('usage reports', () => {
  it('reports this period: used, remaining, wallet, billable and per agent, with the 90% warning', async () => {
    const f = await createFixture(api, {
      plan: { includedMinutes: 10, overageRateMinorPerMinute: '20', packsAllowed: true },
      agents: 2,
    });
    await periodStarted(f);
    const p = await pack(5, 100);
    await assign(f, p);
    await apply(f, p, { status: 'paid' });
    const res = await postUsage(api, [
      voice(f.clientId, 8 * 60, { agent: f.agentIds[0] }),
      voice(f.clientId, 6 * 60, { agent: f.agentIds[1] }),
      voice(f.clientId, 3 * 60),
      {
        id: `conv-${f.clientId}`,
        client: f.clientId,
        agent: f.agentIds[1],
        metric: 'conversations',
        quantity: 3,
        time: new Date().toISOString(),
      },
      {
        id: `vc-${f.clientId}`,
        client: f.clientId,
        agent: f.agentIds[0],
        metric: 'value_count',
        quantity: 1,
        property: 'booked',
        properties: { booked: true },
        time: new Date().toISOString(),
      },
    ]);
    expect(res.body.accepted).toBe(5);
    const report = await api.call('GET', `/v1/clients/${f.clientId}/usage`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ walletBalanceSeconds: 300, walletBalanceMinutes: '5' });
    const period = report.body.period;
    expect(period).toMatchObject({
      subscriptionId: f.subscriptionId,
      closed: false,
      usedSeconds: 17 * 60,
      usedMinutes: '17',
      includedSeconds: 600,
      includedRemainingSeconds: 0,
      includedPercentUsed: 100,
      warning: true,
      walletSeconds: 300,
      billableSeconds: 120,
      billableAmountMinor: 40,
      minutesExhausted: false,
      conversations: 3,
      valueCounts: { booked: 1 },
      chatEquivalents: null,
    });
    const byAgent = Object.fromEntries(period.perAgent.map((a: any) => [a.agentId ?? 'none', a]));
    expect(byAgent[f.agentIds[0]!]).toMatchObject({
      agentName: 'Agent 1',
      seconds: 480,
      valueCounts: { booked: 1 },
    });
    expect(byAgent[f.agentIds[1]!]).toMatchObject({
      agentName: 'Agent 2',
      seconds: 360,
      conversations: 3,
    });
    expect(byAgent.none).toMatchObject({ agentName: null, seconds: 180 });
    const history = await api.call('GET', `/v1/clients/${f.clientId}/usage/history`);
    expect(history.body.data).toHaveLength(1);
    expect(history.body.data[0]).toMatchObject({
      periodIndex: 0,
      closed: false,
      usedSeconds: 1020,
    });
  });

  it('reports no period for a client without a subscription, and 404 for another agency', async () => {
    const f = await createFixture(api, { subscribe: false });
    const res = await api.call('GET', `/v1/clients/${f.clientId}/usage`);
    expect(res.body).toMatchObject({ period: null, walletBalanceSeconds: 0 });
    const other = asAgency(api, await api.newAgency('Other'));
    expect((await other.call('GET', `/v1/clients/${f.clientId}/usage`)).status).toBe(404);
    expect((await other.call('GET', `/v1/clients/${f.clientId}/usage/history`)).status).toBe(404);
    expect((await api.call('GET', `/v1/clients/${f.clientId}/usage`, undefined, null)).status).toBe(
      401,
    );
  });

  it('BuildVoiceAI margins: $0.25, $0.35 and $0.50 a minute against the $0.15 platform rate', async () => {
    const planId = (
      await createFixture(api, {
        plan: { flatFeeMinor: 0, overageRateMinorPerMinute: '25' },
        subscribe: false,
      })
    ).planId;
    const table: [string, number, number, string][] = [];
    for (const rate of ['25', '35', '50']) {
      const f = await createFixture(api, { planId, client: { rateMinorPerMinute: rate } });
      await periodStarted(f);
      expect((await postUsage(api, [voice(f.clientId, 100 * 60)])).body.accepted).toBe(1);
      const { economics } = (await api.call('GET', `/v1/clients/${f.clientId}/usage`)).body.period;
      table.push([
        rate,
        economics.platformFeeMinor,
        economics.marginMinor,
        economics.marginMinorPerMinute,
      ]);
    }
    // 100 minutes each: platform fee $15.00; margins $10, $20 and $35 ($0.10, $0.20, $0.35 a minute).
    expect(table).toEqual([
      ['25', 1500, 1000, '10'],
      ['35', 1500, 2000, '20'],
      ['50', 1500, 3500, '35'],
    ]);
  });
});

describe('invoice PDF', () => {
  it('is served to the agency only', async () => {
    const f = await createFixture(api, { plan: { packsAllowed: true } });
    const p = await pack(10, 990);
    await assign(f, p);
    const { body } = await apply(f, p);
    const url = `/v1/payment-requests/${body.paymentRequest.id}/pdf`;
    const ok = await api.app.request(url, { headers: { authorization: `Bearer ${api.key}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await ok.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const other = await api.newAgency('Other');
    expect(
      (await api.app.request(url, { headers: { authorization: `Bearer ${other.key}` } })).status,
    ).toBe(404);
    expect((await api.app.request(url)).status).toBe(401);
    expect(
      (await api.app.request(url, { headers: { authorization: `Bearer ${api.ingestKey}` } }))
        .status,
    ).toBe(403);
  });
});
