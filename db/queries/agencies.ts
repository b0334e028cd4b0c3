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

export type FailedPaymentAction = 'block' | 'cancel';

export interface AgencyRow {
  id: string;
  name: string;
  webhookUrl: string | null;
  failedPaymentAction: FailedPaymentAction;
  /** Days from a failed Stripe charge to each retry (default 3, 5, 7; migration 0013). */
  stripeRetryDays: number[];
  stripeAccountId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const agencyColumns = (sql: AnySql) => sql`
  id, name, webhook_url as "webhookUrl", failed_payment_action as "failedPaymentAction",
  stripe_retry_days as "stripeRetryDays", stripe_account_id as "stripeAccountId", created_at as "createdAt", updated_at as "updatedAt"`;

/** A new webhook signing secret (192 bits). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

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

/**
 * Creates an agency with its first agency key. The key is returned once and stored only as a
 * hash; the webhook secret is returned too (it is kept, since deliveries are signed with it).
 */
export async function createAgency(sql: Sql, input: { name: string; webhookUrl: string | null }) {
  return sql.begin(async (tx) => {
    const id = newId('agy');
    const webhookSecret = generateWebhookSecret();
    const [agency] = await tx<AgencyRow[]>`
      insert into agencies (id, name, webhook_url, webhook_secret)
      values (${id}, ${input.name}, ${input.webhookUrl}, ${webhookSecret})
      returning ${agencyColumns(tx)}`;
    const apiKey = await insertApiKey(tx, id, 'agency', 'initial');
    return { agency: agency!, apiKey, webhookSecret };
  });
}

export interface AgencyChanges {
  name?: string | undefined;
  webhookUrl?: string | null | undefined;
  failedPaymentAction?: FailedPaymentAction | undefined;
  stripeRetryDays?: number[] | undefined;
}

export async function updateAgency(
  sql: AnySql,
  id: string,
  changes: AgencyChanges,
): Promise<AgencyRow | null> {
  const fields = Object.fromEntries(
    Object.entries({
      name: changes.name,
      webhook_url: changes.webhookUrl,
      failed_payment_action: changes.failedPaymentAction,
      stripe_retry_days: changes.stripeRetryDays,
    }).filter(([, v]) => v !== undefined),
  ) as Record<string, string | number[] | null>;
  if (Object.keys(fields).length === 0) return getAgency(sql, id);
  const [row] = await sql<AgencyRow[]>`
    update agencies set ${sql(fields)}, updated_at = now() where id = ${id}
    returning ${agencyColumns(sql)}`;
  return row ?? null;
}

/** Replaces the webhook signing secret; returns the new one (the only time it is shown). */
export async function rotateWebhookSecret(sql: AnySql, id: string): Promise<string | null> {
  const secret = generateWebhookSecret();
  const rows = await sql`
    update agencies set webhook_secret = ${secret}, updated_at = now() where id = ${id} returning id`;
  return rows.length === 1 ? secret : null;
}

export interface ApiKeyRow {
  id: string;
  kind: KeyKind;
  name: string | null;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const keyColumns = (sql: AnySql) => sql`
  id, kind, name, prefix, created_at as "createdAt", revoked_at as "revokedAt"`;

export async function listApiKeys(
  sql: AnySql,
  f: { agencyId: string; after?: string | undefined; limit: number },
): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    select ${keyColumns(sql)} from api_keys where agency_id = ${f.agencyId}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

export async function getApiKey(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<ApiKeyRow | null> {
  const [row] = await sql<ApiKeyRow[]>`
    select ${keyColumns(sql)} from api_keys where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

/** NOTIFY channel carrying the hash of each revoked key. */
export const KEY_REVOKED_CHANNEL = 'tally_api_key_revoked';

export type RevokeResult =
  | { outcome: 'revoked'; key: ApiKeyRow; hash: string }
  | { outcome: 'not_found' }
  | { outcome: 'last_agency_key' };

/**
 * Revokes a key (a second revoke is a no-op). Refuses to revoke the agency's last active agency
 * key, which would lock the agency out of its own API. The agency row is locked so two
 * concurrent revokes cannot each leave the other as "the last one".
 */
export async function revokeApiKey(sql: Sql, agencyId: string, id: string): Promise<RevokeResult> {
  return sql.begin(async (tx) => {
    await tx`select id from agencies where id = ${agencyId} for update`;
    const [key] = await tx<(ApiKeyRow & { hash: string })[]>`
      select ${keyColumns(tx)}, hash from api_keys where id = ${id} and agency_id = ${agencyId}`;
    if (!key) return { outcome: 'not_found' as const };
    if (key.kind === 'agency' && key.revokedAt === null) {
      const [count] = await tx<{ active: number }[]>`
        select count(*)::int as active from api_keys
        where agency_id = ${agencyId} and kind = 'agency' and revoked_at is null`;
      if (count!.active <= 1) return { outcome: 'last_agency_key' as const };
    }
    const [row] = await tx<ApiKeyRow[]>`
      update api_keys set revoked_at = coalesce(revoked_at, now())
      where id = ${id} and agency_id = ${agencyId} returning ${keyColumns(tx)}`;
    // Delivered at commit to every API process, which drops the key from its auth cache.
    await tx`select pg_notify(${KEY_REVOKED_CHANNEL}, ${key.hash})`;
    return { outcome: 'revoked' as const, key: row!, hash: key.hash };
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
  return findKeyByHash(sql, hashKey(key));
}

export async function findKeyByHash(
  sql: Sql,
  hash: string,
): Promise<{ agencyId: string; kind: KeyKind } | null> {
  const [row] = await sql<{ agencyId: string; kind: KeyKind }[]>`
    select agency_id as "agencyId", kind from api_keys where hash = ${hash} and revoked_at is null`;
  return row ?? null;
}
