/** DELETE /v1/portal-sessions/{id}: the agency revokes a portal session (its link and cookie). */
import { createRoute } from '@hono/zod-openapi';
import { endPortalSession } from '../../services/portal-sessions';
import { commonErrorResponses } from '../errors';
import { newApp } from '../hono';
import { IdParam } from '../schemas';

export function portalSessionRevokeRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/portal-sessions/{id}',
      tags: ['portal users'],
      summary: 'Revoke a portal session: its link is refused and its signed-in browser signed out',
      request: { params: IdParam },
      responses: { 204: { description: 'Revoked (again: still 204)' }, ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await endPortalSession(c.var.deps.sql, c.var.agencyId, id);
      return c.body(null, 204);
    },
  );
  return app;
}
