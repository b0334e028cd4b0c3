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
  collectionMethod: z
    .enum(['charge_automatically', 'send_invoice'])
    .default('charge_automatically')
    .openapi({
      description:
        'How a `stripe`-mode client pays: `charge_automatically` (ChatDash \u201cAuto-charge\u201d: invoices are charged to the card on file; until one is saved the client may not run campaigns, access reason `payment_method_missing`) or `send_invoice` (\u201cRequest Payment\u201d: invoices are emailed with a due date). Stored for other modes, used only in `stripe` mode.',
    }),
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
