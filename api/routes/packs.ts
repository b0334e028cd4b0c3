/**
 * Add-on packs: minutes sold on top of a plan. Price changes reach future pack requests only
 * (a request copies the price when issued); a pack assigned to clients keeps its currency.
 */
import { archivePack, getPack, insertPack, listPacks, updatePack } from '../../db/queries/packs';
import { checkPackUpdate } from '../../services/packs';
import { newApp } from '../hono';
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
    queries: {
      insert: insertPack,
      list: listPacks,
      get: getPack,
      archive: archivePack,
      update: updatePack,
    },
  });
  catalog.create('Create an add-on pack');
  catalog.list('List packs (active only unless includeArchived)');
  catalog.get('Get a pack');

  // A pack assigned to clients keeps its currency.
  catalog.update('Update a pack (future pack requests only)', checkPackUpdate);

  catalog.archive('Archive a pack: it can no longer be assigned, and clients no longer see it');

  return app;
}
