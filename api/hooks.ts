/**
 * Seams where one API area tells another that something changed. The client routes call these
 * after their change has committed; the owners of the reacting area fill them in.
 */
import type { ApiDeps } from './context';

/**
 * A client was disabled or enabled. Deliberately a no-op here: access recomputation (reasons
 * `client_disabled`, events, webhook) belongs to the access area (issue 4), which fills this in.
 * It must be idempotent: it can be called for a client whose access did not change.
 */
export async function onClientAccessChanged(
  _deps: ApiDeps,
  _agencyId: string,
  _clientId: string,
): Promise<void> {}
