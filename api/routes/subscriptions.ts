/**
 * Subscriptions: the row is the fast read model; the workflow `subscription-<id>` owns the
 * state. Starting one snapshots the plan terms (and coupon) and starts the workflow; every
 * change afterwards is a workflow update, validated by the workflow before it is accepted.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSubscription, listSubscriptions } from '../../db/queries/subscriptions';
import { startSubscription } from '../../services/subscription-start';
import { querySubscriptionState } from '../../temporal/subscription-calls';
import { commonErrorResponses, conflictResponse } from '../errors';
import { ApiError, notFound } from '../../lib/errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import {
  SubscriptionSchema,
  SubscriptionStatus as Status,
  presentSubscription,
} from '../presenters/subscription';
import { IdParam, jsonBody, jsonResponse, TimestampInput } from '../schemas';

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
  startAt: TimestampInput.optional().openapi({
    description:
      'Future: the subscription is scheduled. Past: backdated, at most one period back. Default: now',
  }),
  couponId: z.string().min(1).optional().openapi({ description: 'A coupon of the catalog' }),
  taxRateBps: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(0)
    .openapi({ description: 'Tax collected on cycle requests, in basis points' }),
});

const tags = ['subscriptions'];

/** /v1/subscriptions and /v1/subscriptions/{id}; changes are in subscriptions/. */
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
      const row = await startSubscription(c.var.deps, c.var.agencyId, c.req.valid('json'));
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
          status: Status.optional(),
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
      summary: 'Get a subscription (with ?live=true, also the workflow\u2019s live state)',
      request: {
        params: IdParam,
        query: z.object({
          live: z.enum(['true', 'false']).optional().openapi({
            description: 'Ask the workflow: status, period, open requests, next timer',
          }),
        }),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { live } = c.req.valid('query');
      const { sql, temporal } = c.var.deps;
      const row = await getSubscription(sql, c.var.agencyId, id);
      if (!row) throw notFound('subscription', id);
      if (live !== 'true') return c.json(presentSubscription(row), 200);
      const view = await querySubscriptionState(temporal, row.id).catch((err: Error) => {
        c.var.deps.log.warn({ err, subscriptionId: id }, 'live state query failed');
        throw new ApiError('unavailable', 'the workflow did not answer; try again');
      });
      const { subscriptionId: _s, billingMode: _b, ...liveState } = view;
      return c.json(
        {
          ...presentSubscription(row),
          live: {
            ...liveState,
            coupon: liveState.coupon as unknown as Record<string, unknown> | null,
            pendingChange: liveState.pendingChange as unknown as Record<string, unknown> | null,
            usage: liveState.usage as unknown as Record<string, unknown>,
          },
        },
        200,
      );
    },
  );

  return app;
}
