/**
 * The activities the subscription workflow calls, proxied from the contract (never imported
 * from activities/). Domain failures are not retried: a missing row will not come back.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type {
  StripeRetryActivities,
  SubscriptionActivities,
  UsageActivities,
} from './activity-contract';
import { DOMAIN_ERRORS } from './definitions';

const retry = {
  initialInterval: '1 second',
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...DOMAIN_ERRORS],
};

export const { commitSubscription } = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '20 seconds',
  retry,
});

// Local activities run inside the workflow task that asks for them: no task queue round trip,
// one marker in history. A renewal is one: the timer fires, the period closes and its request
// is stored, and the run continues as new, all in one workflow task. They are idempotent, so a
// worker crash that makes the task run again does no harm.
export const { getPeriodUsage, readLiveUsage, renewSubscription } = proxyLocalActivities<
  SubscriptionActivities & UsageActivities
>({
  startToCloseTimeout: '20 seconds',
  retry,
});

// A retry calls Stripe: a few attempts (same key each time), then the workflow counts it as a
// failed charge rather than waiting on Stripe while renewals and deadlines queue behind it.
export const { retryStripePayment } = proxyActivities<StripeRetryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 5 },
});
