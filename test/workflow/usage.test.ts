/**
 * Usage through the real stack (time-skipping Temporal, worker with real activities, Postgres,
 * API in process, the dispatcher driven by hand): the ChatDash example, pool order and the wallet
 * across period boundaries, late usage, exhaustion -> pause -> pack -> resume, chat mode.
 *
 * Events are stored with `ingestBatch` at the test server's clock (the HTTP route checks times
 * against the real clock, which the test server leaves behind once it skips a month).
 */
import { describe, expect, it } from 'vitest';
import { ingestBatch } from '../../services/usage-ingest';
import { boundaryMs } from '../../billing/periods';
import { createFixture, type Fixture } from '../helpers/usage-fixtures';
import { subscriptionWorkflowId, usageSignal } from '../../workflows/definitions';
import {
  DAY_MS,
  access,
  liveState,
  mark,
  requestsOf,
  sleepUntil,
  createPack,
  storeUsage,
  useHarness,
  dispatchUsage,
  waitFor,
  waitForRequests,
  MONTHLY,
} from './harness';

const h = useHarness();

let seq = 0;

/** Stores events at the test server's clock and signals the workflows, like the API would. */
async function post(events: Record<string, unknown>[]) {
  return storeUsage(
    h,
    events.map((e) => ({ id: `e${++seq}`, ...e })),
  );
}

async function usageOf(sub: string, seconds: number) {
  await waitFor(
    async () => (await liveState(h, sub)).usage.totalSeconds === seconds,
    `usage ${seconds}`,
  );
  return liveState(h, sub);
}

async function anchorOf(sub: string) {
  return Date.parse((await liveState(h, sub)).periodStart);
}

async function payAll(sub: string) {
  for (const r of await requestsOf(h.api, sub))
    if (r.status === 'pending') expect((await mark(h.api, r.id, 'paid')).status).toBe(200);
}

async function linesOf(requestId: string) {
  const res = await h.api.call('GET', `/v1/payment-requests/${requestId}`);
  return res.body.lines as any[];
}

/** Pays what is open, moves the clock to the end of period `n - 1`, waits for request `n + 1`. */
async function renewTo(sub: string, anchor: number, n: number) {
  await payAll(sub);
  await sleepUntil(h.env, boundaryMs(anchor, MONTHLY, n));
  return (await waitForRequests(h.api, sub, n + 1))[n]!;
}

function packFor(f: Fixture, minutes: number, priceMinor: number) {
  return createPack(h.api, f.clientId, minutes, priceMinor);
}

describe('usage through the workflow', () => {
  it('ChatDash: $25/month + $0.05/min across three agents, one subscription, one charge', async () => {
    const f = await createFixture(h.api, {
      plan: { flatFeeMinor: 2500, overageRateMinorPerMinute: '5', includedMinutes: 0 },
      agents: 3,
    });
    const [first] = await waitForRequests(h.api, f.subscriptionId, 1);
    // First cycle: the base fee only.
    expect((await linesOf(first.id)).map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 2500],
    ]);
    const anchor = await anchorOf(f.subscriptionId);
    await post([
      { client: f.clientId, agent: f.agentIds[0], quantity: 100 * 60 },
      { client: f.externalId, agent: f.agentExternalIds[1], quantity: 150 * 60 },
      { client: f.clientId, agent: f.agentIds[1], quantity: 50 * 60 },
      { client: f.clientId, agent: f.agentIds[2], quantity: 300 * 60 },
    ]);
    const live = await usageOf(f.subscriptionId, 600 * 60);
    expect(Object.fromEntries(live.usage.perAgent.map((a: any) => [a.agentId, a.seconds]))).toEqual(
      {
        [f.agentIds[0]!]: 6000,
        [f.agentIds[1]!]: 12000,
        [f.agentIds[2]!]: 18000,
      },
    );
    const second = await renewTo(f.subscriptionId, anchor, 1);
    // Next cycle: one charge, the base fee plus the previous period's usage of all three agents.
    const lines = await linesOf(second.id);
    expect(lines.map((l) => [l.kind, l.quantity, l.unitAmountMinor, l.amountMinor])).toEqual([
      ['recurring', '1', '2500', 2500],
      ['usage', '600', '5', 3000],
    ]);
    expect(second.totalMinor).toBe(5500);
    const usage = lines[1];
    expect(usage.periodStart).toBe(new Date(anchor).toISOString());
    expect(usage.periodEnd).toBe(new Date(boundaryMs(anchor, MONTHLY, 1)).toISOString());
    expect(usage.details.totalMinutes).toBe('600');
    expect(
      Object.fromEntries(
        usage.details.perAgent.map((a: any) => [a.agentId, [a.seconds, a.billableSeconds]]),
      ),
    ).toEqual({
      [f.agentIds[0]!]: [6000, 6000],
      [f.agentIds[1]!]: [12000, 12000],
      [f.agentIds[2]!]: [18000, 18000],
    });
    const pdf = await h.api.app.request(`/v1/payment-requests/${second.id}/pdf`, {
      headers: { authorization: `Bearer ${h.api.key}` },
    });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('spends included, then wallet, then billable each period; included resets, the wallet carries', async () => {
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 1000,
        overageRateMinorPerMinute: '10',
        includedMinutes: 100,
        packsAllowed: true,
      },
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const anchor = await anchorOf(f.subscriptionId);
    const packId = await packFor(f, 50, 1500);
    const applied = await h.api.call('POST', `/v1/clients/${f.clientId}/packs/${packId}/apply`, {
      status: 'pending',
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    expect(applied.body).toMatchObject({ creditedSeconds: 3000, walletBalanceSeconds: 3000 });
    expect(applied.body.paymentRequest).toMatchObject({
      type: 'pack',
      status: 'pending',
      totalMinor: 1500,
      graceEndsAt: null,
    });
    expect(applied.body.paymentRequest.lines).toEqual([
      expect.objectContaining({ kind: 'pack', amountMinor: 1500 }),
    ]);

    // Period 0: 60 of 100 included minutes; the wallet is untouched.
    await post([{ client: f.clientId, quantity: 60 * 60 }]);
    await usageOf(f.subscriptionId, 3600);
    const second = await renewTo(f.subscriptionId, anchor, 1);
    expect((await linesOf(second.id)).map((l) => l.kind)).toEqual(['recurring']);

    // Period 1: 180 minutes = 100 included (no carry-over of the 40 unused), 50 wallet, 30 billable.
    await post([
      { client: f.clientId, quantity: 120 * 60 },
      { client: f.clientId, quantity: 60 * 60 },
    ]);
    const live = await usageOf(f.subscriptionId, 180 * 60);
    expect(live.usage).toMatchObject({
      includedSeconds: 6000,
      walletSeconds: 3000,
      billableSeconds: 1800,
    });
    const third = await renewTo(f.subscriptionId, anchor, 2);
    expect((await linesOf(third.id)).map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 1000],
      ['usage', 300],
    ]);
    const wallet = await h.api.call('GET', `/v1/clients/${f.clientId}/wallet`);
    expect(wallet.body.balanceSeconds).toBe(0);
    expect(wallet.body.ledger.data.map((e: any) => [e.seconds, e.reason, e.reference])).toEqual([
      [-3000, 'usage', `usage:${f.subscriptionId}:1`],
      [3000, 'pack', `pack:${applied.body.paymentRequest.id}`],
    ]);
    // The pack request never touched the subscription: still pending, subscription active.
    expect((await liveState(h, f.subscriptionId)).status).toBe('active');
    const history = await h.api.call('GET', `/v1/clients/${f.clientId}/usage/history`);
    expect(
      history.body.data.map((p: any) => [
        p.periodIndex,
        p.closed,
        p.usedSeconds,
        p.walletSeconds,
        p.billableSeconds,
      ]),
    ).toEqual([
      [2, false, 0, 0, 0],
      [1, true, 10800, 3000, 1800],
      [0, true, 3600, 0, 0],
    ]);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('bills usage that arrives after its period closed on the next request, never twice', async () => {
    const f = await createFixture(h.api, {
      plan: { flatFeeMinor: 1000, overageRateMinorPerMinute: '10', includedMinutes: 100 },
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const anchor = await anchorOf(f.subscriptionId);
    const p0 = await post([{ id: `p0-${f.clientId}`, client: f.clientId, quantity: 90 * 60 }]);
    expect(p0.accepted).toBe(1);
    await usageOf(f.subscriptionId, 5400);
    const second = await renewTo(f.subscriptionId, anchor, 1);
    expect((await linesOf(second.id)).map((l) => l.kind)).toEqual(['recurring']);

    // In period 1: 30 minutes dated in period 0 (late), 10 of its own, and period 0's event again.
    const inP0 = new Date(anchor + 3 * DAY_MS).toISOString();
    const late = await post([
      { id: `late-${f.clientId}`, client: f.clientId, quantity: 30 * 60, time: inP0 },
      { client: f.clientId, quantity: 10 * 60 },
    ]);
    expect(late.accepted).toBe(2);
    const again = await post([
      { id: `p0-${f.clientId}`, client: f.clientId, quantity: 90 * 60, time: inP0 },
    ]);
    expect(again).toMatchObject({ accepted: 0, duplicates: [`p0-${f.clientId}`] });
    await usageOf(f.subscriptionId, 600);

    const third = await renewTo(f.subscriptionId, anchor, 2);
    // The late 30 minutes spend period 0's 10 unused included minutes, the other 20 are billed.
    const lines = await linesOf(third.id);
    expect(lines.map((l) => [l.kind, l.quantity, l.amountMinor, l.periodStart])).toEqual([
      ['recurring', '1', 1000, new Date(boundaryMs(anchor, MONTHLY, 2)).toISOString()],
      ['late_usage', '20', 200, new Date(anchor).toISOString()],
    ]);
    expect(third.totalMinor).toBe(1200);
    // Nothing is billed again at the next close.
    const fourth = await renewTo(f.subscriptionId, anchor, 3);
    expect((await linesOf(fourth.id)).map((l) => l.kind)).toEqual(['recurring']);
    const history = await h.api.call('GET', `/v1/clients/${f.clientId}/usage/history?limit=12`);
    const period0 = history.body.data.find((p: any) => p.periodIndex === 0);
    expect(period0).toMatchObject({
      usedSeconds: 7200,
      lateSeconds: 1800,
      includedSeconds: 6000,
      billableSeconds: 1200,
    });
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('pauses campaigns when minutes run out, resumes on a pack and at the next period', async () => {
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 1000,
        overageRateMinorPerMinute: null,
        includedMinutes: 10,
        packsAllowed: true,
      },
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const anchor = await anchorOf(f.subscriptionId);
    await waitFor(async () => (await access(h.api, f.clientId)).allowed, 'access allowed');

    await post([{ client: f.clientId, quantity: 9 * 60 }]);
    await usageOf(f.subscriptionId, 540);
    // The workflow records the warning with its next commit, just after it folded.
    const warnings = () => h.db.sql`
      select data from events where client_id = ${f.clientId} and type = 'usage.threshold_90'`;
    await waitFor(async () => (await warnings()).length > 0, '90% warning');
    expect((await warnings()).map((w) => w.data.usedSeconds)).toEqual([540]);
    expect((await access(h.api, f.clientId)).allowed).toBe(true);

    await post([{ client: f.clientId, quantity: 60 }]);
    expect((await usageOf(f.subscriptionId, 600)).accessHolds).toEqual(['minutes_exhausted']);
    await waitFor(async () => !(await access(h.api, f.clientId)).allowed, 'paused');
    expect((await access(h.api, f.clientId)).reasons).toEqual(['minutes_exhausted']);

    const packId = await packFor(f, 5, 500);
    const applied = await h.api.call('POST', `/v1/clients/${f.clientId}/packs/${packId}/apply`, {
      status: 'paid',
    });
    expect(applied.body.paymentRequest.status).toBe('paid');
    await dispatchUsage(h);
    await waitFor(async () => (await access(h.api, f.clientId)).allowed, 'resumed after the pack');
    expect((await liveState(h, f.subscriptionId)).accessHolds).toEqual([]);

    await post([{ client: f.clientId, quantity: 5 * 60 }]);
    await usageOf(f.subscriptionId, 900);
    await waitFor(async () => !(await access(h.api, f.clientId)).allowed, 'paused again');
    const report = await h.api.call('GET', `/v1/clients/${f.clientId}/usage`);
    expect(report.body.period).toMatchObject({
      minutesExhausted: true,
      includedRemainingSeconds: 0,
      walletSeconds: 300,
    });

    // A new period brings new included minutes: campaigns resume.
    await renewTo(f.subscriptionId, anchor, 1);
    await waitFor(
      async () => (await access(h.api, f.clientId)).allowed,
      'resumed at the new period',
    );
    const wallet = await h.api.call('GET', `/v1/clients/${f.clientId}/wallet`);
    expect(wallet.body.balanceSeconds).toBe(0);
    // Only one 90% warning for period 0.
    expect(
      (
        await h.db
          .sql`select 1 from events where client_id = ${f.clientId} and type = 'usage.threshold_90'`
      ).length,
    ).toBe(1);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('folds totals a signal carries, and reads Postgres itself when they are not for its period', async () => {
    const f = await createFixture(h.api, { plan: { includedMinutes: 100 } });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(f.subscriptionId));
    const seqNow = async () =>
      Number((await h.db.sql`select nextval('usage_dispatch_seq') as n`)[0]!.n);
    // Totals in the signal, for the current period: folded as they are (nothing stored here).
    await handle.signal(usageSignal, {
      throughSeq: await seqNow(),
      live: {
        periodIndex: 0,
        walletBalanceSeconds: 0,
        totals: [{ agentId: null, voiceSeconds: 120, chatInteractions: 0 }],
      },
    });
    await usageOf(f.subscriptionId, 120);
    // An older dispatch is ignored.
    await handle.signal(usageSignal, {
      throughSeq: 1,
      live: {
        periodIndex: 0,
        walletBalanceSeconds: 0,
        totals: [{ agentId: null, voiceSeconds: 999, chatInteractions: 0 }],
      },
    });
    // Totals of another period, or none: the workflow recounts what Postgres holds.
    const now = await h.env.currentTimeMs();
    // Stored only: the test signals by hand.
    const store = (id: string, quantity: number) =>
      ingestBatch(
        h.db.sql,
        h.api.agencyId,
        [
          {
            id,
            client: f.clientId,
            metric: 'voice_seconds',
            quantity,
            time: new Date(now).toISOString(),
          },
        ],
        now,
      );
    await store(`pg-${f.clientId}`, 300);
    await handle.signal(usageSignal, {
      throughSeq: await seqNow(),
      live: { periodIndex: 7, walletBalanceSeconds: 0, totals: [] },
    });
    await usageOf(f.subscriptionId, 300);
    await store(`pg2-${f.clientId}`, 60);
    await handle.signal(usageSignal, { throughSeq: await seqNow() });
    await usageOf(f.subscriptionId, 360);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });

  it('chat mode: chats draw on the minute pools and reports show chat equivalents', async () => {
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 1000,
        overageRateMinorPerMinute: '10',
        includedMinutes: 10,
        chatMode: true,
        chatsPerMinute: '2',
      },
      agents: 2,
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const anchor = await anchorOf(f.subscriptionId);
    // 30 chats = 15 minutes: 10 included (20 chats), 5 billable (10 chats).
    await post([
      { client: f.clientId, agent: f.agentIds[0], metric: 'chat_interactions', quantity: 20 },
      { client: f.clientId, agent: f.agentIds[1], metric: 'chat_interactions', quantity: 10 },
      { client: f.clientId, agent: f.agentIds[1], metric: 'conversations', quantity: 4 },
    ]);
    await usageOf(f.subscriptionId, 900);
    const report = await h.api.call('GET', `/v1/clients/${f.clientId}/usage`);
    expect(report.body.period).toMatchObject({
      usedSeconds: 900,
      billableSeconds: 300,
      chatInteractions: 30,
      conversations: 4,
      chatEquivalents: {
        chatsPerMinute: '2',
        used: 30,
        included: 20,
        includedRemaining: 0,
        billable: 10,
      },
    });
    const second = await renewTo(f.subscriptionId, anchor, 1);
    expect((await linesOf(second.id)).map((l) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['recurring', '1', 1000],
      ['usage', '5', 50],
    ]);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });
  it('chat mode bills each usage line from the exact chats, rounded once (renewal and final)', async () => {
    // 7 chats per minute at 10 minor units per minute: one chat is 1/7 min = 1.43 -> 1 (the old
    // code rounded it to 9 s first: 1.5 -> 2).
    const f = await createFixture(h.api, {
      plan: {
        flatFeeMinor: 1000,
        overageRateMinorPerMinute: '10',
        includedMinutes: 0,
        chatMode: true,
        chatsPerMinute: '7',
      },
      agents: 1,
    });
    await waitForRequests(h.api, f.subscriptionId, 1);
    const anchor = await anchorOf(f.subscriptionId);
    await post([
      { client: f.clientId, agent: f.agentIds[0], metric: 'chat_interactions', quantity: 1 },
    ]);
    await usageOf(f.subscriptionId, 9);
    const second = await renewTo(f.subscriptionId, anchor, 1);
    const lines = await linesOf(second.id);
    expect(lines.map((l) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['recurring', '1', 1000],
      ['usage', '0.1429', 1],
    ]);
    expect(second.totalMinor).toBe(1001);
    // 8 chats in the next period, then cancel now: the workflow's final request bills 8/7 min =
    // 11.43 -> 11 (from 69 whole seconds it was 11.5 -> 12).
    await post([
      { client: f.clientId, agent: f.agentIds[0], metric: 'chat_interactions', quantity: 8 },
    ]);
    await usageOf(f.subscriptionId, 69);
    await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
    const all = await waitForRequests(h.api, f.subscriptionId, 3);
    const final = await linesOf(all[2]!.id);
    expect(final.map((l) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['usage', '1.1429', 11],
    ]);
  });
});
