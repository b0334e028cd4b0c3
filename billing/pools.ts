/**
 * Usage pools. A period's metered seconds are spent Included, then Wallet, then Billable. Every
 * function here works on a period's totals (sums of deduplicated events), never on the order the
 * events came in, so the same events in any order and any batching give the same pools, lines and
 * invoice. Integers only: seconds, chats, minor units; rates are exact decimal strings.
 *
 * Allocation rule (the only one): where an integer total is split over agents (chat seconds,
 * billable seconds), each agent gets its exact share rounded down, and the seconds left over go
 * one each to the largest remainders, ties to the agent listed first (agents sorted by id, the
 * agent-less bucket first). The parts always add up to the total.
 */
import type { AgentUsage, LateUsage, PeriodUsage } from './invoice';
import {
  RATE_SCALE,
  billedUsageMinor,
  divideHalfUp,
  exactSeconds,
  rateToMicros,
  usageAmountMinor,
  type ExactSeconds,
} from './money';

export const USAGE_METRICS = [
  'voice_seconds',
  'chat_interactions',
  'conversations',
  'value_count',
] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

/** What a period's events add up to for one agent (null: events without an agent). */
export interface AgentTotals {
  agentId: string | null;
  voiceSeconds: number;
  chatInteractions: number;
}

/** The part of the plan terms the pools read. */
export interface PoolTerms {
  includedMinutes: number;
  chatMode: boolean;
  chatsPerMinute: string | null;
}

/** Included seconds a period allows: included minutes times 60; nothing carries over. */
export function allowanceSeconds(terms: Pick<PoolTerms, 'includedMinutes'>): number {
  return terms.includedMinutes * 60;
}

/** Whether chat interactions draw on the minute pools (chat mode with a conversion rate). */
export function chatsMetered(terms: PoolTerms): boolean {
  return terms.chatMode && terms.chatsPerMinute !== null && rateToMicros(terms.chatsPerMinute) > 0n;
}

/** Pool seconds that `chats` interactions use: chats / chatsPerMinute minutes, rounded half up. */
export function chatsToSeconds(chats: number, chatsPerMinute: string): number {
  return Number(divideHalfUp(BigInt(chats) * 60n * RATE_SCALE, rateToMicros(chatsPerMinute)));
}

/** Whole chats that `seconds` of pool are worth (rounded down: a part of a chat is no chat). */
export function secondsToChats(seconds: number, chatsPerMinute: string): number {
  return Number((BigInt(seconds) * rateToMicros(chatsPerMinute)) / (60n * RATE_SCALE));
}

/** Seconds as minutes for people: exact when whole, else to 4 places ("90" -> "1.5"). */
export function formatMinutes(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  if (abs % 60 === 0) return `${sign}${abs / 60}`;
  const tenThousandths = divideHalfUp(BigInt(abs) * 10_000n, 60n);
  const whole = tenThousandths / 10_000n;
  const fraction = (tenThousandths % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Splits `total` over `weights` by the allocation rule; parts sum to `total`. */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
  if (sum === 0n || total === 0) return weights.map(() => 0);
  const t = BigInt(total);
  const parts = weights.map((w) => (t * BigInt(w)) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (t * BigInt(w)) % sum }));
  let left = t - parts.reduce((a, p) => a + p, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    parts[i] = parts[i]! + 1n;
    left--;
  }
  return parts.map(Number);
}

const agentOrder = (a: string | null, b: string | null) =>
  a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;

/** Merges totals by agent and sorts them (the agent-less bucket first, then by id). */
export function mergeTotals(rows: readonly AgentTotals[]): AgentTotals[] {
  const byAgent = new Map<string | null, AgentTotals>();
  for (const r of rows) {
    const t = byAgent.get(r.agentId) ?? {
      agentId: r.agentId,
      voiceSeconds: 0,
      chatInteractions: 0,
    };
    t.voiceSeconds += r.voiceSeconds;
    t.chatInteractions += r.chatInteractions;
    byAgent.set(r.agentId, t);
  }
  return [...byAgent.values()].sort((a, b) => agentOrder(a.agentId, b.agentId));
}

/**
 * Metered seconds per agent: voice seconds, plus chat interactions converted in chat mode. The
 * period's chats are converted once (so rounding does not depend on how agents split them) and
 * the converted seconds allocated back to agents.
 */
export function meteredSeconds(
  totals: readonly AgentTotals[],
  terms: PoolTerms,
): { agentId: string | null; seconds: number; chatInteractions: number }[] {
  const merged = mergeTotals(totals);
  const chats = merged.map((t) => t.chatInteractions);
  const chatSeconds = chatsMetered(terms)
    ? allocate(
        chatsToSeconds(
          chats.reduce((a, c) => a + c, 0),
          terms.chatsPerMinute!,
        ),
        chats,
      )
    : merged.map(() => 0);
  return merged.map((t, i) => ({
    agentId: t.agentId,
    seconds: t.voiceSeconds + chatSeconds[i]!,
    chatInteractions: t.chatInteractions,
  }));
}

/**
 * The billable seconds exactly, in chat mode with chats counted: the period's voice seconds plus
 * chats x 60 / chatsPerMinute, less the included seconds left and the wallet available, never
 * below zero. The whole-second pools round the converted chat total (half up) for the minute
 * counters and the wallet; the usage line is billed from this value instead, so its amount is
 * rounded once. Rounding T - k (k whole) half up gives the whole billable seconds, so the two
 * agree to the second.
 */
function exactBillable(
  voiceSeconds: number,
  chats: number,
  chatsPerMinute: string,
  coveredSeconds: number,
): ExactSeconds {
  const den = rateToMicros(chatsPerMinute);
  const num =
    (BigInt(voiceSeconds) - BigInt(coveredSeconds)) * den + BigInt(chats) * 60n * RATE_SCALE;
  return num > 0n ? exactSeconds(num, den) : { numerator: '0', denominator: '1' };
}

export interface PoolInput {
  totals: readonly AgentTotals[];
  terms: PoolTerms;
  /** Wallet seconds the period may draw on (the client's balance, never negative). */
  walletAvailableSeconds: number;
  /** Included seconds already used (late usage of a closed period); default 0. */
  includedUsedSeconds?: number;
}

/** Spends a period's metered seconds: Included, then Wallet, then Billable. */
export function allocatePools(input: PoolInput): PeriodUsage {
  const agents = meteredSeconds(input.totals, input.terms);
  const totalSeconds = agents.reduce((a, x) => a + x.seconds, 0);
  const allowance = allowanceSeconds(input.terms);
  const includedLeft = Math.max(0, allowance - (input.includedUsedSeconds ?? 0));
  const includedSeconds = Math.min(totalSeconds, includedLeft);
  const walletSeconds = Math.min(
    totalSeconds - includedSeconds,
    Math.max(0, input.walletAvailableSeconds),
  );
  const billableSeconds = totalSeconds - includedSeconds - walletSeconds;
  const billable = allocate(
    billableSeconds,
    agents.map((a) => a.seconds),
  );
  const perAgent: AgentUsage[] = agents
    .map((a, i) => ({ agentId: a.agentId, seconds: a.seconds, billableSeconds: billable[i]! }))
    .filter((a) => a.seconds > 0);
  const chatInteractions = agents.reduce((a, x) => a + x.chatInteractions, 0);
  const usage: PeriodUsage = {
    totalSeconds,
    includedSeconds,
    walletSeconds,
    billableSeconds,
    perAgent,
    allowanceSeconds: allowance,
    chatInteractions,
  };
  if (chatsMetered(input.terms) && chatInteractions > 0) {
    const voice = mergeTotals(input.totals).reduce((a, t) => a + t.voiceSeconds, 0);
    usage.billableExact = exactBillable(
      voice,
      chatInteractions,
      input.terms.chatsPerMinute!,
      includedLeft + Math.max(0, input.walletAvailableSeconds),
    );
  }
  return usage;
}

/**
 * Whether campaigns must pause: no per-minute rate is in effect (the plan allows no overage and
 * the client has no rate), the plan sets a limit (included minutes), and the period has used
 * every included and wallet second. A plan with neither included minutes nor overage meters
 * nothing, so it never exhausts.
 */
export function minutesExhausted(input: {
  rateMinorPerMinute: string | null;
  includedMinutes: number;
  usedSeconds: number;
  walletBalanceSeconds: number;
}): boolean {
  if (input.rateMinorPerMinute !== null || input.includedMinutes <= 0) return false;
  return input.usedSeconds >= input.includedMinutes * 60 + Math.max(0, input.walletBalanceSeconds);
}

/**
 * The current period as its totals stand: pools (with the wallet balance as the wallet pool) and
 * whether campaigns must pause. What the workflow folds, from a signal's totals or a read.
 */
export function liveUsage(input: {
  totals: readonly AgentTotals[];
  terms: PoolTerms;
  rateMinorPerMinute: string | null;
  walletBalanceSeconds: number;
}): { usage: PeriodUsage; minutesExhausted: boolean } {
  const usage = allocatePools({
    totals: input.totals,
    terms: input.terms,
    walletAvailableSeconds: input.walletBalanceSeconds,
  });
  return {
    usage,
    minutesExhausted: minutesExhausted({
      rateMinorPerMinute: input.rateMinorPerMinute,
      includedMinutes: input.terms.includedMinutes,
      usedSeconds: usage.totalSeconds,
      walletBalanceSeconds: input.walletBalanceSeconds,
    }),
  };
}

/** Whether a period's usage reached 90% of its included minutes (the warning threshold). */
export function reachedWarning(usedSeconds: number, allowance: number): boolean {
  return allowance > 0 && usedSeconds * 10 >= allowance * 9;
}

/** What a closed period's close remembered, so late usage can spend what it left. */
export interface ClosedPeriodPools {
  periodIndex: number;
  startMs: number;
  endMs: number;
  allowanceSeconds: number;
  includedSeconds: number;
  rateMinorPerMinute: string | null;
}

/**
 * Late usage of one closed period: it spends the included seconds the period left unused, then
 * the wallet as it is now, then is billable at the rate of its own period.
 */
export function allocateLate(input: {
  period: ClosedPeriodPools;
  totals: readonly AgentTotals[];
  terms: PoolTerms;
  walletAvailableSeconds: number;
}): LateUsage {
  const pools = allocatePools({
    totals: input.totals,
    terms: { ...input.terms, includedMinutes: input.period.allowanceSeconds / 60 },
    walletAvailableSeconds: input.walletAvailableSeconds,
    includedUsedSeconds: input.period.includedSeconds,
  });
  return {
    periodIndex: input.period.periodIndex,
    fromMs: input.period.startMs,
    toMs: input.period.endMs,
    totalSeconds: pools.totalSeconds,
    includedSeconds: pools.includedSeconds,
    walletSeconds: pools.walletSeconds,
    billableSeconds: pools.billableSeconds,
    ...(pools.billableExact ? { billableExact: pools.billableExact } : {}),
    perAgent: pools.perAgent,
    rateMinorPerMinute: input.period.rateMinorPerMinute,
  };
}

/**
 * What a period earns the agency: its list revenue (flat fee plus each billed usage line at its
 * rate, each line rounded once, half up), the platform fee (every metered minute at the platform
 * rate, rounded once) and the margin between them. Discounts and tax are not revenue.
 */
export function periodEconomics(input: {
  totalSeconds: number;
  /** The usage lines billed for the period: on time, and late arrivals at their period's rate. */
  billed: {
    billableSeconds: number;
    billableExact?: ExactSeconds | undefined;
    rateMinorPerMinute: string | null;
  }[];
  flatFeeMinor: number;
  /** The client's rate, for the margin per minute (null where no per-minute rate applies). */
  rateMinorPerMinute: string | null;
  platformRateMinorPerMinute: string;
}) {
  const usageAmount = input.billed.reduce(
    (sum, b) =>
      sum + (b.rateMinorPerMinute === null ? 0 : billedUsageMinor(b, b.rateMinorPerMinute)),
    0,
  );
  const revenueMinor = input.flatFeeMinor + usageAmount;
  const platformFeeMinor = usageAmountMinor(input.totalSeconds, input.platformRateMinorPerMinute);
  return {
    flatFeeMinor: input.flatFeeMinor,
    usageAmountMinor: usageAmount,
    revenueMinor,
    platformRateMinorPerMinute: input.platformRateMinorPerMinute,
    platformFeeMinor,
    marginMinor: revenueMinor - platformFeeMinor,
    marginMinorPerMinute:
      input.rateMinorPerMinute === null
        ? null
        : microsDiff(input.rateMinorPerMinute, input.platformRateMinorPerMinute),
  };
}

/** a - b for decimal rate strings, exactly (may be negative). */
function microsDiff(a: string, b: string): string {
  const d = rateToMicros(a) - rateToMicros(b);
  const abs = d < 0n ? -d : d;
  const whole = abs / RATE_SCALE;
  const fraction = (abs % RATE_SCALE).toString().padStart(6, '0').replace(/0+$/, '');
  return `${d < 0n ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
