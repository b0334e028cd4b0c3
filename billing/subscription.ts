/**
 * A subscription's state as the workflow carries it (across continue-as-new too), and the pure
 * rules both the workflow and the activities read it by: its periods, the rate in effect, a
 * request's deadlines, the access holds. No I/O, no clock.
 */
import type { AccessHold } from './access';
import { NO_USAGE, type PeriodUsage } from './invoice';
import { addDaysMs, periodAt, type Cadence, type Period } from './periods';
import type { PaymentRetry } from './stripe-retries';
import type { AppliedCoupon, PlanTerms } from './terms';

export type SubscriptionStatus = 'scheduled' | 'active' | 'past_due' | 'blocked' | 'canceled';
export type RequestStatus = 'pending' | 'paid' | 'overdue' | 'failed' | 'canceled';

/** A cycle request the workflow still watches (pending, overdue or failed). */
export interface OpenRequest {
  id: string;
  periodIndex: number;
  status: RequestStatus;
  /**
   * Null until the renewal that opens it has counted the closed period (its usage lines need
   * that count); a query meanwhile shows the request without inventing an amount. Removed if
   * nothing is issued.
   */
  totalMinor: number | null;
  dueAtMs: number;
  graceEndsAtMs: number;
  /**
   * Stripe retries of a failed auto-charge (billing/stripe-retries.ts); absent for every other
   * request, and in every state recorded before retries existed.
   */
  retry?: PaymentRetry;
}

/** Terms or rate that take effect when the next period starts. */
export interface PendingChange {
  /** The plan switched to; null keeps the current terms. */
  terms: PlanTerms | null;
  /** The per-minute rate from the next period (null: the plan's overage rate). */
  rateMinorPerMinute: string | null;
  requestedAtMs: number;
  /** The first period billed under the change, and when it starts. */
  effectiveFromPeriodIndex: number;
  effectiveAtMs: number;
}

/** The workflow's whole state: one object, carried across continue-as-new. */
export interface SubscriptionState {
  status: SubscriptionStatus;
  /** When the subscription started (or is scheduled to). */
  startAtMs: number;
  /** The start instant every period boundary is anchored to. */
  anchorMs: number;
  /** The period index that starts at anchorMs (a plan switch to another rhythm re-anchors). */
  anchorIndex: number;
  terms: PlanTerms;
  rateMinorPerMinute: string | null;
  /** When the latest rate taken (in effect or pending) was decided; unset until one is changed. */
  rateDecidedAtMs?: number;
  coupon: AppliedCoupon | null;
  periodIndex: number;
  periodStartMs: number;
  periodEndMs: number;
  openRequests: OpenRequest[];
  pendingChange: PendingChange | null;
  cancelAtPeriodEnd: boolean;
  /** Usage counters of the current period, fed by the usage seam. */
  usage: PeriodUsage;
  /** Highest usage event sequence folded into the counters (usage issue). */
  usageSeq: number;
  /** Highest sequence signaled, carried across continue-as-new so no signal is lost. */
  usageSignaledSeq?: number;
  /** Set by the usage pools when included and wallet minutes are spent and overage is not allowed. */
  minutesExhausted: boolean;
  /** Status and holds as access was last computed from (access is recomputed when they change). */
  accessKey?: string;
}

/** A new subscription starting at `startAtMs`: scheduled, in period 0, nothing billed yet. */
export function initialState(
  start: Pick<SubscriptionState, 'terms' | 'rateMinorPerMinute' | 'coupon'>,
  startAtMs: number,
): SubscriptionState {
  const s: SubscriptionState = {
    status: 'scheduled',
    startAtMs,
    anchorMs: startAtMs,
    anchorIndex: 0,
    terms: start.terms,
    rateMinorPerMinute: start.rateMinorPerMinute,
    coupon: start.coupon,
    periodIndex: 0,
    periodStartMs: 0,
    periodEndMs: 0,
    openRequests: [],
    pendingChange: null,
    cancelAtPeriodEnd: false,
    usage: NO_USAGE,
    usageSeq: 0,
    minutesExhausted: false,
  };
  const first = periodOf(s, 0);
  return { ...s, periodStartMs: first.startMs, periodEndMs: first.endMs };
}

const UNPAID: ReadonlySet<string> = new Set(['pending', 'overdue', 'failed']);

/** Whether a request still waits for its money (a failed attempt is still unpaid). */
export function isUnpaid(r: OpenRequest): boolean {
  return UNPAID.has(r.status);
}

/** The rhythm of the subscription's terms. */
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

/**
 * Holds the workflow asserts on access on top of its status. The usage pools set
 * `minutesExhausted`; this is the one place it reaches access.
 */
export function accessHolds(state: SubscriptionState): AccessHold[] {
  return state.minutesExhausted ? ['minutes_exhausted'] : [];
}
