/**
 * Properties of the pools: seconds are conserved across pools and agents, invoice lines sum to
 * the total, and the same events in any order and any batching give the same invoice.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocate,
  allocateLate,
  allocatePools,
  mergeTotals,
  type AgentTotals,
} from '../../billing/pools';
import { buildCycleRequest, type PeriodUsage } from '../../billing/invoice';
import type { PlanTerms } from '../../billing/terms';

const agentId = fc.constantFrom<string | null>(null, 'agt_a', 'agt_b', 'agt_c', 'agt_d');
const totalsArb = fc.array(
  fc.record({
    agentId,
    voiceSeconds: fc.integer({ min: 0, max: 200_000 }),
    chatInteractions: fc.integer({ min: 0, max: 5_000 }),
  }),
  { maxLength: 12 },
);
const poolTerms = fc.record({
  includedMinutes: fc.integer({ min: 0, max: 3_000 }),
  chatMode: fc.boolean(),
  chatsPerMinute: fc.option(fc.constantFrom('1', '2', '3', '0.5', '7', '2.75'), { nil: null }),
});
const rate = fc.option(fc.constantFrom('5', '15', '25', '12.5', '0.333333'), { nil: null });

function plan(t: {
  includedMinutes: number;
  chatMode: boolean;
  chatsPerMinute: string | null;
}): PlanTerms {
  return {
    planId: 'pln',
    name: 'P',
    tier: null,
    currency: 'USD',
    flatFeeMinor: 2500,
    overageRateMinorPerMinute: '5',
    rhythm: 'month',
    intervalCount: 1,
    dueDays: 7,
    graceDays: 7,
    packsAllowed: true,
    taxBehavior: 'exclusive',
    taxRateBps: 0,
    ...t,
  };
}

function checkConserved(u: PeriodUsage) {
  expect(u.includedSeconds + u.walletSeconds + u.billableSeconds).toBe(u.totalSeconds);
  expect(Math.min(u.includedSeconds, u.walletSeconds, u.billableSeconds)).toBeGreaterThanOrEqual(0);
  expect(u.perAgent.reduce((a, x) => a + x.seconds, 0)).toBe(u.totalSeconds);
  expect(u.perAgent.reduce((a, x) => a + x.billableSeconds, 0)).toBe(u.billableSeconds);
  for (const a of u.perAgent) expect(a.billableSeconds).toBeLessThanOrEqual(a.seconds);
}

describe('pool properties', () => {
  it('conserves seconds across pools and agents', () => {
    fc.assert(
      fc.property(
        totalsArb,
        poolTerms,
        fc.integer({ min: -100, max: 500_000 }),
        (totals, terms, wallet) => {
          const u = allocatePools({ totals, terms, walletAvailableSeconds: wallet });
          checkConserved(u);
          expect(u.includedSeconds).toBeLessThanOrEqual(terms.includedMinutes * 60);
          expect(u.walletSeconds).toBeLessThanOrEqual(Math.max(0, wallet));
          // a pool is only used once the one before it is spent
          if (u.walletSeconds > 0) expect(u.includedSeconds).toBe(terms.includedMinutes * 60);
          if (u.billableSeconds > 0) expect(u.walletSeconds).toBe(Math.max(0, wallet));
          // voice seconds are never lost; chats only add
          const voice = totals.reduce((a, t) => a + t.voiceSeconds, 0);
          expect(u.totalSeconds).toBeGreaterThanOrEqual(voice);
        },
      ),
    );
  });

  it('allocates integer totals exactly, each part within one of its exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 10 }),
        (total, weights) => {
          const parts = allocate(total, weights);
          const sum = weights.reduce((a, w) => a + w, 0);
          if (sum === 0) {
            // Not `return expect(...)`: fast-check fails a property that returns anything but
            // true or undefined, and an assertion object is neither.
            expect(parts.every((p) => p === 0)).toBe(true);
            return;
          }
          expect(parts.reduce((a, p) => a + p, 0)).toBe(total);
          parts.forEach((p, i) => {
            const exact = (total * weights[i]!) / sum;
            expect(Math.abs(p - exact)).toBeLessThan(1 + 1e-6);
          });
        },
      ),
    );
  });

  it('gives invoice lines that sum to the total, late lines included', () => {
    fc.assert(
      fc.property(
        totalsArb,
        totalsArb,
        poolTerms,
        rate,
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        (totals, lateTotals, terms, r, wallet, taxBps) => {
          const usage = allocatePools({ totals, terms, walletAvailableSeconds: wallet });
          const late = allocateLate({
            period: {
              periodIndex: 0,
              startMs: 0,
              endMs: 1,
              allowanceSeconds: terms.includedMinutes * 60,
              includedSeconds: Math.min(terms.includedMinutes * 60, 1_000),
              rateMinorPerMinute: r,
            },
            totals: lateTotals,
            terms,
            walletAvailableSeconds: wallet - usage.walletSeconds,
          });
          checkConserved(late);
          const { draft } = buildCycleRequest({
            terms: { ...plan(terms), taxRateBps: taxBps },
            recurringFor: { index: 2, startMs: 2, endMs: 3 },
            usageFor: {
              period: { index: 1, startMs: 1, endMs: 2 },
              usage: { ...usage, late: [late] },
              rateMinorPerMinute: r,
            },
            lateUsage: null,
            coupon: {
              couponId: 'c',
              name: 'ten',
              kind: 'percent',
              percentOff: '10',
              amountOffMinor: null,
              duration: 'forever',
              remaining: null,
            },
          });
          expect(draft.lines.reduce((a, l) => a + l.amountMinor, 0)).toBe(draft.totalMinor);
          expect(draft.subtotalMinor - draft.discountMinor + draft.taxMinor).toBe(draft.totalMinor);
          expect(draft.lines.every((l) => Number.isSafeInteger(l.amountMinor))).toBe(true);
        },
      ),
    );
  });

  it('gives the same invoice for the same events in any order and any batching', () => {
    const events = fc.array(
      fc.record({
        agentId,
        voiceSeconds: fc.integer({ min: 0, max: 3_600 }),
        chatInteractions: fc.integer({ min: 0, max: 40 }),
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(
        events,
        poolTerms,
        rate,
        fc.integer({ min: 0, max: 20_000 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 1_000_000 })),
        fc.integer({ min: 1, max: 8 }),
        (evs, terms, r, wallet, rnd, batches) => {
          const invoice = (list: AgentTotals[]) =>
            buildCycleRequest({
              terms: plan(terms),
              recurringFor: { index: 1, startMs: 1, endMs: 2 },
              usageFor: {
                period: { index: 0, startMs: 0, endMs: 1 },
                usage: allocatePools({ totals: list, terms, walletAvailableSeconds: wallet }),
                rateMinorPerMinute: r,
              },
              lateUsage: null,
              coupon: null,
            }).draft;
          const expected = invoice(evs);
          // shuffle, cut into batches, and total each batch on its own before merging
          const it = rnd[Symbol.iterator]();
          const shuffled = evs
            .map((e) => ({ e, k: it.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const perBatch: AgentTotals[] = [];
          for (let b = 0; b < batches; b++) {
            const slice = shuffled.filter((_, i) => i % batches === b);
            perBatch.push(...mergeTotals(slice));
          }
          expect(invoice(perBatch)).toEqual(expected);
        },
      ),
    );
  });
});
