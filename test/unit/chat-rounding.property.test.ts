/**
 * One rounding per line in chat mode: a period's chats are chats / chatsPerMinute minutes, which
 * is rarely a whole second. The usage line must be billed from that exact quantity and rounded
 * once, to the minor unit. The old code first rounded the chat total to whole seconds and then
 * rounded the line again: at 7 chats per minute and 10 minor units per minute one billable chat
 * (1.43 minor units) was billed 2. These properties fail on that code.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateLate, allocatePools } from '../../billing/pools';
import { buildCycleRequest, type PeriodUsage } from '../../billing/invoice';
import { platformFeeMinor } from '../../billing/platform-fee';
import { rateToMicros } from '../../billing/money';
import type { PlanTerms } from '../../billing/terms';

/** A positive decimal string with up to 6 places ("7", "2.75", "0.000001"). */
const decimal = (maxWhole: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: maxWhole }), fc.integer({ min: 0, max: 999_999 }), fc.nat(6))
    .map(([w, f, places]) => {
      const frac = String(f).padStart(6, '0').slice(0, places).replace(/0+$/, '');
      return frac ? `${w}.${frac}` : `${w}`;
    })
    .filter((s) => rateToMicros(s) > 0n);

const terms = (chatsPerMinute: string, includedMinutes: number): PlanTerms => ({
  planId: 'pln',
  name: 'Chat',
  tier: null,
  currency: 'USD',
  flatFeeMinor: 0,
  overageRateMinorPerMinute: '10',
  includedMinutes,
  rhythm: 'month',
  intervalCount: 1,
  dueDays: 7,
  graceDays: 7,
  packsAllowed: true,
  chatMode: true,
  chatsPerMinute,
  taxBehavior: 'exclusive',
  taxRateBps: 0,
});

const period = { index: 0, startMs: 0, endMs: 1 };

function usageLine(usage: PeriodUsage, t: PlanTerms, rate: string) {
  const { draft } = buildCycleRequest({
    terms: t,
    recurringFor: null,
    usageFor: { period, usage, rateMinorPerMinute: rate },
    lateUsage: null,
    coupon: null,
  });
  expect(draft.lines.reduce((a, l) => a + l.amountMinor, 0)).toBe(draft.totalMinor);
  return draft.lines.find((l) => l.kind === 'usage' || l.kind === 'late_usage');
}

/**
 * The exact billable amount, from the inputs alone: (voice + chats x 60 / cpm - covered) seconds,
 * never below zero, at `rate` per minute; as a fraction num / den of minor units.
 */
function exactAmount(voice: number, chats: number, cpm: string, covered: number, rate: string) {
  const c = rateToMicros(cpm);
  let seconds = (BigInt(voice) - BigInt(covered)) * c + BigInt(chats) * 60_000_000n; // x 1/c s
  if (seconds < 0n) seconds = 0n;
  return { num: seconds * rateToMicros(rate), den: c * 60n * 1_000_000n };
}

/** Whether `amount` is the exact value rounded once, half up: |amount - exact| <= 1/2. */
function roundedOnce(amount: number, e: { num: bigint; den: bigint }) {
  const twice = 2n * BigInt(amount) * e.den - 2n * e.num;
  return twice > -e.den && twice <= e.den;
}

describe('chat mode: one rounding per usage line', () => {
  it('one billable chat at 7 per minute and 10 per minute is 1 (1.43), not 2', () => {
    const t = terms('7', 0);
    const usage = allocatePools({
      totals: [{ agentId: null, voiceSeconds: 0, chatInteractions: 1 }],
      terms: t,
      walletAvailableSeconds: 0,
    });
    const line = usageLine(usage, t, '10');
    expect(line?.amountMinor).toBe(1);
    expect(line?.quantity).toBe('0.1429');
  });

  it('any chats per minute, any count, any rate: the line is the exact amount rounded once', () => {
    fc.assert(
      fc.property(
        decimal(500),
        fc.integer({ min: 0, max: 2_000_000 }),
        decimal(1000),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.constantFrom<string | null>(null, 'agt_a', 'agt_b'), {
          minLength: 1,
          maxLength: 3,
        }),
        (cpm, chats, rate, voice, includedMinutes, wallet, agents) => {
          const t = terms(cpm, includedMinutes);
          // the same totals spread over agents: the split must not change the amount
          const totals = agents.map((agentId, i) => ({
            agentId,
            voiceSeconds: i === 0 ? voice : 0,
            chatInteractions: i === agents.length - 1 ? chats : 0,
          }));
          const usage = allocatePools({ totals, terms: t, walletAvailableSeconds: wallet });
          const exact = exactAmount(voice, chats, cpm, includedMinutes * 60 + wallet, rate);
          const amount = usageLine(usage, t, rate)?.amountMinor ?? 0;
          expect(roundedOnce(amount, exact)).toBe(true);
          // the whole seconds stay consistent with the exact quantity
          expect(usage.includedSeconds + usage.walletSeconds + usage.billableSeconds).toBe(
            usage.totalSeconds,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('late chats of a closed period are billed from their exact quantity too', () => {
    fc.assert(
      fc.property(
        decimal(100),
        fc.integer({ min: 1, max: 100_000 }),
        decimal(500),
        (cpm, chats, rate) => {
          const t = terms(cpm, 0);
          const late = allocateLate({
            period: {
              periodIndex: 0,
              startMs: 0,
              endMs: 1,
              allowanceSeconds: 0,
              includedSeconds: 0,
              rateMinorPerMinute: rate,
            },
            totals: [{ agentId: 'agt_a', voiceSeconds: 0, chatInteractions: chats }],
            terms: t,
            walletAvailableSeconds: 0,
          });
          const usage = { ...allocatePools({ totals: [], terms: t, walletAvailableSeconds: 0 }) };
          const line = usageLine({ ...usage, late: [late] }, t, rate);
          expect(roundedOnce(line?.amountMinor ?? 0, exactAmount(0, chats, cpm, 0, rate))).toBe(
            true,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the platform fee of a chat line is its exact minutes at the platform rate, rounded once', () => {
    const t = terms('7', 0);
    const usage = allocatePools({
      totals: [{ agentId: null, voiceSeconds: 0, chatInteractions: 1 }],
      terms: t,
      walletAvailableSeconds: 0,
    });
    const line = usageLine(usage, t, '20')!;
    // 1/7 min x 17 = 2.43 -> 2; from 9 whole seconds it was 2.55 -> 3
    const fee = (rate: string) =>
      platformFeeMinor({
        lines: [line],
        totalMinor: line.amountMinor,
        platformRateMinorPerMinute: rate,
        flatFeeBps: 0,
      });
    expect(fee('17')).toBe(2);
  });
});
