/**
 * What a refused or failed call into a subscription workflow means to a caller: the one table
 * from each rejection type of its validators (`Rejection`, workflows/definitions.ts) to the error
 * code and the field it is about, and the mapping of any failed call to that error.
 */
import { ApiError, type ErrorCode } from '../lib/errors';
import { SubscriptionRenewingError, isWorkflowGone, rejectionOf } from '../temporal/rejections';
import { Rejection, type RejectionType } from '../workflows/definitions';

/** Each rejection type -> the error code it answers, and the field it is about (if one). */
const REJECTION_ERRORS = {
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

const isRejectionType = (type: string | null): type is RejectionType =>
  type !== null && Object.hasOwn(REJECTION_ERRORS, type);

/** Maps a failed call into a subscription workflow to an ApiError; anything else is rethrown. */
export function toApiError(err: unknown): never {
  const rejection = rejectionOf(err);
  if (rejection) {
    const { type, message } = rejection;
    if (isRejectionType(type)) {
      const known: { code: ErrorCode; field?: string } = REJECTION_ERRORS[type];
      throw new ApiError(known.code, message, known.field ? [{ field: known.field, message }] : []);
    }
    throw new ApiError('unprocessable', message);
  }
  if (isWorkflowGone(err)) throw new ApiError('conflict', 'the subscription has ended');
  if (err instanceof SubscriptionRenewingError) throw new ApiError('unavailable', err.message);
  throw err;
}
