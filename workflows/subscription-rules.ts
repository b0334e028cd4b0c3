/**
 * State rules only the subscription workflow uses: status from open requests, deadlines that
 * have come, the next timer, request ids and the hand-over moment. They are about the
 * workflow's own clock and run (timers, replay-safe ids, continue-as-new), which no activity
 * needs; the billing rules both sides use are in billing/subscription*.ts. Kept out of the
 * workflow body so tests can hammer them without Temporal.
 */
import { retriesExhausted, retrying } from '../billing/stripe-retries';
import {
  isUnpaid,
  type OpenRequest,
  type SubscriptionState,
  type SubscriptionStatus,
} from '../billing/subscription';

/**
 * Status as the open cycle requests imply at `nowMs`. Blocked and canceled are final: a
 * blocked subscription is never unblocked in place. A request whose Stripe retries are still
 * planned never blocks (its grace period starts once every retry failed); one whose retries all
 * failed makes the subscription past due.
 */
export function deriveStatus(state: SubscriptionState, nowMs: number): SubscriptionStatus {
  if (state.status === 'canceled' || state.status === 'blocked') return state.status;
  if (state.status === 'scheduled') return 'scheduled';
  const unpaid = state.openRequests.filter(isUnpaid);
  if (unpaid.some((r) => r.graceEndsAtMs <= nowMs && !retrying(r.retry))) return 'blocked';
  if (unpaid.some((r) => r.dueAtMs <= nowMs || retriesExhausted(r.retry))) return 'past_due';
  return 'active';
}

/** Pending requests whose due date has come: they turn overdue now. */
export function newlyOverdue(state: SubscriptionState, nowMs: number): OpenRequest[] {
  return state.openRequests.filter((r) => r.status === 'pending' && r.dueAtMs <= nowMs);
}

export type TimerKind = 'period_end' | 'due' | 'grace_end' | 'payment_retry';

/** A failed request whose next Stripe retry is due at `nowMs`, or null. */
export function dueRetry(state: SubscriptionState, nowMs: number): OpenRequest | null {
  return (
    state.openRequests.find(
      (r) => r.status === 'failed' && r.retry?.nextAtMs != null && r.retry.nextAtMs <= nowMs,
    ) ?? null
  );
}

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
    const retryAtMs = r.status === 'failed' ? (r.retry?.nextAtMs ?? null) : null;
    if (retryAtMs !== null && retryAtMs < next.atMs)
      next = { kind: 'payment_retry', atMs: retryAtMs };
  }
  return next;
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
