/** The rate-change outbox (migration 0007): rates owed to running subscriptions' workflows. */
import type { AnySql } from '../client';

export interface OwedRateChange {
  subscriptionId: string;
  rateMinorPerMinute: string | null;
  version: number;
  deliveredVersion: number;
  /** When the rate was decided (epoch ms to the microsecond, Postgres's clock). */
  decidedAtMs: number;
}

/**
 * Owes the subscription's workflow this rate, replacing a rate still owed. Called after the
 * client row is locked, so the decision time is taken then (not at the transaction's start), and
 * never goes back: of two client transactions, the one that commits last is decided last.
 */
export async function queueRateChange(
  tx: AnySql,
  subscriptionId: string,
  rateMinorPerMinute: string | null,
): Promise<void> {
  await tx`
    insert into rate_change_outbox (subscription_id, rate_minor_per_minute, decided_at)
    values (${subscriptionId}, ${rateMinorPerMinute}, clock_timestamp())
    on conflict (subscription_id) do update set
      rate_minor_per_minute = excluded.rate_minor_per_minute,
      version = rate_change_outbox.version + 1, updated_at = now(),
      decided_at = greatest(clock_timestamp(), rate_change_outbox.decided_at)`;
}

export async function getRateChange(
  sql: AnySql,
  subscriptionId: string,
): Promise<OwedRateChange | null> {
  const [row] = await sql<OwedRateChange[]>`
    select subscription_id as "subscriptionId", rate_minor_per_minute as "rateMinorPerMinute",
      version, delivered_version as "deliveredVersion",
      (extract(epoch from decided_at) * 1000)::float8 as "decidedAtMs"
    from rate_change_outbox where subscription_id = ${subscriptionId}`;
  return row ?? null;
}

/**
 * Claims rate changes owed for at least `olderThanMs` (the API delivers in moments), oldest
 * first: claiming restarts their clock, so other sweepers leave them alone meanwhile.
 */
export async function claimOwedRateChanges(
  sql: AnySql,
  o: { olderThanMs: number; limit: number },
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    update rate_change_outbox set updated_at = now()
    where subscription_id in (
      select subscription_id from rate_change_outbox
      where version > delivered_version
        and updated_at < now() - make_interval(secs => ${o.olderThanMs / 1000})
      order by updated_at limit ${o.limit}
      for update skip locked)
    returning subscription_id as id`;
  return rows.map((r) => r.id);
}

/**
 * Records that `version` reached the workflow; nothing when a newer rate was queued meanwhile
 * (it stays owed: its own delivery, or the sweeper's, sends it).
 */
export async function markRateDelivered(
  sql: AnySql,
  subscriptionId: string,
  version: number,
): Promise<void> {
  await sql`
    update rate_change_outbox set delivered_version = ${version}
    where subscription_id = ${subscriptionId} and version = ${version}`;
}

/** Forgets the subscription's owed rate (it ended: nothing left to change). */
export async function dropRateChange(sql: AnySql, subscriptionId: string): Promise<void> {
  await sql`delete from rate_change_outbox where subscription_id = ${subscriptionId}`;
}

/**
 * Now on Postgres's clock (epoch ms to the microsecond): the decision time of a rate set through
 * the API, comparable with the `decided_at` of the rates queued here by any API process.
 */
export async function databaseNowMs(sql: AnySql): Promise<number> {
  const [row] = await sql<{ ms: number }[]>`
    select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`;
  return row!.ms;
}
