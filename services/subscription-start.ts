/**
 * Starting a subscription: the row is inserted in one transaction that reads the client under a
 * share lock, then its workflow is started; should the start fail, the row is taken back (the
 * undo), so no row exists without its workflow. A crash between the two leaves a row whose start
 * is unrecorded: the worker's sweeper starts its workflow from the row.
 */
import { periodAt } from '../billing/periods';
import { couponFromCatalog, type AppliedCoupon } from '../billing/terms';
import type { AnySql } from '../db/client';
import { listAgentIds, lockClient } from '../db/queries/clients';
import { getPlan, snapshotTerms } from '../db/queries/plans';
import {
  getCatalogCoupon,
  insertSubscription,
  markWorkflowStarted,
  type SubscriptionRow,
} from '../db/queries/subscriptions';
import { ApiError, invalidField } from '../lib/errors';
import { newId } from '../lib/ids';
import { startSubscriptionWorkflow } from '../temporal/subscription-start';
import { subscriptionWorkflowId } from '../workflows/definitions';
import type { ServiceDeps } from './deps';

/** What the caller asks for; absent fields take the client's defaults. */
export interface StartSubscription {
  clientId: string;
  planId?: string;
  agentIds?: string[];
  /** ISO 8601; future: scheduled; past: backdated (less than one period). Default: now. */
  startAt?: string;
  couponId?: string;
  taxRateBps: number;
}

/** A catalog coupon as a subscription in `currency` would carry it; 400 naming couponId if not. */
export async function snapshotCoupon(
  sql: AnySql,
  agencyId: string,
  couponId: string,
  currency: string,
): Promise<AppliedCoupon> {
  const coupon = await getCatalogCoupon(sql, agencyId, couponId);
  if (!coupon) throw invalidField('couponId', `no coupon ${couponId}`);
  if (coupon.archivedAt) throw invalidField('couponId', `coupon ${couponId} is archived`);
  if (coupon.kind === 'fixed' && coupon.currency !== currency)
    throw invalidField(
      'couponId',
      `coupon ${couponId} is in ${coupon.currency}, the subscription in ${currency}`,
    );
  return couponFromCatalog(coupon);
}

/** Inserts the subscription and starts its workflow; returns the row. */
export async function startSubscription(
  deps: ServiceDeps,
  agencyId: string,
  body: StartSubscription,
): Promise<SubscriptionRow> {
  const { sql, temporal } = deps;
  const now = Date.now();
  const startAtMs = body.startAt ? Date.parse(body.startAt) : null;
  const id = newId('sub');
  // The client (its rate, billing mode, plan, whether disabled) is read under a share lock in
  // the transaction that inserts the row: a change to it committed first is seen, and one
  // after waits for the row, then finds the subscription and owes it the new rate.
  const row = await sql.begin(async (tx) => {
    const client = await lockClient(tx, agencyId, body.clientId, { shared: true });
    if (!client) throw invalidField('clientId', `no client ${body.clientId}`);
    if (client.disabled)
      throw new ApiError('conflict', `client ${client.id} is disabled: enable it first`);
    const planId = body.planId ?? client.planId;
    if (!planId)
      throw invalidField('planId', 'the client has no assigned plan: assign one or pass planId');
    const plan = await getPlan(tx, agencyId, planId);
    if (!plan) throw invalidField('planId', `no plan ${planId}`);
    if (plan.archivedAt) throw invalidField('planId', `plan ${planId} is archived`);
    const clientAgents = await listAgentIds(tx, client.id);
    const agentIds = body.agentIds ?? clientAgents;
    const foreign = agentIds.find((a) => !clientAgents.includes(a));
    if (foreign)
      throw invalidField('agentIds', `agent ${foreign} does not belong to client ${client.id}`);
    const terms = snapshotTerms(plan, body.taxRateBps);
    // Backdating bills from the start date; more than one period back would bill periods at once.
    if (startAtMs !== null && periodAt(startAtMs, terms, 0).endMs <= now)
      throw invalidField('startAt', 'may be in the past by less than one period of the plan');
    const coupon = body.couponId
      ? await snapshotCoupon(tx, agencyId, body.couponId, plan.currency)
      : null;
    try {
      return await insertSubscription(tx, {
        id,
        agencyId,
        clientId: client.id,
        planId: plan.id,
        terms: { ...terms, rateMinorPerMinute: client.rateMinorPerMinute },
        agentIds,
        billingMode: client.billingMode,
        status: startAtMs !== null && startAtMs > now ? 'scheduled' : 'active',
        startAt: new Date(startAtMs ?? now),
        coupon,
        workflowId: subscriptionWorkflowId(id),
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new ApiError(
          'conflict',
          `client ${client.id} already has a subscription that is not canceled: cancel it first`,
        );
      }
      throw err;
    }
  });
  try {
    await startSubscriptionWorkflow(temporal, row, startAtMs);
  } catch (err) {
    // Without its workflow the row would be a lie: take it back and say so. (Should the
    // workflow have started after all, it finds no row and ends itself; a row whose start a
    // sweeper recorded meanwhile stays.)
    await sql`delete from subscriptions where id = ${id} and workflow_started_at is null`;
    deps.log.error({ err, subscriptionId: id }, 'could not start subscription workflow');
    throw new ApiError(
      'unavailable',
      'the workflow service did not accept the subscription; nothing was created, try again',
    );
  }
  // Unrecorded, the sweeper would find the workflow running and record it: not an error.
  await markWorkflowStarted(sql, id).catch((err: unknown) =>
    deps.log.warn({ err, subscriptionId: id }, 'could not record the workflow start'),
  );
  return row;
}
