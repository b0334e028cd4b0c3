/** Clients of an agency: billing mode, per-minute rate, assigned plan. */
import { createRoute, z } from '@hono/zod-openapi';
import { getClient, listClients, type ClientRow } from '../../db/queries/clients';
import { createClient, disableOrEnableClient, updateClient } from '../../services/clients';
import { commonErrorResponses, conflictResponse, notFound } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, jsonBody, jsonResponse, Rate, Timestamp, updateSchemaOf } from '../schemas';

const ClientFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  externalId: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .default(null)
    .openapi({ description: 'The agency\u2019s own id for the client (usage events may use it)' }),
  email: z.email().nullable().default(null),
  billingMode: z.enum(['stripe', 'manual', 'track_only']).default('manual'),
  billingEnabled: z.boolean().default(true),
  rateMinorPerMinute: Rate.nullable()
    .default(null)
    .openapi({ description: 'The client\u2019s per-minute rate; must be above the platform rate' }),
});

const ClientUpdateSchema = updateSchemaOf(ClientFieldsSchema);

export const ClientSchema = ClientFieldsSchema.extend({
  id: z.string(),
  object: z.literal('client'),
  disabled: z.boolean(),
  planId: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).openapi('Client');

export function presentClient(c: ClientRow) {
  return {
    object: 'client' as const,
    ...c,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

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

  for (const action of ['disable', 'enable'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/clients/{id}/${action}`,
        tags,
        summary:
          action === 'disable'
            ? 'Disable a client: its access is blocked (reason `client_disabled`)'
            : 'Enable a disabled client',
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
