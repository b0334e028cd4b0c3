/** Stripe's errors as ours, for routes that call Stripe: its outages 503, its refusals 422. */
import Stripe from 'stripe';
import { ApiError } from '../lib/errors';

/** Our error for one of Stripe's; anything else is returned as it is (the app's 500). */
export function stripeApiError(err: unknown): unknown {
  if (
    err instanceof Stripe.errors.StripeConnectionError ||
    err instanceof Stripe.errors.StripeAPIError ||
    err instanceof Stripe.errors.StripeRateLimitError
  ) {
    return new ApiError('unavailable', `Stripe did not answer (${err.message}); try again`);
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    return new ApiError('unprocessable', `Stripe refused: ${err.message}`);
  }
  return err;
}
