/**
 * Sending updates to a subscription workflow from the API. The workflow's validators reject bad
 * requests before they reach history, as ApplicationFailures with a type; here each type becomes
 * the HTTP error that says what to do.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../../db/client';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import { ApiError, type ErrorCode } from '../errors';

/** Workflow rejection type -> API error code (and the field it is about, if one). */
const REJECTIONS: Record<string, { code: ErrorCode; field?: string }> = {
  SubscriptionCanceled: { code: 'conflict' },
  SubscriptionBlocked: { code: 'conflict' },
  RequestNotOpen: { code: 'conflict' },
  InvalidTransition: { code: 'conflict', field: 'status' },
  InvalidStatus: { code: 'validation_failed', field: 'status' },
  InvalidCancel: { code: 'validation_failed', field: 'when' },
  InvalidChange: { code: 'validation_failed', field: 'body' },
  InvalidRate: { code: 'validation_failed', field: 'rateMinorPerMinute' },
  CurrencyMismatch: { code: 'unprocessable', field: 'planId' },
  InvalidCoupon: { code: 'unprocessable', field: 'couponId' },
};

/** The rejection type of a failed update, if the workflow rejected it. */
export function rejectionType(err: unknown): string | null {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}

/** Maps a failed workflow update to an ApiError; anything else is rethrown as is. */
export function toApiError(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const known = REJECTIONS[err.cause.type ?? ''];
    const message = err.cause.message;
    if (known) {
      throw new ApiError(known.code, message, known.field ? [{ field: known.field, message }] : []);
    }
    throw new ApiError('unprocessable', message);
  }
  if (err instanceof WorkflowNotFoundError) {
    throw new ApiError('conflict', 'the subscription has ended');
  }
  throw err;
}

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
      if (rejectionType(err) !== 'RenewalInProgress') throw err;
      const wait = RENEWAL_RETRY_MS[attempt];
      if (wait === undefined)
        throw new ApiError(
          'unavailable',
          'the subscription is renewing; try again in a few seconds',
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Runs an update on subscription `id`'s workflow, mapping rejections to API errors. No workflow
 * for a row that is still live means it was never started (a crash between inserting the row and
 * starting it; the worker's sweeper starts it within a minute): 503, try again.
 */
export async function updateSubscription<R>(
  deps: { temporal: Client; sql: Sql },
  subscriptionId: string,
  send: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<R>,
): Promise<R> {
  const handle = deps.temporal.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
  try {
    return await sendWhileRenewing(() => send(handle));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const [row] = await deps.sql<{ live: boolean }[]>`
        select status <> 'canceled' as live from subscriptions where id = ${subscriptionId}`;
      if (row?.live)
        throw new ApiError('unavailable', 'the subscription is starting; try again in a minute');
    }
    return toApiError(err);
  }
}
