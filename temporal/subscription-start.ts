/**
 * Starting a subscription's workflow from its row. The API starts it right after inserting the
 * row and then records the start; should the process die in between, the row stays unrecorded
 * and the sweeper next to every worker (background/subscription-sweeper.ts) starts it from the row.
 * Starting is idempotent: one workflow id per subscription.
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { SubscriptionRow } from '../db/queries/subscriptions';
import {
  AgencyIdAttr,
  BillingModeAttr,
  ClientIdAttr,
  PlanIdAttr,
  SubscriptionStatusAttr,
  TASK_QUEUE,
  SUBSCRIPTION_WORKFLOW,
  type SubscriptionInput,
  type SubscriptionWorkflow,
} from '../workflows/definitions';

/** The workflow's input, as the row froze it (terms and rate at start, agents, coupon). */
export function subscriptionInputOf(
  row: SubscriptionRow,
  startAtMs: number | null,
): SubscriptionInput {
  const { rateMinorPerMinute = null, ...terms } = row.terms;
  return {
    subscriptionId: row.id,
    agencyId: row.agencyId,
    clientId: row.clientId,
    billingMode: row.billingMode,
    terms,
    rateMinorPerMinute,
    agentIds: row.agentIds,
    startAtMs,
    coupon: row.coupon,
  };
}

/** What operators filter a subscription's workflow on (Temporal UI), as it starts. */
export function startSearchAttributes(s: {
  agencyId: string;
  clientId: string;
  planId: string;
  billingMode: string;
  status: string;
}): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: AgencyIdAttr, value: s.agencyId },
    { key: ClientIdAttr, value: s.clientId },
    { key: PlanIdAttr, value: s.planId },
    { key: BillingModeAttr, value: s.billingMode },
    { key: SubscriptionStatusAttr, value: s.status },
  ]);
}

/**
 * Starts the row's workflow; one already started (running or ended) counts as started.
 * `startAtMs` null: the first period starts when the workflow first runs.
 */
export async function startSubscriptionWorkflow(
  temporal: Client,
  row: SubscriptionRow,
  startAtMs: number | null,
): Promise<void> {
  try {
    await temporal.workflow.start<SubscriptionWorkflow>(SUBSCRIPTION_WORKFLOW, {
      taskQueue: TASK_QUEUE,
      workflowId: row.workflowId,
      args: [subscriptionInputOf(row, startAtMs)],
      // One run per subscription, ever: a sweeper that read the row before the workflow ended
      // (canceled meanwhile) must not start it again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: startSearchAttributes(row),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
