/**
 * One long-lived workflow per subscription (id `subscription-<id>`). It owns time: it sleeps
 * until the period ends or a due date / grace end arrives, issues cycle payment requests, moves
 * the status through active, past_due and blocked, and continues as new at every renewal so each
 * run's history holds one period.
 *
 * Shape: the state and its transitions are one entity (subscription-entity.ts), carried across
 * continue-as-new. Handlers (subscription-handlers.ts) validate, change the entity and queue
 * effects; only the main loop below talks to Postgres, through one activity per step
 * (subscription-commits.ts), so the read model sees states in the order the workflow had them.
 */
import {
  ActivityFailure,
  condition,
  makeContinueAsNewFunc,
  workflowInfo,
} from '@temporalio/workflow';
import type { PeriodUsage } from '../billing/invoice';
import type { Period } from '../billing/periods';
import { accessHolds, initialState, rateInEffect } from '../billing/subscription';
import { firstRequest } from '../billing/subscription-requests';
import { workflowNowMs } from './clock';
import type { RetryChargeResult } from './activity-contract';
import type { SubscriptionInput, SubscriptionView } from './definitions';
import { getPeriodUsage, readLiveUsage, retryStripePayment } from './subscription-activities';
import { Orphaned, commit, commitRenewal, settle } from './subscription-commits';
import { SubscriptionEntity } from './subscription-entity';
import { registerHandlers } from './subscription-handlers';
import { dueRetry, handoverDelayMs, nextTimer } from './subscription-rules';
import { toView } from './subscription-view';

export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionView> {
  const state = input.state ?? initialState(input, input.startAtMs ?? workflowNowMs());
  const sub = new SubscriptionEntity(input, state);
  const { run, commits } = sub;
  registerHandlers(sub);

  /** Sleeps until woken (a change, a signal, a cancel) or `timeoutMs` passed. */
  const sleep = (timeoutMs: number) => {
    run.wake = false;
    return condition(() => run.wake || run.cancelRequest !== null, timeoutMs);
  };

  try {
    // --- First run: wait for a scheduled start, then bill the first period in advance. ---
    if (!input.state) {
      if (state.anchorMs > workflowNowMs()) await commit(sub);
      while (run.cancelRequest === null && state.anchorMs > workflowNowMs()) {
        if (commits.pendingWork()) {
          await commit(sub);
          continue;
        }
        await sleep(state.anchorMs - workflowNowMs());
      }
      if (run.cancelRequest === null) {
        sub.setStatus('active');
        // A backdated start is billed when it was created, not before it existed.
        const issuedAtMs = Math.max(state.anchorMs, workflowInfo().startTime.getTime());
        sub.queueRequest('cycle', firstRequest(state), issuedAtMs);
        await commit(sub);
      }
    }

    // --- The main loop: act on what is due, store it, then sleep until the next deadline. ---
    for (;;) {
      const now = workflowNowMs();
      if (run.cancelRequest !== null || (state.cancelAtPeriodEnd && now >= state.periodEndMs)) {
        return await end(sub);
      }
      // Before a second renewal (a worker far behind): at most one renewal per run.
      if (run.handoverAtMs !== null && now >= run.handoverAtMs) return await continueAsNew(sub);
      if (now >= state.periodEndMs) {
        const boundary = state.periodEndMs;
        await renew(sub);
        // The request is stored; the hand-over to a new run can wait its turn.
        run.handoverAtMs =
          boundary +
          handoverDelayMs(
            input.subscriptionId,
            state.periodEndMs - state.periodStartMs,
            input.handoverSpreadMs,
          );
        continue;
      }
      if (run.usageThroughSeq > state.usageSeq) {
        const before = accessHolds(state).join();
        await foldUsage(sub);
        if (accessHolds(state).join() !== before) sub.changed();
      }
      const retry = dueRetry(state, now);
      if (retry) {
        await retryCharge(sub, retry.id, retry.retry!.made + 1);
        continue;
      }
      sub.refresh();
      if (commits.pendingWork()) {
        await commit(sub);
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) return await continueAsNew(sub);
      const timer = nextTimer(state, now);
      const handoverAtMs = run.handoverAtMs;
      const wakeAtMs = handoverAtMs === null ? timer.atMs : Math.min(timer.atMs, handoverAtMs);
      await sleep(Math.max(1, wakeAtMs - now));
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

/** The period close: usage of a period as the usage pools bill it (activities/usage.ts). */
function usageOf(sub: SubscriptionEntity, period: Period, final: boolean): Promise<PeriodUsage> {
  // Before a renewal applies a pending change: the terms and rate of the period closed.
  return getPeriodUsage({
    ...sub.ids,
    period,
    final,
    terms: sub.state.terms,
    rateMinorPerMinute: rateInEffect(sub.state),
  });
}

/**
 * USAGE FOLDING (usage issue): fold usage stored up to `usageThroughSeq` into `state.usage`,
 * and set `state.minutesExhausted` when included and wallet minutes are spent and the plan
 * allows no overage. Access follows through accessHolds() at the next commit.
 */
async function foldUsage(sub: SubscriptionEntity): Promise<void> {
  // The counters are a recount of what Postgres holds for this period (a local activity), so
  // folding is idempotent: signals in any order or number give the same state. A signal
  // arriving during the read raises usageThroughSeq above the target and folds again.
  const target = sub.run.usageThroughSeq;
  const live = await readLiveUsage({
    ...sub.ids,
    period: sub.period(),
    terms: sub.state.terms,
    rateMinorPerMinute: rateInEffect(sub.state),
  });
  // A signal carrying fresher totals may have been folded while this read was in flight.
  if (sub.state.usageSeq >= target) return;
  sub.applyUsage(live, target);
}

/**
 * Closes the current period and opens the next: usage in arrears, flat fee in advance. One
 * activity closes the usage, builds the request and stores it with the new period.
 */
async function renew(sub: SubscriptionEntity): Promise<void> {
  const renewal = sub.beginRenewal();
  sub.finishRenewal(renewal, await commitRenewal(sub, renewal.input));
}

/**
 * A Stripe retry: one pay call (its own key per attempt), its answer into the entity. Stripe
 * out of reach after the activity's attempts counts as a failed charge, so the schedule, and
 * the renewals behind it, never wait on Stripe.
 */
async function retryCharge(sub: SubscriptionEntity, requestId: string, attempt: number) {
  let result: RetryChargeResult;
  try {
    result = await retryStripePayment({ ...sub.ids, requestId, attempt });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    result = {
      outcome: 'failed',
      reason: `Stripe could not be reached: ${err.cause?.message ?? err.message}`,
      invoiceId: null,
      failedPaymentAction: 'block',
    };
  }
  sub.retryDone(requestId, attempt, result);
}

/** Ends the subscription: a final request for the usage so far, then `canceled`. */
async function end(sub: SubscriptionEntity): Promise<SubscriptionView> {
  const now = workflowNowMs();
  const endMs = sub.endMs(now);
  if (sub.state.status !== 'scheduled') {
    const usage = await usageOf(sub, { ...sub.period(), endMs }, true);
    sub.queueFinal(usage, endMs, now);
  }
  sub.cancel(now, endMs);
  await commit(sub);
  sub.run.ended = true;
  await settle(sub, () => false); // the cancel handler answers now
  return toView(sub.input, sub.state, workflowNowMs());
}

/**
 * Settles, then continues as new with the state (and how far usage was signaled), keeping
 * what operators filter on; or ends, when a cancel arrived meanwhile.
 */
async function continueAsNew(sub: SubscriptionEntity): Promise<SubscriptionView> {
  // A cancel stops the wait: its handler waits for the subscription to end, not to hand over.
  await settle(sub, () => sub.run.cancelRequest !== null);
  if (sub.run.cancelRequest !== null) return end(sub);
  sub.state.usageSignaledSeq = sub.run.usageThroughSeq;
  return makeContinueAsNewFunc<typeof subscriptionWorkflow>({
    typedSearchAttributes: workflowInfo().typedSearchAttributes,
  })({ ...sub.input, state: sub.state });
}
