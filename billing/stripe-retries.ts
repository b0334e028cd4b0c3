/**
 * Stripe retries: a failed auto-charge is charged again on a schedule of days (the agency's
 * `stripeRetryDays`, 3, 5, 7 by default): the first retry that many days after the failure, each
 * next one that many days after the retry before it. The subscription workflow carries the
 * schedule on the open request; these are its pure rules.
 */
import { addDaysMs } from './periods';

/** A failed request's retry schedule, as the workflow carries it on the open request. */
export interface PaymentRetry {
  /** Days before each retry, as the agency had them when the first charge failed. */
  days: number[];
  /** Retries made so far (0 until the first retry ran). */
  made: number;
  /** When the next retry runs; null once every retry failed. */
  nextAtMs: number | null;
  /** Why the last charge failed, when known. */
  reason: string | null;
}

/** The schedule after the first charge failed at `failedAtMs`. */
export function startRetries(
  days: number[],
  failedAtMs: number,
  reason: string | null,
): PaymentRetry {
  return { days: [...days], made: 0, nextAtMs: nextRetryAtMs(days, 0, failedAtMs), reason };
}

/** When retry number `made + 1` runs, counted from `fromMs`; null when none is left. */
export function nextRetryAtMs(days: number[], made: number, fromMs: number): number | null {
  const gap = days[made];
  return gap === undefined ? null : addDaysMs(fromMs, gap);
}

/** The schedule after retry number `retry.made + 1` failed at `atMs`. */
export function retryFailed(
  retry: PaymentRetry,
  atMs: number,
  reason: string | null,
): PaymentRetry {
  const made = retry.made + 1;
  return {
    ...retry,
    made,
    nextAtMs: nextRetryAtMs(retry.days, made, atMs),
    reason: reason ?? retry.reason,
  };
}

/** Every retry ran and failed. */
export function retriesExhausted(retry: PaymentRetry | undefined): boolean {
  return retry !== undefined && retry.nextAtMs === null;
}

/** Retries are still planned: the request is not past its end yet (no block meanwhile). */
export function retrying(retry: PaymentRetry | undefined): boolean {
  return retry !== undefined && retry.nextAtMs !== null;
}
