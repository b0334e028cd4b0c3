/** Every workflow the worker registers, under the names and signatures of the contract. */
import type { SubscriptionWorkflow, WebhookDeliveryWorkflow } from './definitions';
import { subscriptionWorkflow } from './subscription';
import { webhookDeliveryWorkflow } from './webhook-delivery';

// A workflow whose signature drifts from the contract (what temporal/ starts) fails to compile.
const _registered = {
  subscriptionWorkflow,
  webhookDeliveryWorkflow,
} satisfies {
  subscriptionWorkflow: SubscriptionWorkflow;
  webhookDeliveryWorkflow: WebhookDeliveryWorkflow;
};

export { subscriptionWorkflow, webhookDeliveryWorkflow };
