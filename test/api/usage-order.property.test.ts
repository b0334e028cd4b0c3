/**
 * Property, on the real ingest path and the real period close (Postgres): the same events in any
 * order, in any batching, with any repeats, give the same pools and the same invoice; and usage
 * split by a close (part on time, part late) is billed exactly once in total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createUsageActivities } from '../../activities/usage';
import { ingestBatch } from '../../services/usage-ingest';
import { buildCycleRequest, type PeriodUsage } from '../../billing/invoice';
import { periodAt } from '../../billing/periods';
import type { PlanTerms } from '../../billing/terms';
import { createTestDb, type TestDb } from '../helpers/db';
import { createTestApi, type TestApi } from '../helpers/api';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { createFixture, type Fixture } from '../helpers/usage-fixtures';

let db: TestDb;
let env: TestWorkflowEnvironment;
let api: TestApi;
let planId: string;

const plan = {
  flatFeeMinor: 1000,
  overageRateMinorPerMinute: '7',
  includedMinutes: 5,
  chatMode: true,
  chatsPerMinute: '3',
};

beforeAll(async () => {
  db = await createTestDb();
  env = await createTimeSkippingEnv();
  api = await createTestApi(db.sql, env.client);
  planId = (await createFixture(api, { plan, subscribe: false })).planId;
});

afterAll(async () => {
  await env?.teardown();
  await db?.drop();
});

interface Ev {
  agent: number | null;
  metric: 'voice_seconds' | 'chat_interactions';
  quantity: number;
}

const eventsArb = fc.array(
  fc.record({
    agent: fc.constantFrom<number | null>(null, 0, 1, 2),
    metric: fc.constantFrom<'voice_seconds' | 'chat_interactions'>(
      'voice_seconds',
      'chat_interactions',
    ),
    quantity: fc.integer({ min: 0, max: 900 }),
  }),
  { minLength: 1, maxLength: 40 },
);

async function subscription(
  wallet: number,
): Promise<Fixture & { terms: PlanTerms; startMs: number }> {
  const f = await createFixture(api, { planId, agents: 3 });
  if (wallet > 0)
    await db.sql`insert into wallet_ledger (agency_id, client_id, seconds, reason, reference)
      values (${api.agencyId}, ${f.clientId}, ${wallet}, 'adjustment', ${`seed:${f.clientId}`})`;
  const [row] = await db.sql<{ terms: PlanTerms; startAt: Date }[]>`
    select terms, start_at as "startAt" from subscriptions where id = ${f.subscriptionId}`;
  return { ...f, terms: row!.terms, startMs: row!.startAt.getTime() };
}

let run = 0;

async function ingest(f: Fixture, tag: string, evs: (Ev & { i: number })[], nowMs: number) {
  const res = await ingestBatch(
    db.sql,
    api.agencyId,
    evs.map((e) => ({
      id: `${tag}-${e.i}`,
      client: e.i % 2 ? f.clientId : f.externalId,
      ...(e.agent === null ? {} : { agent: f.agentIds[e.agent] }),
      metric: e.metric,
      quantity: e.quantity,
      time: new Date(nowMs).toISOString(),
    })),
    nowMs,
  );
  expect(res.rejected).toEqual([]);
}

const close = (f: Fixture & { terms: PlanTerms; startMs: number }, index: number) =>
  createUsageActivities({ sql: db.sql }).getPeriodUsage({
    agencyId: api.agencyId,
    clientId: f.clientId,
    subscriptionId: f.subscriptionId,
    period: periodAt(f.startMs, { rhythm: 'month', intervalCount: 1 }, index),
    terms: f.terms,
    rateMinorPerMinute: '7',
    final: false,
  });

/** The invoice with agent ids replaced by their position, to compare two clients' invoices. */
function invoiceOf(f: Fixture & { terms: PlanTerms }, usage: PeriodUsage) {
  const named = {
    ...usage,
    perAgent: usage.perAgent.map((a) => ({
      ...a,
      agentId: a.agentId === null ? null : `agent-${f.agentIds.indexOf(a.agentId)}`,
    })),
  };
  return buildCycleRequest({
    terms: f.terms,
    recurringFor: null,
    usageFor: { period: { index: 0, startMs: 0, endMs: 1 }, usage: named, rateMinorPerMinute: '7' },
    lateUsage: null,
    coupon: null,
  }).draft;
}

describe('ingest and close are order-free', () => {
  it('same events in any order, batching and repetition: same pools, same invoice', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.integer({ min: 0, max: 1200 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (events, wallet, keys, batches, repeats) => {
          const indexed = events.map((e, i) => ({ ...e, i }));
          const tag = `x${++run}`; // ids are unique per agency: a fresh set per run
          const a = await subscription(wallet);
          const b = await subscription(wallet);
          const now = Date.now();
          await ingest(a, `${tag}a`, indexed, now);
          const shuffled = [...indexed].sort((p, q) => keys[p.i]! - keys[q.i]! || p.i - q.i);
          for (let k = 0; k < batches; k++) {
            const slice = shuffled.filter((_, j) => j % batches === k);
            // some events of earlier batches sent again: duplicates count once
            const again = repeats
              .map((r) => r % shuffled.length)
              .filter((j) => j % batches < k)
              .map((j) => shuffled[j]!);
            if (slice.length + again.length > 0)
              await ingest(b, `${tag}b`, [...slice, ...again], now);
          }
          const ua = await close(a, 0);
          const ub = await close(b, 0);
          expect(invoiceOf(b, ub)).toEqual(invoiceOf(a, ua));
          expect(ub.totalSeconds).toBe(ua.totalSeconds);
          expect(ub.walletSeconds).toBe(ua.walletSeconds);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('usage split by a close into on-time and late is counted exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 0, max: 40 }), async (events, cut) => {
        const voiceOnly = events.map((e, i) => ({ ...e, metric: 'voice_seconds' as const, i }));
        const f = await subscription(0);
        const now = Date.now();
        const tag = `y${++run}`;
        await ingest(f, tag, voiceOnly.slice(0, cut), now);
        const p0 = await close(f, 0);
        // Arrives after period 0 closed, dated in period 0: late usage at the next close.
        await ingest(f, tag, voiceOnly, now);
        const p1 = await close(f, 1);
        const late = (p1.late ?? []).reduce((s, l) => s + l.totalSeconds, 0);
        const sent = voiceOnly.reduce((s, e) => s + e.quantity, 0);
        expect(p0.totalSeconds + late).toBe(sent);
        expect(p1.totalSeconds).toBe(0);
        // Pools across both closes as if it had all come on time.
        const billed =
          p0.billableSeconds + (p1.late ?? []).reduce((s, l) => s + l.billableSeconds, 0);
        expect(billed).toBe(Math.max(0, sent - 5 * 60));
        // A retried close returns what the first one stored.
        expect(await close(f, 1)).toEqual(p1);
      }),
      { numRuns: 12 },
    );
  });
});
