/**
 * POST /v1/clients/{id}/portal-sessions: a single-use sign-in link to the client portal for one
 * of the client's portal users (services/portal-sessions.ts). The agency hands the URL over (or
 * redirects its own signed-in user to it); opening it starts the client's cookie session.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createPortalSession } from '../../../services/portal-sessions';
import { commonErrorResponses, unprocessableResponse } from '../../errors';
import { newApp } from '../../hono';
import { publicOrigin } from '../../portal/http';
import { IdParam, jsonBody, jsonResponse, Timestamp } from '../../schemas';

const CreateSchema = z
  .object({
    portalUserId: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: 'One of the client\u2019s portal users, with manage_billing' }),
  })
  .strict();

const PortalSessionSchema = z
  .object({
    object: z.literal('portal_session'),
    id: z.string().openapi({ description: 'Revoke with DELETE /v1/portal-sessions/{id}' }),
    clientId: z.string(),
    portalUserId: z.string(),
    url: z.string().openapi({
      description:
        'The sign-in link: opens once, before expiresAt; shown only here (only its hash is stored)',
      example: 'https://billing.example.com/portal/session/pst_...',
    }),
    expiresAt: Timestamp.openapi({ description: 'The link is refused after this' }),
  })
  .openapi('PortalSession');

export function portalSessionCreateRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/portal-sessions',
      tags: ['portal users'],
      summary: 'Create a single-use, short-lived sign-in link to the client portal',
      request: { params: IdParam, body: jsonBody(CreateSchema) },
      responses: {
        201: jsonResponse(PortalSessionSchema, 'The session and its sign-in link'),
        ...commonErrorResponses,
        ...unprocessableResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { portalUserId } = c.req.valid('json');
      const { session, linkToken } = await createPortalSession(
        c.var.deps.sql,
        c.var.agencyId,
        id,
        portalUserId,
      );
      return c.json(
        {
          object: 'portal_session' as const,
          id: session.id,
          clientId: session.clientId,
          portalUserId: session.portalUserId,
          url: `${publicOrigin(c)}/portal/session/${linkToken}`,
          expiresAt: session.linkExpiresAt.toISOString(),
        },
        201,
      );
    },
  );
  return app;
}
