/**
 * Usage of periods: the current period's totals (for the live counters and reports), the period
 * closes (what each close counted and billed) and the late events a close finds. The close's
 * exactly-once protocol is described in db/queries/usage.ts.
 */
import type { LateUsage, PeriodUsage } from '../../billing/invoice';
import type { AgentTotals } from '../../billing/pools';
import type { AnySql } from '../client';

/** The minute-pool sums of `usage_events e` in a group: voice seconds and chat interactions. */
const minuteSums = (sql: AnySql) => sql`
  coalesce(sum(e.quantity) filter (where e.metric = 'voice_seconds'), 0)::bigint as "voiceSeconds",
  coalesce(sum(e.quantity) filter (where e.metric = 'chat_interactions'), 0)::bigint as "chatInteractions"`;

/** What a usage signal carries: a subscription's current period totals as stored now. */
export interface LiveTotals {
  subscriptionId: string;
  periodIndex: number;
  walletBalanceSeconds: number;
  totals: AgentTotals[];
}

/**
 * The current period's totals of many subscriptions in one statement (the period as the row
 * mirrors it; subscriptions whose workflow has not mirrored a period yet are left out).
 */
export async function liveTotals(sql: AnySql, subscriptionIds: string[]): Promise<LiveTotals[]> {
  const rows = await sql<
    {
      subscriptionId: string;
      periodIndex: number;
      wallet: number;
      agentId: string | null;
      voiceSeconds: number;
      chatInteractions: number;
    }[]
  >`
    with s as (
      select s.id, s.client_id, s.current_period_index, s.current_period_start, s.current_period_end
      from unnest(${subscriptionIds}::text[]) r(id) join subscriptions s on s.id = r.id
      where s.current_period_start is not null
    ),
    w as (
      select l.client_id, sum(l.seconds)::bigint as seconds from wallet_ledger l
      where l.client_id in (select client_id from s) group by l.client_id
    )
    select s.id as "subscriptionId", s.current_period_index as "periodIndex",
      coalesce(max(w.seconds), 0)::bigint as wallet, e.agent_id as "agentId",
      ${minuteSums(sql)}
    from s
    left join w on w.client_id = s.client_id
    left join usage_events e on e.subscription_id = s.id
      and e.occurred_at >= s.current_period_start and e.occurred_at < s.current_period_end
    group by s.id, s.current_period_index, e.agent_id`;
  const by = new Map<string, LiveTotals>();
  for (const r of rows) {
    const t = by.get(r.subscriptionId) ?? {
      subscriptionId: r.subscriptionId,
      periodIndex: r.periodIndex,
      walletBalanceSeconds: r.wallet,
      totals: [],
    };
    if (r.agentId !== null || r.voiceSeconds > 0 || r.chatInteractions > 0)
      t.totals.push({
        agentId: r.agentId,
        voiceSeconds: r.voiceSeconds,
        chatInteractions: r.chatInteractions,
      });
    by.set(r.subscriptionId, t);
  }
  return [...by.values()];
}

/** A period's voice seconds and chat interactions by agent, events with seq <= maxSeq if given. */
export async function periodTotals(
  sql: AnySql,
  subscriptionId: string,
  startMs: number,
  endMs: number,
  maxSeq: number | null = null,
): Promise<AgentTotals[]> {
  return sql<AgentTotals[]>`
    select agent_id as "agentId", ${minuteSums(sql)}
    from usage_events e
    where subscription_id = ${subscriptionId}
      and occurred_at >= ${new Date(startMs)} and occurred_at < ${new Date(endMs)}
      ${maxSeq === null ? sql`` : sql`and seq <= ${maxSeq}`}
    group by agent_id`;
}

/** Every metric of a period by agent (conversations and value counts too), for reports. */
export async function periodMetricCounts(
  sql: AnySql,
  subscriptionId: string,
  startMs: number,
  endMs: number,
): Promise<
  { agentId: string | null; metric: string; valueProperty: string | null; quantity: number }[]
> {
  return sql`
    select agent_id as "agentId", metric, value_property as "valueProperty",
      sum(quantity)::bigint as quantity
    from usage_events
    where subscription_id = ${subscriptionId}
      and occurred_at >= ${new Date(startMs)} and occurred_at < ${new Date(endMs)}
    group by agent_id, metric, value_property
    order by agent_id nulls first, metric, value_property nulls first`;
}

/** Locks the subscription row against ingest for the rest of the transaction. */
export async function lockSubscriptionUsage(tx: AnySql, subscriptionId: string): Promise<boolean> {
  const rows = await tx`select id from subscriptions where id = ${subscriptionId} for update`;
  return rows.length === 1;
}

/** The highest event seq stored for a subscription (0 for none). */
export async function maxUsageSeq(tx: AnySql, subscriptionId: string): Promise<number> {
  const [row] = await tx<{ seq: number }[]>`
    select coalesce(max(seq), 0)::bigint as seq from usage_events where subscription_id = ${subscriptionId}`;
  return row!.seq;
}

/** What a close stores: the pools as billed and the terms they were billed under. */
export interface CloseSnapshot {
  usage: PeriodUsage;
  includedMinutes: number;
  chatMode: boolean;
  chatsPerMinute: string | null;
  rateMinorPerMinute: string | null;
  flatFeeMinor: number;
  currency: string;
  /** Late usage of this period billed by later closes. */
  late: (LateUsage & { billedWithPeriodIndex: number })[];
}

export interface CloseRow {
  subscriptionId: string;
  periodIndex: number;
  startAt: Date;
  endAt: Date;
  throughSeq: number;
  final: boolean;
  snapshot: CloseSnapshot;
  closedAt: Date;
}

const closeColumns = (sql: AnySql) => sql`
  subscription_id as "subscriptionId", period_index as "periodIndex", start_at as "startAt",
  end_at as "endAt", through_seq as "throughSeq", final, snapshot, closed_at as "closedAt"`;

export async function getClose(
  sql: AnySql,
  subscriptionId: string,
  periodIndex: number,
): Promise<CloseRow | null> {
  const [row] = await sql<CloseRow[]>`
    select ${closeColumns(sql)} from usage_period_closes
    where subscription_id = ${subscriptionId} and period_index = ${periodIndex}`;
  return row ?? null;
}

/** The subscription's closes, oldest first. */
export async function listCloses(sql: AnySql, subscriptionId: string): Promise<CloseRow[]> {
  return sql<CloseRow[]>`
    select ${closeColumns(sql)} from usage_period_closes
    where subscription_id = ${subscriptionId} order by period_index`;
}

/** A client's closed periods, newest first, `before` (a start instant) paging backwards. */
export async function listClientCloses(
  sql: AnySql,
  f: { agencyId: string; clientId: string; before: Date | null; limit: number },
): Promise<CloseRow[]> {
  return sql<CloseRow[]>`
    select ${closeColumns(sql)} from usage_period_closes
    where agency_id = ${f.agencyId} and client_id = ${f.clientId}
      ${f.before ? sql`and start_at < ${f.before}` : sql``}
    order by start_at desc, subscription_id desc limit ${f.limit}`;
}

/**
 * Late events (seq in (afterSeq, throughSeq], before `beforeMs`) by the close they belong to
 * (periodIndex null: inside no closed period) and agent.
 */
export async function lateTotals(
  tx: AnySql,
  subscriptionId: string,
  afterSeq: number,
  throughSeq: number,
  beforeMs: number,
): Promise<(AgentTotals & { periodIndex: number | null })[]> {
  return tx`
    select c.period_index as "periodIndex", e.agent_id as "agentId",
      ${minuteSums(tx)}
    from usage_events e
    left join usage_period_closes c on c.subscription_id = e.subscription_id
      and e.occurred_at >= c.start_at and e.occurred_at < c.end_at
    where e.subscription_id = ${subscriptionId} and e.seq > ${afterSeq} and e.seq <= ${throughSeq}
      and e.occurred_at < ${new Date(beforeMs)}
    group by c.period_index, e.agent_id`;
}

export async function insertClose(
  tx: AnySql,
  c: {
    subscriptionId: string;
    periodIndex: number;
    agencyId: string;
    clientId: string;
    startMs: number;
    endMs: number;
    throughSeq: number;
    final: boolean;
    snapshot: CloseSnapshot;
  },
): Promise<void> {
  await tx`
    insert into usage_period_closes (subscription_id, period_index, agency_id, client_id, start_at,
      end_at, through_seq, final, snapshot)
    values (${c.subscriptionId}, ${c.periodIndex}, ${c.agencyId}, ${c.clientId}, ${new Date(c.startMs)},
      ${new Date(c.endMs)}, ${c.throughSeq}, ${c.final}, ${tx.json(c.snapshot as never)})`;
}

export async function updateCloseSnapshot(
  tx: AnySql,
  subscriptionId: string,
  periodIndex: number,
  snapshot: CloseSnapshot,
): Promise<void> {
  await tx`
    update usage_period_closes set snapshot = ${tx.json(snapshot as never)}
    where subscription_id = ${subscriptionId} and period_index = ${periodIndex}`;
}

/** The client's agents by id, for naming them in reports. */
export async function agentNames(sql: AnySql, clientId: string): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; name: string }[]>`
    select id, name from agents where client_id = ${clientId}`;
  return new Map(rows.map((r) => [r.id, r.name]));
}
