/** Shared field schemas: money in minor units, exact rates, currencies, ids. */
import { z } from '@hono/zod-openapi';
import { isCurrency, isRate } from '../billing/money';

export const MinorAmount = z
  .number()
  .int('must be an integer number of minor units')
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({
    description: 'Integer amount in the currency\u2019s minor unit (cents for USD)',
    example: 2500,
  });

export const Rate = z
  .string()
  .refine(
    isRate,
    'must be a decimal string of minor units per minute with at most 6 decimals, e.g. "25" or "12.5"',
  )
  .openapi({ description: 'Minor units per minute, exact decimal string', example: '25' });

export const Currency = z
  .string()
  .refine(isCurrency, 'must be an ISO 4217 currency code in upper case, e.g. "USD"')
  .openapi({ example: 'USD' });

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const Timestamp = z
  .string()
  .openapi({ format: 'date-time', example: '2026-01-31T00:00:00.000Z' });

const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10000, 0, 1);

/** A date-time given by a caller: ISO 8601 with a zone, from 1970 to 9999 (Postgres's range and ours). */
export const TimestampInput = z.iso
  .datetime({
    offset: true,
    error: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z',
  })
  .refine((s) => {
    const ms = Date.parse(s);
    // NaN: not a date-time at all, which the format check above reports.
    return Number.isNaN(ms) || (ms >= EARLIEST_MS && ms < LATEST_MS);
  }, 'must be between 1970 and 9999')
  .openapi({ format: 'date-time', example: '2026-01-31T00:00:00.000Z' });

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

type WithoutDefaults<T extends z.ZodRawShape> = {
  [K in keyof T]: T[K] extends z.ZodDefault<infer Inner> ? Inner : T[K];
};

/**
 * The PATCH schema of a create schema: every field optional, unknown fields refused, and no
 * defaults (zod applies a default even inside `.partial()`, which would reset omitted fields).
 */
export function updateSchemaOf<T extends z.ZodRawShape>(schema: z.ZodObject<T>) {
  const shape: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    shape[key] = field instanceof z.ZodDefault ? field.unwrap() : field;
  }
  return z
    .object(shape as unknown as WithoutDefaults<T>)
    .partial()
    .strict();
}
