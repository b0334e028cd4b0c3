/** The rules a plan of the catalog keeps, on create and on update, that its schema cannot say. */
import { compareRates } from '../billing/money';
import type { AnySql } from '../db/client';
import { isPlanInUse, type PlanFields, type PlanRow } from '../db/queries/plans';
import { ApiError, invalidField } from '../lib/errors';

/** The fields the cross-field rules read. */
interface PlanRuleFields {
  flatFeeMinor?: number;
  overageRateMinorPerMinute?: string | null;
  chatMode?: boolean;
  chatsPerMinute?: string | null;
}

/** Cross-field rules: a plan charges something; chat mode has a rate. Answers `p` unchanged. */
export function checkPlan<P extends PlanRuleFields>(p: P): P {
  if ((p.flatFeeMinor ?? 0) === 0 && p.overageRateMinorPerMinute == null) {
    throw invalidField(
      'flatFeeMinor',
      'a plan needs a flat fee above zero, an overage rate, or both',
    );
  }
  if (p.chatMode && (p.chatsPerMinute == null || compareRates(p.chatsPerMinute, '0') <= 0)) {
    throw invalidField('chatsPerMinute', 'chat mode needs a conversion rate above zero');
  }
  return p;
}

/**
 * Refuses an update of `current` by `change`: the cross-field rules hold for the plan as it will
 * be, and a plan in use keeps its currency (amounts mean nothing in another one; a 409).
 */
export async function checkPlanUpdate(
  tx: AnySql,
  agencyId: string,
  current: PlanRow,
  change: Partial<PlanFields>,
): Promise<void> {
  checkPlan({ ...current, ...change });
  if (
    change.currency !== undefined &&
    change.currency !== current.currency &&
    (await isPlanInUse(tx, agencyId, current.id))
  ) {
    throw new ApiError(
      'conflict',
      `currency: plan ${current.id} is assigned to clients or has subscriptions, so its currency stays ${current.currency}; create a new plan instead`,
      [{ field: 'currency', message: 'cannot change while the plan is in use' }],
    );
  }
}
