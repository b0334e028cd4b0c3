/**
 * Sending updates to a subscription workflow from the API (temporal/subscription-calls.ts sends
 * them): each rejection becomes the HTTP error that says what to do (temporal/rejections.ts).
 */
import type { Sql } from '../../db/client';
import { subscriptionIsLive } from '../../db/queries/subscriptions';
import { isWorkflowGone, toApiError } from '../../temporal/rejections';
import { ApiError } from '../errors';

/**
 * Runs an update on subscription `id`'s workflow, mapping rejections to API errors. No workflow
 * for a row that is still live means it was never started (a crash between inserting the row and
 * starting it; the worker's sweeper starts it within a minute): 503, try again.
 */
export async function updateSubscription<R>(
  deps: { sql: Sql },
  subscriptionId: string,
  send: () => Promise<R>,
): Promise<R> {
  try {
    return await send();
  } catch (err) {
    if (isWorkflowGone(err)) {
      if (await subscriptionIsLive(deps.sql, subscriptionId))
        throw new ApiError('unavailable', 'the subscription is starting; try again in a minute');
    }
    return toApiError(err);
  }
}
