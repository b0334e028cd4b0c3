/**
 * How a subscription takes a change of plan or rate (the changeTerms update): it applies from
 * the next period, or at once while the subscription is only scheduled. Rates arrive through an
 * outbox that may redeliver them or deliver them late; both are recognised here.
 */
import { patched } from '@temporalio/workflow';
import { periodOf, type PendingChange, type SubscriptionState } from '../billing/subscription';
import type { ChangeTermsInput } from './definitions';

/**
 * Applies a change to `state` at `nowMs`. `change` is what was taken (the pending change, or
 * the first period's terms of a scheduled subscription); null when nothing new was taken, and
 * `prior` is the pending change that stays.
 */
export function takeChange(
  state: SubscriptionState,
  { terms, rateMinorPerMinute: offered, rateDecidedAtMs }: ChangeTermsInput,
  nowMs: number,
): { change: PendingChange | null; prior: PendingChange | null } {
  const prior = state.pendingChange;
  // A rate decided before the one the subscription has is ignored: a client rate owed by the
  // outbox that lands after the subscription's own rate was changed does not override it.
  // (Behind a patch: histories recorded before it took every rate, and must replay so.)
  const stale =
    offered !== undefined &&
    rateDecidedAtMs !== undefined &&
    state.rateDecidedAtMs !== undefined &&
    rateDecidedAtMs < state.rateDecidedAtMs &&
    patched('rate-decided-at');
  const rateMinorPerMinute = stale ? undefined : offered;
  if (terms === undefined && rateMinorPerMinute === undefined) return { change: null, prior };
  if (rateMinorPerMinute !== undefined && rateDecidedAtMs !== undefined)
    state.rateDecidedAtMs = rateDecidedAtMs;
  // The same change again (a rate redelivered from the outbox): nothing new to schedule.
  // (Behind the same patch: histories recorded before it scheduled the change again.)
  if (
    prior &&
    (terms === undefined || terms === prior.terms) &&
    (rateMinorPerMinute === undefined || rateMinorPerMinute === prior.rateMinorPerMinute) &&
    patched('rate-decided-at')
  )
    return { change: null, prior };
  const change: PendingChange = {
    terms: terms !== undefined ? terms : (prior?.terms ?? null),
    rateMinorPerMinute:
      rateMinorPerMinute !== undefined
        ? rateMinorPerMinute
        : prior
          ? prior.rateMinorPerMinute
          : state.rateMinorPerMinute,
    requestedAtMs: nowMs,
    effectiveFromPeriodIndex: state.periodIndex + 1,
    effectiveAtMs: state.periodEndMs,
  };
  if (state.status === 'scheduled') {
    // Nothing billed yet: the change is the subscription's terms from its first period.
    if (change.terms) state.terms = { ...change.terms, taxRateBps: state.terms.taxRateBps };
    state.rateMinorPerMinute = change.rateMinorPerMinute;
    const first = periodOf(state, 0);
    state.periodStartMs = first.startMs;
    state.periodEndMs = first.endMs;
    change.effectiveFromPeriodIndex = 0;
    change.effectiveAtMs = state.anchorMs;
  } else {
    state.pendingChange = change;
  }
  return { change, prior };
}
