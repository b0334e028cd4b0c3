/**
 * Access changes outside the subscription workflow (a client disabled or enabled through the
 * API): recompute in one transaction, then hand the webhook to its delivery workflow.
 */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { recomputeAccess, type AccessChange } from '../db/queries/access';
import { dispatchDeliveries } from './webhooks';

/** Recomputes and stores a client's access; starts the webhook delivery if it changed. */
export async function refreshClientAccess(
  deps: { sql: Sql; temporal: Client },
  clientId: string,
): Promise<AccessChange | null> {
  const change = await deps.sql.begin((tx) => recomputeAccess(tx, clientId));
  if (change?.deliveryId) {
    // The row is committed: if this start fails, the sweeper starts it later.
    await dispatchDeliveries(deps.sql, deps.temporal, [change.deliveryId]).catch(() => {});
  }
  return change;
}
