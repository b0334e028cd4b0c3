/**
 * Client portal users: people at a client who see its billing. `manage_billing` is the one
 * permission today (see, never change plans or prices); their login arrives with the portal.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getClient } from '../../db/queries/clients';
import {
  deletePortalUser,
  getPortalUser,
  insertPortalUser,
  listPortalUsers,
  type PortalUserRow,
} from '../../db/queries/portal-users';
import { newId } from '../../lib/ids';
import {
  alreadyTaken,
  commonErrorResponses,
  conflictResponse,
  isUniqueViolation,
  notFound,
} from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, jsonBody, jsonResponse, Timestamp } from '../schemas';

const Permission = z.enum(['manage_billing']);

const CreatePortalUserSchema = z.object({
  // Stored in lower case: one person, one login, however they type their address.
  email: z.email().max(320).toLowerCase(),
  permissions: z
    .array(Permission)
    .min(1)
    .max(1)
    .default(['manage_billing'])
    .openapi({ description: '`manage_billing`: sees the client\u2019s plan, usage and invoices' }),
});

const PortalUserSchema = z
  .object({
    id: z.string(),
    object: z.literal('portal_user'),
    clientId: z.string(),
    email: z.string(),
    permissions: z.array(Permission),
    createdAt: Timestamp,
  })
  .openapi('PortalUser');

const UserParams = IdParam.extend({
  userId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'userId', in: 'path' } }),
});

function presentUser(u: PortalUserRow) {
  return { object: 'portal_user' as const, ...u, createdAt: u.createdAt.toISOString() };
}

const tags = ['portal users'];

export function portalUserRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/portal-users',
      tags,
      summary: 'Invite a portal user to a client',
      request: { params: IdParam, body: jsonBody(CreatePortalUserSchema) },
      responses: {
        201: jsonResponse(PortalUserSchema, 'The portal user'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const { sql } = c.var.deps;
      if (!(await getClient(sql, c.var.agencyId, id))) throw notFound('client', id);
      try {
        const user = await insertPortalUser(sql, {
          id: newId('usr'),
          agencyId: c.var.agencyId,
          clientId: id,
          ...body,
        });
        return c.json(presentUser(user), 201);
      } catch (err) {
        if (isUniqueViolation(err))
          throw alreadyTaken('email', `${body.email} is already a portal user of client ${id}`);
        throw err;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/portal-users',
      tags,
      summary: 'List a client\u2019s portal users',
      request: { params: IdParam, query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(PortalUserSchema, 'PortalUserPage'), 'A page of users'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const { sql } = c.var.deps;
      if (!(await getClient(sql, c.var.agencyId, id))) throw notFound('client', id);
      const rows = await listPortalUsers(sql, { agencyId: c.var.agencyId, clientId: id, ...q });
      return c.json(pageOf(rows.map(presentUser), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/portal-users/{userId}',
      tags,
      summary: 'Get a portal user',
      request: { params: UserParams },
      responses: { 200: jsonResponse(PortalUserSchema, 'The user'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const user = await getPortalUser(c.var.deps.sql, c.var.agencyId, id, userId);
      if (!user) throw notFound('portal user', userId);
      return c.json(presentUser(user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}/portal-users/{userId}',
      tags,
      summary: 'Remove a portal user',
      request: { params: UserParams },
      responses: { 204: { description: 'Removed' }, ...commonErrorResponses },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const removed = await deletePortalUser(c.var.deps.sql, c.var.agencyId, id, userId);
      if (!removed) throw notFound('portal user', userId);
      return c.body(null, 204);
    },
  );

  return app;
}
