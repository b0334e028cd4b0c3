/**
 * Changing a running subscription: every change is an update of its workflow, which validates it
 * before it is accepted (its rejections become errors here, temporal/rejections.ts). Each change
 * reads the row (404; a canceled one 409), sends its update, and answers the row as it is now.
 */
import type { PlanTerms } from '../billing/terms';
import type { Sql } from '../db/client';
import { getPlan, snapshotTerms } from '../db/queries/plans';
import { databaseNowMs } from '../db/queries/rate-changes';
import {
  getSubscription,
  subscriptionIsLive,
  type SubscriptionRow,
} from '../db/queries/subscriptions';
import { ApiError, invalidField, notFound } from '../lib/errors';
import { isWorkflowGone } from '../temporal/rejections';
import { toApiError } from './workflow-errors';
import * as workflow from '../temporal/subscription-calls';
import type { CancelInput } from '../workflows/definitions';
import { checkClientRate } from './client-rates';
import type { ServiceDeps } from './deps';
import { snapshotCoupon } from './subscription-start';

/**
 * Reads the subscription (404; canceled: 409), runs `change` on it (checks, then its update),
 * mapping the workflow's rejections to errors, and returns the row as the update left it. No
 * workflow for a row that is still live means it was never started (a crash between inserting
 * the row and starting it; the worker's sweeper starts it within a minute): 503, try again.
 */
async function changeRunning(
  deps: Pick<ServiceDeps, 'sql'>,
  agencyId: string,
  id: string,
  change: (row: SubscriptionRow) => Promise<unknown>,
): Promise<SubscriptionRow> {
  const row = await getSubscription(deps.sql, agencyId, id);
  if (!row) throw notFound('subscription', id);
  if (row.status === 'canceled')
    throw new ApiError('conflict', `subscription ${id} is canceled: start a new one`);
  try {
    await change(row);
  } catch (err) {
    if (isWorkflowGone(err) && (await subscriptionIsLive(deps.sql, id)))
      throw new ApiError('unavailable', 'the subscription is starting; try again in a minute');
    toApiError(err);
  }
  return (await getSubscription(deps.sql, agencyId, id))!;
}

/** Cancels now (final usage request at once) or at the end of the period. */
export const cancelSubscription = (
  deps: Pick<ServiceDeps, 'sql' | 'temporal'>,
  agencyId: string,
  id: string,
  input: CancelInput,
) => changeRunning(deps, agencyId, id, () => workflow.cancelSubscription(deps.temporal, id, input));

/** Attaches a catalog coupon (replacing any other), or with null removes it, from the next request. */
export const setSubscriptionCoupon = (
  deps: Pick<ServiceDeps, 'sql' | 'temporal'>,
  agencyId: string,
  id: string,
  couponId: string | null,
) =>
  changeRunning(deps, agencyId, id, async (row) => {
    const coupon =
      couponId === null
        ? null
        : await snapshotCoupon(deps.sql, agencyId, couponId, row.terms.currency);
    await workflow.setSubscriptionCoupon(deps.temporal, id, coupon);
  });

/** Switches plan and/or per-minute rate (null: the plan's overage rate) from the next period. */
export const changeSubscription = (
  deps: Pick<ServiceDeps, 'sql' | 'temporal'> & { platformRateMinorPerMinute: string },
  agencyId: string,
  id: string,
  body: { planId?: string; rateMinorPerMinute?: string | null },
) =>
  changeRunning(deps, agencyId, id, async (row) => {
    if (body.planId === undefined && body.rateMinorPerMinute === undefined)
      throw invalidField('planId', 'give planId, rateMinorPerMinute or both');
    checkClientRate(body.rateMinorPerMinute, deps.platformRateMinorPerMinute);
    const terms =
      body.planId === undefined ? undefined : await planTerms(deps.sql, agencyId, row, body.planId);
    // The rate's decision time, on the clock the rate-change outbox uses: a client rate still
    // owed from before this request does not override it when it lands.
    const rate =
      body.rateMinorPerMinute !== undefined
        ? {
            rateMinorPerMinute: body.rateMinorPerMinute,
            rateDecidedAtMs: await databaseNowMs(deps.sql),
          }
        : {};
    await workflow.changeSubscriptionTerms(deps.temporal, id, {
      ...(terms ? { terms } : {}),
      ...rate,
    });
  });

/** The terms of the plan switched to, with the subscription's tax rate; 400/422 if it cannot be. */
async function planTerms(
  sql: Sql,
  agencyId: string,
  row: SubscriptionRow,
  planId: string,
): Promise<PlanTerms> {
  const plan = await getPlan(sql, agencyId, planId);
  if (!plan) throw invalidField('planId', `no plan ${planId}`);
  if (plan.archivedAt) throw invalidField('planId', `plan ${planId} is archived`);
  if (plan.currency !== row.terms.currency)
    throw new ApiError(
      'unprocessable',
      `planId: plan ${plan.id} is in ${plan.currency}, the subscription in ${row.terms.currency}`,
      [{ field: 'planId', message: 'currency differs from the subscription\u2019s' }],
    );
  return snapshotTerms(plan, row.terms.taxRateBps);
}
