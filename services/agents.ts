/** A client's agents: removing one, which a live subscription covering it forbids. */
import type { Sql } from '../db/client';
import { deleteAgent, findLiveSubscriptionOfAgent, getAgent } from '../db/queries/agents';
import { ApiError, notFound } from '../lib/errors';

/** Removes agent `agentId` of client `clientId`; a 409 while a live subscription covers it. */
export async function removeAgent(
  sql: Sql,
  agencyId: string,
  clientId: string,
  agentId: string,
): Promise<void> {
  await sql.begin(async (tx) => {
    if (!(await getAgent(tx, agencyId, clientId, agentId))) throw notFound('agent', agentId);
    const live = await findLiveSubscriptionOfAgent(tx, agencyId, agentId);
    if (live) {
      throw new ApiError(
        'conflict',
        `agent ${agentId} is covered by live subscription ${live.id} (status ${live.status}): cancel it first`,
      );
    }
    await deleteAgent(tx, agencyId, clientId, agentId);
  });
}
