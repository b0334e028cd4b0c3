/** Every workflow the worker registers. */
export { subscriptionWorkflow } from './subscription';
export { webhookDeliveryWorkflow } from './webhook-delivery';
