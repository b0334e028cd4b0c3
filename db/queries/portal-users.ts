/** Client portal users: people at the client who see its billing (`manage_billing`). */
import type { AnySql } from '../client';

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

export async function getPortalUser(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  id: string,
): Promise<PortalUserRow | null> {
  const [row] = await sql<PortalUserRow[]>`
    select ${columns(sql)} from portal_users
    where id = ${id} and client_id = ${clientId} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function listPortalUsers(
  sql: AnySql,
  f: { agencyId: string; clientId: string; after?: string | undefined; limit: number },
): Promise<PortalUserRow[]> {
  return sql<PortalUserRow[]>`
    select ${columns(sql)} from portal_users
    where agency_id = ${f.agencyId} and client_id = ${f.clientId}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

export async function deletePortalUser(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  id: string,
): Promise<boolean> {
  const rows = await sql`
    delete from portal_users where id = ${id} and client_id = ${clientId} and agency_id = ${agencyId}
    returning id`;
  return rows.length === 1;
}
