/**
 * The rate-change sweeper: a client's new rate is owed to its running subscription in the same
 * transaction as the client row (the rate-change outbox). The API delivers it right after commit;
 * when that failed (Temporal unreachable, the worker far behind), the sweeper next to every
 * worker delivers it. Each sweep claims the rows it delivers, so sweepers of several workers
 * take different rows; a delivery racing the API's own is harmless (services/client-rates.ts).
 */
import type { Client } from '@temporalio/client';
import { deliverRateChange } from '../services/client-rates';
import type { Sql } from '../db/client';
import { claimOwedRateChanges } from '../db/queries/rate-changes';
import type { Logger } from '../lib/logger';
import { handleEach } from './sweeper';

/** Delivers rate changes owed for a while; returns how many it delivered. */
export async function sweepRateChanges(
  sql: Sql,
  temporal: Client,
  o: { olderThanMs?: number; limit?: number; log?: Logger } = {},
): Promise<number> {
  const owed = await claimOwedRateChanges(sql, {
    olderThanMs: o.olderThanMs ?? 30_000,
    limit: o.limit ?? 100,
  });
  return handleEach(
    owed,
    (subscriptionId) => deliverRateChange({ sql, temporal }, subscriptionId),
    (subscriptionId, err) =>
      o.log?.warn({ err, subscriptionId }, 'rate change not delivered; next round retries'),
  );
}
