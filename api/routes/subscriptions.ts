/**
 * Subscriptions: the row is the fast read model; the workflow `subscription-<id>` owns the
 * state. Starting one snapshots the plan terms and starts the workflow.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { TypedSearchAttributes } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { listAgentIds, getClient } from '../../db/queries/clients';
import { getPlan, snapshotTerms } from '../../db/queries/plans';
import {
  getSubscription,
  insertSubscription,
  listSubscriptions,
  type SubscriptionRow,
} from '../../db/queries/subscriptions';
import { newId } from '../../lib/ids';
import {
  AgencyIdAttr,
  BillingModeAttr,
  ClientIdAttr,
  PlanIdAttr,
  SubscriptionStatusAttr,
  TASK_QUEUE,
  subscriptionWorkflowId,
  type SubscriptionInput,
} from '../../workflows/definitions';
import type { subscriptionWorkflow } from '../../workflows/subscription';
import {
  ApiError,
  commonErrorResponses,
  conflictResponse,
  invalidField,
  notFound,
} from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp } from '../schemas';

const StartSubscriptionSchema = z.object({
  clientId: z.string().min(1),
  planId: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: 'Defaults to the plan assigned to the client' }),
  agentIds: z
    .array(z.string().min(1))
    .max(500)
    .optional()
    .openapi({ description: 'Agents covered; default: all the client\u2019s agents' }),
  startAt: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Future: the subscription is scheduled. Default: now' }),
  taxRateBps: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(0)
    .openapi({ description: 'Tax collected on cycle requests, in basis points' }),
});

const SubscriptionSchema = z
  .object({
    id: z.string(),
    object: z.literal('subscription'),
    clientId: z.string(),
    planId: z.string(),
    status: z.enum(['scheduled', 'active', 'past_due', 'blocked', 'canceled']),
    billingMode: z.enum(['stripe', 'manual', 'track_only']),
    agentIds: z.array(z.string()),
    terms: z.record(z.string(), z.unknown()).openapi({ description: 'Plan terms frozen at start' }),
    startAt: Timestamp,
    currentPeriodIndex: z.number().int(),
    currentPeriodStart: Timestamp.nullable(),
    currentPeriodEnd: Timestamp.nullable(),
    cancelAtPeriodEnd: z.boolean(),
    canceledAt: Timestamp.nullable(),
    cancelReason: z.string().nullable(),
    coupon: z.record(z.string(), z.unknown()).nullable(),
    workflowId: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Subscription');

export function presentSubscription(s: SubscriptionRow) {
  return {
    object: 'subscription' as const,
    id: s.id,
    clientId: s.clientId,
    planId: s.planId,
    status: s.status as z.infer<typeof SubscriptionSchema>['status'],
    billingMode: s.billingMode,
    agentIds: s.agentIds,
    terms: s.terms as unknown as Record<string, unknown>,
    startAt: s.startAt.toISOString(),
    currentPeriodIndex: s.currentPeriodIndex,
    currentPeriodStart: iso(s.currentPeriodStart),
    currentPeriodEnd: iso(s.currentPeriodEnd),
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    canceledAt: iso(s.canceledAt),
    cancelReason: s.cancelReason,
    coupon: s.coupon as unknown as Record<string, unknown> | null,
    workflowId: s.workflowId,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

const tags = ['subscriptions'];

export function subscriptionRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions',
      tags,
      summary: 'Start a subscription (its workflow starts at once)',
      request: { body: jsonBody(StartSubscriptionSchema) },
      responses: {
        201: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { sql, temporal } = c.var.deps;
      const agencyId = c.var.agencyId;
      const client = await getClient(sql, agencyId, body.clientId);
      if (!client) throw invalidField('clientId', `no client ${body.clientId}`);
      if (client.disabled)
        throw new ApiError('conflict', `client ${client.id} is disabled: enable it first`);
      const planId = body.planId ?? client.planId;
      if (!planId)
        throw invalidField('planId', 'the client has no assigned plan: assign one or pass planId');
      const plan = await getPlan(sql, agencyId, planId);
      if (!plan) throw invalidField('planId', `no plan ${planId}`);
      if (plan.archivedAt) throw invalidField('planId', `plan ${planId} is archived`);
      const clientAgents = await listAgentIds(sql, client.id);
      const agentIds = body.agentIds ?? clientAgents;
      const foreign = agentIds.find((a) => !clientAgents.includes(a));
      if (foreign)
        throw invalidField('agentIds', `agent ${foreign} does not belong to client ${client.id}`);
      const startAtMs = body.startAt ? Date.parse(body.startAt) : null;
      const scheduled = startAtMs !== null && startAtMs > Date.now();
      const terms = snapshotTerms(plan, body.taxRateBps);
      const rate = client.rateMinorPerMinute;
      const id = newId('sub');
      const workflowId = subscriptionWorkflowId(id);

      let row: SubscriptionRow;
      try {
        row = await insertSubscription(sql, {
          id,
          agencyId,
          clientId: client.id,
          planId: plan.id,
          terms: { ...terms, rateMinorPerMinute: rate },
          agentIds,
          billingMode: client.billingMode,
          status: scheduled ? 'scheduled' : 'active',
          startAt: new Date(startAtMs ?? Date.now()),
          coupon: null,
          workflowId,
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ApiError(
            'conflict',
            `client ${client.id} already has a subscription that is not canceled: cancel it first`,
          );
        }
        throw err;
      }
      const input: SubscriptionInput = {
        subscriptionId: id,
        agencyId,
        clientId: client.id,
        billingMode: client.billingMode,
        terms,
        rateMinorPerMinute: rate,
        agentIds,
        startAtMs,
        coupon: null,
      };
      try {
        await temporal.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [input],
          typedSearchAttributes: new TypedSearchAttributes([
            { key: AgencyIdAttr, value: agencyId },
            { key: ClientIdAttr, value: client.id },
            { key: PlanIdAttr, value: plan.id },
            { key: BillingModeAttr, value: client.billingMode },
            { key: SubscriptionStatusAttr, value: row.status },
          ]),
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
          // Without its workflow the row would be a lie: take it back and say so.
          await sql`delete from subscriptions where id = ${id}`;
          c.var.deps.log.error(
            { err, subscriptionId: id },
            'could not start subscription workflow',
          );
          throw new ApiError(
            'unavailable',
            'the workflow service did not accept the subscription; nothing was created, try again',
          );
        }
      }
      return c.json(presentSubscription(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/subscriptions',
      tags,
      summary: 'List subscriptions',
      request: {
        query: PageQuerySchema.extend({
          clientId: z.string().optional(),
          status: z.enum(['scheduled', 'active', 'past_due', 'blocked', 'canceled']).optional(),
        }),
      },
      responses: {
        200: jsonResponse(
          pageSchema(SubscriptionSchema, 'SubscriptionPage'),
          'A page of subscriptions',
        ),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listSubscriptions(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        clientId: q.clientId,
        status: q.status,
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentSubscription), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/subscriptions/{id}',
      tags,
      summary: 'Get a subscription',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await getSubscription(c.var.deps.sql, c.var.agencyId, id);
      if (!row) throw notFound('subscription', id);
      return c.json(presentSubscription(row), 200);
    },
  );

  return app;
}
