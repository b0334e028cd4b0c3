/**
 * One workflow per webhook outbox row (id `webhook-<deliveryId>`): its activity is retried with
 * exponential backoff, without limit, until the agency's endpoint accepts the event. The
 * workflow is what makes the retries survive worker restarts; its history stays a handful of
 * events however many attempts it takes (retries are not recorded one by one).
 */
import { proxyActivities } from '@temporalio/workflow';
import type {
  DeliverWebhookInput,
  DeliverWebhookResult,
  WebhookActivities,
} from './activity-contract';
import { DOMAIN_ERRORS } from './definitions';

const { deliverWebhook } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    // No maximumAttempts: unlimited, until delivered.
    nonRetryableErrorTypes: [...DOMAIN_ERRORS],
  },
});

export async function webhookDeliveryWorkflow(
  input: DeliverWebhookInput,
): Promise<DeliverWebhookResult> {
  return deliverWebhook(input);
}
