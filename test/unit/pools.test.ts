/** Usage pools: order of pools, chat conversion, per-agent shares, exhaustion, late usage, margins. */
import { describe, expect, it } from 'vitest';
import {
  allocate,
  allocateLate,
  allocatePools,
  chatsToSeconds,
  formatMinutes,
  meteredSeconds,
  minutesExhausted,
  periodEconomics,
  reachedWarning,
  secondsToChats,
  type AgentTotals,
} from '../../billing/pools';
import { buildCycleRequest } from '../../billing/invoice';
import type { PlanTerms } from '../../billing/terms';

const voice = (agentId: string | null, voiceSeconds: number): AgentTotals => ({
  agentId,
  voiceSeconds,
  chatInteractions: 0,
});
const minutesPlan = { includedMinutes: 100, chatMode: false, chatsPerMinute: null };

describe('pool order: included, then wallet, then billable', () => {
  it('spends included minutes first', () => {
    const u = allocatePools({
      totals: [voice('a', 90 * 60)],
      terms: minutesPlan,
      walletAvailableSeconds: 600,
    });
    expect(u).toMatchObject({
      totalSeconds: 5400,
      includedSeconds: 5400,
      walletSeconds: 0,
      billableSeconds: 0,
    });
  });

  it('then the wallet, then bills the rest', () => {
    const u = allocatePools({
      totals: [voice('a', 130 * 60)],
      terms: minutesPlan,
      walletAvailableSeconds: 20 * 60,
    });
    expect(u).toMatchObject({
      totalSeconds: 7800,
      includedSeconds: 6000,
      walletSeconds: 1200,
      billableSeconds: 600,
      allowanceSeconds: 6000,
    });
  });

  it('treats a negative wallet as empty', () => {
    const u = allocatePools({
      totals: [voice('a', 7000)],
      terms: minutesPlan,
      walletAvailableSeconds: -5,
    });
    expect(u.walletSeconds).toBe(0);
    expect(u.billableSeconds).toBe(1000);
  });
});

describe('per-agent breakdown', () => {
  it('lists every agent with its seconds and its share of the billable seconds', () => {
    const u = allocatePools({
      totals: [voice('agt_b', 3000), voice('agt_a', 6000), voice(null, 1000), voice('agt_a', 2000)],
      terms: { includedMinutes: 0, chatMode: false, chatsPerMinute: null },
      walletAvailableSeconds: 0,
    });
    expect(u.perAgent).toEqual([
      { agentId: null, seconds: 1000, billableSeconds: 1000 },
      { agentId: 'agt_a', seconds: 8000, billableSeconds: 8000 },
      { agentId: 'agt_b', seconds: 3000, billableSeconds: 3000 },
    ]);
  });

  it('formats seconds as minutes exactly when whole, else to 4 places', () => {
    expect(formatMinutes(5400)).toBe('90');
    expect(formatMinutes(90)).toBe('1.5');
    expect(formatMinutes(100)).toBe('1.6667');
    expect(formatMinutes(-1800)).toBe('-30');
    expect(formatMinutes(0)).toBe('0');
  });

  it('splits billable seconds in proportion, largest remainders first, summing exactly', () => {
    expect(allocate(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(allocate(100, [1, 2, 3])).toEqual([17, 33, 50]);
    expect(allocate(0, [5, 5])).toEqual([0, 0]);
    expect(allocate(7, [0, 0])).toEqual([0, 0]);
    const u = allocatePools({
      totals: [voice('a', 100), voice('b', 200), voice('c', 300)],
      terms: { includedMinutes: 1, chatMode: false, chatsPerMinute: null },
      walletAvailableSeconds: 0,
    });
    expect(u.billableSeconds).toBe(540);
    expect(u.perAgent.map((a) => a.billableSeconds)).toEqual([90, 180, 270]);
  });
});

describe('chat mode', () => {
  const chatPlan = { includedMinutes: 100, chatMode: true, chatsPerMinute: '2' };

  it('converts chats to minutes and minutes to chats', () => {
    expect(chatsToSeconds(10, '2')).toBe(300);
    expect(secondsToChats(300, '2')).toBe(10);
    expect(secondsToChats(100 * 60, '2')).toBe(200); // 100 included minutes are 200 chats
    expect(chatsToSeconds(1, '7')).toBe(9); // 8.57 s, rounded half up
    expect(secondsToChats(59, '1')).toBe(0); // part of a chat is no chat
    expect(chatsToSeconds(3, '0.5')).toBe(360);
  });

  it('lets chats draw on the minute pools, converting the period total once', () => {
    const u = allocatePools({
      totals: [
        { agentId: 'a', voiceSeconds: 0, chatInteractions: 1 },
        { agentId: 'b', voiceSeconds: 60, chatInteractions: 2 },
      ],
      terms: { ...chatPlan, chatsPerMinute: '7' },
      walletAvailableSeconds: 0,
    });
    // 3 chats = 25.714 s -> 26 s, split 1:2 -> 9 and 17
    expect(u.totalSeconds).toBe(86);
    expect(u.perAgent).toEqual([
      { agentId: 'a', seconds: 9, billableSeconds: 0 },
      { agentId: 'b', seconds: 77, billableSeconds: 0 },
    ]);
    expect(u.chatInteractions).toBe(3);
  });

  it('does not meter chats outside chat mode', () => {
    const m = meteredSeconds(
      [{ agentId: 'a', voiceSeconds: 10, chatInteractions: 50 }],
      minutesPlan,
    );
    expect(m).toEqual([{ agentId: 'a', seconds: 10, chatInteractions: 50 }]);
  });
});

describe('exhaustion and warning', () => {
  const base = { rateMinorPerMinute: null, includedMinutes: 10, walletBalanceSeconds: 120 };
  it('exhausts when included and wallet are spent and no rate allows overage', () => {
    expect(minutesExhausted({ ...base, usedSeconds: 719 })).toBe(false);
    expect(minutesExhausted({ ...base, usedSeconds: 720 })).toBe(true);
    expect(minutesExhausted({ ...base, usedSeconds: 900 })).toBe(true);
  });
  it('never exhausts where overage is billed, or where the plan sets no limit', () => {
    expect(minutesExhausted({ ...base, rateMinorPerMinute: '5', usedSeconds: 10_000 })).toBe(false);
    expect(minutesExhausted({ ...base, includedMinutes: 0, usedSeconds: 10_000 })).toBe(false);
  });
  it('warns at 90% of the included minutes', () => {
    expect(reachedWarning(539, 600)).toBe(false);
    expect(reachedWarning(540, 600)).toBe(true);
    expect(reachedWarning(1000, 0)).toBe(false);
  });
});

describe('late usage', () => {
  it('spends what its period left included, then the wallet, billed at its own rate', () => {
    const late = allocateLate({
      period: {
        periodIndex: 2,
        startMs: 1000,
        endMs: 2000,
        allowanceSeconds: 600,
        includedSeconds: 500,
        rateMinorPerMinute: '20',
      },
      totals: [voice('a', 400)],
      terms: minutesPlan,
      walletAvailableSeconds: 60,
    });
    expect(late).toMatchObject({
      periodIndex: 2,
      totalSeconds: 400,
      includedSeconds: 100,
      walletSeconds: 60,
      billableSeconds: 240,
      rateMinorPerMinute: '20',
    });
  });
});

describe('margins (BuildVoiceAI: client rates above the $0.15 platform rate)', () => {
  it.each([
    ['25', '10', 2500, 1000],
    ['35', '20', 3500, 2000],
    ['50', '35', 5000, 3500],
  ])('rate %s: margin %s per minute', (rate, perMinute, revenue, margin) => {
    const e = periodEconomics({
      totalSeconds: 100 * 60,
      billed: [{ billableSeconds: 100 * 60, rateMinorPerMinute: rate }],
      rateMinorPerMinute: rate,
      flatFeeMinor: 0,
      platformRateMinorPerMinute: '15',
    });
    expect(e).toEqual({
      flatFeeMinor: 0,
      platformRateMinorPerMinute: '15',
      usageAmountMinor: revenue,
      revenueMinor: revenue,
      platformFeeMinor: 1500,
      marginMinor: margin,
      marginMinorPerMinute: perMinute,
    });
  });

  it('counts every metered minute in the platform fee, included ones too', () => {
    const e = periodEconomics({
      totalSeconds: 600 * 60,
      billed: [
        { billableSeconds: 80 * 60, rateMinorPerMinute: '5' },
        { billableSeconds: 20 * 60, rateMinorPerMinute: '5' },
        { billableSeconds: 999, rateMinorPerMinute: null },
      ],
      rateMinorPerMinute: '5',
      flatFeeMinor: 2500,
      platformRateMinorPerMinute: '1.5',
    });
    expect(e).toMatchObject({ revenueMinor: 3000, platformFeeMinor: 900, marginMinor: 2100 });
    expect(e.marginMinorPerMinute).toBe('3.5');
  });
});

describe('invoice lines from the pools', () => {
  const terms: PlanTerms = {
    planId: 'pln_1',
    name: 'Growth',
    tier: null,
    currency: 'USD',
    flatFeeMinor: 2500,
    overageRateMinorPerMinute: '5',
    includedMinutes: 0,
    rhythm: 'month',
    intervalCount: 1,
    dueDays: 7,
    graceDays: 7,
    packsAllowed: true,
    chatMode: false,
    chatsPerMinute: null,
    taxBehavior: 'exclusive',
    taxRateBps: 0,
  };

  it('carries total minutes, rate, per-agent breakdown and period dates, and late lines', () => {
    const usage = allocatePools({
      totals: [voice('a', 6000), voice('b', 3000)],
      terms: { includedMinutes: 0, chatMode: false, chatsPerMinute: null },
      walletAvailableSeconds: 0,
    });
    usage.late = [
      allocateLate({
        period: {
          periodIndex: 0,
          startMs: 0,
          endMs: 10,
          allowanceSeconds: 0,
          includedSeconds: 0,
          rateMinorPerMinute: '4',
        },
        totals: [voice('a', 120)],
        terms: { includedMinutes: 0, chatMode: false, chatsPerMinute: null },
        walletAvailableSeconds: 0,
      }),
    ];
    const { draft } = buildCycleRequest({
      terms,
      recurringFor: { index: 2, startMs: 20, endMs: 30 },
      usageFor: { period: { index: 1, startMs: 10, endMs: 20 }, usage, rateMinorPerMinute: '5' },
      lateUsage: null,
      coupon: null,
    });
    expect(draft.lines.map((l) => [l.kind, l.amountMinor, l.periodStartMs, l.periodEndMs])).toEqual(
      [
        ['recurring', 2500, 20, 30],
        ['usage', 750, 10, 20],
        ['late_usage', 8, 0, 10],
      ],
    );
    const line = draft.lines[1]!;
    expect(line.unitAmountMinor).toBe('5');
    expect(line.quantity).toBe('150');
    expect(line.details).toMatchObject({
      totalMinutes: '150',
      perAgent: [
        { agentId: 'a', seconds: 6000, billableSeconds: 6000 },
        { agentId: 'b', seconds: 3000, billableSeconds: 3000 },
      ],
    });
    expect(draft.totalMinor).toBe(3258);
  });
});
