/**
 * Webhook delivery. An access change writes an outbox row in its own transaction; right after
 * commit a workflow `webhook-<deliveryId>` is started for it, whose one activity posts the signed
 * payload and is retried with exponential backoff until the endpoint answers 2xx. Temporal keeps
 * the retries going across worker restarts; the sweeper (worker/webhook-sweeper.ts) starts
 * workflows for rows a crash left undispatched. Delivery is at least once: receivers dedupe by
 * the payload's `id` and order by `data.version`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import {
  getDeliveryToSend,
  markDelivered,
  markDispatched,
  recordFailedAttempt,
} from '../db/queries/webhooks';
import { TASK_QUEUE, webhookDeliveryWorkflowId } from '../workflows/definitions';
import type { webhookDeliveryWorkflow } from '../workflows/webhook-delivery';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';

const ATTEMPT_TIMEOUT_MS = 10_000;

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
      await temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
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

export function createWebhookActivities({ sql }: { sql: Sql }) {
  return {
    /** Posts one outbox row to its endpoint, signed; throws (retryable) until it gets a 2xx. */
    async deliverWebhook({ deliveryId }: { deliveryId: string }): Promise<{ attempts: number }> {
      const d = await getDeliveryToSend(sql, deliveryId);
      if (!d) {
        throw ApplicationFailure.create({
          type: 'WebhookDeliveryNotFound',
          message: `webhook delivery ${deliveryId} not found`,
          nonRetryable: true,
        });
      }
      const attempt = Context.current().info.attempt;
      if (d.status === 'delivered') return { attempts: d.attempts };
      const body = JSON.stringify(d.payload);
      const timestamp = Math.floor(Date.now() / 1000);
      let failure: string;
      try {
        const res = await fetch(d.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Tally-Webhooks/1',
            [SIGNATURE_HEADER]: signatureHeader(d.secret, timestamp, body),
            'tally-event-id': String(d.payload.id),
            'tally-delivery-id': d.id,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) {
          await markDelivered(sql, d.id, attempt);
          return { attempts: attempt };
        }
        failure = `endpoint answered ${res.status}`;
      } catch (err) {
        failure = `could not reach the endpoint: ${(err as Error).message}`;
      }
      await recordFailedAttempt(sql, d.id, attempt, failure);
      throw ApplicationFailure.retryable(failure, 'WebhookDeliveryFailed');
    },
  };
}
