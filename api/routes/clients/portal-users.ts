/**
 * Client portal users: people at a client who see its billing. `manage_billing` is the one
 * permission today (see, never change plans or prices); their login arrives with the portal.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  deletePortalUser,
  getPortalUser,
  insertPortalUser,
  listPortalUsers,
  type PortalUserRow,
} from '../../../db/queries/portal-users';
import { commonErrorResponses } from '../../errors';
import { alreadyTaken, notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { Timestamp } from '../../schemas';
import { clientResourceParams, clientResourceRoutes } from '../../client-resource-routes';

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

const UserParams = clientResourceParams('userId');

function presentUser(u: PortalUserRow) {
  return { object: 'portal_user' as const, ...u, createdAt: u.createdAt.toISOString() };
}

const tags = ['portal users'];

export function portalUserRoutes() {
  const app = newApp();
  const resource = clientResourceRoutes(app, {
    path: '/clients/{id}/portal-users',
    param: 'userId',
    tags,
    noun: 'portal user',
    schema: PortalUserSchema,
    pageName: 'PortalUserPage',
    present: presentUser,
    descriptions: { entry: 'The user', page: 'A page of users' },
    queries: { list: listPortalUsers, get: getPortalUser },
  });

  resource.create('Invite a portal user to a client', {
    body: CreatePortalUserSchema,
    description: 'The portal user',
    idPrefix: 'usr',
    insert: insertPortalUser,
    taken: (body, clientId) =>
      alreadyTaken('email', `${body.email} is already a portal user of client ${clientId}`),
  });

  resource.list('List a client\u2019s portal users');
  resource.get('Get a portal user');

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
