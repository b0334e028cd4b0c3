/** Access rules: reasons from the client, the live subscription and the workflow's holds. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ACCESS_REASONS,
  INITIAL_ACCESS,
  accessEventType,
  accessReasons,
  accessState,
  sameAccess,
  type LiveSubscriptionStatus,
} from '../../billing/access';

describe('access reasons', () => {
  it('an enabled client with an active subscription and no holds may run campaigns', () => {
    expect(accessState({ clientDisabled: false, subscriptionStatus: 'active', holds: [] })).toEqual(
      { allowed: true, reasons: [] },
    );
  });

  it('names every reason that holds, in a fixed order', () => {
    expect(
      accessReasons({
        clientDisabled: true,
        subscriptionStatus: 'past_due',
        holds: ['minutes_exhausted'],
      }),
    ).toEqual(['client_disabled', 'payment_overdue', 'minutes_exhausted']);
    expect(
      accessReasons({ clientDisabled: false, subscriptionStatus: 'blocked', holds: [] }),
    ).toEqual(['subscription_blocked']);
  });

  it('a scheduled or missing subscription is no subscription, and its holds do not count', () => {
    for (const status of [null, 'scheduled'] as const) {
      expect(
        accessReasons({
          clientDisabled: false,
          subscriptionStatus: status,
          holds: ['minutes_exhausted'],
        }),
      ).toEqual(['no_subscription']);
    }
  });

  it('ignores holds it does not know', () => {
    expect(
      accessReasons({ clientDisabled: false, subscriptionStatus: 'active', holds: ['bogus'] }),
    ).toEqual([]);
  });

  it('allowed exactly when there is no reason; pushed as paused or resumed accordingly', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom<LiveSubscriptionStatus | null>(
          null,
          'scheduled',
          'active',
          'past_due',
          'blocked',
        ),
        fc.subarray(['minutes_exhausted', 'other']),
        (clientDisabled, subscriptionStatus, holds) => {
          const s = accessState({ clientDisabled, subscriptionStatus, holds });
          expect(s.allowed).toBe(s.reasons.length === 0);
          expect(accessEventType(s)).toBe(s.allowed ? 'campaigns.resumed' : 'campaigns.paused');
          const order = s.reasons.map((r) => ACCESS_REASONS.indexOf(r));
          expect(order).toEqual([...order].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('compares states by allowed and reasons', () => {
    expect(sameAccess(INITIAL_ACCESS, { allowed: false, reasons: ['no_subscription'] })).toBe(true);
    expect(
      sameAccess(INITIAL_ACCESS, {
        allowed: false,
        reasons: ['client_disabled', 'no_subscription'],
      }),
    ).toBe(false);
  });
});
