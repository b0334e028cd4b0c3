/** The agency as the API shows it: its own routes and the admin bootstrap share it. */
import { z } from '@hono/zod-openapi';
import type { AgencyRow } from '../../db/queries/agencies';

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .openapi({ example: 'https://agency.example/tally-webhooks' });

/** The agency without its secrets, timestamps as ISO strings. */
export function presentAgency(a: AgencyRow) {
  return {
    object: 'agency' as const,
    id: a.id,
    name: a.name,
    webhookUrl: a.webhookUrl,
    failedPaymentAction: a.failedPaymentAction,
    stripeAccountId: a.stripeAccountId,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
