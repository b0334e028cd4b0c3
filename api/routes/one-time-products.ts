/** One-time products (setup fee, onboarding): charged once by later issues, at their price then. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  archiveOneTimeProduct,
  getOneTimeProduct,
  insertOneTimeProduct,
  listOneTimeProducts,
  updateOneTimeProduct,
  type OneTimeProductRow,
} from '../../db/queries/one-time-products';
import { newId } from '../../lib/ids';
import { commonErrorResponses, notFound } from '../errors';
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
import { IncludeArchivedQuery } from './packs';

const ProductFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().default(null),
  priceMinor: MinorAmount,
  currency: Currency,
});

const ProductSchema = ProductFieldsSchema.extend({
  id: z.string(),
  object: z.literal('one_time_product'),
  archivedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).openapi('OneTimeProduct');

function presentProduct(p: OneTimeProductRow) {
  return {
    object: 'one_time_product' as const,
    ...p,
    archivedAt: iso(p.archivedAt),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

const tags = ['one-time products'];

export function oneTimeProductRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/one-time-products',
      tags,
      summary: 'Create a one-time product',
      request: { body: jsonBody(ProductFieldsSchema) },
      responses: { 201: jsonResponse(ProductSchema, 'The product'), ...commonErrorResponses },
    }),
    async (c) => {
      const product = await insertOneTimeProduct(
        c.var.deps.sql,
        c.var.agencyId,
        newId('otp'),
        c.req.valid('json'),
      );
      return c.json(presentProduct(product), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/one-time-products',
      tags,
      summary: 'List one-time products (active only unless includeArchived)',
      request: { query: PageQuerySchema.extend(IncludeArchivedQuery.shape) },
      responses: {
        200: jsonResponse(pageSchema(ProductSchema, 'OneTimeProductPage'), 'A page of products'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listOneTimeProducts(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        includeArchived: q.includeArchived === 'true',
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentProduct), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/one-time-products/{id}',
      tags,
      summary: 'Get a one-time product',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ProductSchema, 'The product'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const product = await getOneTimeProduct(c.var.deps.sql, c.var.agencyId, id);
      if (!product) throw notFound('one-time product', id);
      return c.json(presentProduct(product), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/one-time-products/{id}',
      tags,
      summary: 'Update a one-time product (charges already issued keep their price)',
      request: { params: IdParam, body: jsonBody(updateSchemaOf(ProductFieldsSchema)) },
      responses: { 200: jsonResponse(ProductSchema, 'The product'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const product = await updateOneTimeProduct(
        c.var.deps.sql,
        c.var.agencyId,
        id,
        c.req.valid('json'),
      );
      if (!product) throw notFound('one-time product', id);
      return c.json(presentProduct(product), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/one-time-products/{id}/archive',
      tags,
      summary: 'Archive a one-time product: it can no longer be charged',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ProductSchema, 'The archived product'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const product = await archiveOneTimeProduct(c.var.deps.sql, c.var.agencyId, id);
      if (!product) throw notFound('one-time product', id);
      return c.json(presentProduct(product), 200);
    },
  );

  return app;
}
