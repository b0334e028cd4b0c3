/**
 * Queries that are the same for several tables, each bound by its own module to its table and
 * columns (inserts, and anything one table does differently, stay in that module):
 * - an agency's catalog (plans, packs, coupons, one-time products): get, list (active only unless
 *   includeArchived), archive (the first archive time stays) and update of named fields;
 * - a client's rows (agents, portal users): get, list and delete, scoped to client and agency.
 */
import type postgres from 'postgres';
import type { AnySql } from '../client';

/** The select list of a table, with the row type's names (`flat_fee_minor as "flatFeeMinor"`). */
export type Columns = (sql: AnySql) => postgres.PendingQuery<postgres.Row[]>;

/** Keyset page of one agency's rows, newest id first. */
interface Page {
  agencyId: string;
  after?: string | undefined;
  limit: number;
}

/** get, list, archive and update of the catalog table `table`, scoped to an agency. */
export function catalogQueries<Row extends object, Fields extends object>(
  table: string,
  columns: Columns,
  /** The fields an update may change, each with its column. */
  updatable: { [K in keyof Fields]-?: string },
) {
  async function get(sql: AnySql, agencyId: string, id: string): Promise<Row | null> {
    const [row] = await sql<Row[]>`
      select ${columns(sql)} from ${sql(table)} where id = ${id} and agency_id = ${agencyId}`;
    return row ?? null;
  }

  /** The fields given (not undefined) keyed by their columns, for an insert or update. */
  function columnsOf(changes: Partial<Fields>) {
    return Object.fromEntries(
      Object.entries(updatable)
        .map(([key, column]) => [column, changes[key as keyof Fields]])
        .filter(([, v]) => v !== undefined),
    ) as Record<string, string | number | boolean | null>;
  }

  return {
    get,
    columnsOf,

    list(sql: AnySql, f: Page & { includeArchived: boolean }): Promise<Row[]> {
      return sql<Row[]>`
        select ${columns(sql)} from ${sql(table)} where agency_id = ${f.agencyId}
          ${f.includeArchived ? sql`` : sql`and archived_at is null`}
          ${f.after ? sql`and id < ${f.after}` : sql``}
        order by id desc limit ${f.limit}`;
    },

    /** Sets the fields given (undefined ones are left alone); with none, the row as it is. */
    async update(
      sql: AnySql,
      agencyId: string,
      id: string,
      changes: Partial<Fields>,
    ): Promise<Row | null> {
      const fields = columnsOf(changes);
      if (Object.keys(fields).length === 0) return get(sql, agencyId, id);
      const [row] = await sql<Row[]>`
        update ${sql(table)} set ${sql(fields)}, updated_at = now()
        where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
      return row ?? null;
    },

    async archive(sql: AnySql, agencyId: string, id: string): Promise<Row | null> {
      const [row] = await sql<Row[]>`
        update ${sql(table)} set archived_at = coalesce(archived_at, now()), updated_at = now()
        where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
      return row ?? null;
    },
  };
}

/** get, list and delete of the client-owned table `table`, scoped to a client and its agency. */
export function clientOwnedQueries<Row extends object>(table: string, columns: Columns) {
  return {
    async get(sql: AnySql, agencyId: string, clientId: string, id: string): Promise<Row | null> {
      const [row] = await sql<Row[]>`
        select ${columns(sql)} from ${sql(table)}
        where id = ${id} and client_id = ${clientId} and agency_id = ${agencyId}`;
      return row ?? null;
    },

    list(sql: AnySql, f: Page & { clientId: string }): Promise<Row[]> {
      return sql<Row[]>`
        select ${columns(sql)} from ${sql(table)}
        where agency_id = ${f.agencyId} and client_id = ${f.clientId}
          ${f.after ? sql`and id < ${f.after}` : sql``}
        order by id desc limit ${f.limit}`;
    },

    /** Deletes the row; false when the client has no such row. */
    async remove(sql: AnySql, agencyId: string, clientId: string, id: string): Promise<boolean> {
      const rows = await sql`
        delete from ${sql(table)}
        where id = ${id} and client_id = ${clientId} and agency_id = ${agencyId}
        returning id`;
      return rows.length === 1;
    },
  };
}
