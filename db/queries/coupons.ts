/** Coupons: percentage or fixed amount, for once, forever or N periods. */
import type { CouponDuration, CouponKind } from '../../billing/terms';
import type { AnySql } from '../client';
import { catalogQueries } from './resource-queries';

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

// Only the name of a coupon can change: subscriptions that carry it keep the terms they were given.
const coupons = catalogQueries<CouponRow, Pick<CouponFields, 'name'>>('coupons', columns, {
  name: 'name',
});

/** The coupon as the catalog holds it (feed it to `couponFromCatalog` to attach it). */
export const getCoupon = coupons.get;

/** The agency's coupons, newest first, active only unless `includeArchived`. */
export const listCoupons = coupons.list;

/** Only the name changes: subscriptions that carry the coupon keep the terms they were given. */
export function renameCoupon(
  sql: AnySql,
  agencyId: string,
  id: string,
  name: string,
): Promise<CouponRow | null> {
  return coupons.update(sql, agencyId, id, { name });
}

/** Archives the coupon. Archiving again keeps the first time. */
export const archiveCoupon = coupons.archive;
