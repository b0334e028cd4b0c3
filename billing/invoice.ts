/**
 * Cycle payment request lines. A renewal request holds the recurring fee for the new period
 * (in advance) and the billable usage of the period just closed (in arrears), then discount and
 * tax lines. Every line is rounded once; the total is the sum of the lines.
 */
import { billedUsageMinor, percentOfMinor, usageAmountMinor, type ExactSeconds } from './money';
import type { Period } from './periods';
import type { AppliedCoupon, PlanTerms } from './terms';

export type LineKind =
  'recurring' | 'usage' | 'late_usage' | 'discount' | 'tax' | 'pack' | 'one_time';

export interface LineDraft {
  kind: LineKind;
  description: string;
  quantity: string | null;
  unitAmountMinor: string | null;
  amountMinor: number;
  periodStartMs: number | null;
  periodEndMs: number | null;
  details: Record<string, unknown> | null;
}

export interface RequestDraft {
  currency: string;
  lines: LineDraft[];
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  totalMinor: number;
}

/** One agent's share of a period's usage (agentId null: events sent without an agent). */
export interface AgentUsage {
  agentId: string | null;
  seconds: number;
  billableSeconds: number;
}

/** Usage of an earlier, already closed period that arrived after its close (billed late). */
export interface LateUsage {
  periodIndex: number;
  fromMs: number;
  toMs: number;
  totalSeconds: number;
  includedSeconds: number;
  walletSeconds: number;
  billableSeconds: number;
  /** Billable seconds exactly (chat mode), billed instead of the whole seconds. */
  billableExact?: ExactSeconds;
  perAgent: AgentUsage[];
  /** The rate of its own period; null when that period allowed no overage. */
  rateMinorPerMinute: string | null;
}

/** Usage of a period as the invoice needs it; filled by the usage pools (billing/pools.ts). */
export interface PeriodUsage {
  totalSeconds: number;
  includedSeconds: number;
  walletSeconds: number;
  billableSeconds: number;
  /**
   * Billable seconds exactly where chats were converted (chat mode): the usage line is billed
   * from it, rounded once. Absent: billableSeconds is exact.
   */
  billableExact?: ExactSeconds;
  perAgent: AgentUsage[];
  /** Included seconds the period allowed (included minutes x 60). */
  allowanceSeconds?: number;
  /** Chat interactions counted (converted into seconds above in chat mode). */
  chatInteractions?: number;
  /** Late usage of earlier periods found at this close, billed on the same request. */
  late?: LateUsage[];
}

export const NO_USAGE: PeriodUsage = {
  totalSeconds: 0,
  includedSeconds: 0,
  walletSeconds: 0,
  billableSeconds: 0,
  perAgent: [],
};

export interface CycleRequestInput {
  terms: PlanTerms;
  /** The period the flat fee pays for (in advance); absent on a final request. */
  recurringFor: Period | null;
  /** The closed period whose billable usage is charged (in arrears). */
  usageFor: { period: Period; usage: PeriodUsage; rateMinorPerMinute: string | null } | null;
  /** Usage that arrived after its period's request was issued. */
  lateUsage: { seconds: number; rateMinorPerMinute: string; fromMs: number; toMs: number } | null;
  coupon: AppliedCoupon | null;
}

export interface CycleRequestResult {
  draft: RequestDraft;
  /** The coupon after this request (remaining decremented, or null once used up). */
  couponAfter: AppliedCoupon | null;
}

/** Whether a usage quantity bills anything (exact seconds where there are some). */
function hasBillable(q: { billableSeconds: number; billableExact?: ExactSeconds }): boolean {
  return q.billableExact ? BigInt(q.billableExact.numerator) > 0n : q.billableSeconds > 0;
}

/** Billable minutes of a quantity for the line: exact to 4 places where chats were converted. */
function billableMinutes(q: { billableSeconds: number; billableExact?: ExactSeconds }): string {
  if (!q.billableExact) return minutesString(q.billableSeconds);
  const n = BigInt(q.billableExact.numerator) * 10_000n;
  const d = BigInt(q.billableExact.denominator) * 60n;
  const t = (n * 2n + d) / (d * 2n); // ten-thousandths of a minute, half up
  const fraction = (t % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${t / 10_000n}${fraction ? `.${fraction}` : ''}`;
}

function minutesString(seconds: number): string {
  const whole = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (rest === 0) return `${whole}`;
  // seconds/60 exactly to 6 places is not always finite; show 4 places of the exact value
  return (seconds / 60).toFixed(4).replace(/0+$/, '');
}

/** Builds the lines of one cycle request. Pure: same input, same lines. */
export function buildCycleRequest(input: CycleRequestInput): CycleRequestResult {
  const { terms } = input;
  const lines: LineDraft[] = [];
  if (input.recurringFor && terms.flatFeeMinor > 0) {
    lines.push({
      kind: 'recurring',
      description: `${terms.name} ${terms.tier ? `(${terms.tier}) ` : ''}flat fee`,
      quantity: '1',
      unitAmountMinor: String(terms.flatFeeMinor),
      amountMinor: terms.flatFeeMinor,
      periodStartMs: input.recurringFor.startMs,
      periodEndMs: input.recurringFor.endMs,
      details: null,
    });
  }
  const usage = input.usageFor;
  if (usage && usage.rateMinorPerMinute !== null && hasBillable(usage.usage)) {
    const amount = billedUsageMinor(usage.usage, usage.rateMinorPerMinute);
    lines.push({
      kind: 'usage',
      description: `Usage: ${billableMinutes(usage.usage)} billable minutes`,
      quantity: billableMinutes(usage.usage),
      unitAmountMinor: usage.rateMinorPerMinute,
      amountMinor: amount,
      periodStartMs: usage.period.startMs,
      periodEndMs: usage.period.endMs,
      details: {
        totalMinutes: minutesString(usage.usage.totalSeconds),
        totalSeconds: usage.usage.totalSeconds,
        includedSeconds: usage.usage.includedSeconds,
        walletSeconds: usage.usage.walletSeconds,
        billableSeconds: usage.usage.billableSeconds,
        ...(usage.usage.billableExact ? { billableExact: usage.usage.billableExact } : {}),
        allowanceSeconds: usage.usage.allowanceSeconds ?? null,
        perAgent: usage.usage.perAgent,
      },
    });
  }
  for (const l of usage?.usage.late ?? []) {
    if (l.rateMinorPerMinute === null || !hasBillable(l)) continue;
    lines.push({
      kind: 'late_usage',
      description: `Late usage: ${billableMinutes(l)} billable minutes of an earlier period`,
      quantity: billableMinutes(l),
      unitAmountMinor: l.rateMinorPerMinute,
      amountMinor: billedUsageMinor(l, l.rateMinorPerMinute),
      periodStartMs: l.fromMs,
      periodEndMs: l.toMs,
      details: {
        periodIndex: l.periodIndex,
        totalMinutes: minutesString(l.totalSeconds),
        totalSeconds: l.totalSeconds,
        includedSeconds: l.includedSeconds,
        walletSeconds: l.walletSeconds,
        billableSeconds: l.billableSeconds,
        ...(l.billableExact ? { billableExact: l.billableExact } : {}),
        perAgent: l.perAgent,
      },
    });
  }
  const late = input.lateUsage;
  if (late && late.seconds > 0) {
    lines.push({
      kind: 'late_usage',
      description: `Late usage: ${minutesString(late.seconds)} billable minutes from earlier periods`,
      quantity: minutesString(late.seconds),
      unitAmountMinor: late.rateMinorPerMinute,
      amountMinor: usageAmountMinor(late.seconds, late.rateMinorPerMinute),
      periodStartMs: late.fromMs,
      periodEndMs: late.toMs,
      details: { billableSeconds: late.seconds },
    });
  }
  const subtotalMinor = lines.reduce((sum, l) => sum + l.amountMinor, 0);

  let discountMinor = 0;
  let couponAfter = input.coupon;
  const coupon = input.coupon;
  if (coupon && subtotalMinor > 0 && (coupon.remaining === null || coupon.remaining > 0)) {
    const raw =
      coupon.kind === 'percent'
        ? percentOfMinor(subtotalMinor, coupon.percentOff ?? '0')
        : (coupon.amountOffMinor ?? 0);
    discountMinor = Math.min(raw, subtotalMinor);
    if (discountMinor > 0) {
      lines.push({
        kind: 'discount',
        description: `Coupon ${coupon.name}`,
        quantity: null,
        unitAmountMinor: null,
        amountMinor: -discountMinor,
        periodStartMs: null,
        periodEndMs: null,
        details: { couponId: coupon.couponId },
      });
    }
    const remaining = coupon.remaining === null ? null : coupon.remaining - 1;
    couponAfter = remaining === 0 ? null : { ...coupon, remaining };
  }

  const taxable = subtotalMinor - discountMinor;
  let taxMinor = 0;
  if (terms.taxRateBps > 0 && taxable > 0) {
    if (terms.taxBehavior === 'exclusive') {
      taxMinor = percentOfMinor(taxable, String(terms.taxRateBps / 100));
      lines.push({
        kind: 'tax',
        description: `Tax ${terms.taxRateBps / 100}%`,
        quantity: null,
        unitAmountMinor: null,
        amountMinor: taxMinor,
        periodStartMs: null,
        periodEndMs: null,
        details: { rateBps: terms.taxRateBps, behavior: 'exclusive' },
      });
    }
  }
  const totalMinor = lines.reduce((sum, l) => sum + l.amountMinor, 0);
  return {
    draft: { currency: terms.currency, lines, subtotalMinor, discountMinor, taxMinor, totalMinor },
    couponAfter,
  };
}
