/** All activities, built from the dependencies the worker (or a test) creates once. */
import type { Sql } from '../db/client';
import type { WorkflowActivities } from '../workflows/activity-contract';
import { createSubscriptionActivities } from './subscription';
import { createUsageActivities } from './usage';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  sql: Sql;
  /** The platform has a Stripe set-up (the access rule for cards needs to know). Absent: false. */
  stripeConfigured?: boolean;
}

export function createActivities(deps: ActivityDeps) {
  const usage = createUsageActivities(deps);
  return {
    // A renewal closes the period's usage inside its own activity (one activity per renewal).
    ...createSubscriptionActivities({ ...deps, periodUsage: usage.getPeriodUsage }),
    ...createWebhookActivities(deps),
    ...usage,
  } satisfies WorkflowActivities;
}

export type Activities = ReturnType<typeof createActivities>;
