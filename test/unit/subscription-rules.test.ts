/**
 * Subscription rules without Temporal: status from open requests, the next timer, and what each
 * request holds (a rate change reaches the next period only; a plan switch bills its own fee
 * from the period it applies to).
 */
import { describe, expect, it } from 'vitest';
import { NO_USAGE, type PeriodUsage } from '../../billing/invoice';
import type { PlanTerms } from '../../billing/terms';
import { growthTerms } from '../helpers/plan-terms';
import type { OpenRequest, SubscriptionState } from '../../workflows/definitions';
import { accessHolds, deadlines, initialState, periodOf } from '../../billing/subscription';
import {
  finalRequest,
  firstRequest,
  planRenewal,
  renewalRequest,
  shouldIssue,
} from '../../billing/subscription-requests';
import {
  deriveStatus,
  handoverDelayMs,
  newlyOverdue,
  newRequestId,
  nextTimer,
} from '../../workflows/subscription-rules';

const DAY = 86_400_000;
const at = (s: string) => Date.parse(s);

const terms = growthTerms();

function stateAt(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  const start = { terms, rateMinorPerMinute: null, coupon: null };
  const s: SubscriptionState = {
    ...initialState(start, at('2027-01-31T00:00:00Z')),
    status: 'active',
    ...overrides,
  };
  const p = periodOf(s, s.periodIndex);
  return { ...s, periodStartMs: p.startMs, periodEndMs: p.endMs, ...overrides };
}

const request = (o: Partial<OpenRequest> = {}): OpenRequest => ({
  id: 'req_1',
  periodIndex: 0,
  status: 'pending',
  totalMinor: 4900,
  dueAtMs: at('2027-02-07T00:00:00Z'),
  graceEndsAtMs: at('2027-02-12T00:00:00Z'),
  ...o,
});

/** A renewal as the workflow plans it, with the request the activity builds from the usage. */
function renew(s: SubscriptionState, u: PeriodUsage) {
  const shape = planRenewal(s);
  return { ...shape, ...renewalRequest(shape, u) };
}

const usage = (billableSeconds: number): PeriodUsage => ({
  totalSeconds: 6000 + billableSeconds,
  includedSeconds: 6000,
  walletSeconds: 0,
  billableSeconds,
  perAgent: [{ agentId: 'agt_1', seconds: 6000 + billableSeconds, billableSeconds }],
});

describe('status', () => {
  it('is active before the due date, past due after it, blocked at the grace end', () => {
    const s = stateAt({ openRequests: [request()] });
    expect(deriveStatus(s, at('2027-02-06T23:59:59Z'))).toBe('active');
    expect(deriveStatus(s, at('2027-02-07T00:00:00Z'))).toBe('past_due');
    expect(deriveStatus(s, at('2027-02-12T00:00:00Z'))).toBe('blocked');
  });

  it('a failed request counts as unpaid; a paid or canceled one is no longer open', () => {
    const s = stateAt({ status: 'past_due', openRequests: [request({ status: 'failed' })] });
    expect(deriveStatus(s, at('2027-02-08T00:00:00Z'))).toBe('past_due');
    expect(deriveStatus({ ...s, openRequests: [] }, at('2027-02-08T00:00:00Z'))).toBe('active');
  });

  it('blocked stays blocked even with nothing unpaid; scheduled stays scheduled', () => {
    expect(deriveStatus(stateAt({ status: 'blocked' }), at('2027-03-01T00:00:00Z'))).toBe(
      'blocked',
    );
    expect(deriveStatus(stateAt({ status: 'scheduled' }), at('2027-03-01T00:00:00Z'))).toBe(
      'scheduled',
    );
  });

  it('only pending requests whose due date came turn overdue', () => {
    const s = stateAt({
      openRequests: [
        request({ id: 'a' }),
        request({ id: 'b', status: 'failed' }),
        request({ id: 'c', dueAtMs: at('2027-02-20T00:00:00Z') }),
      ],
    });
    expect(newlyOverdue(s, at('2027-02-07T00:00:00Z')).map((r) => r.id)).toEqual(['a']);
  });
});

describe('next timer', () => {
  it('is the earliest of period end, a due date and a grace end', () => {
    const s = stateAt({ openRequests: [request()] });
    expect(nextTimer(s, at('2027-02-01T00:00:00Z'))).toEqual({
      kind: 'due',
      atMs: at('2027-02-07T00:00:00Z'),
    });
    s.openRequests[0]!.status = 'overdue';
    expect(nextTimer(s, at('2027-02-07T00:00:00Z'))).toEqual({
      kind: 'grace_end',
      atMs: at('2027-02-12T00:00:00Z'),
    });
    expect(nextTimer(stateAt(), at('2027-02-01T00:00:00Z'))).toEqual({
      kind: 'period_end',
      atMs: at('2027-02-28T00:00:00Z'),
    });
  });

  it('a failed request still wakes the workflow at its due date', () => {
    const s = stateAt({ openRequests: [request({ status: 'failed' })] });
    expect(nextTimer(s, at('2027-02-01T00:00:00Z'))).toEqual({
      kind: 'due',
      atMs: at('2027-02-07T00:00:00Z'),
    });
  });

  it('a blocked subscription only waits for its period end', () => {
    const s = stateAt({ status: 'blocked', openRequests: [request({ status: 'overdue' })] });
    expect(nextTimer(s, at('2027-02-01T00:00:00Z')).kind).toBe('period_end');
  });
});

describe('requests', () => {
  it('the first request bills the flat fee of period 0 in advance', () => {
    const { draft } = firstRequest(stateAt());
    expect(draft.lines).toEqual([
      expect.objectContaining({
        kind: 'recurring',
        amountMinor: 4900,
        periodStartMs: at('2027-01-31T00:00:00Z'),
        periodEndMs: at('2027-02-28T00:00:00Z'),
      }),
    ]);
    expect(draft.totalMinor).toBe(4900);
  });

  it('a renewal bills the closed period usage at the old rate and the new period fee', () => {
    // Client rate 25/min during period 0; a change to 40/min requested for period 1.
    const s = stateAt({
      rateMinorPerMinute: '25',
      pendingChange: {
        terms: null,
        rateMinorPerMinute: '40',
        requestedAtMs: at('2027-02-10T00:00:00Z'),
        effectiveFromPeriodIndex: 1,
        effectiveAtMs: at('2027-02-28T00:00:00Z'),
      },
    });
    const plan = renew(s, usage(600)); // 10 billable minutes
    expect(plan.closed).toEqual({
      index: 0,
      startMs: at('2027-01-31T00:00:00Z'),
      endMs: at('2027-02-28T00:00:00Z'),
    });
    expect(plan.next).toEqual({
      index: 1,
      startMs: at('2027-02-28T00:00:00Z'),
      endMs: at('2027-03-31T00:00:00Z'),
    });
    expect(plan.draft.lines.map((l) => [l.kind, l.unitAmountMinor, l.amountMinor])).toEqual([
      ['recurring', '4900', 4900],
      ['usage', '25', 250],
    ]);
    expect(plan.draft.totalMinor).toBe(5150);
    expect(plan.rateMinorPerMinute).toBe('40');

    // The next renewal, under the new rate: 10 minutes now cost 400.
    const next = renew(
      {
        ...s,
        rateMinorPerMinute: plan.rateMinorPerMinute,
        pendingChange: null,
        periodIndex: 1,
        periodStartMs: plan.next.startMs,
        periodEndMs: plan.next.endMs,
      },
      usage(600),
    );
    expect(next.draft.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 4900],
      ['usage', 400],
    ]);
  });

  it('rounds usage once per line, half up', () => {
    // 61 seconds at 25/min = 25.4166... -> 25; 90 seconds at 25/min = 37.5 -> 38.
    expect(
      renew(stateAt({ rateMinorPerMinute: '25' }), usage(61)).draft.lines[1]!.amountMinor,
    ).toBe(25);
    expect(
      renew(stateAt({ rateMinorPerMinute: '25' }), usage(90)).draft.lines[1]!.amountMinor,
    ).toBe(38);
  });

  it('a plan switch bills its fee from the period it applies to, keeps the tax and re-anchors a new rhythm', () => {
    const weekly: PlanTerms = {
      ...terms,
      planId: 'pln_weekly',
      flatFeeMinor: 1500,
      rhythm: 'week',
      taxRateBps: 999,
    };
    const s = stateAt({
      terms: { ...terms, taxRateBps: 1000 },
      pendingChange: {
        terms: weekly,
        rateMinorPerMinute: null,
        requestedAtMs: 0,
        effectiveFromPeriodIndex: 1,
        effectiveAtMs: 0,
      },
    });
    const plan = renew(s, usage(120)); // 2 minutes at the old plan's 20/min
    expect(plan.terms.planId).toBe('pln_weekly');
    expect(plan.terms.taxRateBps).toBe(1000);
    expect(plan.next).toEqual({
      index: 1,
      startMs: at('2027-02-28T00:00:00Z'),
      endMs: at('2027-02-28T00:00:00Z') + 7 * DAY,
    });
    expect(plan.draft.lines.map((l) => [l.kind, l.amountMinor])).toEqual([
      ['recurring', 1500],
      ['usage', 40],
      ['tax', 154], // 10% of 1540
    ]);
    expect(
      periodOf({ anchorMs: plan.anchorMs, anchorIndex: plan.anchorIndex, terms: plan.terms }, 3)
        .startMs,
    ).toBe(at('2027-02-28T00:00:00Z') + 14 * DAY);
  });

  it('a coupon counts down per discounted request and is gone after its last', () => {
    const coupon = {
      couponId: 'cpn_1',
      name: 'Launch',
      kind: 'percent' as const,
      percentOff: '50',
      amountOffMinor: null,
      duration: 'repeating' as const,
      remaining: 2,
    };
    const first = firstRequest(stateAt({ coupon }));
    expect(first.draft.totalMinor).toBe(2450);
    expect(first.couponAfter?.remaining).toBe(1);
    const second = renew(stateAt({ coupon: first.couponAfter }), NO_USAGE);
    expect(second.draft.totalMinor).toBe(2450);
    expect(second.couponAfter).toBeNull();
  });

  it('the final request bills usage up to the end, without a fee; zero is not issued', () => {
    const s = stateAt({ rateMinorPerMinute: '30' });
    const end = at('2027-02-10T00:00:00Z');
    const f = finalRequest(s, usage(120), end);
    expect(f.period).toEqual({ index: 0, startMs: s.periodStartMs, endMs: end });
    expect(f.draft.lines.map((l) => [l.kind, l.amountMinor])).toEqual([['usage', 60]]);
    expect(shouldIssue(true, f.draft)).toBe(true);
    expect(shouldIssue(false, f.draft)).toBe(false);
    expect(shouldIssue(true, finalRequest(s, NO_USAGE, end).draft)).toBe(false);
  });

  it('deadlines: due after the due window, blocked after the grace days', () => {
    expect(deadlines(at('2027-01-31T00:00:00Z'), terms)).toEqual({
      dueAtMs: at('2027-02-07T00:00:00Z'),
      graceEndsAtMs: at('2027-02-12T00:00:00Z'),
    });
  });

  it('request ids made in the workflow look like lib/ids ids and sort by time', () => {
    const a = newRequestId('1b4e28ba-2fa1-41d2-883f-0016d3cca427', at('2027-01-31T00:00:00Z'));
    const b = newRequestId('00000000-0000-4000-8000-000000000000', at('2027-01-31T00:00:01Z'));
    expect(a).toMatch(/^req_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(a < b).toBe(true);
    expect(newRequestId('1b4e28ba-2fa1-41d2-883f-0016d3cca427', 5)).toBe(
      newRequestId('1b4e28ba-2fa1-41d2-883f-0016d3cca427', 5),
    );
  });

  it('hands over to a new run at a stable moment within the spread, spread out across ids', () => {
    const hour = 3_600_000;
    const month = 30 * 86_400_000;
    const delays = Array.from({ length: 1000 }, (_, i) => handoverDelayMs(`sub_${i}`, month));
    expect(delays.every((d) => d >= 0 && d < hour)).toBe(true);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(hour * 0.9);
    expect(handoverDelayMs('sub_7', month)).toBe(handoverDelayMs('sub_7', month));
    // Never more than a tenth of the period; no spread, no wait.
    expect(handoverDelayMs('sub_7', 86_400_000, 10 * hour)).toBeLessThan(8_640_000);
    expect(handoverDelayMs('sub_7', month, 0)).toBe(0);
  });

  it('minutes exhausted is the one hold the workflow asserts on access', () => {
    expect(accessHolds(stateAt())).toEqual([]);
    expect(accessHolds(stateAt({ minutesExhausted: true }))).toEqual(['minutes_exhausted']);
  });
});
