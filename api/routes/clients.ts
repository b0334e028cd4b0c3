/** Clients of an agency: billing mode, per-minute rate, assigned plan. */
import { createRoute, z } from '@hono/zod-openapi';
import { compareRates } from '../../billing/money';
import {
  disableClient,
  enableClient,
  getClient,
  insertClient,
  listClients,
  lockClient,
  updateClient,
  type ClientRow,
} from '../../db/queries/clients';
import { newId } from '../../lib/ids';
import {
  alreadyTaken,
  commonErrorResponses,
  conflictResponse,
  invalidField,
  isUniqueViolation,
  notFound,
} from '../errors';
import { onClientAccessChanged, onClientRateChanged } from '../hooks';
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

/** The agency's per-minute rate to a client must be above the platform's. */
export function checkClientRate(rate: string | null | undefined, platformRate: string) {
  if (rate != null && compareRates(rate, platformRate) <= 0) {
    throw invalidField(
      'rateMinorPerMinute',
      `must be above the platform rate of ${platformRate} minor units per minute`,
    );
  }
}

/** The agency's own ids are unique per agency: a second use is a 409 naming the field. */
async function externalIdUnique<T>(write: Promise<T>, externalId: string | null | undefined) {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err))
      throw alreadyTaken('externalId', `another client already has externalId ${externalId}`);
    throw err;
  }
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
      const body = c.req.valid('json');
      checkClientRate(body.rateMinorPerMinute, c.var.deps.platformRateMinorPerMinute);
      const client = await externalIdUnique(
        insertClient(c.var.deps.sql, c.var.agencyId, newId('cli'), {
          ...body,
          disabled: false,
          planId: null,
        }),
        body.externalId,
      );
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
      const deps = c.var.deps;
      const agencyId = c.var.agencyId;
      // The row and the rate it owes the running subscription commit together; the rate is
      // delivered to the workflow after commit (or by the worker's sweeper, should that fail).
      const { client, deliver } = await deps.sql.begin(async (tx) => {
        const before = await lockClient(tx, agencyId, id);
        if (!before) throw notFound('client', id);
        checkClientRate(body.rateMinorPerMinute, deps.platformRateMinorPerMinute);
        const after = await externalIdUnique(updateClient(tx, agencyId, id, body), body.externalId);
        if (!after) throw notFound('client', id);
        const deliver =
          after.rateMinorPerMinute !== before.rateMinorPerMinute
            ? await onClientRateChanged(deps, tx, agencyId, id, after.rateMinorPerMinute)
            : null;
        return { client: after, deliver };
      });
      await deliver?.();
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
        const deps = c.var.deps;
        const agencyId = c.var.agencyId;
        const change = action === 'disable' ? disableClient : enableClient;
        // The row and the access it implies (state, event, webhook outbox row) commit together:
        // an error leaves both as they were.
        const done = await deps.sql.begin(async (tx) => {
          const client = await change(tx, agencyId, id);
          if (!client) return null;
          return { client, pushAccess: await onClientAccessChanged(deps, tx, agencyId, id) };
        });
        if (!done) throw notFound('client', id);
        await done.pushAccess();
        return c.json(presentClient(done.client), 200);
      },
    );
  }

  return app;
}
