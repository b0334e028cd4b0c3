/**
 * Usage events: the batch insert, period sums, period closes and the signal outbox.
 *
 * Exactly-once protocol: an ingest transaction locks the row of every subscription it writes to
 * (FOR KEY SHARE) before it inserts, and a period close locks the same row FOR UPDATE before it
 * reads. So when a close reads, no insert for that subscription is in flight, every event with a
 * seq up to the highest it sees is committed, and any event stored later gets a higher seq: the
 * close records that seq (through_seq) and the next close counts each event exactly once, either
 * in its own period or as late usage of the earlier one.
 */
import type { AnySql } from '../client';

/** A client of the batch with its live subscription (null when it has none). */
export interface IngestClient {
  id: string;
  externalId: string | null;
  subscriptionId: string | null;
  subscriptionStartMs: number | null;
}

export interface IngestAgent {
  id: string;
  externalId: string | null;
  clientId: string;
}

/**
 * Resolves the clients and agents a batch names (by Tally id or external id) and locks the row
 * of each client's live subscription (FOR KEY SHARE, in id order) for the rest of the
 * transaction: one statement. The refs are joined as sets: `col = any($array)` in a prepared
 * (generic) plan compares every row with every element; a join probes the index once per ref.
 */
export async function resolveAndLock(
  tx: AnySql,
  agencyId: string,
  refs: {
    /** Client refs to resolve. */
    clients: string[];
    /** Clients already resolved (by the caller's cache): only their subscriptions are read. */
    knownClients: { id: string; externalId: string | null }[];
    /** Agent refs to resolve. */
    agents: string[];
  },
): Promise<{ clients: IngestClient[]; agents: IngestAgent[] }> {
  const rows = await tx<
    {
      kind: 'client' | 'agent';
      id: string;
      externalId: string | null;
      clientId: string | null;
      subscriptionId: string | null;
      startAt: Date | null;
    }[]
  >`
    with cref as (select unnest(${refs.clients}::text[]) as ref),
    cl as (
      select c.id, c.external_id from cref join clients c on c.id = cref.ref and c.agency_id = ${agencyId}
      union
      select c.id, c.external_id from cref join clients c on c.agency_id = ${agencyId} and c.external_id = cref.ref
      union
      select * from unnest(${refs.knownClients.map((c) => c.id)}::text[],
        ${refs.knownClients.map((c) => c.externalId)}::text[])
    ),
    locked as materialized (
      select s.id, s.client_id, s.start_at from subscriptions s join cl on s.client_id = cl.id
      where s.status <> 'canceled' order by s.id for key share of s
    ),
    aref as (select unnest(${refs.agents}::text[]) as ref),
    ag as (
      select a.id, a.external_id, a.client_id from aref join agents a on a.id = aref.ref and a.agency_id = ${agencyId}
      union
      select a.id, a.external_id, a.client_id from aref join agents a on a.agency_id = ${agencyId} and a.external_id = aref.ref
    )
    select 'client' as kind, cl.id, cl.external_id as "externalId", null as "clientId",
      l.id as "subscriptionId", l.start_at as "startAt"
    from cl left join locked l on l.client_id = cl.id
    union all
    select 'agent', ag.id, ag.external_id, ag.client_id, null, null from ag`;
  const clients: IngestClient[] = [];
  const agents: IngestAgent[] = [];
  for (const r of rows) {
    if (r.kind === 'agent')
      agents.push({ id: r.id, externalId: r.externalId, clientId: r.clientId! });
    else
      clients.push({
        id: r.id,
        externalId: r.externalId,
        subscriptionId: r.subscriptionId,
        subscriptionStartMs: r.startAt ? r.startAt.getTime() : null,
      });
  }
  return { clients, agents };
}

/** Column arrays of the events to store, one entry per event. */
export interface UsageColumns {
  eventIds: string[];
  clientIds: string[];
  agentIds: (string | null)[];
  subscriptionIds: string[];
  metrics: string[];
  quantities: string[];
  times: string[];
  properties: (string | null)[];
  valueProperties: (string | null)[];
}

export interface StoredBatch {
  /** Event ids stored by this call (the rest were duplicates or refused). */
  inserted: Set<string>;
  /** Subscriptions whose usage was closed for good: their events were not stored. */
  closedSubscriptions: Set<string>;
}

/**
 * Inserts a batch in one statement, after resolveAndLock in the same transaction (so this
 * statement's snapshot sees a close that committed while the lock waited): skips duplicate ids
 * and subscriptions closed for good, and writes one outbox row naming the subscriptions that got
 * events, so their workflows are signaled even if this process dies right after commit.
 */
export async function insertUsageEvents(
  tx: AnySql,
  agencyId: string,
  cols: UsageColumns,
): Promise<StoredBatch> {
  const subscriptions = [...new Set(cols.subscriptionIds)];
  const rows = await tx<{ eventId: string | null; closedSubscription: string | null }[]>`
    with fin as (
      select c.subscription_id from unnest(${subscriptions}::text[]) r(id)
      join usage_period_closes c on c.subscription_id = r.id and c.final
    ),
    ins as (
      insert into usage_events (agency_id, event_id, client_id, agent_id, subscription_id, metric,
        quantity, occurred_at, properties, value_property)
      select ${agencyId}, u.event_id, u.client_id, u.agent_id, u.subscription_id, u.metric,
        u.quantity, u.occurred_at, u.properties, u.value_property
      from unnest(${cols.eventIds}::text[], ${cols.clientIds}::text[], ${cols.agentIds}::text[],
        ${cols.subscriptionIds}::text[], ${cols.metrics}::text[], ${cols.quantities}::bigint[],
        ${cols.times}::timestamptz[], ${cols.properties}::jsonb[], ${cols.valueProperties}::text[])
        as u(event_id, client_id, agent_id, subscription_id, metric, quantity, occurred_at,
          properties, value_property)
      where u.subscription_id not in (select subscription_id from fin)
      on conflict (agency_id, event_id) do nothing
      returning event_id, subscription_id
    ),
    outbox as (
      insert into usage_outbox (subscription_ids)
      select array_agg(distinct subscription_id) from ins having count(*) > 0
    )
    select event_id as "eventId", null as "closedSubscription" from ins
    union all
    select null, subscription_id from fin`;
  const inserted = new Set<string>();
  const closedSubscriptions = new Set<string>();
  for (const r of rows) {
    if (r.eventId !== null) inserted.add(r.eventId);
    else closedSubscriptions.add(r.closedSubscription!);
  }
  return { inserted, closedSubscriptions };
}

/** Names the subscription's workflow as owed a usage signal (e.g. after a wallet change). */
export async function queueUsageSignal(sql: AnySql, subscriptionIds: string[]): Promise<void> {
  if (subscriptionIds.length === 0) return;
  await sql`insert into usage_outbox (subscription_ids) values (${subscriptionIds}::text[])`;
}

export interface OutboxRow {
  id: number;
  subscriptionIds: string[];
}

/** The oldest outbox rows. */
export async function readOutbox(sql: AnySql, limit: number): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    select id, subscription_ids as "subscriptionIds" from usage_outbox order by id limit ${limit}`;
}

export async function deleteOutbox(sql: AnySql, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`delete from usage_outbox where id = any(${ids}::bigint[])`;
}

/** A new dispatch generation, higher than every earlier one. */
export async function nextDispatchSeq(sql: AnySql): Promise<number> {
  const [row] = await sql<{ seq: number }[]>`select nextval('usage_dispatch_seq') as seq`;
  return row!.seq;
}
