/**
 * One long-lived workflow per subscription (id `subscription-<id>`). It owns time: it sleeps
 * until the period ends or a due date / grace end arrives, issues cycle payment requests, moves
 * the status through active, past_due and blocked, and continues as new at every renewal so each
 * run's history holds one period.
 *
 * Shape: state lives in one object (carried across continue-as-new). Handlers validate, change
 * the state and queue effects; only the main loop talks to Postgres, through one activity per
 * step (`commitSubscription`), so the read model sees states in the order the workflow had them.
 * Handlers that must answer after the change is stored wait for their commit.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type {
  CommitInput,
  CommitResult,
  IssueRequest,
  RenewInput,
  RenewResult,
  SubscriptionActivities,
  UsageActivities,
} from './activity-contract';
import { NO_USAGE, type PeriodUsage } from '../billing/invoice';
import { isRate } from '../billing/money';
import { allowanceSeconds, liveUsage, reachedWarning } from '../billing/pools';
import type { Period } from '../billing/periods';
import type { AppliedCoupon } from '../billing/terms';
import { workflowNowMs } from './clock';
import {
  CurrentPeriodEndAttr,
  DOMAIN_ERRORS,
  PlanIdAttr,
  SubscriptionStatusAttr,
  cancelUpdate,
  changeTermsUpdate,
  recordPaymentUpdate,
  setCouponUpdate,
  stateQuery,
  usageSignal,
  type CancelInput,
  type OpenRequest,
  type PendingChange,
  type SubscriptionInput,
  type SubscriptionState,
  type SubscriptionStatus,
  type SubscriptionView,
} from './definitions';
import {
  accessHolds,
  deadlines,
  initialState,
  periodOf,
  rateInEffect,
} from '../billing/subscription';
import {
  finalRequest,
  firstRequest,
  planRenewal,
  shouldIssue,
  type RequestPlan,
} from '../billing/subscription-requests';
import {
  deriveStatus,
  handoverDelayMs,
  newlyOverdue,
  newRequestId,
  nextTimer,
} from './subscription-rules';

const retry = {
  initialInterval: '1 second',
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...DOMAIN_ERRORS],
};
const { commitSubscription } = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '20 seconds',
  retry,
});
// Local activities run inside the workflow task that asks for them: no task queue round trip,
// one marker in history. A renewal is one: the timer fires, the period closes and its request
// is stored, and the run continues as new, all in one workflow task. They are idempotent, so a
// worker crash that makes the task run again does no harm.
const { getPeriodUsage, readLiveUsage, renewSubscription } = proxyLocalActivities<
  SubscriptionActivities & UsageActivities
>({
  startToCloseTimeout: '20 seconds',
  retry,
});

/** Thrown when the subscription row is gone: the workflow has nothing left to own. */
class Orphaned extends Error {}

const iso = (ms: number) => new Date(ms).toISOString();

function toView(input: SubscriptionInput, s: SubscriptionState, nowMs: number): SubscriptionView {
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

const rejection = (type: string, message: string) => ApplicationFailure.create({ type, message });

/**
 * The renewal runs in the workflow task in which its period ends (a local activity). An update
 * that changes what it bills (payment, cancel, change, coupon) and lands in that task would
 * race it, so it is refused for that moment; the API retries it a moment later.
 */
function assertNotRenewing(state: SubscriptionState): void {
  if (state.status !== 'canceled' && workflowNowMs() >= state.periodEndMs)
    throw rejection('RenewalInProgress', 'the subscription is renewing; try again in a moment');
}

export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionView> {
  const state = input.state ?? initialState(input, input.startAtMs ?? workflowNowMs());
  const ids = {
    agencyId: input.agencyId,
    clientId: input.clientId,
    subscriptionId: input.subscriptionId,
  };
  const billed = input.billingMode !== 'track_only';

  // --- Effects queued for the next commit, and commit bookkeeping. ---
  type Effects = Pick<CommitInput, 'requestUpdates' | 'issue' | 'closedPeriod' | 'events'>;
  const noEffects = (): Effects => ({
    requestUpdates: [],
    issue: null,
    closedPeriod: null,
    events: [],
  });
  let effects = noEffects();
  let requested = 0; // bumped by every change the read model must show
  let committed = 0; // the highest `requested` stored
  let commits = 0; // per run, for event dedupe keys
  let wake = false;
  let cancelRequest: CancelInput | null = null;
  let cancelReason: string | null = null;
  let canceledAtMs: number | null = null;
  let ended = false;
  /** After this run's renewal: when it hands over to a new run (continue-as-new). */
  let handoverAtMs: number | null = null;
  // A usage signal may reach the previous run after its last fold (while it settles before
  // continuing as new): that run hands over how far it was signaled, and this one folds first.
  let usageThroughSeq = Math.max(state.usageSeq, state.usageSignaledSeq ?? 0);

  const period = (): Period => ({
    index: state.periodIndex,
    startMs: state.periodStartMs,
    endMs: state.periodEndMs,
  });

  /** Notes a change to store; returns the number a handler waits for. */
  function changed(): number {
    requested += 1;
    wake = true;
    return requested;
  }
  const stored = (n: number) => condition(() => committed >= n);
  const pendingWork = () =>
    requested > committed ||
    effects.requestUpdates.length > 0 ||
    effects.issue !== null ||
    effects.closedPeriod !== null ||
    effects.events.length > 0;

  function setStatus(next: SubscriptionStatus, data: Record<string, unknown> = {}): void {
    if (next === state.status) return;
    state.status = next;
    effects.events.push({
      type: `subscription.${next}`,
      data: { status: next, periodIndex: state.periodIndex, ...data },
    });
  }

  /** Deadlines that have come: pending requests turn overdue, and the status follows. */
  function refresh(now = workflowNowMs()): void {
    if (state.status === 'canceled' || state.status === 'scheduled') return;
    for (const r of newlyOverdue(state, now)) {
      r.status = 'overdue';
      effects.requestUpdates.push({
        requestId: r.id,
        status: 'overdue',
        atMs: now,
        externalReference: null,
      });
    }
    setStatus(deriveStatus(state, now));
  }

  /**
   * Queues a request dated `issuedAtMs`: the period boundary it belongs to, not the moment a busy
   * worker got to it, so dates and due dates do not drift with load.
   */
  function queueRequest(kind: IssueRequest['kind'], plan: RequestPlan, issuedAtMs: number): void {
    // A coupon counts a request when it discounted one, issued or not (a 100% discount).
    if (billed) state.coupon = plan.couponAfter;
    if (!shouldIssue(billed, plan.draft)) return; // zero-amount requests are not issued
    const issue: IssueRequest = {
      requestId: newRequestId(uuid4(), workflowNowMs()),
      kind,
      periodIndex: state.periodIndex,
      draft: plan.draft,
      issuedAtMs,
      ...deadlines(issuedAtMs, state.terms),
    };
    effects.issue = issue;
    // Open at once: the agency may mark it as soon as the row is readable.
    if (kind === 'cycle') {
      state.openRequests.push({
        id: issue.requestId,
        periodIndex: issue.periodIndex,
        status: 'pending',
        totalMinor: issue.draft.totalMinor,
        dueAtMs: issue.dueAtMs,
        graceEndsAtMs: issue.graceEndsAtMs,
      });
    }
  }

  /** Operators filter on these in the Temporal UI: upserted only when they change. */
  function upsertAttributes(): void {
    const current = workflowInfo().typedSearchAttributes;
    const updates: SearchAttributeUpdatePair[] = [];
    if (current.get(SubscriptionStatusAttr) !== state.status)
      updates.push({ key: SubscriptionStatusAttr, value: state.status });
    if (current.get(CurrentPeriodEndAttr)?.getTime() !== state.periodEndMs)
      updates.push({ key: CurrentPeriodEndAttr, value: new Date(state.periodEndMs) });
    if (current.get(PlanIdAttr) !== state.terms.planId)
      updates.push({ key: PlanIdAttr, value: state.terms.planId });
    if (updates.length > 0) upsertSearchAttributes(updates);
  }

  /** The read model's view of the state, as the next commit stores it. */
  function mirror(): CommitInput['mirror'] {
    return {
      status: state.status,
      startAtMs: state.startAtMs,
      terms: state.terms,
      rateMinorPerMinute: state.rateMinorPerMinute,
      period: period(),
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
      coupon: state.coupon,
      pendingChange: state.pendingChange as Record<string, unknown> | null,
      accessHolds: accessHolds(state),
      canceledAtMs,
      cancelReason,
    };
  }

  /**
   * Stores the state and the queued effects in one activity (`renewal`: the renewal activity,
   * which also closes the period's usage and builds the request). Access is recomputed only
   * when what it depends on (status, holds) changed since the last commit.
   */
  async function commit<R extends RenewResult | CommitResult = CommitResult>(
    renewal?: Pick<RenewInput, 'renewal' | 'billable' | 'request'>,
  ): Promise<R> {
    // A renewal reads the clock at its boundary: the same in every attempt of its task.
    refresh(renewal ? renewal.renewal.closed.endMs : workflowNowMs());
    const upto = requested;
    const batch = effects;
    effects = noEffects();
    commits += 1;
    upsertAttributes();
    const accessKey = `${state.status}:${accessHolds(state).join(',')}`;
    const common = {
      ...ids,
      commitKey: `${workflowInfo().runId}:${commits}`,
      mirror: mirror(),
      requestUpdates: batch.requestUpdates,
      events: batch.events,
      recomputeAccess: accessKey !== state.accessKey,
    };
    let result: R;
    try {
      result = (
        renewal
          ? await renewSubscription({ ...common, ...renewal })
          : await commitSubscription({
              ...common,
              issue: batch.issue,
              closedPeriod: batch.closedPeriod,
            })
      ) as R;
    } catch (err) {
      if (
        err instanceof ActivityFailure &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type === 'SubscriptionNotFound'
      )
        throw new Orphaned(err.cause.message);
      throw err;
    }
    state.accessKey = accessKey;
    committed = Math.max(committed, upto);
    return result;
  }

  /**
   * Commits until nothing is left and every handler has answered. Before continue-as-new a
   * cancel stops the wait (`stopOnCancel`): its handler waits for the main loop to end the
   * subscription, so the caller ends instead of continuing as new.
   */
  async function settle(stopOnCancel = true): Promise<void> {
    const canceling = () => stopOnCancel && cancelRequest !== null;
    for (;;) {
      if (pendingWork()) await commit();
      else if (allHandlersFinished() || canceling()) return;
      else await condition(() => pendingWork() || allHandlersFinished() || canceling());
    }
  }

  /** The period close: usage of a period as the usage pools bill it (activities/usage.ts). */
  async function usageOf(p: Period, final: boolean): Promise<PeriodUsage> {
    // Before a renewal applies a pending change: the terms and rate of the period closed.
    return getPeriodUsage({
      ...ids,
      period: p,
      final,
      terms: state.terms,
      rateMinorPerMinute: rateInEffect(state),
    });
  }

  /**
   * USAGE FOLDING (usage issue): fold usage stored up to `usageThroughSeq` into `state.usage`,
   * and set `state.minutesExhausted` when included and wallet minutes are spent and the plan
   * allows no overage. Access follows through accessHolds() at the next commit.
   */
  async function foldUsage(): Promise<void> {
    // The counters are a recount of what Postgres holds for this period (a local activity), so
    // folding is idempotent: signals in any order or number give the same state. A signal
    // arriving during the read raises usageThroughSeq above the target and folds again.
    const target = usageThroughSeq;
    const live = await readLiveUsage({
      ...ids,
      period: period(),
      terms: state.terms,
      rateMinorPerMinute: rateInEffect(state),
    });
    // A signal carrying fresher totals may have been folded while this read was in flight.
    if (state.usageSeq >= target) return;
    applyUsage(live, target);
  }

  /** Takes a recount of the current period: the 90% warning once, exhaustion into access. */
  function applyUsage(next: { usage: PeriodUsage; minutesExhausted: boolean }, seq: number) {
    const allowance = allowanceSeconds(state.terms);
    if (
      reachedWarning(next.usage.totalSeconds, allowance) &&
      !reachedWarning(state.usage.totalSeconds, allowance)
    ) {
      effects.events.push({
        type: 'usage.threshold_90',
        data: {
          periodIndex: state.periodIndex,
          usedSeconds: next.usage.totalSeconds,
          includedSeconds: allowance,
        },
      });
      changed();
    }
    const holds = accessHolds(state).join();
    state.usage = next.usage;
    state.minutesExhausted = next.minutesExhausted;
    state.usageSeq = Math.max(state.usageSeq, seq);
    if (accessHolds(state).join() !== holds) changed();
  }

  /**
   * Closes the current period and opens the next: usage in arrears, flat fee in advance. One
   * activity closes the usage, builds the request and stores it with the new period.
   */
  async function renew(): Promise<void> {
    // Decided once, here: the activity counts the usage and builds the request from this shape.
    const shape = planRenewal(state);
    state.terms = shape.terms;
    state.rateMinorPerMinute = shape.rateMinorPerMinute;
    state.anchorMs = shape.anchorMs;
    state.anchorIndex = shape.anchorIndex;
    state.pendingChange = null;
    state.periodIndex = shape.next.index;
    state.periodStartMs = shape.next.startMs;
    state.periodEndMs = shape.next.endMs;
    // Included minutes reset each period; the usage pools re-assert exhaustion if it still holds.
    state.usage = NO_USAGE;
    state.minutesExhausted = false;
    // A blocked subscription is not billed again: it waits to be canceled.
    const billable = billed && state.status !== 'blocked';
    const issuedAtMs = shape.next.startMs; // dated at the boundary, not when a busy worker ran
    const request = {
      // From the boundary, not the clock: a retried task must choose the same id.
      requestId: newRequestId(uuid4(), issuedAtMs),
      issuedAtMs,
      ...deadlines(issuedAtMs, shape.terms),
    };
    // Open at once, its amount unknown (null) until the activity has counted the closed period:
    // the agency may mark it as soon as it is readable.
    const open: OpenRequest = {
      id: request.requestId,
      periodIndex: shape.next.index,
      status: 'pending',
      totalMinor: null,
      dueAtMs: request.dueAtMs,
      graceEndsAtMs: request.graceEndsAtMs,
    };
    if (billable) state.openRequests.push(open);
    const couponBefore = state.coupon;
    effects.events.push({
      type: 'subscription.renewed',
      data: { periodIndex: shape.next.index, status: state.status },
    });
    const result = await commit<RenewResult>({ renewal: shape, billable, request });
    // A coupon attached while the renewal ran applies from the next request: keep it.
    if (state.coupon === couponBefore) state.coupon = result.couponAfter;
    if (result.issued) open.totalMinor = result.issued.totalMinor;
    else state.openRequests = state.openRequests.filter((r) => r !== open);
  }

  /** Ends the subscription: a final request for the usage so far, then `canceled`. */
  async function end(): Promise<SubscriptionView> {
    const now = workflowNowMs();
    const endMs = Math.max(state.periodStartMs, Math.min(now, state.periodEndMs));
    if (state.status !== 'scheduled') {
      const usage = await usageOf({ ...period(), endMs }, true);
      const plan = finalRequest(state, usage, endMs);
      queueRequest('final', plan, endMs);
      effects.closedPeriod = { period: plan.period, usage, closedAtMs: now };
    }
    state.periodEndMs = endMs;
    // At the period end it ends on the boundary, not whenever the worker got there.
    canceledAtMs = cancelRequest ? now : endMs;
    cancelReason = cancelRequest?.reason ?? cancelReason;
    setStatus('canceled', {
      reason: cancelReason,
      when: cancelRequest ? cancelRequest.when : 'period_end',
    });
    await commit();
    ended = true;
    await settle(false); // the cancel handler answers now
    return toView(input, state, workflowNowMs());
  }

  setHandler(stateQuery, () => toView(input, state, workflowNowMs()));

  setHandler(
    recordPaymentUpdate,
    async ({ requestId, status, externalReference }) => {
      const req = state.openRequests.find((r) => r.id === requestId)!;
      // State first, synchronously: a due date arriving meanwhile must not mark it overdue.
      req.status = status;
      if (status !== 'failed')
        state.openRequests = state.openRequests.filter((r) => r.id !== requestId);
      effects.requestUpdates.push({
        requestId,
        status,
        atMs: workflowNowMs(),
        externalReference: externalReference ?? null,
      });
      await stored(changed());
      return { ...req };
    },
    {
      validator: ({ requestId, status }) => {
        assertNotRenewing(state);
        if (state.status === 'canceled')
          throw rejection('SubscriptionCanceled', 'the subscription is canceled');
        if (!['paid', 'failed', 'canceled'].includes(status))
          throw rejection('InvalidStatus', 'status must be paid, failed or canceled');
        const req = state.openRequests.find((r) => r.id === requestId);
        if (!req)
          throw rejection(
            'RequestNotOpen',
            `payment request ${requestId} is not open on this subscription`,
          );
        if (req.status === status)
          throw rejection('InvalidTransition', `payment request ${requestId} is already ${status}`);
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (request) => {
      if (request.when === 'period_end' && state.status !== 'scheduled') {
        if (!state.cancelAtPeriodEnd) {
          state.cancelAtPeriodEnd = true;
          cancelReason = request.reason ?? null;
          effects.events.push({
            type: 'subscription.cancel_scheduled',
            data: { at: iso(state.periodEndMs), reason: cancelReason },
          });
        }
        await stored(changed());
      } else {
        // Nothing has been billed for a scheduled subscription: it ends at once.
        cancelRequest = request;
        wake = true;
        await condition(() => ended);
      }
      return toView(input, state, workflowNowMs());
    },
    {
      validator: (request) => {
        assertNotRenewing(state);
        if (state.status === 'canceled' || cancelRequest !== null)
          throw rejection('SubscriptionCanceled', 'the subscription is already canceled');
        if (request.when !== 'now' && request.when !== 'period_end')
          throw rejection('InvalidCancel', 'when must be now or period_end');
      },
    },
  );

  setHandler(
    changeTermsUpdate,
    async ({ terms, rateMinorPerMinute: offered, rateDecidedAtMs }) => {
      const now = workflowNowMs();
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
      if (terms === undefined && rateMinorPerMinute === undefined) return prior;
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
        return prior;
      const change: PendingChange = {
        terms: terms !== undefined ? terms : (prior?.terms ?? null),
        rateMinorPerMinute:
          rateMinorPerMinute !== undefined
            ? rateMinorPerMinute
            : prior
              ? prior.rateMinorPerMinute
              : state.rateMinorPerMinute,
        requestedAtMs: now,
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
      effects.events.push({
        type: 'subscription.change_scheduled',
        data: {
          planId: change.terms?.planId ?? state.terms.planId,
          rateMinorPerMinute: change.rateMinorPerMinute,
          effectiveFromPeriodIndex: change.effectiveFromPeriodIndex,
          effectiveAt: iso(change.effectiveAtMs),
        },
      });
      await stored(changed());
      return change;
    },
    {
      validator: ({ terms, rateMinorPerMinute }) => {
        assertNotRenewing(state);
        if (state.status === 'canceled' || cancelRequest !== null)
          throw rejection('SubscriptionCanceled', 'the subscription is canceled');
        if (state.status === 'blocked')
          throw rejection(
            'SubscriptionBlocked',
            'a blocked subscription cannot change: cancel it and start a new one',
          );
        if (terms === undefined && rateMinorPerMinute === undefined)
          throw rejection('InvalidChange', 'give a plan or a rate to change');
        if (rateMinorPerMinute != null && !isRate(rateMinorPerMinute))
          throw rejection('InvalidRate', 'rateMinorPerMinute must be a decimal string');
        if (terms && terms.currency !== state.terms.currency)
          throw rejection(
            'CurrencyMismatch',
            `a plan switch must keep the currency ${state.terms.currency}`,
          );
      },
    },
  );

  setHandler(
    setCouponUpdate,
    async (coupon: AppliedCoupon | null) => {
      state.coupon = coupon;
      effects.events.push({
        type: coupon ? 'subscription.coupon_applied' : 'subscription.coupon_removed',
        data: coupon ? { couponId: coupon.couponId, remaining: coupon.remaining } : {},
      });
      await stored(changed());
      return coupon;
    },
    {
      validator: (coupon: AppliedCoupon | null) => {
        assertNotRenewing(state);
        if (state.status === 'canceled' || cancelRequest !== null)
          throw rejection('SubscriptionCanceled', 'the subscription is canceled');
        if (coupon && coupon.remaining !== null && coupon.remaining < 1)
          throw rejection('InvalidCoupon', 'a coupon must have periods left');
      },
    },
  );

  setHandler(usageSignal, ({ throughSeq, live }) => {
    if (throughSeq <= Math.max(usageThroughSeq, state.usageSeq)) return;
    // Totals of the current period, read from Postgres after the events were stored, are folded
    // here (no activity, no timer touched); for another period (a renewal in between) or none,
    // the main loop reads Postgres itself.
    const running = state.status !== 'scheduled' && state.status !== 'canceled';
    if (live && running && live.periodIndex === state.periodIndex) {
      applyUsage(
        liveUsage({
          totals: live.totals,
          terms: state.terms,
          rateMinorPerMinute: rateInEffect(state),
          walletBalanceSeconds: live.walletBalanceSeconds,
        }),
        throughSeq,
      );
      return;
    }
    usageThroughSeq = throughSeq;
    wake = true;
  });

  /**
   * Settles, then continues as new with the state (and how far usage was signaled), keeping
   * what operators filter on; or ends, when a cancel arrived meanwhile.
   */
  async function continueAsNew(): Promise<SubscriptionView> {
    await settle();
    if (cancelRequest !== null) return end();
    state.usageSignaledSeq = usageThroughSeq;
    return makeContinueAsNewFunc<typeof subscriptionWorkflow>({
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
    })({ ...input, state });
  }

  try {
    // --- First run: wait for a scheduled start, then bill the first period in advance. ---
    if (!input.state) {
      if (state.anchorMs > workflowNowMs()) await commit();
      while (cancelRequest === null && state.anchorMs > workflowNowMs()) {
        if (pendingWork()) {
          await commit();
          continue;
        }
        wake = false;
        await condition(() => wake || cancelRequest !== null, state.anchorMs - workflowNowMs());
      }
      if (cancelRequest === null) {
        setStatus('active');
        // A backdated start is billed when it was created, not before it existed.
        const issuedAtMs = Math.max(state.anchorMs, workflowInfo().startTime.getTime());
        queueRequest('cycle', firstRequest(state), issuedAtMs);
        await commit();
      }
    }

    // --- The main loop: act on what is due, store it, then sleep until the next deadline. ---
    for (;;) {
      const now = workflowNowMs();
      if (cancelRequest !== null || (state.cancelAtPeriodEnd && now >= state.periodEndMs)) {
        return await end();
      }
      // Before a second renewal (a worker far behind): at most one renewal per run.
      if (handoverAtMs !== null && now >= handoverAtMs) return await continueAsNew();
      if (now >= state.periodEndMs) {
        const boundary = state.periodEndMs;
        await renew();
        // The request is stored; the hand-over to a new run can wait its turn.
        handoverAtMs =
          boundary +
          handoverDelayMs(
            input.subscriptionId,
            state.periodEndMs - state.periodStartMs,
            input.handoverSpreadMs,
          );
        continue;
      }
      if (usageThroughSeq > state.usageSeq) {
        const before = accessHolds(state).join();
        await foldUsage();
        if (accessHolds(state).join() !== before) changed();
      }
      refresh();
      if (pendingWork()) {
        await commit();
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) return await continueAsNew();
      const timer = nextTimer(state, now);
      const wakeAtMs = handoverAtMs === null ? timer.atMs : Math.min(timer.atMs, handoverAtMs);
      wake = false;
      await condition(() => wake || cancelRequest !== null, Math.max(1, wakeAtMs - now));
    }
  } catch (err) {
    if (err instanceof Orphaned) {
      // The row was taken back (the start failed on the API side): nothing left to bill.
      state.status = 'canceled';
      return toView(input, state, workflowNowMs());
    }
    throw err;
  }
}

export type { OpenRequest };
