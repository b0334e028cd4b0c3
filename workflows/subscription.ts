/**
 * One long-lived workflow per subscription (id `subscription-<id>`). It owns time: it sleeps
 * until the period ends or a due date / grace end arrives, issues cycle payment requests, moves
 * the status through active, past_due and blocked, and continues as new at every renewal so
 * history stays bounded. State lives in one object; handlers change it and wake the loop.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { buildCycleRequest, NO_USAGE, type PeriodUsage } from '../billing/invoice';
import { isRate } from '../billing/money';
import type { AppliedCoupon } from '../billing/terms';
import { addDaysMs, periodAt, type Cadence, type Period } from '../billing/periods';
import { workflowNowMs } from './clock';
import {
  CurrentPeriodEndAttr,
  SubscriptionStatusAttr,
  cancelUpdate,
  changeTermsUpdate,
  recordPaymentUpdate,
  setCouponUpdate,
  stateQuery,
  usageSignal,
  type CancelInput,
  type OpenRequest,
  type SubscriptionInput,
  type SubscriptionState,
  type SubscriptionStatus,
  type SubscriptionView,
} from './definitions';
import { deriveStatus, isUnpaid, nextTimer } from './subscription-rules';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['SubscriptionNotFound', 'PaymentRequestNotFound'],
  },
});

const cadenceOf = (s: SubscriptionState): Cadence => ({
  rhythm: s.terms.rhythm,
  intervalCount: s.terms.intervalCount,
});

function initialState(input: SubscriptionInput): SubscriptionState {
  const cadence = { rhythm: input.terms.rhythm, intervalCount: input.terms.intervalCount };
  const anchorMs = input.startAtMs ?? workflowNowMs();
  const first = periodAt(anchorMs, cadence, 0);
  return {
    status: 'scheduled',
    anchorMs,
    terms: input.terms,
    rateMinorPerMinute: input.rateMinorPerMinute,
    coupon: input.coupon,
    periodIndex: 0,
    periodStartMs: first.startMs,
    periodEndMs: first.endMs,
    openRequests: [],
    pendingChange: null,
    cancelAtPeriodEnd: false,
    usage: NO_USAGE,
    usageSeq: 0,
  };
}

function toView(input: SubscriptionInput, s: SubscriptionState, nowMs: number): SubscriptionView {
  const iso = (ms: number) => new Date(ms).toISOString();
  const timer =
    s.status === 'canceled'
      ? null
      : s.status === 'scheduled'
        ? { kind: 'start' as const, at: iso(s.anchorMs) }
        : (({ kind, atMs }) => ({ kind, at: iso(atMs) }))(nextTimer(s, nowMs));
  return {
    subscriptionId: input.subscriptionId,
    status: s.status,
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
    pendingChange: s.pendingChange,
    usage: s.usage,
    nextTimer: timer,
  };
}

export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionView> {
  const state = input.state ?? initialState(input);
  const ids = {
    agencyId: input.agencyId,
    clientId: input.clientId,
    subscriptionId: input.subscriptionId,
  };
  const billed = input.billingMode !== 'track_only';
  let wake = false;
  let cancelRequest: CancelInput | null = null;

  const period = (): Period => ({
    index: state.periodIndex,
    startMs: state.periodStartMs,
    endMs: state.periodEndMs,
  });

  /** Mirrors status and period into Postgres and search attributes. */
  async function publish(
    event: { type: string; data?: Record<string, unknown> } | null,
  ): Promise<void> {
    upsertSearchAttributes([
      { key: SubscriptionStatusAttr, value: state.status },
      { key: CurrentPeriodEndAttr, value: new Date(state.periodEndMs) },
    ]);
    await acts.syncSubscription({
      ...ids,
      status: state.status,
      startAtMs: state.anchorMs,
      period: period(),
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
      coupon: state.coupon,
      canceledAtMs: state.status === 'canceled' ? workflowNowMs() : null,
      cancelReason: state.status === 'canceled' ? (cancelRequest?.reason ?? null) : null,
      event: event
        ? {
            type: event.type,
            data: { status: state.status, ...event.data },
            dedupeKey: `${input.subscriptionId}:${event.type}:${state.periodIndex}:${workflowInfo().runId}:${workflowNowMs()}`,
          }
        : null,
    });
  }

  async function setStatus(
    next: SubscriptionStatus,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    if (next === state.status) return;
    state.status = next;
    await publish({ type: `subscription.${next}`, data });
  }

  /** Re-derives status from open requests: overdue requests, past due, blocked at grace end. */
  async function applyDeadlines(): Promise<void> {
    const now = workflowNowMs();
    for (const r of state.openRequests) {
      if (r.status === 'pending' && r.dueAtMs <= now) {
        r.status = 'overdue';
        await acts.setRequestStatus({
          ...ids,
          requestId: r.id,
          status: 'overdue',
          atMs: now,
          externalReference: null,
        });
      }
    }
    await setStatus(deriveStatus(state, now));
  }

  /** Issues the cycle request at the start of `state.periodIndex` (recurring for it, usage of the one before). */
  async function issueRequest(
    kind: 'cycle' | 'final',
    usageFor: { period: Period; usage: PeriodUsage } | null,
  ): Promise<void> {
    const recurringFor = kind === 'cycle' ? period() : null;
    const { draft, couponAfter } = buildCycleRequest({
      terms: state.terms,
      recurringFor,
      usageFor: usageFor
        ? {
            ...usageFor,
            rateMinorPerMinute: state.rateMinorPerMinute ?? state.terms.overageRateMinorPerMinute,
          }
        : null,
      lateUsage: null,
      coupon: state.coupon,
    });
    if (!billed || draft.totalMinor === 0) return; // zero-amount requests are not issued
    const now = workflowNowMs();
    const dueAtMs = addDaysMs(now, state.terms.dueDays);
    const graceEndsAtMs = addDaysMs(dueAtMs, state.terms.graceDays);
    const issued = await acts.issueCycleRequest({
      ...ids,
      periodIndex: state.periodIndex,
      kind,
      draft,
      issuedAtMs: now,
      dueAtMs,
      graceEndsAtMs,
    });
    state.coupon = couponAfter;
    if (kind === 'cycle') {
      state.openRequests.push({
        id: issued.id,
        periodIndex: state.periodIndex,
        status: 'pending',
        totalMinor: issued.totalMinor,
        dueAtMs,
        graceEndsAtMs,
      });
    }
  }

  async function closePeriodUsage(end: Period): Promise<{ period: Period; usage: PeriodUsage }> {
    const usage = await acts.getPeriodUsage({ subscriptionId: input.subscriptionId, period: end });
    return { period: end, usage };
  }

  setHandler(stateQuery, () => toView(input, state, workflowNowMs()));

  setHandler(
    recordPaymentUpdate,
    async ({ requestId, status, externalReference }) => {
      const req = state.openRequests.find((r) => r.id === requestId)!;
      const now = workflowNowMs();
      await acts.setRequestStatus({
        ...ids,
        requestId,
        status,
        atMs: now,
        externalReference: externalReference ?? null,
      });
      req.status = status;
      if (status !== 'failed')
        state.openRequests = state.openRequests.filter((r) => r.id !== requestId);
      wake = true;
      return { ...req };
    },
    {
      validator: ({ requestId, status }) => {
        if (state.status === 'canceled')
          throw ApplicationFailure.create({
            type: 'SubscriptionCanceled',
            message: 'the subscription is canceled',
          });
        const req = state.openRequests.find((r) => r.id === requestId);
        if (!req)
          throw ApplicationFailure.create({
            type: 'RequestNotOpen',
            message: `payment request ${requestId} is not open on this subscription`,
          });
        if (!['paid', 'failed', 'canceled'].includes(status))
          throw ApplicationFailure.create({
            type: 'InvalidStatus',
            message: `status must be paid, failed or canceled`,
          });
        if (req.status === status)
          throw ApplicationFailure.create({
            type: 'InvalidTransition',
            message: `payment request is already ${status}`,
          });
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (request) => {
      if (request.when === 'period_end') {
        state.cancelAtPeriodEnd = true;
        await publish({
          type: 'subscription.cancel_scheduled',
          data: { at: new Date(state.periodEndMs).toISOString() },
        });
      } else {
        cancelRequest = request;
        wake = true;
        await condition(() => state.status === 'canceled');
      }
      return toView(input, state, workflowNowMs());
    },
    {
      validator: (request) => {
        if (state.status === 'canceled')
          throw ApplicationFailure.create({
            type: 'SubscriptionCanceled',
            message: 'the subscription is already canceled',
          });
        if (request.when !== 'now' && request.when !== 'period_end')
          throw ApplicationFailure.create({
            type: 'InvalidCancel',
            message: 'when must be now or period_end',
          });
      },
    },
  );

  setHandler(
    changeTermsUpdate,
    ({ terms, rateMinorPerMinute }) => {
      state.pendingChange = {
        terms: terms ?? state.pendingChange?.terms ?? null,
        rateMinorPerMinute:
          rateMinorPerMinute !== undefined
            ? rateMinorPerMinute
            : (state.pendingChange?.rateMinorPerMinute ?? state.rateMinorPerMinute),
        requestedAtMs: workflowNowMs(),
      };
      return state.pendingChange;
    },
    {
      validator: ({ terms, rateMinorPerMinute }) => {
        if (state.status === 'canceled')
          throw ApplicationFailure.create({
            type: 'SubscriptionCanceled',
            message: 'the subscription is canceled',
          });
        if (rateMinorPerMinute != null && !isRate(rateMinorPerMinute))
          throw ApplicationFailure.create({
            type: 'InvalidRate',
            message: 'rateMinorPerMinute must be a decimal string',
          });
        if (terms && terms.currency !== state.terms.currency)
          throw ApplicationFailure.create({
            type: 'CurrencyMismatch',
            message: 'a plan switch must keep the currency',
          });
      },
    },
  );

  setHandler(
    setCouponUpdate,
    (coupon: AppliedCoupon | null) => {
      state.coupon = coupon;
      return coupon;
    },
    {
      validator: (_coupon: unknown) => {
        if (state.status === 'canceled')
          throw ApplicationFailure.create({
            type: 'SubscriptionCanceled',
            message: 'the subscription is canceled',
          });
      },
    },
  );

  setHandler(usageSignal, ({ throughSeq }) => {
    if (throughSeq > state.usageSeq) wake = true;
  });

  // --- First run: wait for a scheduled start, then bill the first period in advance. ---
  if (!input.state) {
    const now = workflowNowMs();
    if (state.anchorMs > now) {
      await publish(null);
      await condition(() => cancelRequest !== null, state.anchorMs - now);
    }
    if (cancelRequest === null) {
      state.status = 'active';
      await issueRequest('cycle', null);
      await publish({ type: 'subscription.active' });
    }
  }

  // --- The main loop: wait for the next deadline or a handler, then act. ---
  for (;;) {
    if (
      cancelRequest !== null ||
      (state.cancelAtPeriodEnd && workflowNowMs() >= state.periodEndMs)
    ) {
      const now = workflowNowMs();
      const endMs = Math.min(now, state.periodEndMs);
      if (state.status !== 'scheduled') {
        await issueRequest('final', await closePeriodUsage({ ...period(), endMs }));
      }
      state.periodEndMs = Math.max(state.periodStartMs, endMs);
      state.status = 'canceled';
      await publish({
        type: 'subscription.canceled',
        data: { reason: (cancelRequest as CancelInput | null)?.reason ?? null },
      });
      await condition(allHandlersFinished);
      return toView(input, state, workflowNowMs());
    }

    await applyDeadlines();
    const now = workflowNowMs();
    if (now >= state.periodEndMs) {
      await renew();
      await condition(allHandlersFinished);
      return continueAsNew<typeof subscriptionWorkflow>({ ...input, state });
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof subscriptionWorkflow>({ ...input, state });
    }
    const timer = nextTimer(state, now);
    wake = false;
    await condition(() => wake || cancelRequest !== null, Math.max(1, timer.atMs - now));
  }

  /** Closes the current period and opens the next: usage in arrears, flat fee in advance. */
  async function renew(): Promise<void> {
    if (state.cancelAtPeriodEnd) return; // the loop's cancel branch takes it from here
    const closed = period();
    const usage = await closePeriodUsage(closed);
    if (state.pendingChange) {
      state.terms = state.pendingChange.terms ?? state.terms;
      state.rateMinorPerMinute = state.pendingChange.rateMinorPerMinute;
      state.pendingChange = null;
    }
    const next = periodAt(state.anchorMs, cadenceOf(state), closed.index + 1);
    state.periodIndex = next.index;
    state.periodStartMs = next.startMs;
    state.periodEndMs = next.endMs;
    state.usage = NO_USAGE;
    // A blocked subscription is not billed again: it waits to be canceled.
    if (state.status !== 'blocked') await issueRequest('cycle', usage);
    await publish({ type: 'subscription.renewed', data: { periodIndex: next.index } });
  }
}

export { isUnpaid };
export type { OpenRequest };
