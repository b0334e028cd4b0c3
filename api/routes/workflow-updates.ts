/**
 * Sending updates to a subscription workflow from the API (lib/workflow-updates.ts sends them):
 * each rejection type of the workflow's validators becomes the HTTP error that says what to do.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../../db/client';
import { subscriptionIsLive } from '../../db/queries/subscriptions';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import { ApiError, type ErrorCode } from '../errors';
import { SubscriptionRenewingError, sendWhileRenewing } from '../../lib/workflow-updates';

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
  if (err instanceof SubscriptionRenewingError) throw new ApiError('unavailable', err.message);
  throw err;
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
      if (await subscriptionIsLive(deps.sql, subscriptionId))
        throw new ApiError('unavailable', 'the subscription is starting; try again in a minute');
    }
    return toApiError(err);
  }
}
