/** Client portal users: people at the client who see its billing (`manage_billing`). */
import type { AnySql } from '../client';
import { clientOwnedQueries } from './resource-queries';

export type PortalPermission = 'manage_billing';

export interface PortalUserRow {
  id: string;
  clientId: string;
  email: string;
  permissions: PortalPermission[];
  createdAt: Date;
}

const columns = (sql: AnySql) => sql`
  id, client_id as "clientId", email, permissions, created_at as "createdAt"`;

export async function insertPortalUser(
  sql: AnySql,
  u: {
    id: string;
    agencyId: string;
    clientId: string;
    email: string;
    permissions: PortalPermission[];
  },
): Promise<PortalUserRow> {
  const [row] = await sql<PortalUserRow[]>`
    insert into portal_users (id, agency_id, client_id, email, permissions)
    values (${u.id}, ${u.agencyId}, ${u.clientId}, ${u.email}, ${u.permissions})
    returning ${columns(sql)}`;
  return row!;
}

const portalUsers = clientOwnedQueries<PortalUserRow>('portal_users', columns);

export const getPortalUser = portalUsers.get;

/** The client's portal users, newest first. */
export const listPortalUsers = portalUsers.list;

/** Removes the portal user; false when the client has no such user. */
export const deletePortalUser = portalUsers.remove;
