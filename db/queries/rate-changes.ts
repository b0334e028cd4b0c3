/** The rate-change outbox (migration 0007): rates owed to running subscriptions' workflows. */
import type { AnySql } from '../client';

export interface OwedRateChange {
  subscriptionId: string;
  rateMinorPerMinute: string | null;
  version: number;
}

/** Owes the subscription's workflow this rate, replacing a rate still owed. */
export async function queueRateChange(
  tx: AnySql,
  subscriptionId: string,
  rateMinorPerMinute: string | null,
): Promise<void> {
  await tx`
    insert into rate_change_outbox (subscription_id, rate_minor_per_minute)
    values (${subscriptionId}, ${rateMinorPerMinute})
    on conflict (subscription_id) do update set
      rate_minor_per_minute = excluded.rate_minor_per_minute,
      version = rate_change_outbox.version + 1, updated_at = now()`;
}

export async function getRateChange(
  sql: AnySql,
  subscriptionId: string,
): Promise<OwedRateChange | null> {
  const [row] = await sql<OwedRateChange[]>`
    select subscription_id as "subscriptionId", rate_minor_per_minute as "rateMinorPerMinute",
      version
    from rate_change_outbox where subscription_id = ${subscriptionId}`;
  return row ?? null;
}

/** Rate changes owed for at least `olderThanMs`, oldest first (the API delivers in moments). */
export async function listOwedRateChanges(
  sql: AnySql,
  o: { olderThanMs: number; limit: number },
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select subscription_id as id from rate_change_outbox
    where updated_at < now() - make_interval(secs => ${o.olderThanMs / 1000})
    order by updated_at limit ${o.limit}`;
  return rows.map((r) => r.id);
}

/** Settles a delivered change, unless a newer rate was queued meanwhile. */
export async function settleRateChange(
  sql: AnySql,
  subscriptionId: string,
  version: number,
): Promise<void> {
  await sql`
    delete from rate_change_outbox where subscription_id = ${subscriptionId} and version = ${version}`;
}
