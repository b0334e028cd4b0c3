/**
 * The plan assigned to a client: the default for its next subscription. Only active plans can
 * be assigned, and the plan can be removed or replaced only while the client has no live
 * (not canceled) subscription, since that subscription runs on it.
 */
import type { AnySql, Sql } from '../db/client';
import {
  findLiveSubscription,
  lockClient,
  setClientPlan,
  type ClientRow,
} from '../db/queries/clients';
import { clientPackCurrencies } from '../db/queries/packs';
import { getPlan } from '../db/queries/plans';
import { ApiError, invalidField, notFound } from '../lib/errors';

async function refuseIfLive(tx: AnySql, agencyId: string, clientId: string, doing: string) {
  const live = await findLiveSubscription(tx, agencyId, clientId);
  if (live) {
    throw new ApiError(
      'conflict',
      `client ${clientId} has a live subscription ${live.id} (status ${live.status}): cancel it before ${doing} its plan`,
    );
  }
}

/** Assigns active plan `planId` to client `id`, whose packs must be in the plan's currency. */
export async function assignClientPlan(
  sql: Sql,
  agencyId: string,
  id: string,
  planId: string,
): Promise<ClientRow> {
  const client = await sql.begin(async (tx) => {
    // Locked so two assignments to one client are answered one after the other.
    const current = await lockClient(tx, agencyId, id);
    if (!current) throw notFound('client', id);
    const plan = await getPlan(tx, agencyId, planId);
    if (!plan) throw invalidField('planId', `no plan ${planId}`);
    if (plan.archivedAt)
      throw invalidField('planId', `plan ${planId} is archived: only active plans can be assigned`);
    if (current.planId === planId) return current;
    await refuseIfLive(tx, agencyId, id, current.planId ? 'reassigning' : 'assigning');
    const foreign = (await clientPackCurrencies(tx, agencyId, id)).filter(
      (currency) => currency !== plan.currency,
    );
    if (foreign.length > 0) {
      throw invalidField(
        'planId',
        `plan ${planId} is in ${plan.currency} but packs assigned to the client are in ${foreign.join(', ')}: unassign them first`,
      );
    }
    return setClientPlan(tx, agencyId, id, planId);
  });
  return client!;
}

/** Removes client `id`'s plan (a no-op when it has none). */
export async function removeClientPlan(sql: Sql, agencyId: string, id: string): Promise<ClientRow> {
  const client = await sql.begin(async (tx) => {
    const current = await lockClient(tx, agencyId, id);
    if (!current) throw notFound('client', id);
    if (current.planId === null) return current;
    await refuseIfLive(tx, agencyId, id, 'removing');
    return setClientPlan(tx, agencyId, id, null);
  });
  return client!;
}
