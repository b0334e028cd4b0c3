/**
 * The plan assigned to a client: the default for its next subscription. Only active plans can
 * be assigned, and the plan can be removed or replaced only while the client has no live
 * (not canceled) subscription, since that subscription runs on it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { findLiveSubscription, lockClient, setClientPlan } from '../../../db/queries/clients';
import { clientPackCurrencies } from '../../../db/queries/packs';
import { getPlan } from '../../../db/queries/plans';
import type { AnySql } from '../../../db/client';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { ApiError, invalidField, notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { IdParam, jsonBody, jsonResponse } from '../../schemas';
import { ClientSchema, presentClient } from '../../presenters/client';

const AssignPlanSchema = z.object({ planId: z.string().min(1).max(64) });

async function refuseIfLive(tx: AnySql, agencyId: string, clientId: string, doing: string) {
  const live = await findLiveSubscription(tx, agencyId, clientId);
  if (live) {
    throw new ApiError(
      'conflict',
      `client ${clientId} has a live subscription ${live.id} (status ${live.status}): cancel it before ${doing} its plan`,
    );
  }
}

const tags = ['clients'];

export function clientPlanRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'put',
      path: '/clients/{id}/plan',
      tags,
      summary: 'Assign a plan to a client (active plans only; not while a subscription is live)',
      request: { params: IdParam, body: jsonBody(AssignPlanSchema) },
      responses: {
        200: jsonResponse(ClientSchema, 'The client with its plan'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { planId } = c.req.valid('json');
      const agencyId = c.var.agencyId;
      const client = await c.var.deps.sql.begin(async (tx) => {
        // Locked so two assignments to one client are answered one after the other.
        const current = await lockClient(tx, agencyId, id);
        if (!current) throw notFound('client', id);
        const plan = await getPlan(tx, agencyId, planId);
        if (!plan) throw invalidField('planId', `no plan ${planId}`);
        if (plan.archivedAt)
          throw invalidField(
            'planId',
            `plan ${planId} is archived: only active plans can be assigned`,
          );
        if (current.planId === planId) return current;
        await refuseIfLive(tx, agencyId, id, current.planId ? 'reassigning' : 'assigning');
        const foreign = (await clientPackCurrencies(tx, agencyId, id)).filter(
          (currency) => currency !== plan.currency,
        );
        if (foreign.length > 0) {
          throw invalidField(
            'planId',
            `plan ${planId} is in ${plan.currency} but packs assigned to the client are in ${foreign.join(', ')}: unassign them first`,
          );
        }
        return setClientPlan(tx, agencyId, id, planId);
      });
      return c.json(presentClient(client!), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}/plan',
      tags,
      summary: 'Remove the client\u2019s plan (not while a subscription is live)',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ClientSchema, 'The client without a plan'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const agencyId = c.var.agencyId;
      const client = await c.var.deps.sql.begin(async (tx) => {
        const current = await lockClient(tx, agencyId, id);
        if (!current) throw notFound('client', id);
        if (current.planId === null) return current;
        await refuseIfLive(tx, agencyId, id, 'removing');
        return setClientPlan(tx, agencyId, id, null);
      });
      return c.json(presentClient(client!), 200);
    },
  );

  return app;
}
