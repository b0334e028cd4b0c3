/** One-time products: things sold once (setup fee, onboarding), charged by later issues. */
import type { AnySql } from '../client';

export interface OneTimeProductRow {
  id: string;
  name: string;
  description: string | null;
  priceMinor: number;
  currency: string;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface OneTimeProductFields {
  name: string;
  description: string | null;
  priceMinor: number;
  currency: string;
}

const columns = (sql: AnySql) => sql`
  id, name, description, price_minor as "priceMinor", currency, archived_at as "archivedAt",
  created_at as "createdAt", updated_at as "updatedAt"`;

export async function insertOneTimeProduct(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: OneTimeProductFields,
): Promise<OneTimeProductRow> {
  const [row] = await sql<OneTimeProductRow[]>`
    insert into one_time_products (id, agency_id, name, description, price_minor, currency)
    values (${id}, ${agencyId}, ${p.name}, ${p.description}, ${p.priceMinor}, ${p.currency})
    returning ${columns(sql)}`;
  return row!;
}

export async function getOneTimeProduct(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<OneTimeProductRow | null> {
  const [row] = await sql<OneTimeProductRow[]>`
    select ${columns(sql)} from one_time_products where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function listOneTimeProducts(
  sql: AnySql,
  f: { agencyId: string; includeArchived: boolean; after?: string | undefined; limit: number },
): Promise<OneTimeProductRow[]> {
  return sql<OneTimeProductRow[]>`
    select ${columns(sql)} from one_time_products where agency_id = ${f.agencyId}
      ${f.includeArchived ? sql`` : sql`and archived_at is null`}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

/** Changes apply to future charges only: a charge copies the price when it is issued. */
export async function updateOneTimeProduct(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: Partial<OneTimeProductFields>,
): Promise<OneTimeProductRow | null> {
  const fields = Object.fromEntries(
    Object.entries({
      name: p.name,
      description: p.description,
      price_minor: p.priceMinor,
      currency: p.currency,
    }).filter(([, v]) => v !== undefined),
  ) as Record<string, string | number | null>;
  if (Object.keys(fields).length === 0) return getOneTimeProduct(sql, agencyId, id);
  const [row] = await sql<OneTimeProductRow[]>`
    update one_time_products set ${sql(fields)}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}

export async function archiveOneTimeProduct(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<OneTimeProductRow | null> {
  const [row] = await sql<OneTimeProductRow[]>`
    update one_time_products set archived_at = coalesce(archived_at, now()), updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}
