/**
 * `Idempotency-Key` on every POST. The key is claimed in Postgres before the request executes
 * (unique per scope), so concurrent duplicates cannot both run: the second gets 409 while the
 * first is in flight, and the stored answer once it is done. Same key with another body, path
 * or method: 422. Only successful answers are stored: an error answer changed nothing (every
 * write is one transaction), so the key is released and a retry runs again, which is what a
 * client wants after fixing the state that made it fail (e.g. canceling a live subscription).
 *
 * Secrets in an answer (API keys, webhook secrets) are shown once: handlers name them with
 * `markSecret`, and the stored copy, hence a replay, carries null in their place.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  IDEMPOTENCY_LOCK_SECONDS,
  claimIdempotencyKey,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
  storeIdempotentResponse,
} from '../../db/queries/idempotency';
import type { AppEnv } from '../context';
import { ErrorBodySchema } from '../errors';
import { ApiError, invalidField } from '../../lib/errors';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const secrets = new WeakMap<Request, string[]>();
const PURGE_EVERY = 100;
const STORE_BACKGROUND_MS = 2_000;
let keyedRequests = 0;

/** Names dotted paths of the answer (e.g. `apiKey.key`) that must not be stored for replay. */
export function markSecret(c: Context, ...paths: string[]): void {
  secrets.set(c.req.raw, [...(secrets.get(c.req.raw) ?? []), ...paths]);
}

/** JSON with object keys sorted, so the same body in another key order hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestHash(body: string): string {
  let text = body;
  try {
    text = canonical(JSON.parse(body));
  } catch {
    // Not JSON: the route's validator will say so; hash the bytes as they came.
  }
  return createHash('sha256').update(text).digest('hex');
}

function redact(body: unknown, paths: string[]): unknown {
  if (paths.length === 0 || !body || typeof body !== 'object') return body;
  const copy = structuredClone(body) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.split('.');
    let node: unknown = copy;
    for (const part of parts.slice(0, -1)) node = (node as Record<string, unknown> | null)?.[part];
    const last = parts[parts.length - 1]!;
    if (node && typeof node === 'object' && last in node)
      (node as Record<string, unknown>)[last] = null;
  }
  return copy;
}

/** Register after authentication: keys are scoped per agency (or to the platform admin). */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== 'POST') return next();
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return next();
  if (!KEY_PATTERN.test(key))
    throw invalidField(IDEMPOTENCY_HEADER, 'must be 1 to 255 visible ASCII characters');

  const { sql, log } = c.var.deps;
  const agencyId = c.var.agencyId ?? null;
  // Expired keys go a batch at a time, about once per PURGE_EVERY keyed requests, off the
  // request's path: no scheduler needed, and the table stays at about a day of keys.
  if (++keyedRequests % PURGE_EVERY === 0) {
    purgeExpiredIdempotencyKeys(sql).catch((err: unknown) =>
      log.warn({ err }, 'could not purge expired idempotency keys'),
    );
  }
  const scope = agencyId ?? 'admin';
  const method = c.req.method;
  const path = c.req.path;
  const hash = requestHash(await c.req.text());

  const held = await claimIdempotencyKey(sql, {
    scope,
    agencyId,
    key,
    method,
    path,
    requestHash: hash,
  });
  if (held) {
    if (held.method !== method || held.path !== path || held.requestHash !== hash) {
      throw new ApiError(
        'idempotency_conflict',
        `${IDEMPOTENCY_HEADER} ${key} was already used for ${held.method} ${held.path} with another request body; use a new key for a new request`,
        [{ field: IDEMPOTENCY_HEADER, message: 'reused with a different request' }],
      );
    }
    if (held.statusCode === null || held.response === null) {
      throw new ApiError(
        'idempotency_in_progress',
        `a request with ${IDEMPOTENCY_HEADER} ${key} is still in progress; retry shortly`,
        [{ field: IDEMPOTENCY_HEADER, message: 'in progress' }],
      );
    }
    const { contentType, body: text } = held.response;
    const headers = {
      ...(contentType ? { 'content-type': contentType } : {}),
      [REPLAYED_HEADER]: 'true',
    };
    return text === ''
      ? c.body(null, held.statusCode as 204, headers)
      : c.body(text, held.statusCode as 200, headers);
  }

  try {
    await next();
  } catch (err) {
    await releaseIdempotencyKey(sql, scope, key);
    throw err;
  }
  const status = c.res.status;
  if (status >= 400) {
    await releaseIdempotencyKey(sql, scope, key);
    return;
  }
  const contentType = c.res.headers.get('content-type');
  let text = await c.res.clone().text();
  const secretPaths = secrets.get(c.req.raw) ?? [];
  if (secretPaths.length > 0) {
    // JSON.parse then stringify keeps key order: the replay differs only where redacted.
    text = JSON.stringify(redact(JSON.parse(text), secretPaths));
  }
  // Kept as text (a jsonb string), not as a jsonb object, which would reorder its keys.
  const response = { contentType, body: text };
  // The change is committed, so this answer is the request's whatever becomes of its copy: a
  // copy that cannot be stored (Postgres gone for a moment) is tried again in the background
  // while the claim holds (a retry gets 409 meanwhile instead of running again).
  try {
    return await storeIdempotentResponse(sql, scope, key, status, response);
  } catch (err) {
    log.warn({ err, key, status }, 'answer of an idempotent request not stored yet; retrying');
  }
  void storeInBackground(
    () => storeIdempotentResponse(sql, scope, key, status, response, { whileClaimed: true }),
    (err) => log.error({ err, key, status }, 'could not keep the answer to an idempotent request'),
  );
});

/**
 * Keeps trying to store an answer's copy every STORE_BACKGROUND_MS, off the request's path, for
 * as long as the claim holds (IDEMPOTENCY_LOCK_SECONDS: after that a retry may run the request
 * again, and the copy must not land on its claim). The timers never keep the process alive.
 */
async function storeInBackground(
  store: () => Promise<void>,
  giveUp: (err: unknown) => void,
): Promise<void> {
  const until = Date.now() + IDEMPOTENCY_LOCK_SECONDS * 1000;
  for (;;) {
    await new Promise((r) => setTimeout(r, STORE_BACKGROUND_MS).unref());
    try {
      return await store();
    } catch (err) {
      if (Date.now() + STORE_BACKGROUND_MS >= until) return giveUp(err);
    }
  }
}

const IdempotencyHeaders = z.object({
  'Idempotency-Key': z.string().min(1).max(255).optional().openapi({
    description:
      'Makes a retry safe: the same key with the same body replays the first successful answer, same status and body, with `Idempotent-Replayed: true` (an error answer is not kept: it changed nothing, so a retry runs again). The same key with another body or path: 422. While the first request is still running: 409. Keys are kept 24 hours, per agency.',
    example: '7f9c1b52-6a0e-4d8e-9a55-0c1f0b8e2a11',
  }),
});

const errorContent = { 'application/json': { schema: ErrorBodySchema } };
const replayedHeader = {
  [REPLAYED_HEADER]: {
    description: '`true` when this is the stored answer to an earlier request with the same key',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

/**
 * Documents the header and its answers on every POST of a router (for the OpenAPI document),
 * including routes other files define. Call on the router after everything is mounted.
 */
export function documentIdempotency(app: OpenAPIHono<AppEnv>): void {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || def.route.method !== 'post') continue;
    const request = def.route.request ?? {};
    const existing = request.headers;
    if (Array.isArray(existing)) continue;
    def.route = {
      ...def.route,
      request: {
        ...request,
        headers: existing
          ? (existing as z.ZodObject).extend(IdempotencyHeaders.shape)
          : IdempotencyHeaders,
      },
      responses: {
        409: {
          description: 'Conflicts with the current state, or the same Idempotency-Key is in flight',
          content: errorContent,
        },
        422: {
          description: 'Idempotency-Key reused with another request, or the request cannot be done',
          content: errorContent,
        },
        ...Object.fromEntries(
          Object.entries(def.route.responses).map(([status, response]) => [
            status,
            status.startsWith('2') ? { ...response, headers: replayedHeader } : response,
          ]),
        ),
      },
    };
  }
}
