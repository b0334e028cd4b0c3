/** Bearer-key authentication. Every /v1 request resolves to exactly one agency. */
import { timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { findKeyByHash, hashKey } from '../../db/queries/agencies';
import type { ApiDeps, AppEnv, KeyKind } from '../context';
import { ApiError } from '../../lib/errors';
import { requestHeader } from '../hono';
import { KeyCache } from './key-cache';

/** One key cache per API instance (per deps), created on first use. */
const caches = new WeakMap<ApiDeps, KeyCache>();

function keyCache(deps: ApiDeps): KeyCache {
  let cache = caches.get(deps);
  if (!cache) {
    cache = new KeyCache(deps.sql, deps.log);
    caches.set(deps, cache);
    cache.start();
  }
  return cache;
}

/** Drops a revoked key from this process's cache before the revoke is answered. */
export function forgetRevokedKey(deps: ApiDeps, hash: string): void {
  caches.get(deps)?.forget(hash);
}

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** Authenticates an agency or ingest key and sets `agencyId` and `keyKind`. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const key = bearer(requestHeader(c, 'authorization'));
  if (!key) throw new ApiError('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
  const hash = hashKey(key);
  // c.get, not c.var: c.var copies every variable into a new object on each access.
  const deps = c.get('deps');
  const cache = keyCache(deps);
  let found = cache.get(hash);
  if (!found) {
    const epoch = cache.epoch();
    found = await findKeyByHash(deps.sql, hash);
    if (!found) throw new ApiError('unauthorized', 'the API key is unknown or revoked');
    cache.set(hash, found, epoch);
  }
  c.set('agencyId', found.agencyId);
  c.set('keyKind', found.kind);
  await next();
});

/** Ingest keys may only post usage: everything else needs an agency key. */
export function requireKeyKind(...kinds: KeyKind[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const kind = c.get('keyKind');
    if (!kinds.includes(kind)) {
      throw new ApiError(
        'forbidden',
        `a ${kind} key may not call ${c.req.method} ${c.req.routePath}`,
      );
    }
    await next();
  });
}

/** The platform admin key (TALLY_ADMIN_KEY), compared in constant time. */
export const requireAdminKey = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.var.deps.adminKey;
  const key = bearer(requestHeader(c, 'authorization'));
  if (!expected)
    throw new ApiError(
      'forbidden',
      'agency creation over HTTP is off: set TALLY_ADMIN_KEY, or use `npm run tally -- create-agency`',
    );
  if (!key)
    throw new ApiError('unauthorized', 'send the admin key as "Authorization: Bearer <key>"');
  const a = Buffer.from(key);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ApiError('unauthorized', 'the admin key is wrong');
  await next();
});
