/**
 * Usage reports: one period's usage as the client portal and the agency see it (used, remaining,
 * wallet, billable, per agent, chat equivalents) with its platform fee and the agency's margin.
 * The current period is recounted from Postgres; a closed one is what its close billed, plus the
 * late usage that arrived after it (billed with a later request).
 */
import type { AgentUsage, LateUsage, PeriodUsage } from '../billing/invoice';
import { billedUsageMinor } from '../billing/money';
import { periodAt } from '../billing/periods';
import {
  allocatePools,
  formatMinutes,
  minutesExhausted,
  periodEconomics,
  reachedWarning,
  secondsToChats,
} from '../billing/pools';
import type { PlanTerms } from '../billing/terms';
import type { AnySql } from '../db/client';
import type { SubscriptionRow } from '../db/queries/subscriptions';
import { periodMetricCounts, periodTotals, type CloseRow } from '../db/queries/usage-periods';

interface Counts {
  chatInteractions: number;
  conversations: number;
  valueCounts: Record<string, number>;
}

const noCounts = (): Counts => ({ chatInteractions: 0, conversations: 0, valueCounts: {} });

/** Chat interactions, conversations and value counts by agent ('' for no agent) and in total. */
async function countsOf(sql: AnySql, subscriptionId: string, startMs: number, endMs: number) {
  const rows = await periodMetricCounts(sql, subscriptionId, startMs, endMs);
  const total = noCounts();
  const byAgent = new Map<string, Counts>();
  for (const r of rows) {
    const key = r.agentId ?? '';
    const agent = byAgent.get(key) ?? noCounts();
    byAgent.set(key, agent);
    for (const c of [total, agent]) {
      if (r.metric === 'chat_interactions') c.chatInteractions += r.quantity;
      else if (r.metric === 'conversations') c.conversations += r.quantity;
      else if (r.metric === 'value_count' && r.valueProperty)
        c.valueCounts[r.valueProperty] = (c.valueCounts[r.valueProperty] ?? 0) + r.quantity;
    }
  }
  return { total, byAgent };
}

interface ReportInput {
  subscriptionId: string;
  periodIndex: number;
  startMs: number;
  endMs: number;
  closed: boolean;
  terms: Pick<
    PlanTerms,
    'includedMinutes' | 'chatMode' | 'chatsPerMinute' | 'flatFeeMinor' | 'currency'
  >;
  rateMinorPerMinute: string | null;
  usage: PeriodUsage;
  late: LateUsage[];
  walletBalanceSeconds: number;
  minutesExhausted: boolean | null;
  agentNames: Map<string, string>;
  platformRateMinorPerMinute: string;
}

function mergeAgents(lists: AgentUsage[][]): AgentUsage[] {
  const by = new Map<string | null, AgentUsage>();
  for (const a of lists.flat()) {
    const m = by.get(a.agentId) ?? { agentId: a.agentId, seconds: 0, billableSeconds: 0 };
    m.seconds += a.seconds;
    m.billableSeconds += a.billableSeconds;
    by.set(a.agentId, m);
  }
  return [...by.values()];
}

async function buildReport(sql: AnySql, r: ReportInput) {
  const { usage, late, terms } = r;
  const sum = (f: (u: PeriodUsage | LateUsage) => number) =>
    f(usage) + late.reduce((a, l) => a + f(l), 0);
  const used = sum((u) => u.totalSeconds);
  const included = sum((u) => u.includedSeconds);
  const wallet = sum((u) => u.walletSeconds);
  const billable = sum((u) => u.billableSeconds);
  const allowance = terms.includedMinutes * 60;
  const billed = [
    {
      billableSeconds: usage.billableSeconds,
      billableExact: usage.billableExact,
      rateMinorPerMinute: r.rateMinorPerMinute,
    },
    ...late.map((l) => ({
      billableSeconds: l.billableSeconds,
      billableExact: l.billableExact,
      rateMinorPerMinute: l.rateMinorPerMinute,
    })),
  ];
  const counts = await countsOf(sql, r.subscriptionId, r.startMs, r.endMs);
  const cpm = terms.chatMode ? terms.chatsPerMinute : null;
  const chats = (s: number) => (cpm === null ? 0 : secondsToChats(s, cpm));
  const lateSeconds = late.reduce((a, l) => a + l.totalSeconds, 0);
  return {
    id: `${r.subscriptionId}:${r.periodIndex}`,
    subscriptionId: r.subscriptionId,
    periodIndex: r.periodIndex,
    start: new Date(r.startMs).toISOString(),
    end: new Date(r.endMs).toISOString(),
    closed: r.closed,
    currency: terms.currency,
    includedMinutes: terms.includedMinutes,
    rateMinorPerMinute: r.rateMinorPerMinute,
    usedSeconds: used,
    usedMinutes: formatMinutes(used),
    includedSeconds: included,
    includedRemainingSeconds: Math.max(0, allowance - included),
    includedRemainingMinutes: formatMinutes(Math.max(0, allowance - included)),
    includedPercentUsed: allowance === 0 ? 0 : Math.floor((included * 100) / allowance),
    warning: reachedWarning(used, allowance),
    walletSeconds: wallet,
    walletBalanceSeconds: r.walletBalanceSeconds,
    billableSeconds: billable,
    billableMinutes: formatMinutes(billable),
    billableAmountMinor: billed.reduce(
      (a, b) => a + (b.rateMinorPerMinute === null ? 0 : billedUsageMinor(b, b.rateMinorPerMinute)),
      0,
    ),
    lateSeconds,
    minutesExhausted: r.minutesExhausted,
    ...counts.total,
    chatEquivalents:
      cpm === null
        ? null
        : {
            chatsPerMinute: cpm,
            used: chats(used),
            included: chats(allowance),
            includedRemaining: chats(Math.max(0, allowance - included)),
            walletBalance: chats(r.walletBalanceSeconds),
            billable: chats(billable),
          },
    perAgent: mergeAgents([usage.perAgent, ...late.map((l) => l.perAgent)]).map((a) => ({
      agentId: a.agentId,
      agentName: a.agentId === null ? null : (r.agentNames.get(a.agentId) ?? null),
      seconds: a.seconds,
      minutes: formatMinutes(a.seconds),
      billableSeconds: a.billableSeconds,
      ...(counts.byAgent.get(a.agentId ?? '') ?? noCounts()),
    })),
    economics: periodEconomics({
      totalSeconds: used,
      billed,
      flatFeeMinor: terms.flatFeeMinor,
      rateMinorPerMinute: r.rateMinorPerMinute,
      platformRateMinorPerMinute: r.platformRateMinorPerMinute,
    }),
  };
}

export type PeriodReport = Awaited<ReturnType<typeof buildReport>>;

/** The live subscription's current period, recounted now (provisional until it closes). */
export async function currentPeriodReport(
  sql: AnySql,
  sub: SubscriptionRow,
  walletBalanceSeconds: number,
  agentNames: Map<string, string>,
  platformRateMinorPerMinute: string,
): Promise<PeriodReport | null> {
  if (sub.status === 'scheduled') return null;
  const terms = sub.terms;
  // Before the workflow mirrored its first period, that period is the one anchored at the start.
  const first = periodAt(sub.startAt.getTime(), terms, 0);
  const startMs = sub.currentPeriodStart?.getTime() ?? first.startMs;
  const endMs = sub.currentPeriodEnd?.getTime() ?? first.endMs;
  const rate = terms.rateMinorPerMinute ?? terms.overageRateMinorPerMinute;
  const totals = await periodTotals(sql, sub.id, startMs, endMs);
  const usage = allocatePools({ totals, terms, walletAvailableSeconds: walletBalanceSeconds });
  return buildReport(sql, {
    subscriptionId: sub.id,
    periodIndex: sub.currentPeriodIndex,
    startMs,
    endMs,
    closed: false,
    terms,
    rateMinorPerMinute: rate,
    usage,
    late: [],
    walletBalanceSeconds,
    minutesExhausted: minutesExhausted({
      rateMinorPerMinute: rate,
      includedMinutes: terms.includedMinutes,
      usedSeconds: usage.totalSeconds,
      walletBalanceSeconds,
    }),
    agentNames,
    platformRateMinorPerMinute,
  });
}

/** A closed period: what its close billed, plus late usage that arrived after it. */
export function closedPeriodReport(
  sql: AnySql,
  close: CloseRow,
  walletBalanceSeconds: number,
  agentNames: Map<string, string>,
  platformRateMinorPerMinute: string,
): Promise<PeriodReport> {
  const s = close.snapshot;
  return buildReport(sql, {
    subscriptionId: close.subscriptionId,
    periodIndex: close.periodIndex,
    startMs: close.startAt.getTime(),
    endMs: close.endAt.getTime(),
    closed: true,
    terms: s,
    rateMinorPerMinute: s.rateMinorPerMinute,
    usage: s.usage,
    late: s.late,
    walletBalanceSeconds,
    minutesExhausted: null,
    agentNames,
    platformRateMinorPerMinute,
  });
}
