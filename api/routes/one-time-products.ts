/** One-time products (setup fee, onboarding): charged once by later issues, at their price then. */
import { z } from '@hono/zod-openapi';
import {
  archiveOneTimeProduct,
  getOneTimeProduct,
  insertOneTimeProduct,
  listOneTimeProducts,
  updateOneTimeProduct,
  type OneTimeProductRow,
} from '../../db/queries/one-time-products';
import { newApp } from '../hono';
import { Currency, MinorAmount } from '../schemas';
import { catalogEntrySchema, catalogRoutes, presentCatalogEntry } from '../resource-routes';

const ProductFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().default(null),
  priceMinor: MinorAmount,
  currency: Currency,
});

const ProductSchema = catalogEntrySchema(ProductFieldsSchema, 'one_time_product', 'OneTimeProduct');

const presentProduct = (p: OneTimeProductRow) => presentCatalogEntry('one_time_product', p);

const tags = ['one-time products'];

export function oneTimeProductRoutes() {
  const app = newApp();
  const catalog = catalogRoutes(app, {
    path: '/one-time-products',
    tags,
    noun: 'one-time product',
    idPrefix: 'otp',
    fields: ProductFieldsSchema,
    schema: ProductSchema,
    pageName: 'OneTimeProductPage',
    present: presentProduct,
    descriptions: {
      entry: 'The product',
      page: 'A page of products',
      archived: 'The archived product',
    },
    queries: {
      insert: insertOneTimeProduct,
      list: listOneTimeProducts,
      get: getOneTimeProduct,
      archive: archiveOneTimeProduct,
      update: updateOneTimeProduct,
    },
  });
  catalog.create('Create a one-time product');
  catalog.list('List one-time products (active only unless includeArchived)');
  catalog.get('Get a one-time product');

  catalog.update('Update a one-time product (charges already issued keep their price)');

  catalog.archive('Archive a one-time product: it can no longer be charged');

  return app;
}
