/**
 * Access rules: whether a client may run campaigns, and why not. Pure, so the workflow, the
 * activities that store access and the API compute it the same way.
 *
 * Reasons come from three sources: the client row (`client_disabled`, and in stripe mode with
 * auto-charge `payment_method_missing` until a card is on file), the client's live subscription
 * status (`no_subscription`, `payment_overdue`, `subscription_blocked`), and holds the
 * subscription workflow asserts on top of its status (`minutes_exhausted`, set by the usage
 * pools). A new hold only needs adding to ACCESS_HOLDS.
 */

/** Every reason, in the order they are reported. */
export const ACCESS_REASONS = [
  'client_disabled',
  'no_subscription',
  'payment_overdue',
  'subscription_blocked',
  'minutes_exhausted',
  'payment_method_missing',
] as const;
export type AccessReason = (typeof ACCESS_REASONS)[number];

/** Reasons a running subscription workflow may assert by itself (stored on the subscription). */
export const ACCESS_HOLDS = ['minutes_exhausted'] as const;
export type AccessHold = (typeof ACCESS_HOLDS)[number];

export type LiveSubscriptionStatus = 'scheduled' | 'active' | 'past_due' | 'blocked';

export interface AccessFacts {
  clientDisabled: boolean;
  /** Status of the client's subscription that is not canceled; null when there is none. */
  subscriptionStatus: LiveSubscriptionStatus | null;
  /** Holds the subscription asserts; unknown strings are ignored. */
  holds: readonly string[];
  /**
   * The client must have a card on file and has none: stripe mode on the platform, the client in
   * stripe mode with auto-charge (see cardRequired). Absent: false.
   */
  paymentMethodMissing?: boolean;
}

/** Whether a client's access waits for a card on file (ChatDash: auto-charge needs one). */
export function cardRequired(c: {
  stripeConfigured: boolean;
  billingMode: string;
  collectionMethod: string;
}): boolean {
  return (
    c.stripeConfigured &&
    c.billingMode === 'stripe' &&
    c.collectionMethod === 'charge_automatically'
  );
}

export interface AccessState {
  allowed: boolean;
  reasons: AccessReason[];
}

/**
 * The reasons access is denied, in ACCESS_REASONS order. A scheduled subscription has not
 * started, so it counts as none; holds only count while a subscription runs. A missing card
 * counts with or without a subscription (the client needs one before it may run campaigns).
 */
export function accessReasons(f: AccessFacts): AccessReason[] {
  const found = new Set<AccessReason>();
  if (f.clientDisabled) found.add('client_disabled');
  const running = f.subscriptionStatus !== null && f.subscriptionStatus !== 'scheduled';
  if (!running) found.add('no_subscription');
  if (f.subscriptionStatus === 'past_due') found.add('payment_overdue');
  if (f.subscriptionStatus === 'blocked') found.add('subscription_blocked');
  if (running) {
    for (const h of f.holds)
      if ((ACCESS_HOLDS as readonly string[]).includes(h)) found.add(h as AccessHold);
  }
  if (f.paymentMethodMissing) found.add('payment_method_missing');
  return ACCESS_REASONS.filter((r) => found.has(r));
}

export function accessState(f: AccessFacts): AccessState {
  const reasons = accessReasons(f);
  return { allowed: reasons.length === 0, reasons };
}

/** A client before anything was stored for it: created enabled, with no subscription. */
export const INITIAL_ACCESS: AccessState = { allowed: false, reasons: ['no_subscription'] };

export function sameAccess(a: AccessState, b: AccessState): boolean {
  return a.allowed === b.allowed && a.reasons.join(',') === b.reasons.join(',');
}

/** The webhook event an access change is pushed as. */
export function accessEventType(s: AccessState): 'campaigns.paused' | 'campaigns.resumed' {
  return s.allowed ? 'campaigns.resumed' : 'campaigns.paused';
}
