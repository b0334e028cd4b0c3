/**
 * Seams where one API area tells another that something changed. The client routes call these
 * after their change has committed; the owners of the reacting area fill them in.
 */
import type { ApiDeps } from './context';
import { clientAccessChanged } from './routes/access';
import { applyClientRateChange } from './routes/subscriptions';

/**
 * A client was disabled or enabled: its access is recomputed (reason `client_disabled`), and a
 * change is stored, recorded as an event and pushed to the agency's webhook. Idempotent: it can
 * be called for a client whose access did not change.
 */
export async function onClientAccessChanged(
  deps: ApiDeps,
  _agencyId: string,
  clientId: string,
): Promise<void> {
  await clientAccessChanged(deps, clientId);
}

/**
 * A client's per-minute rate changed: its running subscription bills the new rate from its next
 * period (the current period keeps the rate it started with). No running subscription: nothing.
 */
export async function onClientRateChanged(
  deps: ApiDeps,
  agencyId: string,
  clientId: string,
  rateMinorPerMinute: string | null,
): Promise<void> {
  await applyClientRateChange(deps, agencyId, clientId, rateMinorPerMinute);
}
