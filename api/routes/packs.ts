/**
 * Add-on packs: minutes sold on top of a plan. Price changes reach future pack requests only
 * (a request copies the price when issued); a pack assigned to clients keeps its currency.
 */
import { createRoute } from '@hono/zod-openapi';
import {
  archivePack,
  countPackAssignments,
  getPack,
  insertPack,
  listPacks,
  updatePack,
} from '../../db/queries/packs';
import { ApiError, commonErrorResponses, conflictResponse, notFound } from '../errors';
import { newApp } from '../hono';
import { IdParam, jsonBody, jsonResponse, updateSchemaOf } from '../schemas';
import { catalogRoutes } from '../resource-routes';
import { PackFieldsSchema, PackSchema, presentPack } from '../presenters/pack';

const tags = ['packs'];

export function packRoutes() {
  const app = newApp();
  const catalog = catalogRoutes(app, {
    path: '/packs',
    tags,
    noun: 'pack',
    idPrefix: 'pck',
    fields: PackFieldsSchema,
    schema: PackSchema,
    pageName: 'PackPage',
    present: presentPack,
    descriptions: { entry: 'The pack', page: 'A page of packs', archived: 'The archived pack' },
    queries: { insert: insertPack, list: listPacks, get: getPack, archive: archivePack },
  });
  catalog.create('Create an add-on pack');
  catalog.list('List packs (active only unless includeArchived)');
  catalog.get('Get a pack');

  // Not the standard update: a pack assigned to clients keeps its currency.
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

  catalog.archive('Archive a pack: it can no longer be assigned, and clients no longer see it');

  return app;
}
