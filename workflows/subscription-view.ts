/** What a query (and an update's answer) shows of a subscription workflow's state. */
import { accessHolds, rateInEffect, type SubscriptionState } from '../billing/subscription';
import type { SubscriptionInput, SubscriptionView } from './definitions';
import { nextTimer } from './subscription-rules';

/** An instant as the API and events show it. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The state as the API shows it, with the next thing due at `nowMs`. */
export function toView(
  input: SubscriptionInput,
  s: SubscriptionState,
  nowMs: number,
): SubscriptionView {
  const timer =
    s.status === 'canceled'
      ? null
      : s.status === 'scheduled'
        ? { kind: 'start' as const, at: iso(s.anchorMs) }
        : (({ kind, atMs }) => ({ kind, at: iso(atMs) }))(nextTimer(s, nowMs));
  const change = s.pendingChange;
  return {
    subscriptionId: input.subscriptionId,
    status: s.status,
    billingMode: input.billingMode,
    planId: s.terms.planId,
    rateMinorPerMinute: rateInEffect(s),
    periodIndex: s.periodIndex,
    periodStart: iso(s.periodStartMs),
    periodEnd: iso(s.periodEndMs),
    openRequests: s.openRequests.map(({ dueAtMs, graceEndsAtMs, ...r }) => ({
      ...r,
      dueAt: iso(dueAtMs),
      graceEndsAt: iso(graceEndsAtMs),
    })),
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    coupon: s.coupon,
    pendingChange: change
      ? {
          terms: change.terms,
          rateMinorPerMinute: change.rateMinorPerMinute,
          effectiveFromPeriodIndex: change.effectiveFromPeriodIndex,
          requestedAt: iso(change.requestedAtMs),
          effectiveAt: iso(change.effectiveAtMs),
        }
      : null,
    usage: s.usage,
    accessHolds: accessHolds(s),
    nextTimer: timer,
  };
}
