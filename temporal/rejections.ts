/**
 * Reading why a subscription workflow refused an update. Its validators throw an
 * ApplicationFailure whose type is one of `Rejection` (workflows/definitions.ts); this module
 * holds the one table from each rejection type to the error callers answer with, and maps any
 * failed call into a workflow to that error.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError, type ErrorCode } from '../lib/errors';
import { Rejection, type RejectionType } from '../workflows/definitions';

/** Each rejection type -> the error code it answers, and the field it is about (if one). */
export const REJECTION_ERRORS = {
  // Sent again while it lasts (sendWhileRenewing); after the last retry, "try again".
  [Rejection.RenewalInProgress]: { code: 'unavailable' },
  [Rejection.SubscriptionCanceled]: { code: 'conflict' },
  [Rejection.SubscriptionBlocked]: { code: 'conflict' },
  [Rejection.RequestNotOpen]: { code: 'conflict' },
  [Rejection.InvalidTransition]: { code: 'conflict', field: 'status' },
  [Rejection.InvalidStatus]: { code: 'validation_failed', field: 'status' },
  [Rejection.InvalidCancel]: { code: 'validation_failed', field: 'when' },
  [Rejection.InvalidChange]: { code: 'validation_failed', field: 'body' },
  [Rejection.InvalidRate]: { code: 'validation_failed', field: 'rateMinorPerMinute' },
  [Rejection.CurrencyMismatch]: { code: 'unprocessable', field: 'planId' },
  [Rejection.InvalidCoupon]: { code: 'unprocessable', field: 'couponId' },
} as const satisfies Record<RejectionType, { code: ErrorCode; field?: string }>;

/** The workflow was still renewing after every retry (the API answers 503 unavailable). */
export class SubscriptionRenewingError extends Error {
  constructor() {
    super('the subscription is renewing; try again in a few seconds');
    this.name = 'SubscriptionRenewingError';
  }
}

/** The rejection type of a failed update, if the workflow rejected it. */
export function rejectionType(err: unknown): string | null {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}

/** True when the call found no workflow (never started, or ended and gone). */
export function isWorkflowGone(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}

const isRejectionType = (type: string | null): type is RejectionType =>
  type !== null && Object.hasOwn(REJECTION_ERRORS, type);

/** Maps a failed call into a subscription workflow to an ApiError; anything else is rethrown. */
export function toApiError(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = err.cause.type ?? null;
    const message = err.cause.message;
    if (isRejectionType(type)) {
      const known: { code: ErrorCode; field?: string } = REJECTION_ERRORS[type];
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
