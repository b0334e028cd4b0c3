/** The Hono app factory every router uses, with the one validation hook. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context';
import { ApiError } from '../lib/errors';

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

/**
 * A request header, read from Node's own request when served by @hono/node-server: asking
 * `c.req.header()` first builds a WHATWG `Headers` from every raw header, which costs more than
 * the rest of a cached-key GET's middleware. In-process (`app.request()` in tests), Hono's.
 */
export function requestHeader(
  c: { env: unknown; req: { header(name: string): string | undefined } },
  name: Lowercase<string>,
): string | undefined {
  const incoming = (
    c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } }
  )?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
