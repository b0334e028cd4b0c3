/**
 * Every call into a running subscription workflow from outside it: the state query, the updates
 * (cancel, changeTerms, setCoupon, recordPayment) and the usage signal. The workflow's validators
 * reject bad updates before they reach history (temporal/rejections.ts reads why); a
 * `RenewalInProgress` rejection only means "a moment later", so an update is sent again.
 */
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { AppliedCoupon } from '../billing/terms';
import {
  Rejection,
  cancelUpdate,
  changeTermsUpdate,
  recordPaymentUpdate,
  setCouponUpdate,
  stateQuery,
  subscriptionWorkflowId,
  usageSignal,
  type CancelInput,
  type ChangeTermsInput,
  type RecordPaymentInput,
  type SubscriptionView,
  type UsageSignalLive,
} from '../workflows/definitions';
import { SubscriptionRenewingError, rejectionType } from './rejections';

const RENEWAL_RETRY_MS = [50, 100, 200, 400, 800, 1500];

/**
 * Sends an update, again a moment later while the workflow answers that it is renewing (the
 * renewal takes one workflow task, milliseconds unless the worker is far behind).
 */
export async function sendWhileRenewing<R>(send: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (rejectionType(err) !== Rejection.RenewalInProgress) throw err;
      const wait = RENEWAL_RETRY_MS[attempt];
      if (wait === undefined) throw new SubscriptionRenewingError();
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** How long each attempt of an update may take (none: the client's own default). */
export interface UpdateOptions {
  deadlineMs?: number;
}

async function update<Ret, Arg>(
  temporal: Client,
  subscriptionId: string,
  def: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  o: UpdateOptions = {},
): Promise<Ret> {
  const handle = temporal.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
  const send = () => handle.executeUpdate(def, { args: [arg] });
  return sendWhileRenewing(() =>
    o.deadlineMs === undefined ? send() : temporal.withDeadline(Date.now() + o.deadlineMs, send),
  );
}

/** Cancels now or at the period end; answers once the workflow stored it. */
export const cancelSubscription = (temporal: Client, subscriptionId: string, input: CancelInput) =>
  update(temporal, subscriptionId, cancelUpdate, input);

/** Plan terms and/or rate from the next period on. */
export const changeSubscriptionTerms = (
  temporal: Client,
  subscriptionId: string,
  input: ChangeTermsInput,
  o?: UpdateOptions,
) => update(temporal, subscriptionId, changeTermsUpdate, input, o);

/** Attaches a coupon from the next request on (null removes it). */
export const setSubscriptionCoupon = (
  temporal: Client,
  subscriptionId: string,
  coupon: AppliedCoupon | null,
) => update(temporal, subscriptionId, setCouponUpdate, coupon);

/** A payment outcome of one of the workflow's open cycle requests. */
export const recordSubscriptionPayment = (
  temporal: Client,
  subscriptionId: string,
  input: RecordPaymentInput,
) => update(temporal, subscriptionId, recordPaymentUpdate, input);

/** The workflow's live view (status, period, open requests, next timer). */
export const querySubscriptionState = (
  temporal: Client,
  subscriptionId: string,
): Promise<SubscriptionView> =>
  temporal.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).query(stateQuery);

/** Tells the workflow usage was stored (dispatch generation `throughSeq`, live totals if read). */
export const signalUsage = (
  temporal: Client,
  subscriptionId: string,
  throughSeq: number,
  live: UsageSignalLive | undefined,
): Promise<void> =>
  temporal.workflow
    .getHandle(subscriptionWorkflowId(subscriptionId))
    .signal(usageSignal, live ? { throughSeq, live } : { throughSeq });
