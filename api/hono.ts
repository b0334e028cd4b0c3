/** The Hono app factory every router uses, with the one validation hook. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context';
import { ApiError } from './errors';

/** Validation failures from any route, answered in one place with every field named. */
export const defaultHook = (result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
  target?: string;
}) => {
  if (result.success || !result.error) return;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || (result.target ?? 'body'),
    message: issue.message,
  }));
  const first = details[0]!;
  throw new ApiError('validation_failed', `${first.field}: ${first.message}`, details);
};

export function newApp() {
  return new OpenAPIHono<AppEnv>({ defaultHook });
}
