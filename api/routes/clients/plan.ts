/**
 * The plan assigned to a client: assigning and removing it (the rules, the lock and the
 * live-subscription check are services/client-plan.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { assignClientPlan, removeClientPlan } from '../../../services/client-plan';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { newApp } from '../../hono';
import { IdParam, jsonBody, jsonResponse } from '../../schemas';
import { ClientSchema, presentClient } from '../../presenters/client';

const AssignPlanSchema = z.object({ planId: z.string().min(1).max(64) });

const tags = ['clients'];

export function clientPlanRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'put',
      path: '/clients/{id}/plan',
      tags,
      summary: 'Assign a plan to a client (active plans only; not while a subscription is live)',
      request: { params: IdParam, body: jsonBody(AssignPlanSchema) },
      responses: {
        200: jsonResponse(ClientSchema, 'The client with its plan'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { planId } = c.req.valid('json');
      const client = await assignClientPlan(c.var.deps.sql, c.var.agencyId, id, planId);
      return c.json(presentClient(client), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}/plan',
      tags,
      summary: 'Remove the client\u2019s plan (not while a subscription is live)',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ClientSchema, 'The client without a plan'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const client = await removeClientPlan(c.var.deps.sql, c.var.agencyId, id);
      return c.json(presentClient(client), 200);
    },
  );

  return app;
}
