/**
 * Client portal sign-in, the way billing portals do it (Stripe's portal sessions, Lago's portal
 * URL): the agency's API creates a session for one of the client's portal users and gets a
 * single-use link, good for LINK_TTL_MS; opening it once starts a cookie session good for
 * SESSION_TTL_MS, which signing out or the agency's revoke ends. Tokens are 256 random bits;
 * only their SHA-256 hashes are stored. Forms carry a CSRF token derived from the cookie token,
 * which a page on another site can neither read nor compute.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AnySql } from '../db/client';
import { getPortalUser } from '../db/queries/portal-users';
import {
  consumeLink,
  findLiveSession,
  insertPortalSession,
  revokePortalSession,
  type LinkRefusal,
  type LivePortalSession,
  type PortalSessionRow,
} from '../db/queries/portal-sessions';
import { ApiError, notFound } from '../lib/errors';
import { newId } from '../lib/ids';
import { requireClient } from './clients';

/** How long a sign-in link may wait before it is opened. */
export const LINK_TTL_MS = 10 * 60_000;
/** How long a signed-in session lasts. */
export const SESSION_TTL_MS = 60 * 60_000;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const token = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`;

/**
 * A new session for portal user `portalUserId` of the agency's client: its id, the link token
 * (shown once) and until when the link can be opened. 404 for another agency's client; the
 * user must be the client's and hold manage_billing (a 400/422 naming portalUserId).
 */
export async function createPortalSession(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  portalUserId: string,
): Promise<{ session: PortalSessionRow; linkToken: string }> {
  await requireClient(sql, agencyId, clientId);
  const user = await getPortalUser(sql, agencyId, clientId, portalUserId);
  if (!user) {
    throw new ApiError(
      'validation_failed',
      `portalUserId: client ${clientId} has no portal user ${portalUserId}`,
      [{ field: 'portalUserId', message: `no portal user ${portalUserId} on client ${clientId}` }],
    );
  }
  if (!user.permissions.includes('manage_billing')) {
    const message = `portal user ${portalUserId} lacks the manage_billing permission`;
    throw new ApiError('unprocessable', `portalUserId: ${message}`, [
      { field: 'portalUserId', message },
    ]);
  }
  const linkToken = token('pst');
  const session = await insertPortalSession(sql, {
    id: newId('pss'),
    agencyId,
    clientId,
    portalUserId,
    linkHash: hash(linkToken),
    linkTtlMs: LINK_TTL_MS,
  });
  return { session, linkToken };
}

/** Opens the link's session once: the cookie token and its expiry, or why it was refused. */
export async function openPortalLink(
  sql: AnySql,
  linkToken: string,
): Promise<{ cookieToken: string; expiresAt: Date } | { refused: LinkRefusal }> {
  const cookieToken = token('psc');
  const result = await consumeLink(sql, hash(linkToken), hash(cookieToken), SESSION_TTL_MS);
  if ('refused' in result) return result;
  return { cookieToken, expiresAt: result.session.expiresAt! };
}

/** The live session a cookie token belongs to, or null (unknown, expired, revoked, user gone). */
export function portalSessionOf(
  sql: AnySql,
  cookieToken: string,
): Promise<LivePortalSession | null> {
  return findLiveSession(sql, hash(cookieToken));
}

/** The CSRF token of the session whose cookie token this is. */
export function csrfTokenOf(cookieToken: string): string {
  return createHash('sha256').update(`csrf:${cookieToken}`).digest('base64url');
}

/** Whether `given` is the CSRF token of this cookie token (compared in constant time). */
export function csrfMatches(cookieToken: string, given: string | undefined): boolean {
  if (!given) return false;
  const want = Buffer.from(csrfTokenOf(cookieToken));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Ends a session (sign-out, or the agency's revoke); a 404 for another agency's session. */
export async function endPortalSession(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<PortalSessionRow> {
  const row = await revokePortalSession(sql, agencyId, id);
  if (!row) throw notFound('portal session', id);
  return row;
}
