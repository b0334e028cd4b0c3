/** All activities, built from the dependencies the worker (or a test) creates once. */
import type { Sql } from '../db/client';
import { createSubscriptionActivities } from './subscription';
import { createUsageActivities } from './usage';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  sql: Sql;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSubscriptionActivities(deps),
    ...createWebhookActivities(deps),
    ...createUsageActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
