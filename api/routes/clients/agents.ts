/** A client's agents. Usage is reported per agent; subscriptions cover some or all of them. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getAgent,
  insertAgent,
  listAgents,
  updateAgent,
  type AgentRow,
} from '../../../db/queries/agents';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { alreadyTaken, notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { jsonBody, jsonResponse, Timestamp, updateSchemaOf } from '../../schemas';
import { clientResourceParams, clientResourceRoutes } from '../../client-resource-routes';
import { removeAgent } from '../../../services/agents';
import { unlessTaken } from '../../../services/clients';

const AgentFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  externalId: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .default(null)
    .openapi({ description: 'The platform\u2019s id for the agent; unique within the agency' }),
});

const AgentSchema = z
  .object({
    id: z.string(),
    object: z.literal('agent'),
    clientId: z.string(),
    name: z.string(),
    externalId: z.string().nullable(),
    createdAt: Timestamp,
  })
  .openapi('Agent');

const AgentParams = clientResourceParams('agentId');

function presentAgent(a: AgentRow) {
  return { object: 'agent' as const, ...a, createdAt: a.createdAt.toISOString() };
}

const externalIdTaken = (externalId: string | null | undefined) =>
  alreadyTaken('externalId', `another agent already has externalId ${externalId}`);

const tags = ['agents'];

export function agentRoutes() {
  const app = newApp();
  const resource = clientResourceRoutes(app, {
    path: '/clients/{id}/agents',
    param: 'agentId',
    tags,
    noun: 'agent',
    schema: AgentSchema,
    pageName: 'AgentPage',
    present: presentAgent,
    descriptions: { entry: 'The agent', page: 'A page of agents' },
    queries: { list: listAgents, get: getAgent },
  });

  resource.create('Add an agent to a client', {
    body: AgentFieldsSchema,
    description: 'The agent',
    idPrefix: 'agt',
    insert: insertAgent,
    taken: (body) => externalIdTaken(body.externalId),
  });

  resource.list('List a client\u2019s agents');
  resource.get('Get an agent');

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/clients/{id}/agents/{agentId}',
      tags,
      summary: 'Rename an agent or change its external id',
      request: { params: AgentParams, body: jsonBody(updateSchemaOf(AgentFieldsSchema)) },
      responses: {
        200: jsonResponse(AgentSchema, 'The agent'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id, agentId } = c.req.valid('param');
      const body = c.req.valid('json');
      const agent = await unlessTaken(
        updateAgent(c.var.deps.sql, c.var.agencyId, id, agentId, body),
        () => externalIdTaken(body.externalId),
      );
      if (!agent) throw notFound('agent', agentId);
      return c.json(presentAgent(agent), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}/agents/{agentId}',
      tags,
      summary: 'Remove an agent (not while a live subscription covers it)',
      request: { params: AgentParams },
      responses: {
        204: { description: 'Removed' },
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id, agentId } = c.req.valid('param');
      await removeAgent(c.var.deps.sql, c.var.agencyId, id, agentId);
      return c.body(null, 204);
    },
  );

  return app;
}
