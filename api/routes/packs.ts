/**
 * Add-on packs: minutes sold on top of a plan. Price changes reach future pack requests only
 * (a request copies the price when issued); a pack assigned to clients keeps its currency.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  archivePack,
  countPackAssignments,
  getPack,
  insertPack,
  listPacks,
  updatePack,
  type PackRow,
} from '../../db/queries/packs';
import { newId } from '../../lib/ids';
import { ApiError, commonErrorResponses, conflictResponse, notFound } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import {
  Currency,
  IdParam,
  iso,
  jsonBody,
  jsonResponse,
  MinorAmount,
  Timestamp,
  updateSchemaOf,
} from '../schemas';

const PackFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  minutes: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .openapi({ description: 'Minutes credited to the client\u2019s wallet' }),
  priceMinor: MinorAmount,
  currency: Currency,
});

export const PackSchema = PackFieldsSchema.extend({
  id: z.string(),
  object: z.literal('pack'),
  archivedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).openapi('Pack');

export function presentPack(p: PackRow) {
  return {
    object: 'pack' as const,
    ...p,
    archivedAt: iso(p.archivedAt),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export const IncludeArchivedQuery = z.object({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ description: 'Also list archived entries' }),
});

const tags = ['packs'];

export function packRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/packs',
      tags,
      summary: 'Create an add-on pack',
      request: { body: jsonBody(PackFieldsSchema) },
      responses: { 201: jsonResponse(PackSchema, 'The pack'), ...commonErrorResponses },
    }),
    async (c) => {
      const pack = await insertPack(
        c.var.deps.sql,
        c.var.agencyId,
        newId('pck'),
        c.req.valid('json'),
      );
      return c.json(presentPack(pack), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/packs',
      tags,
      summary: 'List packs (active only unless includeArchived)',
      request: { query: PageQuerySchema.extend(IncludeArchivedQuery.shape) },
      responses: {
        200: jsonResponse(pageSchema(PackSchema, 'PackPage'), 'A page of packs'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listPacks(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        includeArchived: q.includeArchived === 'true',
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentPack), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/packs/{id}',
      tags,
      summary: 'Get a pack',
      request: { params: IdParam },
      responses: { 200: jsonResponse(PackSchema, 'The pack'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const pack = await getPack(c.var.deps.sql, c.var.agencyId, id);
      if (!pack) throw notFound('pack', id);
      return c.json(presentPack(pack), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/packs/{id}',
      tags,
      summary: 'Update a pack (future pack requests only)',
      request: { params: IdParam, body: jsonBody(updateSchemaOf(PackFieldsSchema)) },
      responses: {
        200: jsonResponse(PackSchema, 'The pack'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const agencyId = c.var.agencyId;
      const pack = await c.var.deps.sql.begin(async (tx) => {
        const current = await getPack(tx, agencyId, id);
        if (!current) throw notFound('pack', id);
        if (
          body.currency !== undefined &&
          body.currency !== current.currency &&
          (await countPackAssignments(tx, agencyId, id)) > 0
        ) {
          throw new ApiError(
            'conflict',
            `currency: pack ${id} is assigned to clients, so its currency stays ${current.currency}`,
            [{ field: 'currency', message: 'cannot change while the pack is assigned' }],
          );
        }
        return updatePack(tx, agencyId, id, body);
      });
      return c.json(presentPack(pack!), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/packs/{id}/archive',
      tags,
      summary: 'Archive a pack: it can no longer be assigned, and clients no longer see it',
      request: { params: IdParam },
      responses: { 200: jsonResponse(PackSchema, 'The archived pack'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const pack = await archivePack(c.var.deps.sql, c.var.agencyId, id);
      if (!pack) throw notFound('pack', id);
      return c.json(presentPack(pack), 200);
    },
  );

  return app;
}
