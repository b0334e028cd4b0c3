/**
 * API keys of the calling agency. `agency` keys call everything; `ingest` keys may only post
 * usage. A key is shown once at creation and stored as a SHA-256 hash. Revoking one is
 * api-keys/revoke.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getApiKey, insertApiKey, listApiKeys } from '../../db/queries/agencies';
import { commonErrorResponses } from '../errors';
import { notFound } from '../../lib/errors';
import { newApp } from '../hono';
import { markSecret } from '../middleware/idempotency';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { ApiKeySchema, KeyKindSchema, presentKey } from '../presenters/api-key';
import { IdParam, jsonBody, jsonResponse } from '../schemas';

const CreateKeySchema = z.object({
  kind: KeyKindSchema,
  name: z.string().trim().min(1).max(200).nullable().default(null),
});

const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().nullable().openapi({
    description:
      'The key itself: shown once, store it now. Null when this answer is an idempotent replay',
  }),
}).openapi('CreatedApiKey');

const tags = ['api keys'];

export function apiKeyRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys',
      tags,
      summary: 'Create an API key (shown once)',
      request: { body: jsonBody(CreateKeySchema) },
      responses: { 201: jsonResponse(CreatedKeySchema, 'The key'), ...commonErrorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await insertApiKey(c.var.deps.sql, c.var.agencyId, body.kind, body.name);
      markSecret(c, 'key');
      return c.json({ ...presentKey({ ...created, revokedAt: null }), key: created.key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api-keys',
      tags,
      summary: 'List API keys (never their secrets)',
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ApiKeySchema, 'ApiKeyPage'), 'A page of keys'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listApiKeys(c.var.deps.sql, { agencyId: c.var.agencyId, ...q });
      return c.json(pageOf(rows.map(presentKey), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api-keys/{id}',
      tags,
      summary: 'Get an API key (never its secret)',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ApiKeySchema, 'The key'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const key = await getApiKey(c.var.deps.sql, c.var.agencyId, id);
      if (!key) throw notFound('API key', id);
      return c.json(presentKey(key), 200);
    },
  );

  return app;
}
