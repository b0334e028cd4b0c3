/** The calling agency's own settings: name, webhook endpoint, what follows failed Stripe retries. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getAgency,
  rotateWebhookSecret,
  updateAgency,
  type AgencyRow,
} from '../../db/queries/agencies';
import { commonErrorResponses, notFound } from '../errors';
import { newApp } from '../hono';
import { markSecret } from '../middleware/idempotency';
import { jsonBody, jsonResponse, Timestamp } from '../schemas';

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .openapi({ example: 'https://agency.example/tally-webhooks' });

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
  })
  .partial()
  .strict();

const WebhookSecretSchema = z
  .object({
    object: z.literal('webhook_secret'),
    webhookSecret: z.string().nullable().openapi({
      description:
        'Signs webhook deliveries. Shown once; null when this answer is an idempotent replay',
    }),
  })
  .openapi('WebhookSecret');

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
      summary: 'Update the agency: name, webhook URL, failed payment action',
      request: { body: jsonBody(UpdateAgencySchema) },
      responses: { 200: jsonResponse(AgencySchema, 'The agency'), ...commonErrorResponses },
    }),
    async (c) => {
      const agency = await updateAgency(c.var.deps.sql, c.var.agencyId, c.req.valid('json'));
      if (!agency) throw notFound('agency', c.var.agencyId);
      return c.json(presentAgency(agency), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/agency/webhook-secret/rotate',
      tags,
      summary: 'Rotate the webhook signing secret (the new one is shown once)',
      responses: {
        200: jsonResponse(WebhookSecretSchema, 'The new secret'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const secret = await rotateWebhookSecret(c.var.deps.sql, c.var.agencyId);
      if (!secret) throw notFound('agency', c.var.agencyId);
      markSecret(c, 'webhookSecret');
      return c.json({ object: 'webhook_secret' as const, webhookSecret: secret }, 200);
    },
  );

  return app;
}
