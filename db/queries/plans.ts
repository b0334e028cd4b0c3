/** Plan catalog queries. */
import type { PlanTerms } from '../../billing/terms';
import type { AnySql } from '../client';
import { catalogQueries } from './resource-queries';

/** What a plan row holds of the terms a subscription snapshots: all but their ids and tax rate. */
type PlanTermFields = Omit<PlanTerms, 'planId' | 'taxRateBps'>;

/** A catalog plan: the terms it offers, and its own id, description and timestamps. */
export interface PlanRow extends PlanTermFields {
  id: string;
  description: string | null;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type PlanFields = Omit<PlanRow, 'id' | 'archivedAt' | 'createdAt' | 'updatedAt'>;

const columns = (sql: AnySql) => sql`
  id, name, tier, description, currency, flat_fee_minor as "flatFeeMinor",
  trim_scale(overage_rate_minor_per_minute)::text as "overageRateMinorPerMinute", included_minutes as "includedMinutes",
  rhythm, interval_count as "intervalCount", due_days as "dueDays", grace_days as "graceDays",
  packs_allowed as "packsAllowed", chat_mode as "chatMode", trim_scale(chats_per_minute)::text as "chatsPerMinute",
  tax_behavior as "taxBehavior", archived_at as "archivedAt", created_at as "createdAt", updated_at as "updatedAt"`;

const plans = catalogQueries<PlanRow, PlanFields>('plans', columns, {
  name: 'name',
  tier: 'tier',
  description: 'description',
  currency: 'currency',
  flatFeeMinor: 'flat_fee_minor',
  overageRateMinorPerMinute: 'overage_rate_minor_per_minute',
  includedMinutes: 'included_minutes',
  rhythm: 'rhythm',
  intervalCount: 'interval_count',
  dueDays: 'due_days',
  graceDays: 'grace_days',
  packsAllowed: 'packs_allowed',
  chatMode: 'chat_mode',
  chatsPerMinute: 'chats_per_minute',
  taxBehavior: 'tax_behavior',
});

export async function insertPlan(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: PlanFields,
): Promise<PlanRow> {
  const row = { id, agency_id: agencyId, ...plans.columnsOf(p) };
  const [plan] = await sql<PlanRow[]>`insert into plans ${sql(row)} returning ${columns(sql)}`;
  return plan!;
}

/** Changes the fields given; running subscriptions keep the terms they snapshotted. */
export const updatePlan = plans.update;

/** Archives the plan: it can no longer be assigned. Archiving again keeps the first time. */
export const archivePlan = plans.archive;

export const getPlan = plans.get;

/** The agency's plans, newest first, active only unless `includeArchived`. */
export const listPlans = plans.list;

/** The plan's terms as a subscription freezes them at its start. */
export function snapshotTerms(plan: PlanRow, taxRateBps = 0): PlanTerms {
  return {
    planId: plan.id,
    name: plan.name,
    tier: plan.tier,
    currency: plan.currency,
    flatFeeMinor: plan.flatFeeMinor,
    overageRateMinorPerMinute: plan.overageRateMinorPerMinute,
    includedMinutes: plan.includedMinutes,
    rhythm: plan.rhythm,
    intervalCount: plan.intervalCount,
    dueDays: plan.dueDays,
    graceDays: plan.graceDays,
    packsAllowed: plan.packsAllowed,
    chatMode: plan.chatMode,
    chatsPerMinute: plan.chatsPerMinute,
    taxBehavior: plan.taxBehavior,
    taxRateBps,
  };
}

/** Whether any client has this plan assigned or any subscription was started on it. */
export async function isPlanInUse(sql: AnySql, agencyId: string, planId: string): Promise<boolean> {
  const [row] = await sql<{ used: boolean }[]>`
    select exists (select 1 from clients where agency_id = ${agencyId} and plan_id = ${planId})
      or exists (select 1 from subscriptions where agency_id = ${agencyId} and plan_id = ${planId})
      as used`;
  return row!.used;
}
