/** POST /v1/clients/{id}/disable: its access is blocked (services/clients.ts). */
import { createRoute } from '@hono/zod-openapi';
import { disableOrEnableClient } from '../../../services/clients';
import { commonErrorResponses } from '../../errors';
import { newApp } from '../../hono';
import { ClientSchema, presentClient } from '../../presenters/client';
import { IdParam, jsonResponse } from '../../schemas';

export function clientDisableRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/disable',
      tags: ['clients'],
      summary: 'Disable a client: its access is blocked (reason `client_disabled`)',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ClientSchema, 'The client'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const client = await disableOrEnableClient(c.var.deps, c.var.agencyId, id, 'disable');
      return c.json(presentClient(client), 200);
    },
  );
  return app;
}
