/** The platform fee rule: minutes at the platform rate plus a share of flat lines, rounded once. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { platformFeeMinor, type FeeLine } from '../../billing/platform-fee';

const usage = (billableSeconds: number, amountMinor = 0, kind = 'usage'): FeeLine => ({
  kind,
  amountMinor,
  details: { billableSeconds, totalSeconds: billableSeconds + 600 },
});
const flat = (kind: string, amountMinor: number): FeeLine => ({ kind, amountMinor, details: null });

describe('platformFeeMinor', () => {
  it('charges billable minutes at the platform rate', () => {
    // 125 billable minutes at 15 minor/min = 1875
    const lines = [flat('recurring', 10_000), usage(7_500, 3_750)];
    expect(
      platformFeeMinor({
        lines,
        totalMinor: 13_750,
        platformRateMinorPerMinute: '15',
        flatFeeBps: 0,
      }),
    ).toBe(1_875);
  });

  it('adds the flat share of recurring, pack and one-time lines, not discount or tax', () => {
    const lines = [
      flat('recurring', 10_000),
      flat('pack', 4_500),
      flat('one_time', 500),
      flat('discount', -2_000),
      flat('tax', 1_300),
    ];
    // 2.5% of 15000 = 375
    expect(
      platformFeeMinor({
        lines,
        totalMinor: 14_300,
        platformRateMinorPerMinute: '15',
        flatFeeBps: 250,
      }),
    ).toBe(375);
  });

  it('rounds the exact sum once, half up (not each part)', () => {
    // usage: 30 s x 0.5/min = 0.25; flat: 1 bps of 2500 = 0.25; sum 0.5 -> 1 (each part alone -> 0)
    const lines = [usage(30, 1, 'late_usage'), flat('recurring', 2_500)];
    expect(
      platformFeeMinor({
        lines,
        totalMinor: 2_501,
        platformRateMinorPerMinute: '0.5',
        flatFeeBps: 1,
      }),
    ).toBe(1);
    // 0.49 stays 0
    expect(
      platformFeeMinor({
        lines: [usage(59, 1)],
        totalMinor: 1,
        platformRateMinorPerMinute: '0.5',
        flatFeeBps: 0,
      }),
    ).toBe(0);
  });

  it('never takes more than the total', () => {
    const lines = [usage(6_000, 500), flat('discount', -400)];
    expect(
      platformFeeMinor({ lines, totalMinor: 100, platformRateMinorPerMinute: '15', flatFeeBps: 0 }),
    ).toBe(100);
    expect(
      platformFeeMinor({ lines, totalMinor: 0, platformRateMinorPerMinute: '15', flatFeeBps: 0 }),
    ).toBe(0);
  });

  it('refuses a usage line without its billable seconds and a bad share', () => {
    const bad: FeeLine = { kind: 'usage', amountMinor: 10, details: null };
    expect(() =>
      platformFeeMinor({
        lines: [bad],
        totalMinor: 10,
        platformRateMinorPerMinute: '15',
        flatFeeBps: 0,
      }),
    ).toThrow(/billableSeconds/);
    expect(() =>
      platformFeeMinor({
        lines: [],
        totalMinor: 10,
        platformRateMinorPerMinute: '15',
        flatFeeBps: 10_001,
      }),
    ).toThrow(/flatFeeBps/);
  });

  it('property: 0 <= fee <= total, whatever the lines', () => {
    const line = fc.oneof(
      fc
        .record({
          kind: fc.constantFrom('usage', 'late_usage'),
          seconds: fc.integer({ min: 0, max: 10_000_000 }),
          amountMinor: fc.integer({ min: 0, max: 10_000_000 }),
        })
        .map(({ kind, seconds, amountMinor }) => usage(seconds, amountMinor, kind)),
      fc
        .record({
          kind: fc.constantFrom('recurring', 'pack', 'one_time', 'discount', 'tax'),
          amountMinor: fc.integer({ min: -10_000_000, max: 10_000_000 }),
        })
        .map(({ kind, amountMinor }) => flat(kind, amountMinor)),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 8 }),
        fc.integer({ min: -1_000, max: 50_000_000 }),
        fc.stringMatching(/^\d{1,4}(\.\d{1,6})?$/),
        fc.integer({ min: 0, max: 10_000 }),
        (lines, totalMinor, platformRateMinorPerMinute, flatFeeBps) => {
          const fee = platformFeeMinor({
            lines,
            totalMinor,
            platformRateMinorPerMinute,
            flatFeeBps,
          });
          expect(Number.isSafeInteger(fee)).toBe(true);
          expect(fee).toBeGreaterThanOrEqual(0);
          expect(fee).toBeLessThanOrEqual(Math.max(totalMinor, 0));
        },
      ),
    );
  });
});
