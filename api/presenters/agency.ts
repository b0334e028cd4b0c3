/** The agency as the API shows it: its own routes and the admin bootstrap share it. */
import { z } from '@hono/zod-openapi';
import type { AgencyRow } from '../../db/queries/agencies';

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .openapi({ example: 'https://agency.example/tally-webhooks' });

/** Days from a failed Stripe charge to each retry: 1 to 10 retries, each 1 to 60 days later. */
export const StripeRetryDays = z
  .array(z.number().int().min(1).max(60))
  .min(1)
  .max(10)
  .openapi({
    example: [3, 5, 7],
    description:
      'Days between a failed Stripe auto-charge and each retry: the first retry this many days after the failure, each next one that many days after the one before (default 3, 5, 7)',
  });

/** The agency without its secrets, timestamps as ISO strings. */
export function presentAgency(a: AgencyRow) {
  return {
    object: 'agency' as const,
    id: a.id,
    name: a.name,
    webhookUrl: a.webhookUrl,
    failedPaymentAction: a.failedPaymentAction,
    stripeRetryDays: a.stripeRetryDays,
    stripeAccountId: a.stripeAccountId,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
