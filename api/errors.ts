/** One error type, one enum of codes, one table from code to status. */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';

export const ErrorCode = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** The same Idempotency-Key is still being answered by another request. */
  idempotency_in_progress: 409,
  idempotency_conflict: 422,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ErrorCode = keyof typeof ErrorCode;

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
    super(ErrorCode[code], { message });
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError('not_found', `${what} ${id} not found`);

/** True for a Postgres unique violation (optionally on one named constraint). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint_name?: string } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint_name === constraint);
}

/** A 409 for a unique value already taken, naming the field. */
export const alreadyTaken = (field: string, message: string) =>
  new ApiError('conflict', `${field}: ${message}`, [{ field, message }]);

/** A 400 naming one field. */
export const invalidField = (field: string, message: string) =>
  new ApiError('validation_failed', `${field}: ${message}`, [{ field, message }]);

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })),
    }),
  })
  .openapi('Error');

export function errorBody(
  code: ErrorCode,
  message: string,
  requestId: string,
  details: ErrorDetail[] = [],
) {
  return { error: { code, message, requestId, details } };
}

/** Responses every authenticated route can give, for the OpenAPI document. */
export const commonErrorResponses = {
  400: {
    description: 'Invalid input; details name each field',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
  401: {
    description: 'Missing or invalid API key',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
  403: {
    description: 'The key may not do this',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
  404: {
    description: 'Not found (or another agency\u2019s)',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
} as const;
export const conflictResponse = {
  409: {
    description: 'Conflicts with the current state',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
} as const;
export const unprocessableResponse = {
  422: {
    description: 'Idempotency key reused with another body, or the request cannot be carried out',
    content: { 'application/json': { schema: ErrorBodySchema } },
  },
} as const;
