/** The webhook outbox: one row per event and endpoint, delivered by a Temporal workflow each. */
import type { AnySql, Sql } from '../client';

export interface DeliveryToSend {
  id: string;
  agencyId: string;
  url: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered';
  attempts: number;
  /** Read at each attempt, so a rotated secret signs the next attempt. */
  secret: string;
}

export async function getDeliveryToSend(sql: AnySql, id: string): Promise<DeliveryToSend | null> {
  const [row] = await sql<DeliveryToSend[]>`
    select d.id, d.agency_id as "agencyId", d.url, d.payload, d.status, d.attempts,
      a.webhook_secret as secret
    from webhook_deliveries d join agencies a on a.id = d.agency_id
    where d.id = ${id}`;
  return row ?? null;
}

export async function markDelivered(sql: AnySql, id: string, attempts: number): Promise<void> {
  await sql`
    update webhook_deliveries set status = 'delivered', delivered_at = coalesce(delivered_at, now()),
      attempts = greatest(attempts, ${attempts}), last_error = null
    where id = ${id}`;
}

export async function recordFailedAttempt(
  sql: AnySql,
  id: string,
  attempts: number,
  error: string,
): Promise<void> {
  await sql`
    update webhook_deliveries set attempts = greatest(attempts, ${attempts}),
      last_error = ${error.slice(0, 500)}
    where id = ${id} and status = 'pending'`;
}

/** Notes that delivery workflows were started for these rows. */
export async function markDispatched(sql: AnySql, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update webhook_deliveries set dispatched_at = now() where id = any(${ids})`;
}

/**
 * Pending rows that need a delivery workflow: never dispatched (a crash between commit and start)
 * and older than `undispatchedAfterMs`, or dispatched long ago and still pending (a workflow that
 * was terminated): starting one again is a no-op when it still runs.
 */
export async function listDeliveriesToDispatch(
  sql: Sql,
  f: { undispatchedAfterMs: number; redispatchAfterMs: number; limit: number },
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from webhook_deliveries
    where status = 'pending'
      and ((dispatched_at is null and created_at < now() - make_interval(secs => ${f.undispatchedAfterMs / 1000}))
        or dispatched_at < now() - make_interval(secs => ${f.redispatchAfterMs / 1000}))
    order by created_at limit ${f.limit}`;
  return rows.map((r) => r.id);
}

export interface DeliveryRow {
  id: string;
  eventId: string;
  url: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered';
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** An agency's deliveries, newest first (for operators and tests). */
export async function listDeliveries(
  sql: Sql,
  f: { agencyId: string; limit: number },
): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`
    select id, event_id as "eventId", url, payload, status, attempts, last_error as "lastError",
      delivered_at as "deliveredAt", created_at as "createdAt"
    from webhook_deliveries where agency_id = ${f.agencyId}
    order by id desc limit ${f.limit}`;
}
