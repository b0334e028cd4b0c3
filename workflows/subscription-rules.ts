/**
 * Pure state rules of a subscription: status from open requests, the next timer, the periods and
 * what each payment request holds. Kept out of the workflow body so tests can hammer them without
 * Temporal, and so the workflow reads as a sequence of decisions.
 */
import type { AccessHold } from '../billing/access';
import { buildCycleRequest, type PeriodUsage, type RequestDraft } from '../billing/invoice';
import { addDaysMs, periodAt, type Cadence, type Period } from '../billing/periods';
import type { AppliedCoupon, PlanTerms } from '../billing/terms';
import type { OpenRequest, SubscriptionState, SubscriptionStatus } from './definitions';

const UNPAID: ReadonlySet<string> = new Set(['pending', 'overdue', 'failed']);

export function isUnpaid(r: OpenRequest): boolean {
  return UNPAID.has(r.status);
}

/**
 * Status as the open cycle requests imply at `nowMs`. Blocked and canceled are final: a
 * blocked subscription is never unblocked in place.
 */
export function deriveStatus(state: SubscriptionState, nowMs: number): SubscriptionStatus {
  if (state.status === 'canceled' || state.status === 'blocked') return state.status;
  if (state.status === 'scheduled') return 'scheduled';
  const unpaid = state.openRequests.filter(isUnpaid);
  if (unpaid.some((r) => r.graceEndsAtMs <= nowMs)) return 'blocked';
  if (unpaid.some((r) => r.dueAtMs <= nowMs)) return 'past_due';
  return 'active';
}

/** Pending requests whose due date has come: they turn overdue now. */
export function newlyOverdue(state: SubscriptionState, nowMs: number): OpenRequest[] {
  return state.openRequests.filter((r) => r.status === 'pending' && r.dueAtMs <= nowMs);
}

export type TimerKind = 'period_end' | 'due' | 'grace_end';

/** The earliest moment something must happen by itself, after `nowMs`. */
export function nextTimer(
  state: SubscriptionState,
  nowMs: number,
): { kind: TimerKind; atMs: number } {
  let next: { kind: TimerKind; atMs: number } = { kind: 'period_end', atMs: state.periodEndMs };
  if (state.status === 'blocked' || state.status === 'canceled') return next;
  for (const r of state.openRequests.filter(isUnpaid)) {
    // A failed request is still unpaid: its due date makes the subscription past due too.
    if (r.status !== 'overdue' && r.dueAtMs > nowMs && r.dueAtMs < next.atMs)
      next = { kind: 'due', atMs: r.dueAtMs };
    if (r.graceEndsAtMs > nowMs && r.graceEndsAtMs < next.atMs)
      next = { kind: 'grace_end', atMs: r.graceEndsAtMs };
  }
  return next;
}

export const cadenceOf = (terms: PlanTerms): Cadence => ({
  rhythm: terms.rhythm,
  intervalCount: terms.intervalCount,
});

/** Period `index` of the subscription, anchored to its start (or to its last re-anchoring). */
export function periodOf(
  s: Pick<SubscriptionState, 'anchorMs' | 'anchorIndex' | 'terms'>,
  index: number,
): Period {
  const p = periodAt(s.anchorMs, cadenceOf(s.terms), index - s.anchorIndex);
  return { ...p, index };
}

/** The per-minute rate usage is billed at: the client's, else the plan's overage rate. */
export function rateInEffect(s: Pick<SubscriptionState, 'rateMinorPerMinute' | 'terms'>) {
  return s.rateMinorPerMinute ?? s.terms.overageRateMinorPerMinute;
}

/** Due date and grace end of a request issued at `issuedAtMs` under `terms`. */
export function deadlines(issuedAtMs: number, terms: PlanTerms) {
  const dueAtMs = addDaysMs(issuedAtMs, terms.dueDays);
  return { dueAtMs, graceEndsAtMs: addDaysMs(dueAtMs, terms.graceDays) };
}

export interface RequestPlan {
  draft: RequestDraft;
  /** The coupon after this request: decremented when it discounted something. */
  couponAfter: AppliedCoupon | null;
}

/** The first request: the flat fee of period 0, in advance. */
export function firstRequest(state: SubscriptionState): RequestPlan {
  return buildCycleRequest({
    terms: state.terms,
    recurringFor: periodOf(state, state.periodIndex),
    usageFor: null,
    lateUsage: null,
    coupon: state.coupon,
  });
}

export interface RenewalPlan extends RequestPlan {
  closed: Period;
  next: Period;
  /** Terms and rate in effect from `next` (the pending change applied). */
  terms: PlanTerms;
  rateMinorPerMinute: string | null;
  anchorMs: number;
  anchorIndex: number;
}

/**
 * Closes the current period and opens the next. The request holds the flat fee of the new period
 * under the terms in effect from it (a pending plan switch applies here) and the usage of the
 * closed period at the rate that was in effect during it (a rate change never reaches back).
 */
export function planRenewal(state: SubscriptionState, usage: PeriodUsage): RenewalPlan {
  const closed = periodOf(state, state.periodIndex);
  const change = state.pendingChange;
  // A plan switch keeps the subscription's tax rate: tax belongs to the subscription, not the plan.
  const terms = change?.terms
    ? { ...change.terms, taxRateBps: state.terms.taxRateBps }
    : state.terms;
  const rateMinorPerMinute = change ? change.rateMinorPerMinute : state.rateMinorPerMinute;
  const sameCadence =
    terms.rhythm === state.terms.rhythm && terms.intervalCount === state.terms.intervalCount;
  // Another rhythm starts a new anchor at the boundary, so periods stay contiguous.
  const anchor = sameCadence
    ? { anchorMs: state.anchorMs, anchorIndex: state.anchorIndex }
    : { anchorMs: closed.endMs, anchorIndex: closed.index + 1 };
  const next = periodOf({ ...anchor, terms }, closed.index + 1);
  const { draft, couponAfter } = buildCycleRequest({
    terms,
    recurringFor: next,
    usageFor: { period: closed, usage, rateMinorPerMinute: rateInEffect(state) },
    lateUsage: null,
    coupon: state.coupon,
  });
  return { closed, next, terms, rateMinorPerMinute, ...anchor, draft, couponAfter };
}

/** The last request when a subscription ends at `endMs`: usage of the period so far, no fee. */
export function finalRequest(
  state: SubscriptionState,
  usage: PeriodUsage,
  endMs: number,
): RequestPlan & { period: Period } {
  const period = { ...periodOf(state, state.periodIndex), endMs };
  const plan = buildCycleRequest({
    terms: state.terms,
    recurringFor: null,
    usageFor: { period, usage, rateMinorPerMinute: rateInEffect(state) },
    lateUsage: null,
    coupon: state.coupon,
  });
  return { ...plan, period };
}

/** Whether a request is issued: billed modes only, and never for nothing. */
export function shouldIssue(billed: boolean, draft: RequestDraft): boolean {
  return billed && draft.totalMinor > 0;
}

/**
 * Holds the workflow asserts on access on top of its status. The usage pools set
 * `minutesExhausted`; this is the one place it reaches access.
 */
export function accessHolds(state: SubscriptionState): AccessHold[] {
  return state.minutesExhausted ? ['minutes_exhausted'] : [];
}

/**
 * A payment request id made in the workflow, in the shape of lib/ids (`req_` + a UUIDv7 without
 * dashes, so lists ordered by id stay time-ordered): the time is workflow time, the random bits
 * come from the workflow's replay-safe uuid4().
 */
export function newRequestId(randomUuid: string, nowMs: number): string {
  const hex = randomUuid.replaceAll('-', '');
  const time = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12);
  return `req_${time}7${hex.slice(13, 16)}${hex.slice(16, 32)}`;
}

export const DEFAULT_HANDOVER_SPREAD_MS = 3_600_000;

/**
 * How long after a renewal the run continues as new: a stable point in [0, spread) per
 * subscription (FNV-1a of its id), with the spread at most a tenth of the period, so runs that
 * renewed together hand over at different moments and never near the next period end.
 */
export function handoverDelayMs(
  subscriptionId: string,
  periodMs: number,
  spreadMs = DEFAULT_HANDOVER_SPREAD_MS,
): number {
  const spread = Math.min(spreadMs, Math.floor(periodMs / 10));
  if (spread <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < subscriptionId.length; i++) {
    h ^= subscriptionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % spread;
}
