/** Billing periods: UTC, anchored to the start, month ends clamped, leap years, every rhythm. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { boundaryMs, periodAt, periodContaining, type Cadence } from '../../billing/periods';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const monthly: Cadence = { rhythm: 'month', intervalCount: 1 };

describe('monthly periods', () => {
  it('clamps a Jan 31 start to Feb 28, then returns to Mar 31 (anchored, not chained)', () => {
    const anchor = at('2027-01-31T09:30:00.000Z');
    const ends = [1, 2, 3, 4].map((n) => iso(boundaryMs(anchor, monthly, n)));
    expect(ends).toEqual([
      '2027-02-28T09:30:00.000Z',
      '2027-03-31T09:30:00.000Z',
      '2027-04-30T09:30:00.000Z',
      '2027-05-31T09:30:00.000Z',
    ]);
  });

  it('clamps to Feb 29 in a leap year', () => {
    const anchor = at('2028-01-31T00:00:00.000Z');
    expect(iso(boundaryMs(anchor, monthly, 1))).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(boundaryMs(anchor, monthly, 2))).toBe('2028-03-31T00:00:00.000Z');
  });

  it('keeps a 30th start on the 30th, except in February', () => {
    const anchor = at('2027-01-30T00:00:00.000Z');
    expect([1, 2, 3].map((n) => iso(boundaryMs(anchor, monthly, n)))).toEqual([
      '2027-02-28T00:00:00.000Z',
      '2027-03-30T00:00:00.000Z',
      '2027-04-30T00:00:00.000Z',
    ]);
  });

  it('counts interval months across year ends', () => {
    const quarterly: Cadence = { rhythm: 'month', intervalCount: 3 };
    const anchor = at('2026-11-30T00:00:00.000Z');
    expect(iso(boundaryMs(anchor, quarterly, 1))).toBe('2027-02-28T00:00:00.000Z');
    expect(iso(boundaryMs(anchor, quarterly, 2))).toBe('2027-05-30T00:00:00.000Z');
  });

  it('periods are contiguous and every one starts at or after the anchor day-of-month rule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2090-01-01T00:00:00Z') }),
        fc.integer({ min: 0, max: 200 }),
        fc.constantFrom<Cadence['rhythm']>('day', 'week', 'month', 'year'),
        fc.integer({ min: 1, max: 12 }),
        (anchor, index, rhythm, intervalCount) => {
          const cadence = { rhythm, intervalCount };
          const p = periodAt(anchor, cadence, index);
          const q = periodAt(anchor, cadence, index + 1);
          expect(p.endMs).toBe(q.startMs);
          expect(p.endMs).toBeGreaterThan(p.startMs);
          // The time of day never drifts.
          expect(p.startMs % 86_400_000).toBe(anchor % 86_400_000);
          expect(periodContaining(anchor, cadence, p.startMs).index).toBe(index);
          expect(periodContaining(anchor, cadence, p.endMs - 1).index).toBe(index);
        },
      ),
    );
  });
});

describe('weekly, daily and yearly periods', () => {
  it('weekly periods are exactly 7 days, whatever the month', () => {
    const anchor = at('2027-02-26T12:00:00.000Z');
    const weekly: Cadence = { rhythm: 'week', intervalCount: 1 };
    expect([1, 2].map((n) => iso(boundaryMs(anchor, weekly, n)))).toEqual([
      '2027-03-05T12:00:00.000Z',
      '2027-03-12T12:00:00.000Z',
    ]);
    expect(iso(boundaryMs(anchor, { rhythm: 'week', intervalCount: 2 }, 1))).toBe(
      '2027-03-12T12:00:00.000Z',
    );
  });

  it('daily periods are 24 hours in UTC', () => {
    const anchor = at('2027-03-27T23:00:00.000Z');
    expect(iso(boundaryMs(anchor, { rhythm: 'day', intervalCount: 1 }, 2))).toBe(
      '2027-03-29T23:00:00.000Z',
    );
  });

  it('a Feb 29 yearly start renews on Feb 28, and on Feb 29 again in the next leap year', () => {
    const anchor = at('2028-02-29T00:00:00.000Z');
    const yearly: Cadence = { rhythm: 'year', intervalCount: 1 };
    expect([1, 2, 3, 4].map((n) => iso(boundaryMs(anchor, yearly, n)))).toEqual([
      '2029-02-28T00:00:00.000Z',
      '2030-02-28T00:00:00.000Z',
      '2031-02-28T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });
});
