/**
 * Seams where one API area tells another that something changed; the owners of the reacting area
 * fill them in. The client routes call them inside the transaction that makes the change, before
 * it commits: when the reaction fails, the change is rolled back and the request can be retried.
 */
import type { AnySql } from '../db/client';
import type { ApiDeps } from './context';
import { clientAccessChanged } from './routes/access';
import { queueClientRateChange } from './routes/subscriptions';

/**
 * A client was disabled or enabled (in `tx`): its access is recomputed (reason
 * `client_disabled`), and a change is stored and recorded as an event with its webhook outbox row,
 * in the same transaction. Returns what to run once it committed: the push to the agency's
 * webhook. Idempotent: it can be called for a client whose access did not change.
 */
export async function onClientAccessChanged(
  deps: ApiDeps,
  tx: AnySql,
  _agencyId: string,
  clientId: string,
): Promise<() => Promise<void>> {
  return clientAccessChanged(deps, tx, clientId);
}

/**
 * A client's per-minute rate changed (in `tx`): its running subscription bills the new rate from
 * its next period (the current period keeps the rate it started with). The rate is owed to the
 * subscription in the same transaction; returns its delivery, to run once committed. No running
 * subscription: nothing.
 */
export async function onClientRateChanged(
  deps: ApiDeps,
  tx: AnySql,
  agencyId: string,
  clientId: string,
  rateMinorPerMinute: string | null,
): Promise<() => Promise<void>> {
  return queueClientRateChange(deps, tx, agencyId, clientId, rateMinorPerMinute);
}
