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
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: AnySql) => sql`
  id, agency_id as "agencyId", client_id as "clientId", plan_id as "planId", terms,
  agent_ids as "agentIds", billing_mode as "billingMode", status, start_at as "startAt",
  current_period_index as "currentPeriodIndex", current_period_start as "currentPeriodStart",
  current_period_end as "currentPeriodEnd", cancel_at_period_end as "cancelAtPeriodEnd",
  canceled_at as "canceledAt", cancel_reason as "cancelReason", coupon, workflow_id as "workflowId",
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

export interface SubscriptionSync {
  subscriptionId: string;
  status: string;
  startAt: Date;
  periodIndex: number;
  periodStart: Date;
  periodEnd: Date;
  cancelAtPeriodEnd: boolean;
  coupon: AppliedCoupon | null;
  canceledAt: Date | null;
  cancelReason: string | null;
}

/** Mirrors the workflow's state into the row and records the period; idempotent. */
export async function syncSubscription(
  sql: AnySql,
  s: SubscriptionSync,
): Promise<SubscriptionRow | null> {
  const [row] = await sql<SubscriptionRow[]>`
    update subscriptions set
      status = ${s.status}, start_at = ${s.startAt}, current_period_index = ${s.periodIndex},
      current_period_start = ${s.periodStart}, current_period_end = ${s.periodEnd},
      cancel_at_period_end = ${s.cancelAtPeriodEnd},
      coupon = ${s.coupon ? sql.json(s.coupon as never) : null},
      canceled_at = ${s.canceledAt}, cancel_reason = ${s.cancelReason}, updated_at = now()
    where id = ${s.subscriptionId}
    returning ${columns(sql)}`;
  if (row) {
    await sql`
      insert into periods (subscription_id, index, agency_id, start_at, end_at)
      values (${s.subscriptionId}, ${s.periodIndex}, ${row.agencyId}, ${s.periodStart}, ${s.periodEnd})
      on conflict (subscription_id, index) do nothing`;
  }
  return row ?? null;
}
