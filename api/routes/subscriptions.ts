/**
 * Subscriptions: the row is the fast read model; the workflow `subscription-<id>` owns the
 * state. Starting one snapshots the plan terms (and coupon) and starts the workflow; every
 * change afterwards is a workflow update, validated by the workflow before it is accepted.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getSubscription,
  listSubscriptions,
  type SubscriptionRow,
} from '../../db/queries/subscriptions';
import {
  cancelSubscription,
  changeSubscription,
  setSubscriptionCoupon,
} from '../../services/subscription-changes';
import { startSubscription } from '../../services/subscription-start';
import { querySubscriptionState } from '../../temporal/subscription-calls';
import {
  ApiError,
  commonErrorResponses,
  conflictResponse,
  notFound,
  unprocessableResponse,
} from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Rate, Timestamp } from '../schemas';

const Status = z.enum(['scheduled', 'active', 'past_due', 'blocked', 'canceled']);

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
  startAt: z.iso.datetime({ offset: true }).optional().openapi({
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

const LiveSchema = z
  .object({
    status: Status,
    planId: z.string(),
    rateMinorPerMinute: z.string().nullable(),
    periodIndex: z.number().int(),
    periodStart: Timestamp,
    periodEnd: Timestamp,
    openRequests: z.array(
      z.object({
        id: z.string(),
        periodIndex: z.number().int(),
        status: z.string(),
        totalMinor: z.number().int().nullable().openapi({
          description: 'null until the renewal that opens it has counted the closed period',
        }),
        dueAt: Timestamp,
        graceEndsAt: Timestamp,
      }),
    ),
    cancelAtPeriodEnd: z.boolean(),
    coupon: z.record(z.string(), z.unknown()).nullable(),
    pendingChange: z.record(z.string(), z.unknown()).nullable(),
    usage: z.record(z.string(), z.unknown()),
    accessHolds: z.array(z.string()),
    nextTimer: z
      .object({ kind: z.enum(['period_end', 'due', 'grace_end', 'start']), at: Timestamp })
      .nullable()
      .openapi({ description: 'What the workflow waits for next, and when' }),
  })
  .openapi('SubscriptionLiveState');

const SubscriptionSchema = z
  .object({
    id: z.string(),
    object: z.literal('subscription'),
    clientId: z.string(),
    planId: z.string(),
    status: Status,
    billingMode: z.enum(['stripe', 'manual', 'track_only']),
    agentIds: z.array(z.string()),
    terms: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'Plan terms (and rate) in effect this period' }),
    startAt: Timestamp,
    currentPeriodIndex: z.number().int(),
    currentPeriodStart: Timestamp.nullable(),
    currentPeriodEnd: Timestamp.nullable(),
    cancelAtPeriodEnd: z.boolean(),
    canceledAt: Timestamp.nullable(),
    cancelReason: z.string().nullable(),
    coupon: z.record(z.string(), z.unknown()).nullable(),
    pendingChange: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'A plan or rate change that applies from the next period' }),
    workflowId: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    live: LiveSchema.optional().openapi({
      description: 'With ?live=true: the workflow\u2019s own state',
    }),
  })
  .openapi('Subscription');

export function presentSubscription(s: SubscriptionRow) {
  return {
    object: 'subscription' as const,
    id: s.id,
    clientId: s.clientId,
    planId: s.planId,
    status: s.status as z.infer<typeof Status>,
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
    pendingChange: s.pendingChange,
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

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions/{id}/cancel',
      tags,
      summary: 'Cancel now (final usage request at once) or at the end of the period',
      request: {
        params: IdParam,
        body: jsonBody(
          z.object({
            when: z.enum(['now', 'period_end']),
            reason: z.string().trim().min(1).max(500).optional(),
          }),
        ),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      // The update answers once the workflow has stored the cancellation.
      const row = await cancelSubscription(c.var.deps, c.var.agencyId, id, {
        when: body.when,
        reason: body.reason ?? null,
      });
      return c.json(presentSubscription(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions/{id}/coupon',
      tags,
      summary: 'Attach a coupon (replaces any other) from the next request on',
      request: {
        params: IdParam,
        body: jsonBody(z.object({ couponId: z.string().min(1) })),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { couponId } = c.req.valid('json');
      const row = await setSubscriptionCoupon(c.var.deps, c.var.agencyId, id, couponId);
      return c.json(presentSubscription(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/subscriptions/{id}/coupon',
      tags,
      summary: 'Remove the coupon from the next request on',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await setSubscriptionCoupon(c.var.deps, c.var.agencyId, id, null);
      return c.json(presentSubscription(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions/{id}/change',
      tags,
      summary: 'Switch plan and/or per-minute rate, effective from the next period',
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .object({
              planId: z.string().min(1).optional(),
              rateMinorPerMinute: Rate.nullable()
                .optional()
                .openapi({ description: 'null: bill usage at the plan\u2019s overage rate' }),
            })
            .strict(),
        ),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription, with its pending change'),
        ...commonErrorResponses,
        ...conflictResponse,
        ...unprocessableResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const row = await changeSubscription(c.var.deps, c.var.agencyId, id, body);
      return c.json(presentSubscription(row), 200);
    },
  );

  return app;
}
