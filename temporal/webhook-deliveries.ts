/**
 * Starting webhook delivery workflows: one per outbox row (id `webhook-<deliveryId>`), right
 * after the row commits; the sweeper (background/webhook-sweeper.ts) starts those a crash left
 * behind. The delivery itself is the `deliverWebhook` activity (activities/webhooks.ts).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { markDispatched } from '../db/queries/webhooks';
import {
  TASK_QUEUE,
  WEBHOOK_DELIVERY_WORKFLOW,
  webhookDeliveryWorkflowId,
  type WebhookDeliveryWorkflow,
} from '../workflows/definitions';

/**
 * Starts the delivery workflow of each outbox row. Idempotent: the workflow id is the row's, so
 * a row already being delivered is left alone (and a delivered one is never sent again).
 */
export async function dispatchDeliveries(
  sql: Sql,
  temporal: Client,
  deliveryIds: string[],
): Promise<void> {
  const started: string[] = [];
  for (const deliveryId of deliveryIds) {
    try {
      await temporal.workflow.start<WebhookDeliveryWorkflow>(WEBHOOK_DELIVERY_WORKFLOW, {
        taskQueue: TASK_QUEUE,
        workflowId: webhookDeliveryWorkflowId(deliveryId),
        args: [{ deliveryId }],
        // A failed or terminated delivery may be started again by the sweeper; a completed one not.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      started.push(deliveryId);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) started.push(deliveryId);
      else throw err;
    }
  }
  await markDispatched(sql, started);
}
