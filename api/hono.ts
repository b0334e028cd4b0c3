/** The Hono app factory every router uses, with the one validation hook. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context';
import type { Context } from 'hono';
import { ApiError, invalidField } from '../lib/errors';
import { findUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../lib/storable-text';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Validation failures from any route, answered in one place with every field named. Called for
 * every validated part (path, query, body), on success too: text Postgres cannot store (a NUL,
 * an unpaired surrogate) is refused here for all routes at once, and so is a missing body where
 * the route requires one (the validator would otherwise check `{}` in its place).
 */
export const defaultHook = (
  result: {
    success: boolean;
    data?: unknown;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
    target?: string;
  },
  c: Context,
) => {
  const target = result.target ?? 'body';
  if (target === 'json') {
    const mediaType = c.req.header('content-type')?.split(';')[0]!.trim() ?? '';
    // Routes with an optional body only validate a JSON one; so here the body is required.
    if (!JSON_MEDIA_TYPE.test(mediaType))
      throw invalidField('body', 'is required: send JSON with Content-Type: application/json');
  }
  const details = (result.success ? [] : (result.error?.issues ?? [])).map((issue) => ({
    field: issue.path.map(String).join('.') || (target === 'json' ? 'body' : target),
    message: issue.message,
  }));
  const unstorable = findUnstorableText(result.data);
  if (unstorable) {
    const field =
      unstorable.map((part) => part.replaceAll('\u0000', '\\u0000')).join('.') ||
      (target === 'json' ? 'body' : target);
    if (!details.some((d) => d.field === field))
      details.unshift({ field, message: UNSTORABLE_TEXT_MESSAGE });
  }
  if (details.length === 0) return;
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
