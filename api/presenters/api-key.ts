/** The API key resource as the API shows it: the key routes and the revoke route share it. */
import { z } from '@hono/zod-openapi';
import type { ApiKeyRow } from '../../db/queries/agencies';
import { iso, Timestamp } from '../schemas';

export const KeyKindSchema = z.enum(['agency', 'ingest']).openapi({
  description: '`agency`: the whole API. `ingest`: POST /v1/usage only (for usage ingestors)',
});

export const ApiKeySchema = z
  .object({
    id: z.string(),
    object: z.literal('api_key'),
    kind: KeyKindSchema,
    name: z.string().nullable(),
    prefix: z.string().openapi({ description: 'The first characters, to recognise the key' }),
    createdAt: Timestamp,
    revokedAt: Timestamp.nullable(),
  })
  .openapi('ApiKey');

/** A key as the API shows it: never its secret or hash. */
export function presentKey(k: ApiKeyRow) {
  return {
    object: 'api_key' as const,
    id: k.id,
    kind: k.kind,
    name: k.name,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: iso(k.revokedAt),
  };
}
