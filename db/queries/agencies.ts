/** Agencies and their API keys. Keys are shown once and stored as SHA-256 hashes. */
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../lib/ids';
import type { AnySql, Sql } from '../client';

export type KeyKind = 'agency' | 'ingest';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random key: `tly_<kind>_<43 base64url chars>` (256 bits). */
export function generateKey(kind: KeyKind): string {
  return `tly_${kind === 'agency' ? 'live' : 'ingest'}_${randomBytes(32).toString('base64url')}`;
}

export interface AgencyRow {
  id: string;
  name: string;
  webhookUrl: string | null;
  failedPaymentAction: 'block' | 'cancel';
  stripeAccountId: string | null;
  createdAt: Date;
}

const agencyColumns = (sql: AnySql) => sql`
  id, name, webhook_url as "webhookUrl", failed_payment_action as "failedPaymentAction",
  stripe_account_id as "stripeAccountId", created_at as "createdAt"`;

export async function insertApiKey(
  sql: AnySql,
  agencyId: string,
  kind: KeyKind,
  name: string | null,
) {
  const key = generateKey(kind);
  const id = newId('key');
  const [row] = await sql<
    { id: string; kind: KeyKind; name: string | null; prefix: string; createdAt: Date }[]
  >`
    insert into api_keys (id, agency_id, kind, name, prefix, hash)
    values (${id}, ${agencyId}, ${kind}, ${name}, ${key.slice(0, 16)}, ${hashKey(key)})
    returning id, kind, name, prefix, created_at as "createdAt"`;
  return { ...row!, key };
}

/** Creates an agency with its first agency key; the key is returned once, never stored. */
export async function createAgency(sql: Sql, input: { name: string; webhookUrl: string | null }) {
  return sql.begin(async (tx) => {
    const id = newId('agy');
    const [agency] = await tx<AgencyRow[]>`
      insert into agencies (id, name, webhook_url, webhook_secret)
      values (${id}, ${input.name}, ${input.webhookUrl}, ${`whsec_${randomBytes(24).toString('base64url')}`})
      returning ${agencyColumns(tx)}`;
    const apiKey = await insertApiKey(tx, id, 'agency', 'initial');
    return { agency: agency!, apiKey };
  });
}

export async function getAgency(sql: AnySql, id: string): Promise<AgencyRow | null> {
  const [row] = await sql<AgencyRow[]>`select ${agencyColumns(sql)} from agencies where id = ${id}`;
  return row ?? null;
}

/** Resolves a presented key to its agency, or null when unknown or revoked. */
export async function findKey(
  sql: Sql,
  key: string,
): Promise<{ agencyId: string; kind: KeyKind } | null> {
  const [row] = await sql<{ agencyId: string; kind: KeyKind }[]>`
    select agency_id as "agencyId", kind from api_keys where hash = ${hashKey(key)} and revoked_at is null`;
  return row ?? null;
}
