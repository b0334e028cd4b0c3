/** Agency bootstrap: POST /v1/agencies with the platform admin key returns the agency and its first key. */
import { createRoute, z } from '@hono/zod-openapi';
import { createAgency } from '../../db/queries/agencies';
import { requireAdminKey } from '../middleware/auth';
import { commonErrorResponses } from '../errors';
import { newApp } from '../hono';
import { jsonBody, jsonResponse, Timestamp } from '../schemas';

const CreateAgencySchema = z.object({
  name: z.string().trim().min(1).max(200),
  webhookUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .default(null),
});

const CreatedAgencySchema = z
  .object({
    agency: z.object({
      id: z.string(),
      object: z.literal('agency'),
      name: z.string(),
      webhookUrl: z.string().nullable(),
      createdAt: Timestamp,
    }),
    apiKey: z.object({
      id: z.string(),
      key: z.string().openapi({ description: 'Shown once; store it now' }),
      prefix: z.string(),
    }),
  })
  .openapi('CreatedAgency');

export function agencyAdminRoutes() {
  const app = newApp();
  app.use('/agencies', requireAdminKey);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/agencies',
      tags: ['agencies'],
      summary: 'Create an agency (platform admin key)',
      request: { body: jsonBody(CreateAgencySchema) },
      responses: {
        201: jsonResponse(CreatedAgencySchema, 'The agency and its first API key'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { agency, apiKey } = await createAgency(c.var.deps.sql, body);
      return c.json(
        {
          agency: {
            id: agency.id,
            object: 'agency' as const,
            name: agency.name,
            webhookUrl: agency.webhookUrl,
            createdAt: agency.createdAt.toISOString(),
          },
          apiKey: { id: apiKey.id, key: apiKey.key, prefix: apiKey.prefix },
        },
        201,
      );
    },
  );
  return app;
}
