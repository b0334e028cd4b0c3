/**
 * Access changes outside the subscription workflow (a client disabled or enabled, its billing
 * mode or collection method changed through the API, its card on file set or removed by a Stripe
 * event). The change is stored in the caller's transaction, with the row change that caused it
 * (db/queries/access.ts: state, event and webhook outbox row); once that transaction committed,
 * its webhook is handed to the delivery workflow.
 */
import type { Client } from '@temporalio/client';
import type { StripePlatform } from '../collection/stripe/client';
import type { AnySql, Sql } from '../db/client';
import { recomputeAccess, type AccessChange, type AccessPolicy } from '../db/queries/access';
import { dispatchDeliveries } from '../temporal/webhook-deliveries';

/** Starts the webhook delivery of a committed access change (nothing when there is none). */
export async function deliverAccessChange(
  deps: { sql: Sql; temporal: Client },
  change: AccessChange | null,
): Promise<void> {
  if (!change?.deliveryId) return;
  // The row is committed: if this start fails, the sweeper starts it later.
  await dispatchDeliveries(deps.sql, deps.temporal, [change.deliveryId]).catch(() => {});
}

/** The access policy of a process with this Stripe set-up (null: stripe mode off). */
export function accessPolicy(stripe: StripePlatform | null): AccessPolicy {
  return { stripeConfigured: Boolean(stripe) };
}

/**
 * Recomputes a client's access after its row changed (disabled or enabled, its billing mode or
 * collection method, its card on file), in the transaction that changed it. Returns what to run
 * once that transaction committed (push the change to the agency's webhook). Idempotent: no
 * change, nothing stored or sent.
 */
export async function clientAccessChanged(
  deps: { sql: Sql; temporal: Client; stripe: StripePlatform | null },
  tx: AnySql,
  _agencyId: string,
  clientId: string,
): Promise<() => Promise<void>> {
  const change = await recomputeAccess(tx, clientId, accessPolicy(deps.stripe));
  return () => deliverAccessChange(deps, change);
}
