/** Plan catalog queries. */
import type { PlanTerms } from '../../billing/terms';
import type { Rhythm } from '../../billing/periods';
import type { AnySql, Sql } from '../client';

export interface PlanRow {
  id: string;
  name: string;
  tier: string | null;
  description: string | null;
  currency: string;
  flatFeeMinor: number;
  overageRateMinorPerMinute: string | null;
  includedMinutes: number;
  rhythm: Rhythm;
  intervalCount: number;
  dueDays: number;
  graceDays: number;
  packsAllowed: boolean;
  chatMode: boolean;
  chatsPerMinute: string | null;
  taxBehavior: 'inclusive' | 'exclusive';
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

const dbFields = (p: Partial<PlanFields>) => {
  const map: Record<keyof PlanFields, string> = {
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
  };
  return Object.fromEntries(
    Object.entries(p)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [map[k as keyof PlanFields], v]),
  ) as Record<string, string | number | boolean | null>;
};

export async function insertPlan(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: PlanFields,
): Promise<PlanRow> {
  const row = { id, agency_id: agencyId, ...dbFields(p) };
  const [plan] = await sql<PlanRow[]>`insert into plans ${sql(row)} returning ${columns(sql)}`;
  return plan!;
}

export async function updatePlan(
  sql: AnySql,
  agencyId: string,
  id: string,
  p: Partial<PlanFields>,
): Promise<PlanRow | null> {
  const fields = dbFields(p);
  if (Object.keys(fields).length === 0) return getPlan(sql, agencyId, id);
  const [plan] = await sql<PlanRow[]>`
    update plans set ${sql(fields)}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return plan ?? null;
}

export async function archivePlan(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<PlanRow | null> {
  const [plan] = await sql<PlanRow[]>`
    update plans set archived_at = coalesce(archived_at, now()), updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return plan ?? null;
}

export async function getPlan(sql: AnySql, agencyId: string, id: string): Promise<PlanRow | null> {
  const [plan] = await sql<
    PlanRow[]
  >`select ${columns(sql)} from plans where id = ${id} and agency_id = ${agencyId}`;
  return plan ?? null;
}

export async function listPlans(
  sql: Sql,
  f: { agencyId: string; includeArchived: boolean; after?: string | undefined; limit: number },
): Promise<PlanRow[]> {
  return sql<PlanRow[]>`
    select ${columns(sql)} from plans where agency_id = ${f.agencyId}
      ${f.includeArchived ? sql`` : sql`and archived_at is null`}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

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
