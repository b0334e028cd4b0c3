/** POST /v1/api-keys/{id}/revoke: the key stops working at once (not the last agency key). */
import { createRoute } from '@hono/zod-openapi';
import { revokeApiKey } from '../../../db/queries/agencies';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { ApiError, notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { forgetRevokedKey } from '../../middleware/auth';
import { ApiKeySchema, presentKey } from '../../presenters/api-key';
import { IdParam, jsonResponse } from '../../schemas';

const tags = ['api keys'];

export function apiKeyRevokeRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys/{id}/revoke',
      tags,
      summary: 'Revoke an API key: it stops working at once',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ApiKeySchema, 'The revoked key'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const result = await revokeApiKey(c.var.deps.sql, c.var.agencyId, id);
      if (result.outcome === 'not_found') throw notFound('API key', id);
      if (result.outcome === 'last_agency_key') {
        throw new ApiError(
          'conflict',
          `API key ${id} is the agency's last active agency key: create another agency key before revoking it`,
        );
      }
      forgetRevokedKey(c.var.deps, result.hash);
      return c.json(presentKey(result.key), 200);
    },
  );

  return app;
}
