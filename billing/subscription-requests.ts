/**
 * What each cycle payment request of a subscription holds: the first (flat fee in advance), each
 * renewal's (the new period's fee, the closed period's usage at its own rate) and the final one
 * (usage so far, no fee). Pure: the workflow and the renewal activity build them the same way.
 */
import { buildCycleRequest, type PeriodUsage, type RequestDraft } from './invoice';
import type { Period } from './periods';
import { periodOf, rateInEffect, type SubscriptionState } from './subscription';
import type { AppliedCoupon, PlanTerms } from './terms';

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

/**
 * A renewal as the workflow decides it at the period end, once: the period closed and the one
 * opened, the terms and rate from the new period, the anchor, and what the request is built
 * under. Everything but the closed period's usage, which the renewal activity counts.
 */
export interface RenewalShape {
  closed: Period;
  next: Period;
  /** Terms and rate in effect from `next` (the pending change applied). */
  terms: PlanTerms;
  rateMinorPerMinute: string | null;
  anchorMs: number;
  anchorIndex: number;
  /** Terms of the closed period: its usage is counted under them (included minutes, chats). */
  closedTerms: PlanTerms;
  /** The rate in effect during the closed period: its usage is billed at it. */
  usageRateMinorPerMinute: string | null;
  /** The coupon the request may use. */
  coupon: AppliedCoupon | null;
}

/**
 * Closes the current period and opens the next. The new period runs under the terms in effect
 * from it (a pending plan switch applies here); the closed period's usage is billed at the rate
 * that was in effect during it (a rate change never reaches back).
 */
export function planRenewal(state: SubscriptionState): RenewalShape {
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
  return {
    closed,
    next,
    terms,
    rateMinorPerMinute,
    ...anchor,
    closedTerms: state.terms,
    usageRateMinorPerMinute: rateInEffect(state),
    coupon: state.coupon,
  };
}

/**
 * The renewal's request: the flat fee of the new period under its terms, and the closed
 * period's usage at the rate of that period.
 */
export function renewalRequest(renewal: RenewalShape, usage: PeriodUsage): RequestPlan {
  return buildCycleRequest({
    terms: renewal.terms,
    recurringFor: renewal.next,
    usageFor: {
      period: renewal.closed,
      usage,
      rateMinorPerMinute: renewal.usageRateMinorPerMinute,
    },
    lateUsage: null,
    coupon: renewal.coupon,
  });
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
