/**
 * A subscription workflow's entity: the one state object (carried across continue-as-new), what
 * this run knows beside it, and every transition. Transitions are synchronous: they change the
 * state and queue effects for the next commit (workflows/subscription-commits.ts); the handlers
 * and the main loop decide when to wait for a commit.
 */
import { patched, uuid4 } from '@temporalio/workflow';
import { allowanceSeconds, liveUsage, reachedWarning } from '../billing/pools';
import { NO_USAGE, type PeriodUsage } from '../billing/invoice';
import { addDaysMs, type Period } from '../billing/periods';
import { retriesExhausted, retryFailed, startRetries } from '../billing/stripe-retries';
import {
  accessHolds,
  deadlines,
  rateInEffect,
  type OpenRequest,
  type PendingChange,
  type SubscriptionState,
  type SubscriptionStatus,
} from '../billing/subscription';
import {
  finalRequest,
  planRenewal,
  shouldIssue,
  type RequestPlan,
} from '../billing/subscription-requests';
import type { AppliedCoupon } from '../billing/terms';
import type {
  IssueRequest,
  RenewInput,
  RenewResult,
  RequestUpdate,
  RetryChargeResult,
  SubscriptionMirror,
} from './activity-contract';
import { workflowNowMs } from './clock';
import type {
  CancelInput,
  ChangeTermsInput,
  RecordPaymentInput,
  SubscriptionInput,
  UsageSignalLive,
} from './definitions';
import { takeChange } from './subscription-changes';
import { CommitQueue, type CommitSubject } from './subscription-commits';
import { deriveStatus, newlyOverdue, newRequestId } from './subscription-rules';
import { iso } from './subscription-view';

/** What one run knows beside the state: none of it survives continue-as-new. */
export interface RunState {
  /** Set by anything the main loop must act on; cleared before it sleeps. */
  wake: boolean;
  /** A cancel the main loop carries out: `now`, or any cancel of a scheduled subscription. */
  cancelRequest: CancelInput | null;
  cancelReason: string | null;
  canceledAtMs: number | null;
  /** The subscription ended in this run: a cancel handler waiting for it answers. */
  ended: boolean;
  /** After this run's renewal: when it hands over to a new run (continue-as-new). */
  handoverAtMs: number | null;
  /** How far usage was signaled; the main loop folds up to it. */
  usageThroughSeq: number;
}

/** A renewal under way: what its activity gets, and the request it opened meanwhile. */
export interface Renewal {
  input: Pick<RenewInput, 'renewal' | 'billable' | 'request'>;
  open: OpenRequest;
  couponBefore: AppliedCoupon | null;
}

export class SubscriptionEntity implements CommitSubject {
  readonly ids: { agencyId: string; clientId: string; subscriptionId: string };
  /** Whether requests are issued (not track-only). */
  readonly billed: boolean;
  readonly run: RunState;
  readonly commits: CommitQueue;

  constructor(
    readonly input: SubscriptionInput,
    readonly state: SubscriptionState,
  ) {
    this.ids = {
      agencyId: input.agencyId,
      clientId: input.clientId,
      subscriptionId: input.subscriptionId,
    };
    this.billed = input.billingMode !== 'track_only';
    this.run = {
      wake: false,
      cancelRequest: null,
      cancelReason: null,
      canceledAtMs: null,
      ended: false,
      handoverAtMs: null,
      // A usage signal may reach the previous run after its last fold (while it settles before
      // continuing as new): that run hands over how far it was signaled, and this one folds first.
      usageThroughSeq: Math.max(state.usageSeq, state.usageSignaledSeq ?? 0),
    };
    this.commits = new CommitQueue(() => {
      this.run.wake = true;
    });
  }

  /** The current period. */
  period(): Period {
    const s = this.state;
    return { index: s.periodIndex, startMs: s.periodStartMs, endMs: s.periodEndMs };
  }

  /** Whether the subscription is ending or ended: updates that change it are refused. */
  get canceling(): boolean {
    return this.state.status === 'canceled' || this.run.cancelRequest !== null;
  }

  /** Notes a change to store; returns the number a handler waits for. */
  changed(): number {
    return this.commits.changed();
  }

  private event(type: string, data: Record<string, unknown>): void {
    this.commits.effects.events.push({ type, data });
  }

  setStatus(next: SubscriptionStatus, data: Record<string, unknown> = {}): void {
    if (next === this.state.status) return;
    this.state.status = next;
    this.event(`subscription.${next}`, {
      status: next,
      periodIndex: this.state.periodIndex,
      ...data,
    });
  }

  /** Deadlines that have come: pending requests turn overdue, and the status follows. */
  refresh(now = workflowNowMs()): void {
    const { state } = this;
    if (state.status === 'canceled' || state.status === 'scheduled') return;
    for (const r of newlyOverdue(state, now)) {
      r.status = 'overdue';
      this.commits.effects.requestUpdates.push({
        requestId: r.id,
        status: 'overdue',
        atMs: now,
        externalReference: null,
      });
    }
    this.setStatus(deriveStatus(state, now));
  }

  /**
   * Queues a request dated `issuedAtMs`: the period boundary it belongs to, not the moment a busy
   * worker got to it, so dates and due dates do not drift with load.
   */
  queueRequest(kind: IssueRequest['kind'], plan: RequestPlan, issuedAtMs: number): void {
    const { state } = this;
    // A coupon counts a request when it discounted one, issued or not (a 100% discount).
    if (this.billed) state.coupon = plan.couponAfter;
    if (!shouldIssue(this.billed, plan.draft)) return; // zero-amount requests are not issued
    const issue: IssueRequest = {
      requestId: newRequestId(uuid4(), workflowNowMs()),
      kind,
      periodIndex: state.periodIndex,
      draft: plan.draft,
      issuedAtMs,
      ...deadlines(issuedAtMs, state.terms),
    };
    this.commits.effects.issue = issue;
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

  mirror(): SubscriptionMirror {
    const { state, run } = this;
    return {
      status: state.status,
      startAtMs: state.startAtMs,
      terms: state.terms,
      rateMinorPerMinute: state.rateMinorPerMinute,
      period: this.period(),
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
      coupon: state.coupon,
      pendingChange: state.pendingChange as Record<string, unknown> | null,
      accessHolds: accessHolds(state),
      canceledAtMs: run.canceledAtMs,
      cancelReason: run.cancelReason,
    };
  }

  /** Takes a recount of the current period: the 90% warning once, exhaustion into access. */
  applyUsage(next: { usage: PeriodUsage; minutesExhausted: boolean }, seq: number): void {
    const { state } = this;
    const allowance = allowanceSeconds(state.terms);
    if (
      reachedWarning(next.usage.totalSeconds, allowance) &&
      !reachedWarning(state.usage.totalSeconds, allowance)
    ) {
      this.event('usage.threshold_90', {
        periodIndex: state.periodIndex,
        usedSeconds: next.usage.totalSeconds,
        includedSeconds: allowance,
      });
      this.changed();
    }
    const holds = accessHolds(state).join();
    state.usage = next.usage;
    state.minutesExhausted = next.minutesExhausted;
    state.usageSeq = Math.max(state.usageSeq, seq);
    if (accessHolds(state).join() !== holds) this.changed();
  }

  /**
   * A usage signal: totals of the current period, read from Postgres after the events were
   * stored, are folded here (no activity, no timer touched); for another period (a renewal in
   * between) or none, the main loop reads Postgres itself.
   */
  usageSignaled(throughSeq: number, live: UsageSignalLive | undefined): void {
    const { state, run } = this;
    if (throughSeq <= Math.max(run.usageThroughSeq, state.usageSeq)) return;
    const running = state.status !== 'scheduled' && state.status !== 'canceled';
    if (live && running && live.periodIndex === state.periodIndex) {
      this.applyUsage(
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
    run.usageThroughSeq = throughSeq;
    run.wake = true;
  }

  /**
   * Closes the current period and opens the next, as planned once here (planRenewal): the new
   * period's request is open at once, its amount unknown until the activity counted the usage.
   */
  beginRenewal(): Renewal {
    const { state } = this;
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
    const billable = this.billed && state.status !== 'blocked';
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
    this.event('subscription.renewed', { periodIndex: shape.next.index, status: state.status });
    return { input: { renewal: shape, billable, request }, open, couponBefore };
  }

  /** The renewal is stored: the request's amount (or no request) and the coupon after it. */
  finishRenewal({ open, couponBefore }: Renewal, result: RenewResult): void {
    const { state } = this;
    // A coupon attached while the renewal ran applies from the next request: keep it.
    if (state.coupon === couponBefore) state.coupon = result.couponAfter;
    if (result.issued) open.totalMinor = result.issued.totalMinor;
    else state.openRequests = state.openRequests.filter((r) => r !== open);
  }

  /** The period's end when the subscription ends now: at most the period end. */
  endMs(now: number): number {
    const { state } = this;
    return Math.max(state.periodStartMs, Math.min(now, state.periodEndMs));
  }

  /** Queues the final request (usage so far, no fee) and closes the period's usage. */
  queueFinal(usage: PeriodUsage, endMs: number, now: number): void {
    const plan = finalRequest(this.state, usage, endMs);
    this.queueRequest('final', plan, endMs);
    this.commits.effects.closedPeriod = { period: plan.period, usage, closedAtMs: now };
  }

  /** Ends the subscription at `endMs`, as a cancel asked or at the period end. */
  cancel(now: number, endMs: number): void {
    const { state, run } = this;
    const request = run.cancelRequest;
    state.periodEndMs = endMs;
    // At the period end it ends on the boundary, not whenever the worker got there.
    run.canceledAtMs = request ? now : endMs;
    run.cancelReason = request?.reason ?? run.cancelReason;
    this.setStatus('canceled', {
      reason: run.cancelReason,
      when: request ? request.when : 'period_end',
    });
  }

  /** A payment outcome: the request's new status, synchronously (before any due date lands). */
  recordPayment({ requestId, status, externalReference, retry }: RecordPaymentInput): OpenRequest {
    const { state } = this;
    const now = workflowNowMs();
    const req = state.openRequests.find((r) => r.id === requestId)!;
    // State first, synchronously: a due date arriving meanwhile must not mark it overdue.
    req.status = status;
    const update: RequestUpdate = {
      requestId,
      status,
      atMs: now,
      externalReference: externalReference ?? null,
    };
    // A failed Stripe auto-charge: the workflow owns its retries from here. Histories recorded
    // before retries existed never carry `retry`; the patch marks those that do.
    if (status === 'failed' && retry && !req.retry && patched('stripe-retries')) {
      req.retry = startRetries(retry.days, now, retry.reason);
      update.failure = { reason: retry.reason, nextRetryAtMs: req.retry.nextAtMs };
      this.retryEvent('payment_request.retry_scheduled', req);
    }
    if (status !== 'failed')
      state.openRequests = state.openRequests.filter((r) => r.id !== requestId);
    this.commits.effects.requestUpdates.push(update);
    return req;
  }

  private retryEvent(type: string, req: OpenRequest): void {
    const retry = req.retry!;
    this.event(type, {
      requestId: req.id,
      retriesMade: retry.made,
      retries: retry.days.length,
      reason: retry.reason,
      nextRetryAt: retry.nextAtMs === null ? null : iso(retry.nextAtMs),
    });
  }

  /**
   * Retry number `attempt` of request `requestId` answered `result`: paid, the request is
   * settled (and the status follows); failed, the next retry is planned, or, after the last one,
   * the agency's failedPaymentAction decides: `block` starts the grace period now (blocked when
   * it ends unless paid meanwhile), `cancel` ends the subscription. Nothing when the request was
   * settled or retried meanwhile.
   */
  retryDone(requestId: string, attempt: number, result: RetryChargeResult): void {
    const { state, run } = this;
    const now = workflowNowMs();
    const req = state.openRequests.find((r) => r.id === requestId);
    if (!req?.retry || req.status !== 'failed' || req.retry.made + 1 !== attempt) return;
    if (result.outcome === 'paid') {
      req.retry = { ...req.retry, made: attempt, nextAtMs: null };
      this.retryEvent('payment_request.retry_paid', req);
      this.recordPayment({ requestId, status: 'paid', externalReference: result.invoiceId });
      this.changed();
      return;
    }
    req.retry = retryFailed(req.retry, now, result.reason);
    const update: RequestUpdate = {
      requestId,
      status: 'failed',
      atMs: now,
      externalReference: null,
      failure: { reason: result.reason, nextRetryAtMs: req.retry.nextAtMs },
    };
    this.retryEvent('payment_request.retry_failed', req);
    if (retriesExhausted(req.retry)) {
      if (result.failedPaymentAction === 'block') {
        req.graceEndsAtMs = Math.max(req.graceEndsAtMs, addDaysMs(now, state.terms.graceDays));
        update.graceEndsAtMs = req.graceEndsAtMs;
      }
      this.event('subscription.payment_retries_exhausted', {
        requestId,
        action: result.failedPaymentAction,
        graceEndsAt: iso(req.graceEndsAtMs),
      });
    }
    this.commits.effects.requestUpdates.push(update);
    // Past due first, as every retry failed; then what the agency chose.
    this.refresh(now);
    if (retriesExhausted(req.retry) && result.failedPaymentAction === 'cancel') {
      run.cancelRequest = { when: 'now', reason: 'payment_failed' };
      run.wake = true;
    }
    this.changed();
  }

  /**
   * A cancel. At the period end (of a running subscription) it is a flag the renewal reads;
   * otherwise the main loop ends the subscription (`cancelRequest`). True when there is a
   * change to store.
   */
  requestCancel(request: CancelInput): boolean {
    const { state, run } = this;
    if (request.when === 'period_end' && state.status !== 'scheduled') {
      if (!state.cancelAtPeriodEnd) {
        state.cancelAtPeriodEnd = true;
        run.cancelReason = request.reason ?? null;
        this.event('subscription.cancel_scheduled', {
          at: iso(state.periodEndMs),
          reason: run.cancelReason,
        });
      }
      return true;
    }
    // Nothing has been billed for a scheduled subscription: it ends at once.
    run.cancelRequest = request;
    run.wake = true;
    return false;
  }

  /**
   * A plan or rate change, from the next period (at once for a scheduled subscription).
   * `store` is false when nothing new was taken (a stale or a redelivered rate).
   */
  changeTerms(input: ChangeTermsInput): { answer: PendingChange | null; store: boolean } {
    const { state } = this;
    const taken = takeChange(state, input, workflowNowMs());
    if (!taken.change) return { answer: taken.prior, store: false };
    const change = taken.change;
    this.event('subscription.change_scheduled', {
      planId: change.terms?.planId ?? state.terms.planId,
      rateMinorPerMinute: change.rateMinorPerMinute,
      effectiveFromPeriodIndex: change.effectiveFromPeriodIndex,
      effectiveAt: iso(change.effectiveAtMs),
    });
    return { answer: change, store: true };
  }

  /** Attaches (or removes, with null) the coupon the next requests use. */
  setCoupon(coupon: AppliedCoupon | null): void {
    this.state.coupon = coupon;
    this.event(
      coupon ? 'subscription.coupon_applied' : 'subscription.coupon_removed',
      coupon ? { couponId: coupon.couponId, remaining: coupon.remaining } : {},
    );
  }
}
