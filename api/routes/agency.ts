/**
 * The calling agency's own settings: name, webhook endpoint, what follows failed Stripe retries.
 * Rotating its webhook secret is agency/webhook-secret.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getAgency, updateAgency } from '../../db/queries/agencies';
import { commonErrorResponses } from '../errors';
import { notFound } from '../../lib/errors';
import { newApp } from '../hono';
import { presentAgency, StripeRetryDays, WebhookUrl } from '../presenters/agency';
import { jsonBody, jsonResponse, Timestamp } from '../schemas';

const AgencySchema = z
  .object({
    id: z.string(),
    object: z.literal('agency'),
    name: z.string(),
    webhookUrl: z.string().nullable(),
    failedPaymentAction: z.enum(['block', 'cancel']).openapi({
      description:
        'When every Stripe retry failed: `block` after the grace period, or `cancel` the subscription',
    }),
    stripeRetryDays: StripeRetryDays,
    stripeAccountId: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Agency');

const UpdateAgencySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    webhookUrl: WebhookUrl.nullable(),
    failedPaymentAction: z.enum(['block', 'cancel']),
    stripeRetryDays: StripeRetryDays,
  })
  .partial()
  .strict();

const tags = ['agency'];

export function agencyRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/agency',
      tags,
      summary: 'Get the calling agency',
      responses: { 200: jsonResponse(AgencySchema, 'The agency'), ...commonErrorResponses },
    }),
    async (c) => {
      const agency = await getAgency(c.var.deps.sql, c.var.agencyId);
      if (!agency) throw notFound('agency', c.var.agencyId);
      return c.json(presentAgency(agency), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/agency',
      tags,
      summary: 'Update the agency: name, webhook URL, failed payment action, Stripe retry days',
      request: { body: jsonBody(UpdateAgencySchema) },
      responses: { 200: jsonResponse(AgencySchema, 'The agency'), ...commonErrorResponses },
    }),
    async (c) => {
      const agency = await updateAgency(c.var.deps.sql, c.var.agencyId, c.req.valid('json'));
      if (!agency) throw notFound('agency', c.var.agencyId);
      return c.json(presentAgency(agency), 200);
    },
  );

  return app;
}
