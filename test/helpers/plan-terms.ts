/** Frozen plan terms for tests that build workflow state by hand: "Growth", $49 a month. */
import type { PlanTerms } from '../../billing/terms';

export function growthTerms(overrides: Partial<PlanTerms> = {}): PlanTerms {
  return {
    planId: 'pln_growth',
    name: 'Growth',
    tier: null,
    currency: 'USD',
    flatFeeMinor: 4900,
    overageRateMinorPerMinute: '20',
    includedMinutes: 100,
    rhythm: 'month',
    intervalCount: 1,
    dueDays: 7,
    graceDays: 5,
    packsAllowed: false,
    chatMode: false,
    chatsPerMinute: null,
    taxBehavior: 'exclusive',
    taxRateBps: 0,
    ...overrides,
  };
}
