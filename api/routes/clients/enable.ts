/** POST /v1/clients/{id}/enable: a disabled client again allowed (services/clients.ts). */
import { createRoute } from '@hono/zod-openapi';
import { disableOrEnableClient } from '../../../services/clients';
import { commonErrorResponses } from '../../errors';
import { newApp } from '../../hono';
import { ClientSchema, presentClient } from '../../presenters/client';
import { IdParam, jsonResponse } from '../../schemas';

export function clientEnableRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/enable',
      tags: ['clients'],
      summary: 'Enable a disabled client',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ClientSchema, 'The client'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const client = await disableOrEnableClient(c.var.deps, c.var.agencyId, id, 'enable');
      return c.json(presentClient(client), 200);
    },
  );
  return app;
}
