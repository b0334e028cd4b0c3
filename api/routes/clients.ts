/**
 * /v1/clients and /v1/clients/{id}: clients of an agency (billing mode, per-minute rate), and
 * disabling or enabling one. What else hangs below a client is in clients/.
 */
import { createRoute } from '@hono/zod-openapi';
import { getClient, listClients } from '../../db/queries/clients';
import { createClient, disableOrEnableClient, updateClient } from '../../services/clients';
import { commonErrorResponses, conflictResponse } from '../errors';
import { notFound } from '../../lib/errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { ClientFieldsSchema, ClientSchema, presentClient } from '../presenters/client';
import { IdParam, jsonBody, jsonResponse, updateSchemaOf } from '../schemas';

const ClientUpdateSchema = updateSchemaOf(ClientFieldsSchema);

const tags = ['clients'];

export function clientRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients',
      tags,
      summary: 'Create a client',
      request: { body: jsonBody(ClientFieldsSchema) },
      responses: {
        201: jsonResponse(ClientSchema, 'The client'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const client = await createClient(c.var.deps, c.var.agencyId, c.req.valid('json'));
      return c.json(presentClient(client), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients',
      tags,
      summary: 'List clients',
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ClientSchema, 'ClientPage'), 'A page of clients'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listClients(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentClient), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}',
      tags,
      summary: 'Get a client',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ClientSchema, 'The client'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const client = await getClient(c.var.deps.sql, c.var.agencyId, id);
      if (!client) throw notFound('client', id);
      return c.json(presentClient(client), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/clients/{id}',
      tags,
      summary:
        'Update a client (a rate change reaches running subscriptions from their next period)',
      request: { params: IdParam, body: jsonBody(ClientUpdateSchema) },
      responses: {
        200: jsonResponse(ClientSchema, 'The client'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const client = await updateClient(c.var.deps, c.var.agencyId, id, body);
      return c.json(presentClient(client), 200);
    },
  );

  // Disabling blocks the client's access (reason `client_disabled`); enabling lifts that hold.
  const switches = {
    disable: 'Disable a client: its access is blocked (reason `client_disabled`)',
    enable: 'Enable a disabled client',
  } as const;
  for (const [action, summary] of Object.entries(switches) as [keyof typeof switches, string][]) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/clients/{id}/${action}`,
        tags,
        summary,
        request: { params: IdParam },
        responses: { 200: jsonResponse(ClientSchema, 'The client'), ...commonErrorResponses },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const client = await disableOrEnableClient(c.var.deps, c.var.agencyId, id, action);
        return c.json(presentClient(client), 200);
      },
    );
  }

  return app;
}
