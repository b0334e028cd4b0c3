/** All activities, built from the dependencies the worker (or a test) creates once. */
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import type { WorkflowActivities } from '../workflows/activity-contract';
import { createSubscriptionActivities } from './subscription';
import { createStripeRetryActivities } from './stripe-retry';
import { createUsageActivities } from './usage';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  sql: Sql;
  /** The platform has a Stripe set-up (the access rule for cards needs to know). Absent: false. */
  stripeConfigured?: boolean;
  /** The platform's Stripe client, for the workflow's Stripe retries. Absent: none. */
  stripe?: StripePlatform | null;
}

export function createActivities(deps: ActivityDeps) {
  const usage = createUsageActivities(deps);
  return {
    // A renewal closes the period's usage inside its own activity (one activity per renewal).
    ...createSubscriptionActivities({ ...deps, periodUsage: usage.getPeriodUsage }),
    ...createWebhookActivities(deps),
    ...createStripeRetryActivities(deps),
    ...usage,
  } satisfies WorkflowActivities;
}

export type Activities = ReturnType<typeof createActivities>;
