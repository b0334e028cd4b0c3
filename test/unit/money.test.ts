/** Money rules: exact rates, one rounding rule, and lines that always sum to the total. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compareRates,
  currencyExponent,
  divideHalfUp,
  formatMinor,
  isCurrency,
  normalizeRate,
  percentOfMinor,
  rateToMicros,
  usageAmountMinor,
} from '../../billing/money';
import { buildCycleRequest, NO_USAGE } from '../../billing/invoice';
import type { PlanTerms } from '../../billing/terms';

const terms: PlanTerms = {
  planId: 'pln_1',
  name: 'Growth',
  tier: 'growth',
  currency: 'USD',
  flatFeeMinor: 2500,
  overageRateMinorPerMinute: '5',
  includedMinutes: 0,
  rhythm: 'month',
  intervalCount: 1,
  dueDays: 7,
  graceDays: 7,
  packsAllowed: false,
  chatMode: false,
  chatsPerMinute: null,
  taxBehavior: 'exclusive',
  taxRateBps: 0,
};

describe('rates', () => {
  it('parses exact decimals and normalises them', () => {
    expect(rateToMicros('15')).toBe(15_000_000n);
    expect(rateToMicros('12.5')).toBe(12_500_000n);
    expect(rateToMicros('0.000001')).toBe(1n);
    expect(normalizeRate('015.500')).toBe('15.5');
    expect(() => rateToMicros('1e3')).toThrow();
    expect(() => rateToMicros('-1')).toThrow();
    expect(() => rateToMicros('1.0000001')).toThrow();
    expect(compareRates('25', '15')).toBe(1);
    expect(compareRates('15.000', '15')).toBe(0);
  });

  it('knows ISO 4217 codes and their minor units', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(formatMinor(123456, 'USD')).toBe('1234.56 USD');
    expect(formatMinor(5, 'KWD')).toBe('0.005 KWD');
    expect(formatMinor(500, 'JPY')).toBe('500 JPY');
  });
});

describe('rounding: once per line, half up', () => {
  it('rounds half up at exactly one half', () => {
    expect(divideHalfUp(5n, 10n)).toBe(1n);
    expect(divideHalfUp(4n, 10n)).toBe(0n);
    expect(divideHalfUp(15n, 10n)).toBe(2n);
    expect(divideHalfUp(25n, 10n)).toBe(3n);
  });

  it('bills seconds at per-minute rates exactly', () => {
    expect(usageAmountMinor(60, '25')).toBe(25); // one minute at $0.25
    expect(usageAmountMinor(90, '25')).toBe(38); // 37.5 -> 38
    expect(usageAmountMinor(30, '5')).toBe(3); // 2.5 -> 3
    expect(usageAmountMinor(1, '5')).toBe(0); // 0.083 -> 0
    expect(usageAmountMinor(6_000, '12.5')).toBe(1250);
    expect(usageAmountMinor(0, '50')).toBe(0);
  });

  it('takes percentages of amounts with the same rule', () => {
    expect(percentOfMinor(2500, '10')).toBe(250);
    expect(percentOfMinor(999, '12.5')).toBe(125); // 124.875 -> 125
    expect(percentOfMinor(1, '50')).toBe(1); // 0.5 -> 1
  });

  it('is exact for large amounts (no floating point)', () => {
    // 10^9 seconds at 33.333333 minor/min: float math would drift.
    expect(usageAmountMinor(1_000_000_000, '33.333333')).toBe(555_555_550);
  });
});

describe('cycle request lines', () => {
  const period = { index: 1, startMs: Date.UTC(2026, 1, 1), endMs: Date.UTC(2026, 2, 1) };
  const closed = { index: 0, startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 1, 1) };

  it('bills the flat fee in advance and usage in arrears on one request', () => {
    const usage = { ...NO_USAGE, totalSeconds: 600, billableSeconds: 600, perAgent: [] };
    const { draft } = buildCycleRequest({
      terms,
      recurringFor: period,
      usageFor: { period: closed, usage, rateMinorPerMinute: '5' },
      lateUsage: null,
      coupon: null,
    });
    expect(draft.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 2500],
      ['usage', 50],
    ]);
    expect(draft.totalMinor).toBe(2550);
  });

  it('applies coupons by duration and taxes after discount', () => {
    const coupon = {
      couponId: 'cpn_1',
      name: 'TENOFF',
      kind: 'percent' as const,
      percentOff: '10',
      amountOffMinor: null,
      duration: 'repeating' as const,
      remaining: 2,
    };
    const taxed = { ...terms, taxRateBps: 2000 };
    const first = buildCycleRequest({
      terms: taxed,
      recurringFor: period,
      usageFor: null,
      lateUsage: null,
      coupon,
    });
    expect(first.draft.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 2500],
      ['discount', -250],
      ['tax', 450],
    ]);
    expect(first.draft.totalMinor).toBe(2700);
    expect(first.couponAfter?.remaining).toBe(1);
    const second = buildCycleRequest({
      terms,
      recurringFor: period,
      usageFor: null,
      lateUsage: null,
      coupon: first.couponAfter,
    });
    expect(second.couponAfter).toBeNull();
    const forever = { ...coupon, duration: 'forever' as const, remaining: null };
    expect(
      buildCycleRequest({
        terms,
        recurringFor: period,
        usageFor: null,
        lateUsage: null,
        coupon: forever,
      }).couponAfter,
    ).toEqual(forever);
  });

  it('never discounts below zero', () => {
    const fixed = {
      couponId: 'c',
      name: 'BIG',
      kind: 'fixed' as const,
      percentOff: null,
      amountOffMinor: 10_000,
      duration: 'once' as const,
      remaining: 1,
    };
    const { draft } = buildCycleRequest({
      terms,
      recurringFor: period,
      usageFor: null,
      lateUsage: null,
      coupon: fixed,
    });
    expect(draft.totalMinor).toBe(0);
    expect(draft.discountMinor).toBe(2500);
  });

  it('property: lines always sum to the total, and the total is never negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 100_000_000 }).map((m) => (m / 1_000_000).toFixed(6)),
        fc.option(
          fc.oneof(
            fc.integer({ min: 1, max: 100 }).map((p) => ({
              kind: 'percent' as const,
              percentOff: String(p),
              amountOffMinor: null,
            })),
            fc
              .integer({ min: 1, max: 1_000_000 })
              .map((a) => ({ kind: 'fixed' as const, percentOff: null, amountOffMinor: a })),
          ),
        ),
        fc.integer({ min: 0, max: 5000 }),
        (flat, seconds, rate, couponShape, taxBps) => {
          const t = { ...terms, flatFeeMinor: flat, taxRateBps: taxBps };
          const usage = { ...NO_USAGE, totalSeconds: seconds, billableSeconds: seconds };
          const coupon = couponShape
            ? { couponId: 'c', name: 'C', duration: 'once' as const, remaining: 1, ...couponShape }
            : null;
          const { draft } = buildCycleRequest({
            terms: t,
            recurringFor: period,
            usageFor: { period: closed, usage, rateMinorPerMinute: rate },
            lateUsage: null,
            coupon,
          });
          const sum = draft.lines.reduce((s, l) => s + l.amountMinor, 0);
          return (
            sum === draft.totalMinor &&
            draft.totalMinor >= 0 &&
            draft.lines.every((l) => Number.isSafeInteger(l.amountMinor)) &&
            draft.totalMinor === draft.subtotalMinor - draft.discountMinor + draft.taxMinor
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
