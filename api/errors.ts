/**
 * The HTTP side of errors: each code's status, the error body, and the error responses of the
 * OpenAPI document. The error type itself (ApiError, its codes and helpers) is lib/errors.ts, so
 * services throw it without importing the API; routes import it from there too.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode, type ErrorDetail } from '../lib/errors';

/** Each error code's HTTP status. */
export const ErrorStatus = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_in_progress: 409,
  idempotency_conflict: 422,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
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
