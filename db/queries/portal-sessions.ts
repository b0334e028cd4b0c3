/**
 * Client portal sessions (migration 0014): a single-use sign-in link, then a cookie session.
 * Only SHA-256 hashes of both tokens are stored; times are compared with the database's clock.
 */
import type { AnySql } from '../client';

export interface PortalSessionRow {
  id: string;
  agencyId: string;
  clientId: string;
  portalUserId: string;
  linkExpiresAt: Date;
  usedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const columns = (sql: AnySql) => sql`
  id, agency_id as "agencyId", client_id as "clientId", portal_user_id as "portalUserId",
  link_expires_at as "linkExpiresAt", used_at as "usedAt", expires_at as "expiresAt",
  revoked_at as "revokedAt", created_at as "createdAt"`;

export async function insertPortalSession(
  sql: AnySql,
  s: {
    id: string;
    agencyId: string;
    clientId: string;
    portalUserId: string;
    linkHash: string;
    linkTtlMs: number;
  },
): Promise<PortalSessionRow> {
  const [row] = await sql<PortalSessionRow[]>`
    insert into portal_sessions (id, agency_id, client_id, portal_user_id, link_hash, link_expires_at)
    values (${s.id}, ${s.agencyId}, ${s.clientId}, ${s.portalUserId}, ${s.linkHash},
      now() + make_interval(secs => ${s.linkTtlMs / 1000}))
    returning ${columns(sql)}`;
  return row!;
}

/** Why a link opened no session. */
export type LinkRefusal = 'unknown' | 'used' | 'expired' | 'revoked';

/**
 * Opens the session of an unused, unexpired, unrevoked link (once: the update and its condition
 * are one statement), storing the cookie token's hash; otherwise says why not.
 */
export async function consumeLink(
  sql: AnySql,
  linkHash: string,
  sessionHash: string,
  sessionTtlMs: number,
): Promise<{ session: PortalSessionRow } | { refused: LinkRefusal }> {
  const [row] = await sql<PortalSessionRow[]>`
    update portal_sessions set used_at = now(), session_hash = ${sessionHash},
      expires_at = now() + make_interval(secs => ${sessionTtlMs / 1000})
    where link_hash = ${linkHash} and used_at is null and revoked_at is null
      and link_expires_at > now()
    returning ${columns(sql)}`;
  if (row) return { session: row };
  const [state] = await sql<{ used: boolean; revoked: boolean }[]>`
    select used_at is not null as used, revoked_at is not null as revoked
    from portal_sessions where link_hash = ${linkHash}`;
  if (!state) return { refused: 'unknown' };
  return { refused: state.used ? 'used' : state.revoked ? 'revoked' : 'expired' };
}

/** A live session: open, not expired or revoked, its user still there with manage_billing. */
export interface LivePortalSession {
  id: string;
  agencyId: string;
  clientId: string;
  portalUserId: string;
  email: string;
  expiresAt: Date;
}

export async function findLiveSession(
  sql: AnySql,
  sessionHash: string,
): Promise<LivePortalSession | null> {
  const [row] = await sql<LivePortalSession[]>`
    select s.id, s.agency_id as "agencyId", s.client_id as "clientId",
      s.portal_user_id as "portalUserId", u.email, s.expires_at as "expiresAt"
    from portal_sessions s join portal_users u on u.id = s.portal_user_id
    where s.session_hash = ${sessionHash} and s.revoked_at is null and s.expires_at > now()
      and 'manage_billing' = any(u.permissions)`;
  return row ?? null;
}

/** Revokes a session (link and cookie); false when the agency has no such session. */
export async function revokePortalSession(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<PortalSessionRow | null> {
  const [row] = await sql<PortalSessionRow[]>`
    update portal_sessions set revoked_at = coalesce(revoked_at, now())
    where id = ${id} and agency_id = ${agencyId}
    returning ${columns(sql)}`;
  return row ?? null;
}
