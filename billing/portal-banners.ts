/**
 * The banners of the client portal's billing page, from what the client's billing is now. Pure,
 * so the page and the JSON API agencies embed show the same ones, in this order.
 */

export type BannerKind =
  | 'blocked'
  | 'past_due'
  | 'payment_failed'
  | 'outstanding_balance'
  | 'minutes_exhausted'
  | 'payment_method_missing';

export interface Banner {
  kind: BannerKind;
  /** outstanding_balance: what is owed, per currency (minor units). */
  amounts?: { currency: string; amountMinor: number }[];
  /** past_due: when the grace period of the oldest overdue request ends (ISO), if known. */
  graceEndsAt?: string | null;
}

export interface BannerFacts {
  subscriptionStatus: string | null;
  accessReasons: readonly string[];
  /** The usage report's flag for the current period (null without one). */
  minutesExhausted: boolean | null;
  requests: readonly {
    status: string;
    currency: string;
    totalMinor: number;
    graceEndsAt: Date | null;
  }[];
}

/** Requests the client still owes: issued, not paid, not canceled. */
const OWED = new Set(['pending', 'overdue', 'failed']);

export function portalBanners(f: BannerFacts): Banner[] {
  const banners: Banner[] = [];
  const reasons = new Set(f.accessReasons);
  if (f.subscriptionStatus === 'blocked' || reasons.has('subscription_blocked')) {
    banners.push({ kind: 'blocked' });
  } else if (f.subscriptionStatus === 'past_due' || reasons.has('payment_overdue')) {
    const grace = f.requests
      .filter((r) => r.status === 'overdue' && r.graceEndsAt)
      .map((r) => r.graceEndsAt!.getTime())
      .sort((a, b) => a - b)[0];
    banners.push({
      kind: 'past_due',
      graceEndsAt: grace === undefined ? null : new Date(grace).toISOString(),
    });
  }
  if (f.requests.some((r) => r.status === 'failed')) banners.push({ kind: 'payment_failed' });
  const owed = new Map<string, number>();
  for (const r of f.requests) {
    if (OWED.has(r.status) && r.totalMinor > 0) {
      owed.set(r.currency, (owed.get(r.currency) ?? 0) + r.totalMinor);
    }
  }
  if (owed.size > 0) {
    banners.push({
      kind: 'outstanding_balance',
      amounts: [...owed].map(([currency, amountMinor]) => ({ currency, amountMinor })),
    });
  }
  if (f.minutesExhausted === true || reasons.has('minutes_exhausted')) {
    banners.push({ kind: 'minutes_exhausted' });
  }
  if (reasons.has('payment_method_missing')) banners.push({ kind: 'payment_method_missing' });
  return banners;
}
