/**
 * Pure state rules of a subscription: status from open requests, and the next timer. Kept out
 * of the workflow body so tests can hammer them without Temporal.
 */
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

export type TimerKind = 'period_end' | 'due' | 'grace_end';

/** The earliest moment something must happen by itself, after `nowMs`. */
export function nextTimer(
  state: SubscriptionState,
  nowMs: number,
): { kind: TimerKind; atMs: number } {
  let next: { kind: TimerKind; atMs: number } = { kind: 'period_end', atMs: state.periodEndMs };
  if (state.status === 'blocked' || state.status === 'canceled') return next;
  for (const r of state.openRequests.filter(isUnpaid)) {
    if (r.status === 'pending' && r.dueAtMs > nowMs && r.dueAtMs < next.atMs)
      next = { kind: 'due', atMs: r.dueAtMs };
    if (r.graceEndsAtMs > nowMs && r.graceEndsAtMs < next.atMs)
      next = { kind: 'grace_end', atMs: r.graceEndsAtMs };
  }
  return next;
}
