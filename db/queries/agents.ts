/** A client's agents (the voice or chat bots it runs). */
import type { AnySql } from '../client';
import { clientOwnedQueries } from './resource-queries';

export interface AgentRow {
  id: string;
  clientId: string;
  name: string;
  externalId: string | null;
  createdAt: Date;
}

const columns = (sql: AnySql) => sql`
  id, client_id as "clientId", name, external_id as "externalId", created_at as "createdAt"`;

export async function insertAgent(
  sql: AnySql,
  a: { id: string; agencyId: string; clientId: string; name: string; externalId: string | null },
): Promise<AgentRow> {
  const [row] = await sql<AgentRow[]>`
    insert into agents (id, agency_id, client_id, name, external_id)
    values (${a.id}, ${a.agencyId}, ${a.clientId}, ${a.name}, ${a.externalId})
    returning ${columns(sql)}`;
  return row!;
}

const agents = clientOwnedQueries<AgentRow>('agents', columns);

export const getAgent = agents.get;

/** The client's agents, newest first. */
export const listAgents = agents.list;

export async function updateAgent(
  sql: AnySql,
  agencyId: string,
  clientId: string,
  id: string,
  changes: { name?: string | undefined; externalId?: string | null | undefined },
): Promise<AgentRow | null> {
  const fields = Object.fromEntries(
    Object.entries({ name: changes.name, external_id: changes.externalId }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as Record<string, string | null>;
  if (Object.keys(fields).length === 0) return getAgent(sql, agencyId, clientId, id);
  const [row] = await sql<AgentRow[]>`
    update agents set ${sql(fields)}
    where id = ${id} and client_id = ${clientId} and agency_id = ${agencyId}
    returning ${columns(sql)}`;
  return row ?? null;
}

/** The live (not canceled) subscription that covers this agent, if any. */
export async function findLiveSubscriptionOfAgent(
  sql: AnySql,
  agencyId: string,
  agentId: string,
): Promise<{ id: string; status: string } | null> {
  const [row] = await sql<{ id: string; status: string }[]>`
    select id, status from subscriptions
    where agency_id = ${agencyId} and status <> 'canceled' and ${agentId} = any(agent_ids) limit 1`;
  return row ?? null;
}

/** Deletes the agent; false when the client has no such agent. */
export const deleteAgent = agents.remove;
