/** Cursor pagination: `?limit=&after=<id>`; ids are time-ordered, lists are newest first. */
import { z } from '@hono/zod-openapi';

export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Page size, 1 to 100' }),
  after: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_]+$/, 'must be the nextCursor of a previous page')
    .optional()
    .openapi({ description: 'Cursor: the `nextCursor` of the previous page' }),
});

export function pageOf<T extends { id: string }>(rows: T[], limit: number) {
  return { data: rows, nextCursor: rows.length === limit ? rows[rows.length - 1]!.id : null };
}

export const pageSchema = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
