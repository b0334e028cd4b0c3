/**
 * Webhook delivery. An access change writes an outbox row in its own transaction; right after
 * commit a workflow `webhook-<deliveryId>` is started for it (temporal/webhook-deliveries.ts),
 * whose one activity (below) posts the signed payload and is retried with exponential backoff
 * until the endpoint answers 2xx. Temporal keeps the retries going across worker restarts; the
 * sweeper (background/webhook-sweeper.ts) starts workflows for rows a crash left undispatched.
 * Delivery is at least once: receivers dedupe by the payload's `id` and order by `data.version`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/client';
import { getDeliveryToSend, markDelivered, recordFailedAttempt } from '../db/queries/webhooks';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';

const ATTEMPT_TIMEOUT_MS = 10_000;

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
