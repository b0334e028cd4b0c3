/** Coupons: percentage or fixed amount, for once, forever or N periods. */
import type { CouponDuration, CouponKind } from '../../billing/terms';
import type { AnySql } from '../client';

export interface CouponRow {
  id: string;
  name: string;
  kind: CouponKind;
  /** Exact decimal string, e.g. "12.5"; null for fixed coupons. */
  percentOff: string | null;
  amountOffMinor: number | null;
  currency: string | null;
  duration: CouponDuration;
  durationPeriods: number | null;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type CouponFields = Omit<CouponRow, 'id' | 'archivedAt' | 'createdAt' | 'updatedAt'>;

const columns = (sql: AnySql) => sql`
  id, name, kind, trim_scale(percent_off)::text as "percentOff", amount_off_minor as "amountOffMinor",
  currency, duration, duration_periods as "durationPeriods", archived_at as "archivedAt",
  created_at as "createdAt", updated_at as "updatedAt"`;

export async function insertCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
  c: CouponFields,
): Promise<CouponRow> {
  const [row] = await sql<CouponRow[]>`
    insert into coupons (id, agency_id, name, kind, percent_off, amount_off_minor, currency, duration,
      duration_periods)
    values (${id}, ${agencyId}, ${c.name}, ${c.kind}, ${c.percentOff}, ${c.amountOffMinor}, ${c.currency},
      ${c.duration}, ${c.durationPeriods})
    returning ${columns(sql)}`;
  return row!;
}

/** The coupon as the catalog holds it (feed it to `couponFromCatalog` to attach it). */
export async function getCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<CouponRow | null> {
  const [row] = await sql<CouponRow[]>`
    select ${columns(sql)} from coupons where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function listCoupons(
  sql: AnySql,
  f: { agencyId: string; includeArchived: boolean; after?: string | undefined; limit: number },
): Promise<CouponRow[]> {
  return sql<CouponRow[]>`
    select ${columns(sql)} from coupons where agency_id = ${f.agencyId}
      ${f.includeArchived ? sql`` : sql`and archived_at is null`}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

/** Only the name changes: subscriptions that carry the coupon keep the terms they were given. */
export async function renameCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
  name: string,
): Promise<CouponRow | null> {
  const [row] = await sql<CouponRow[]>`
    update coupons set name = ${name}, updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}

export async function archiveCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
): Promise<CouponRow | null> {
  const [row] = await sql<CouponRow[]>`
    update coupons set archived_at = coalesce(archived_at, now()), updated_at = now()
    where id = ${id} and agency_id = ${agencyId} returning ${columns(sql)}`;
  return row ?? null;
}
