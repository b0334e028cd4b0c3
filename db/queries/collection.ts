/**
 * The collection outbox (migration 0009): issued payment requests owed to their collector. The
 * row is written by the statement that inserts the request (`queueCollection`), claimed with a
 * lease by the collection presenter, and closed with what the collector answered.
 */
import type { BillingMode } from '../../billing/terms';
import type { AnySql } from '../client';

export type CollectionStatus = 'pending' | 'presented' | 'skipped' | 'failed_permanently';

/** A row the presenter claimed: its lease runs until the claim's `attempt` is recorded or expires. */
export interface ClaimedCollection {
  requestId: string;
  agencyId: string;
  clientId: string;
  billingMode: BillingMode;
  /** This claim's number (1 for the first): recording checks it, so a stale claim records nothing. */
  attempt: number;
  /** When the row was queued: a retry long after it may find an outside system has forgotten keys. */
  queuedAt: Date;
}

export interface CollectionRow {
  requestId: string;
  agencyId: string;
  clientId: string;
  billingMode: BillingMode;
  status: CollectionStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  collector: string | null;
  externalId: string | null;
  hostedUrl: string | null;
  createdAt: Date;
  presentedAt: Date | null;
}

/** `at` if given, else Postgres's clock (the clock the rows' defaults use). */
const clock = (sql: AnySql, at: Date | null | undefined) =>
  sql`coalesce(${at ?? null}::timestamptz, now())`;

const seconds = (ms: number) => ms / 1000;

/**
 * The outbox insert for a request inserted in the same statement: a data-modifying CTE body that
 * reads the CTE named `r` (the request insert's `returning id`), so a request that was not
 * inserted (a retry that hit its idempotency key) queues nothing, and a rolled-back one leaves no
 * row. The billing mode, read in the same statement, is the one the request is billed under: a
 * subscription's (frozen at its start, as its workflow bills it) for its requests, the client's
 * at issue for the others (packs, one-time charges).
 */
export function queueCollection(
  sql: AnySql,
  o: { agencyId: string; clientId: string; subscriptionId: string | null },
) {
  return sql`
    insert into collection_outbox (request_id, agency_id, client_id, billing_mode)
    select r.id, ${o.agencyId}, ${o.clientId},
      coalesce(
        (select billing_mode from subscriptions where id = ${o.subscriptionId}),
        (select billing_mode from clients where id = ${o.clientId}))
    from r
    on conflict (request_id) do nothing`;
}

/**
 * Claims up to `limit` due rows, oldest due first, skipping rows another presenter holds. Each
 * claim counts an attempt and leases the row for `leaseMs` (its next attempt moves past the
 * lease), so a presenter that dies mid-call leaves the row to be claimed again once it expires.
 */
export async function claimDueCollections(
  sql: AnySql,
  o: { now?: Date | null; limit: number; leaseMs: number },
): Promise<ClaimedCollection[]> {
  const at = clock(sql, o.now);
  return sql<ClaimedCollection[]>`
    update collection_outbox o set
      attempts = o.attempts + 1,
      next_attempt_at = ${at} + make_interval(secs => ${seconds(o.leaseMs)})
    where o.request_id in (
      select request_id from collection_outbox
      where status = 'pending' and next_attempt_at <= ${at}
      order by next_attempt_at, request_id limit ${o.limit}
      for update skip locked)
    returning o.request_id as "requestId", o.agency_id as "agencyId", o.client_id as "clientId",
      o.billing_mode as "billingMode", o.attempts as attempt, o.created_at as "queuedAt"`;
}

/** The row is still held by this claim: nobody reclaimed it after its lease ran out. */
const heldBy = (sql: AnySql, c: { requestId: string; attempt: number }) =>
  sql`request_id = ${c.requestId} and status = 'pending' and attempts = ${c.attempt}`;

/** Closes a claimed row as presented by `collector`; false when the claim had gone stale. */
export async function recordPresented(
  sql: AnySql,
  c: { requestId: string; attempt: number },
  r: { collector: string; externalId: string | null; hostedUrl: string | null; now?: Date | null },
): Promise<boolean> {
  const rows = await sql`
    update collection_outbox set status = 'presented', presented_at = ${clock(sql, r.now)},
      collector = ${r.collector}, external_id = ${r.externalId}, hosted_url = ${r.hostedUrl}
    where ${heldBy(sql, c)}
    returning 1`;
  return rows.length === 1;
}

/** Closes a claimed row whose request was paid or canceled before its turn: nothing to collect. */
export async function recordSkipped(
  sql: AnySql,
  c: { requestId: string; attempt: number },
): Promise<boolean> {
  const rows = await sql`
    update collection_outbox set status = 'skipped' where ${heldBy(sql, c)} returning 1`;
  return rows.length === 1;
}

/**
 * Records a failed presentation: the row is due again `retryInMs` from now, or, with
 * `retryInMs` null, closed as failed for good. False when the claim had gone stale.
 */
export async function recordCollectionFailure(
  sql: AnySql,
  c: { requestId: string; attempt: number },
  f: { error: string; retryInMs: number | null; now?: Date | null },
): Promise<boolean> {
  const at = clock(sql, f.now);
  const rows = await sql`
    update collection_outbox set
      last_error = ${f.error.slice(0, 2000)},
      ${
        f.retryInMs === null
          ? sql`status = 'failed_permanently'`
          : sql`next_attempt_at = ${at} + make_interval(secs => ${seconds(f.retryInMs)})`
      }
    where ${heldBy(sql, c)}
    returning 1`;
  return rows.length === 1;
}

/** One request's outbox row (null: none), for operators and tests. */
export async function getCollection(sql: AnySql, requestId: string): Promise<CollectionRow | null> {
  const [row] = await sql<CollectionRow[]>`
    select request_id as "requestId", agency_id as "agencyId", client_id as "clientId",
      billing_mode as "billingMode", status, attempts, last_error as "lastError",
      next_attempt_at as "nextAttemptAt", collector, external_id as "externalId",
      hosted_url as "hostedUrl", created_at as "createdAt", presented_at as "presentedAt"
    from collection_outbox where request_id = ${requestId}`;
  return row ?? null;
}
