/** POST /v1/agency/webhook-secret/rotate: a new webhook signing secret, shown once. */
import { createRoute, z } from '@hono/zod-openapi';
import { rotateWebhookSecret } from '../../../db/queries/agencies';
import { commonErrorResponses } from '../../errors';
import { notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { markSecret } from '../../middleware/idempotency';
import { jsonResponse } from '../../schemas';

const WebhookSecretSchema = z
  .object({
    object: z.literal('webhook_secret'),
    webhookSecret: z.string().nullable().openapi({
      description:
        'Signs webhook deliveries. Shown once; null when this answer is an idempotent replay',
    }),
  })
  .openapi('WebhookSecret');

const tags = ['agency'];

export function webhookSecretRoutes() {
  const app = newApp();

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
