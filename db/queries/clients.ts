/** Client queries. */
import type { BillingMode } from '../../billing/terms';

/** How a stripe-mode client pays: ChatDash's "Auto-charge" (the card on file) or "Request Payment". */
export type CollectionMethod = 'charge_automatically' | 'send_invoice';
import type { AnySql, Sql } from '../client';

export interface ClientRow {
  id: string;
  externalId: string | null;
  name: string;
  email: string | null;
  billingMode: BillingMode;
  billingEnabled: boolean;
  collectionMethod: CollectionMethod;
  rateMinorPerMinute: string | null;
  disabled: boolean;
  planId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A new client's fields; collectionMethod defaults to charge_automatically. */
export type ClientFields = Omit<
  ClientRow,
  'id' | 'createdAt' | 'updatedAt' | 'collectionMethod'
> & {
  collectionMethod?: CollectionMethod;
};

const columns = (sql: AnySql) => sql`
  id, external_id as "externalId", name, email, billing_mode as "billingMode",
  billing_enabled as "billingEnabled", collection_method as "collectionMethod",
  trim_scale(rate_minor_per_minute)::text as "rateMinorPerMinute",
  disabled, plan_id as "planId", created_at as "createdAt", updated_at as "updatedAt"`;

const dbFields = (p: Partial<ClientFields>) => {
  const map: Record<keyof ClientFields, string> = {
    externalId: 'external_id',
    name: 'name',
    email: 'email',
    billingMode: 'billing_mode',
    billingEnabled: 'billing_enabled',
    collectionMethod: 'collection_method',
    rateMinorPerMinute: 'rate_minor_per_minute',
    disabled: 'disabled',
    planId: 'plan_id',
  };
  return Object.fromEntries(
    Object.entries(p)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [map[k as keyof ClientFields], v]),
  ) as Record<string, string | boolean | null>;
};

export async function insertClient(
  sql: AnySql,
  agencyId: string,
  id: string,
  c: ClientFields,
): Promise<ClientRow> {
  const [row] = await sql<
    ClientRow[]
  >`insert into clients ${sql({ id, agency_id: agencyId, ...dbFields(c) })} returning ${columns(sql)}`;
  return row!;
}

export async function updateClient(
  sql: AnySql,
  agencyId: string,
  id: string,
  c: Partial<ClientFields>,
): Promise<ClientRow | null> {
  const fields = dbFields(c);
  if (Object.keys(fields).length === 0) return getClient(sql, agencyId, id);
  const [row] = await sql<ClientRow[]>`
    update clients set ${sql(fields)}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}

export async function getClient(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<ClientRow | null> {
  const [row] = await sql<
    ClientRow[]
  >`select ${columns(sql)} from clients where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function listClients(
  sql: Sql,
  f: { agencyId: string; after?: string | undefined; limit: number },
): Promise<ClientRow[]> {
  return sql<ClientRow[]>`
    select ${columns(sql)} from clients where agency_id = ${f.agencyId}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

export async function listAgentIds(sql: AnySql, clientId: string): Promise<string[]> {
  const rows = await sql<
    { id: string }[]
  >`select id from agents where client_id = ${clientId} order by id`;
  return rows.map((r) => r.id);
}

/**
 * Reads a client and locks its row for the rest of the transaction. `shared`: a lock that lets
 * other readers lock it too but waits for, and holds off, any change to the client.
 */
export async function lockClient(
  tx: AnySql,
  agencyId: string,
  id: string,
  { shared = false } = {},
): Promise<ClientRow | null> {
  const [row] = await tx<ClientRow[]>`
    select ${columns(tx)} from clients where id = ${id} and agency_id = ${agencyId}
    ${shared ? tx`for share` : tx`for update`}`;
  return row ?? null;
}

/** Disables or enables a client; null when it is not this agency's. */
export async function setClientDisabled(
  sql: AnySql,
  agencyId: string,
  id: string,
  disabled: boolean,
): Promise<ClientRow | null> {
  const [row] = await sql<ClientRow[]>`
    update clients set disabled = ${disabled}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}

export const disableClient = (sql: AnySql, agencyId: string, id: string) =>
  setClientDisabled(sql, agencyId, id, true);
export const enableClient = (sql: AnySql, agencyId: string, id: string) =>
  setClientDisabled(sql, agencyId, id, false);

/** Sets (or, with null, removes) the client's assigned plan. */
export async function setClientPlan(
  sql: AnySql,
  agencyId: string,
  id: string,
  planId: string | null,
): Promise<ClientRow | null> {
  const [row] = await sql<ClientRow[]>`
    update clients set plan_id = ${planId}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}

/** The client's subscription that is not canceled (at most one, by a unique index). */
export async function findLiveSubscription(
  sql: AnySql,
  agencyId: string,
  clientId: string,
): Promise<{ id: string; status: string } | null> {
  const [row] = await sql<{ id: string; status: string }[]>`
    select id, status from subscriptions
    where client_id = ${clientId} and agency_id = ${agencyId} and status <> 'canceled' limit 1`;
  return row ?? null;
}
