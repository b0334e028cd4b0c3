/** One-time products: things sold once (setup fee, onboarding), charged by later issues. */
import type { AnySql } from '../client';
import { catalogQueries } from './resource-queries';

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

const products = catalogQueries<OneTimeProductRow, OneTimeProductFields>(
  'one_time_products',
  columns,
  { name: 'name', description: 'description', priceMinor: 'price_minor', currency: 'currency' },
);

export const getOneTimeProduct = products.get;

/** The agency's one-time products, newest first, active only unless `includeArchived`. */
export const listOneTimeProducts = products.list;

/** Changes apply to future charges only: a charge copies the price when it is issued. */
export const updateOneTimeProduct = products.update;

/** Archives the product. Archiving again keeps the first time. */
export const archiveOneTimeProduct = products.archive;
