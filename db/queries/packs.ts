/** Add-on packs (minutes sold on top of a plan) and their assignment to clients. */
import type { AnySql } from '../client';
import { catalogQueries } from './resource-queries';

export interface PackRow {
  id: string;
  name: string;
  minutes: number;
  priceMinor: number;
  currency: string;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PackFields {
  name: string;
  minutes: number;
  priceMinor: number;
  currency: string;
}

const columns = (sql: AnySql, t = sql('packs')) => sql`
  ${t}.id, ${t}.name, ${t}.minutes, ${t}.price_minor as "priceMinor", ${t}.currency,
  ${t}.archived_at as "archivedAt", ${t}.created_at as "createdAt", ${t}.updated_at as "updatedAt"`;

export async function insertPack(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: PackFields,
): Promise<PackRow> {
  const [row] = await sql<PackRow[]>`
    insert into packs (id, agency_id, name, minutes, price_minor, currency)
    values (${id}, ${agencyId}, ${p.name}, ${p.minutes}, ${p.priceMinor}, ${p.currency})
    returning ${columns(sql)}`;
  return row!;
}

const packs = catalogQueries<PackRow, PackFields>('packs', columns, {
  name: 'name',
  minutes: 'minutes',
  priceMinor: 'price_minor',
  currency: 'currency',
});

export const getPack = packs.get;

/** The agency's packs, newest first, active only unless `includeArchived`. */
export const listPacks = packs.list;

/** Changes the fields given; a pack request already issued keeps its price. */
export const updatePack = packs.update;

/** Archives the pack. Archiving again keeps the first time. */
export const archivePack = packs.archive;

/** Assigns a pack to a client; false when it already was. */
export async function assignPack(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  packId: string,
): Promise<boolean> {
  const rows = await sql`
    insert into client_packs (client_id, pack_id, agency_id) values (${clientId}, ${packId}, ${agencyId})
    on conflict (client_id, pack_id) do nothing returning pack_id`;
  return rows.length === 1;
}

export async function unassignPack(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  packId: string,
): Promise<boolean> {
  const rows = await sql`
    delete from client_packs
    where client_id = ${clientId} and pack_id = ${packId} and agency_id = ${agencyId}
    returning pack_id`;
  return rows.length === 1;
}

/** The packs assigned to one client: all a client ever sees. */
export async function listClientPacks(
  sql: AnySql,
  f: {
    agencyId: string;
    clientId: string;
    includeArchived: boolean;
    after?: string | undefined;
    limit: number;
  },
): Promise<PackRow[]> {
  return sql<PackRow[]>`
    select ${columns(sql)} from client_packs cp join packs on packs.id = cp.pack_id
    where cp.agency_id = ${f.agencyId} and cp.client_id = ${f.clientId}
      ${f.includeArchived ? sql`` : sql`and packs.archived_at is null`}
      ${f.after ? sql`and packs.id < ${f.after}` : sql``}
    order by packs.id desc limit ${f.limit}`;
}

/** Whether a pack is assigned to this client (issue 5 applies only assigned packs). */
export async function isPackAssigned(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  packId: string,
): Promise<boolean> {
  const rows = await sql`
    select 1 from client_packs
    where client_id = ${clientId} and pack_id = ${packId} and agency_id = ${agencyId}`;
  return rows.length === 1;
}

/** Currencies of the packs assigned to a client (active ones). */
export async function clientPackCurrencies(
  sql: AnySql,
  agencyId: string,
  clientId: string,
): Promise<string[]> {
  const rows = await sql<{ currency: string }[]>`
    select distinct packs.currency from client_packs cp join packs on packs.id = cp.pack_id
    where cp.agency_id = ${agencyId} and cp.client_id = ${clientId} and packs.archived_at is null`;
  return rows.map((r) => r.currency);
}

/** How many clients a pack is assigned to. */
export async function countPackAssignments(
  sql: AnySql,
  agencyId: string,
  packId: string,
): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from client_packs where agency_id = ${agencyId} and pack_id = ${packId}`;
  return row!.n;
}
