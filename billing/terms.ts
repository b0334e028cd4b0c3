/** Subscription terms: the plan (and client rate) frozen at subscription start. */
import type { Rhythm } from './periods';

export type BillingMode = 'stripe' | 'manual' | 'track_only';
export type TaxBehavior = 'inclusive' | 'exclusive';

export interface PlanTerms {
  planId: string;
  name: string;
  tier: string | null;
  currency: string;
  flatFeeMinor: number;
  /** Minor units per minute, exact decimal; null means the plan allows no overage. */
  overageRateMinorPerMinute: string | null;
  includedMinutes: number;
  rhythm: Rhythm;
  intervalCount: number;
  dueDays: number;
  graceDays: number;
  packsAllowed: boolean;
  chatMode: boolean;
  chatsPerMinute: string | null;
  taxBehavior: TaxBehavior;
  /** Tax rate in basis points collected on cycle requests (manual mode); 0 for none. */
  taxRateBps: number;
}

export type CouponKind = 'percent' | 'fixed';
export type CouponDuration = 'once' | 'forever' | 'repeating';

/** A coupon attached to a subscription, with how many more requests it discounts. */
export interface AppliedCoupon {
  couponId: string;
  name: string;
  kind: CouponKind;
  percentOff: string | null;
  amountOffMinor: number | null;
  duration: CouponDuration;
  /** Requests left to discount; null for `forever`. */
  remaining: number | null;
}

export function couponFromCatalog(c: {
  id: string;
  name: string;
  kind: CouponKind;
  percentOff: string | null;
  amountOffMinor: number | null;
  duration: CouponDuration;
  durationPeriods: number | null;
}): AppliedCoupon {
  return {
    couponId: c.id,
    name: c.name,
    kind: c.kind,
    percentOff: c.percentOff,
    amountOffMinor: c.amountOffMinor,
    duration: c.duration,
    remaining:
      c.duration === 'forever' ? null : c.duration === 'once' ? 1 : (c.durationPeriods ?? 1),
  };
}
