/**
 * Idempotency keys: one row per (scope, key). A row without a status code is a request still
 * being answered; with one, the stored answer to replay.
 */
import type { Sql } from '../client';

/** How long a stored answer is kept: a key older than this may be used again. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
/**
 * A claim without an answer older than this is taken as abandoned (the process died mid-request)
 * and may be claimed again. Requests answer in milliseconds, so a minute is generous.
 */
export const IDEMPOTENCY_LOCK_SECONDS = 60;

export interface IdempotencyClaim {
  scope: string;
  agencyId: string | null;
  key: string;
  method: string;
  path: string;
  requestHash: string;
}

export interface StoredIdempotency {
  method: string;
  path: string;
  requestHash: string;
  statusCode: number | null;
  /** The answer's body exactly as sent (secrets nulled), with its content type. */
  response: { contentType: string | null; body: string } | null;
}

/**
 * Claims a key for this request. Returns null when claimed (the caller executes the request),
 * else the row that holds the key. The unique (scope, key) makes concurrent claims exclusive.
 */
export async function claimIdempotencyKey(
  sql: Sql,
  c: IdempotencyClaim,
): Promise<StoredIdempotency | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimed = await sql`
      insert into idempotency_keys (scope, agency_id, key, method, path, request_hash)
      values (${c.scope}, ${c.agencyId}, ${c.key}, ${c.method}, ${c.path}, ${c.requestHash})
      on conflict (scope, key) do update set
        method = excluded.method, path = excluded.path, request_hash = excluded.request_hash,
        status_code = null, response = null, created_at = now()
      where idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})
        or (idempotency_keys.status_code is null
          and idempotency_keys.created_at < now() - make_interval(secs => ${IDEMPOTENCY_LOCK_SECONDS}))
      returning 1`;
    if (claimed.length === 1) return null;
    const [row] = await sql<StoredIdempotency[]>`
      select method, path, request_hash as "requestHash", status_code as "statusCode", response
      from idempotency_keys where scope = ${c.scope} and key = ${c.key}`;
    // Gone between the two statements (its request failed and released it): claim again.
    if (row) return row;
  }
  throw new Error(`could not claim idempotency key ${c.key}`);
}

/**
 * Stores the answer for a claimed key. `whileClaimed`: only while the claim still holds (not
 * answered, younger than IDEMPOTENCY_LOCK_SECONDS), for a late store that must not land on a
 * claim a retry took over.
 */
export async function storeIdempotentResponse(
  sql: Sql,
  scope: string,
  key: string,
  statusCode: number,
  response: { contentType: string | null; body: string },
  { whileClaimed = false } = {},
): Promise<void> {
  await sql`
    update idempotency_keys set status_code = ${statusCode}, response = ${sql.json(response as never)}
    where scope = ${scope} and key = ${key}
      ${
        whileClaimed
          ? sql`and status_code is null
              and created_at > now() - make_interval(secs => ${IDEMPOTENCY_LOCK_SECONDS})`
          : sql``
      }`;
}

/** Releases a claimed key whose request failed on our side, so a retry executes again. */
export async function releaseIdempotencyKey(sql: Sql, scope: string, key: string): Promise<void> {
  await sql`delete from idempotency_keys where scope = ${scope} and key = ${key} and status_code is null`;
}

/** Deletes up to `limit` keys past retention; returns how many. */
export async function purgeExpiredIdempotencyKeys(sql: Sql, limit = 1000): Promise<number> {
  const rows = await sql`
    delete from idempotency_keys where (scope, key) in (
      select scope, key from idempotency_keys
      where created_at < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})
      order by created_at limit ${limit})
    returning 1`;
  return rows.length;
}
