/** The client as the API shows it, and the fields an agency sets on one. */
import { z } from '@hono/zod-openapi';
import type { ClientRow } from '../../db/queries/clients';
import { Rate, Timestamp } from '../schemas';

/** What an agency sets on a client (POST body; PATCH takes any of it). */
export const ClientFieldsSchema = z.object({
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

export const ClientSchema = ClientFieldsSchema.extend({
  id: z.string(),
  object: z.literal('client'),
  disabled: z.boolean(),
  planId: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).openapi('Client');

/** A client row as the API answers it. */
export function presentClient(c: ClientRow) {
  return {
    object: 'client' as const,
    ...c,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
