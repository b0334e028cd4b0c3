/**
 * Agency bootstrap: POST /v1/agencies with the platform admin key (TALLY_ADMIN_KEY) returns the
 * agency, its first API key and its webhook secret, each shown once. Without an admin key
 * configured, agencies are created with `npm run tally -- create-agency`.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createAgency } from '../../db/queries/agencies';
import { requireAdminKey } from '../middleware/auth';
import { idempotency, markSecret } from '../middleware/idempotency';
import { commonErrorResponses } from '../errors';
import { newApp } from '../hono';
import { jsonBody, jsonResponse, Timestamp } from '../schemas';
import { presentAgency, StripeRetryDays, WebhookUrl } from '../presenters/agency';

export const ADMIN_SECURITY_SCHEME = 'adminKey';

const CreateAgencySchema = z.object({
  name: z.string().trim().min(1).max(200),
  webhookUrl: WebhookUrl.nullable().default(null),
});

const CreatedAgencySchema = z
  .object({
    agency: z.object({
      id: z.string(),
      object: z.literal('agency'),
      name: z.string(),
      webhookUrl: z.string().nullable(),
      failedPaymentAction: z.enum(['block', 'cancel']),
      stripeRetryDays: StripeRetryDays,
      stripeAccountId: z.string().nullable(),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    }),
    apiKey: z.object({
      id: z.string(),
      key: z.string().nullable().openapi({
        description: 'Shown once; store it now. Null when this answer is an idempotent replay',
      }),
      prefix: z.string(),
    }),
    webhookSecret: z.string().nullable().openapi({
      description:
        'Signs webhook deliveries. Shown once (rotate it with POST /v1/agency/webhook-secret/rotate)',
    }),
  })
  .openapi('CreatedAgency');

export function agencyAdminRoutes() {
  const app = newApp();
  app.openAPIRegistry.registerComponent('securitySchemes', ADMIN_SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'The platform admin key (TALLY_ADMIN_KEY), for agency creation only',
  });
  app.use('/agencies', requireAdminKey, idempotency);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/agencies',
      tags: ['agencies'],
      summary: 'Create an agency (platform admin key)',
      security: [{ [ADMIN_SECURITY_SCHEME]: [] }],
      request: { body: jsonBody(CreateAgencySchema) },
      responses: {
        201: jsonResponse(CreatedAgencySchema, 'The agency and its first API key'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { agency, apiKey, webhookSecret } = await createAgency(c.var.deps.sql, body);
      markSecret(c, 'apiKey.key', 'webhookSecret');
      return c.json(
        {
          agency: presentAgency(agency),
          apiKey: { id: apiKey.id, key: apiKey.key, prefix: apiKey.prefix },
          webhookSecret,
        },
        201,
      );
    },
  );
  return app;
}
