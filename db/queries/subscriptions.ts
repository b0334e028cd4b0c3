/** Subscription queries. The workflow owns status; these mirror it for fast reads. */
import type { AppliedCoupon, BillingMode, PlanTerms } from '../../billing/terms';
import type { AnySql, Sql } from '../client';

export interface SubscriptionRow {
  id: string;
  agencyId: string;
  clientId: string;
  planId: string;
  terms: PlanTerms & { rateMinorPerMinute?: string | null };
  agentIds: string[];
  billingMode: BillingMode;
  status: string;
  startAt: Date;
  currentPeriodIndex: number;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  cancelReason: string | null;
  coupon: AppliedCoupon | null;
  /** The plan/rate change waiting for the next period, as the workflow holds it. */
  pendingChange: Record<string, unknown> | null;
  accessHolds: string[];
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: AnySql) => sql`
  id, agency_id as "agencyId", client_id as "clientId", plan_id as "planId", terms,
  agent_ids as "agentIds", billing_mode as "billingMode", status, start_at as "startAt",
  current_period_index as "currentPeriodIndex", current_period_start as "currentPeriodStart",
  current_period_end as "currentPeriodEnd", cancel_at_period_end as "cancelAtPeriodEnd",
  canceled_at as "canceledAt", cancel_reason as "cancelReason", coupon,
  pending_change as "pendingChange", access_holds as "accessHolds", workflow_id as "workflowId",
  created_at as "createdAt", updated_at as "updatedAt"`;

export interface NewSubscription {
  id: string;
  agencyId: string;
  clientId: string;
  planId: string;
  terms: PlanTerms & { rateMinorPerMinute: string | null };
  agentIds: string[];
  billingMode: BillingMode;
  status: 'scheduled' | 'active';
  startAt: Date;
  coupon: AppliedCoupon | null;
  workflowId: string;
}

export async function insertSubscription(
  sql: AnySql,
  s: NewSubscription,
): Promise<SubscriptionRow> {
  const [row] = await sql<SubscriptionRow[]>`
    insert into subscriptions (id, agency_id, client_id, plan_id, terms, agent_ids, billing_mode, status,
      start_at, coupon, workflow_id)
    values (${s.id}, ${s.agencyId}, ${s.clientId}, ${s.planId}, ${sql.json(s.terms as never)}, ${s.agentIds},
      ${s.billingMode}, ${s.status}, ${s.startAt}, ${s.coupon ? sql.json(s.coupon as never) : null}, ${s.workflowId})
    returning ${columns(sql)}`;
  return row!;
}

/** Whether the subscription's row is live (not canceled); false when there is none. */
export async function subscriptionIsLive(sql: AnySql, id: string): Promise<boolean> {
  const rows = await sql`select 1 from subscriptions where id = ${id} and status <> 'canceled'`;
  return rows.length > 0;
}

/** Records that the subscription's workflow was started (or found already running). */
export async function markWorkflowStarted(sql: AnySql, id: string): Promise<void> {
  await sql`
    update subscriptions set workflow_started_at = now()
    where id = ${id} and workflow_started_at is null`;
}

/** Live subscriptions this old whose workflow start was never recorded, oldest first. */
export async function listUnstartedSubscriptions(
  sql: AnySql,
  o: { olderThanMs: number; limit: number },
): Promise<SubscriptionRow[]> {
  return sql<SubscriptionRow[]>`
    select ${columns(sql)} from subscriptions
    where workflow_started_at is null and status <> 'canceled'
      and created_at < now() - make_interval(secs => ${o.olderThanMs / 1000})
    order by created_at limit ${o.limit}`;
}

export async function getSubscription(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<SubscriptionRow | null> {
  const [row] = await sql<SubscriptionRow[]>`
    select ${columns(sql)} from subscriptions where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function listSubscriptions(
  sql: Sql,
  f: {
    agencyId: string;
    clientId?: string | undefined;
    status?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<SubscriptionRow[]> {
  return sql<SubscriptionRow[]>`
    select ${columns(sql)} from subscriptions where agency_id = ${f.agencyId}
      ${f.clientId ? sql`and client_id = ${f.clientId}` : sql``}
      ${f.status ? sql`and status = ${f.status}` : sql``}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

/** The client's subscription that is not canceled (at most one, by a unique index). */
export async function getLiveSubscription(
  sql: AnySql,
  agencyId: string,
  clientId: string,
): Promise<SubscriptionRow | null> {
  const [row] = await sql<SubscriptionRow[]>`
    select ${columns(sql)} from subscriptions
    where client_id = ${clientId} and agency_id = ${agencyId} and status <> 'canceled'`;
  return row ?? null;
}

export interface SubscriptionSync {
  subscriptionId: string;
  status: string;
  startAt: Date;
  planId: string;
  terms: PlanTerms & { rateMinorPerMinute: string | null };
  periodIndex: number;
  periodStart: Date;
  periodEnd: Date;
  cancelAtPeriodEnd: boolean;
  coupon: AppliedCoupon | null;
  pendingChange: Record<string, unknown> | null;
  accessHolds: string[];
  canceledAt: Date | null;
  cancelReason: string | null;
}

export interface PeriodRow {
  index: number;
  startAt: Date;
  endAt: Date;
  /** Set for a period that closed (with the usage it was billed for). */
  closedAt: Date | null;
  usage: unknown;
}

/**
 * Mirrors the workflow's state into the row and upserts the periods it names (the current one,
 * and the one that just closed), in one statement; idempotent. False: no row.
 */
export async function syncSubscriptionAndPeriods(
  sql: AnySql,
  s: SubscriptionSync,
  periods: PeriodRow[],
): Promise<boolean> {
  const json = (v: unknown) => (v === null ? null : sql.json(v as never));
  const rows = periods.map((p) => ({
    index: p.index,
    start_at: p.startAt.toISOString(),
    end_at: p.endAt.toISOString(),
    closed_at: p.closedAt?.toISOString() ?? null,
    usage: p.usage ?? null,
  }));
  const [row] = await sql<{ found: boolean }[]>`
    with s as (
      update subscriptions set
        status = ${s.status}, start_at = ${s.startAt}, plan_id = ${s.planId}, terms = ${json(s.terms)},
        current_period_index = ${s.periodIndex}, current_period_start = ${s.periodStart},
        current_period_end = ${s.periodEnd}, cancel_at_period_end = ${s.cancelAtPeriodEnd},
        coupon = ${json(s.coupon)}, pending_change = ${json(s.pendingChange)},
        access_holds = ${s.accessHolds}, canceled_at = ${s.canceledAt}, cancel_reason = ${s.cancelReason},
        updated_at = now()
      where id = ${s.subscriptionId}
      returning id, agency_id),
    p as (
      insert into periods (subscription_id, index, agency_id, start_at, end_at, closed_at, usage)
      select s.id, v.index, s.agency_id, v.start_at, v.end_at, v.closed_at, v.usage
      from s, jsonb_to_recordset(${sql.json(rows as never)}) as v(index integer,
        start_at timestamptz, end_at timestamptz, closed_at timestamptz, usage jsonb)
      order by v.index
      on conflict (subscription_id, index) do update set
        end_at = excluded.end_at,
        closed_at = coalesce(periods.closed_at, excluded.closed_at),
        usage = coalesce(excluded.usage, periods.usage)
      returning 1)
    select exists (select 1 from s) as found`;
  return row!.found;
}

export interface CatalogCoupon {
  id: string;
  name: string;
  kind: 'percent' | 'fixed';
  percentOff: string | null;
  amountOffMinor: number | null;
  currency: string | null;
  duration: 'once' | 'forever' | 'repeating';
  durationPeriods: number | null;
  archivedAt: Date | null;
}

/** A coupon of the agency's catalog, as a subscription snapshots it. */
export async function getCatalogCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<CatalogCoupon | null> {
  const [row] = await sql<CatalogCoupon[]>`
    select id, name, kind, trim_scale(percent_off)::text as "percentOff",
      amount_off_minor as "amountOffMinor", currency, duration,
      duration_periods as "durationPeriods", archived_at as "archivedAt"
    from coupons where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}
