/**
 * The one error type a caller can act on, with one enum of codes. Services, the Temporal seam and
 * the API throw it; the API answers it (api/errors.ts gives each code its HTTP status and the
 * error body). It lives below every layer that throws it, so none of them imports the API.
 */

/** Every error code an answer can carry. */
export const ERROR_CODES = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  /** The same Idempotency-Key is still being answered by another request. */
  'idempotency_in_progress',
  'idempotency_conflict',
  'unprocessable',
  'internal',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  field: string;
  message: string;
}

/** A failure with a code and, where it is about input, the fields at fault. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
}

/** A 404 for something of `what` kind that is not there (or another agency's). */
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
