/**
 * A client's access: may it run campaigns now, and if not, why. Answered from Postgres with one
 * indexed read, since the calling platform asks before every call; the subscription workflow and
 * the client routes keep it current.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ACCESS_REASONS } from '../../../billing/access';
import { readClientAccess } from '../../../db/queries/access';
import { accessPolicy } from '../../../services/access';
import { commonErrorResponses } from '../../errors';
import { notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { IdParam, iso, jsonResponse, Timestamp } from '../../schemas';

const AccessSchema = z
  .object({
    object: z.literal('access'),
    clientId: z.string(),
    allowed: z.boolean(),
    reasons: z.array(z.enum(ACCESS_REASONS)).openapi({
      description:
        'Why campaigns are paused; empty when allowed. `payment_method_missing`: a stripe-mode client with auto-charge has no card on file yet (POST /v1/clients/{id}/payment-method/setup)',
    }),
    version: z
      .number()
      .int()
      .openapi({ description: 'Increases at every change; webhooks carry it too' }),
    changedAt: Timestamp.nullable(),
  })
  .openapi('Access');

export function accessRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/access',
      tags: ['access'],
      summary: 'Whether the client may run campaigns now, and the reasons if not',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(AccessSchema, 'The client\u2019s access'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { sql, stripe } = c.var.deps;
      const access = await readClientAccess(sql, c.var.agencyId, id, accessPolicy(stripe));
      if (!access) throw notFound('client', id);
      return c.json(
        { object: 'access' as const, ...access, changedAt: iso(access.changedAt) },
        200,
      );
    },
  );
  return app;
}
