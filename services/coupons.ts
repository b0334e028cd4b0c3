/** The rules between a coupon's fields, checked when it is created (its terms never change). */
import { normalizeRate, rateToMicros } from '../billing/money';
import type { CouponFields } from '../db/queries/coupons';
import { invalidField } from '../lib/errors';

/** Refuses a coupon whose fields disagree (each failure names its field); normalizes percentOff. */
export function checkCoupon(c: CouponFields): CouponFields {
  if (c.kind === 'percent') {
    if (c.percentOff === null) throw invalidField('percentOff', 'required for a percent coupon');
    const micros = rateToMicros(c.percentOff);
    if (micros <= 0n || micros > 100_000_000n)
      throw invalidField('percentOff', 'must be above 0 and at most 100');
    if (c.amountOffMinor !== null) throw invalidField('amountOffMinor', 'only for fixed coupons');
    if (c.currency !== null) throw invalidField('currency', 'only for fixed coupons');
  } else {
    if (c.amountOffMinor === null)
      throw invalidField('amountOffMinor', 'required for a fixed coupon');
    if (c.amountOffMinor <= 0) throw invalidField('amountOffMinor', 'must be above 0');
    if (c.currency === null) throw invalidField('currency', 'required for a fixed coupon');
    if (c.percentOff !== null) throw invalidField('percentOff', 'only for percent coupons');
  }
  if (c.duration === 'repeating' && c.durationPeriods === null)
    throw invalidField('durationPeriods', 'required when duration is repeating');
  if (c.duration !== 'repeating' && c.durationPeriods !== null)
    throw invalidField('durationPeriods', 'only when duration is repeating');
  return { ...c, percentOff: c.percentOff === null ? null : normalizeRate(c.percentOff) };
}
