/**
 * Subscriptions: the row is the fast read model; the workflow `subscription-<id>` owns the
 * state. Starting one snapshots the plan terms (and coupon) and starts the workflow; every
 * change afterwards is a workflow update, validated by the workflow before it is accepted.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { periodAt } from '../../billing/periods';
import { couponFromCatalog, type AppliedCoupon, type PlanTerms } from '../../billing/terms';
import type { AnySql, Sql } from '../../db/client';
import { listAgentIds, lockClient } from '../../db/queries/clients';
import { getPlan, snapshotTerms } from '../../db/queries/plans';
import {
  getCatalogCoupon,
  getLiveSubscription,
  getSubscription,
  insertSubscription,
  listSubscriptions,
  markWorkflowStarted,
  type SubscriptionRow,
} from '../../db/queries/subscriptions';
import { databaseNowMs, queueRateChange } from '../../db/queries/rate-changes';
import { deliverRateChange } from '../../activities/rate-changes';
import { startSubscriptionWorkflow } from '../../temporal/subscription-start';
import {
  cancelSubscription,
  changeSubscriptionTerms,
  querySubscriptionState,
  setSubscriptionCoupon,
} from '../../temporal/subscription-calls';
import { newId } from '../../lib/ids';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import type { ApiDeps } from '../context';
import {
  ApiError,
  commonErrorResponses,
  conflictResponse,
  invalidField,
  notFound,
  unprocessableResponse,
} from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Rate, Timestamp } from '../schemas';
import { checkClientRate } from './clients';
import { updateSubscription } from './workflow-updates';

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

/** A catalog coupon as a subscription in `currency` would carry it; 400 naming couponId if not. */
async function snapshotCoupon(
  sql: AnySql,
  agencyId: string,
  couponId: string,
  currency: string,
): Promise<AppliedCoupon> {
  const coupon = await getCatalogCoupon(sql, agencyId, couponId);
  if (!coupon) throw invalidField('couponId', `no coupon ${couponId}`);
  if (coupon.archivedAt) throw invalidField('couponId', `coupon ${couponId} is archived`);
  if (coupon.kind === 'fixed' && coupon.currency !== currency)
    throw invalidField(
      'couponId',
      `coupon ${couponId} is in ${coupon.currency}, the subscription in ${currency}`,
    );
  return couponFromCatalog(coupon);
}

/** The subscription, or 404; a canceled one answers 409 for anything that would change it. */
async function runningSubscription(sql: Sql, agencyId: string, id: string) {
  const row = await getSubscription(sql, agencyId, id);
  if (!row) throw notFound('subscription', id);
  if (row.status === 'canceled')
    throw new ApiError('conflict', `subscription ${id} is canceled: start a new one`);
  return row;
}

/**
 * A client's new per-minute rate, owed to its running subscription from its next period (the
 * clients route calls this through api/hooks.ts, in the transaction that changes the client):
 * queued in that transaction (the rate-change outbox), so it commits with the client row.
 * Returns the delivery to run once committed; should it fail, the worker's sweeper delivers.
 */
export async function queueClientRateChange(
  deps: Pick<ApiDeps, 'sql' | 'temporal' | 'log'>,
  tx: AnySql,
  agencyId: string,
  clientId: string,
  rateMinorPerMinute: string | null,
): Promise<() => Promise<void>> {
  const sub = await getLiveSubscription(tx, agencyId, clientId);
  if (!sub || sub.status === 'blocked') return async () => {};
  await queueRateChange(tx, sub.id, rateMinorPerMinute);
  return () =>
    deliverRateChange(deps, sub.id).catch((err: unknown) =>
      deps.log.warn(
        { err, subscriptionId: sub.id },
        'rate change not delivered yet; the worker sweeper delivers it',
      ),
    );
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
      const now = Date.now();
      const startAtMs = body.startAt ? Date.parse(body.startAt) : null;
      const id = newId('sub');
      // The client (its rate, billing mode, plan, whether disabled) is read under a share lock in
      // the transaction that inserts the row: a change to it committed first is seen, and one
      // after waits for the row, then finds the subscription and owes it the new rate.
      const row = await sql.begin(async (tx) => {
        const client = await lockClient(tx, agencyId, body.clientId, { shared: true });
        if (!client) throw invalidField('clientId', `no client ${body.clientId}`);
        if (client.disabled)
          throw new ApiError('conflict', `client ${client.id} is disabled: enable it first`);
        const planId = body.planId ?? client.planId;
        if (!planId)
          throw invalidField(
            'planId',
            'the client has no assigned plan: assign one or pass planId',
          );
        const plan = await getPlan(tx, agencyId, planId);
        if (!plan) throw invalidField('planId', `no plan ${planId}`);
        if (plan.archivedAt) throw invalidField('planId', `plan ${planId} is archived`);
        const clientAgents = await listAgentIds(tx, client.id);
        const agentIds = body.agentIds ?? clientAgents;
        const foreign = agentIds.find((a) => !clientAgents.includes(a));
        if (foreign)
          throw invalidField('agentIds', `agent ${foreign} does not belong to client ${client.id}`);
        const terms = snapshotTerms(plan, body.taxRateBps);
        // Backdating bills from the start date; more than one period back would bill periods at once.
        if (startAtMs !== null && periodAt(startAtMs, terms, 0).endMs <= now)
          throw invalidField('startAt', 'may be in the past by less than one period of the plan');
        const coupon = body.couponId
          ? await snapshotCoupon(tx, agencyId, body.couponId, plan.currency)
          : null;
        try {
          return await insertSubscription(tx, {
            id,
            agencyId,
            clientId: client.id,
            planId: plan.id,
            terms: { ...terms, rateMinorPerMinute: client.rateMinorPerMinute },
            agentIds,
            billingMode: client.billingMode,
            status: startAtMs !== null && startAtMs > now ? 'scheduled' : 'active',
            startAt: new Date(startAtMs ?? now),
            coupon,
            workflowId: subscriptionWorkflowId(id),
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
      });
      try {
        await startSubscriptionWorkflow(temporal, row, startAtMs);
      } catch (err) {
        // Without its workflow the row would be a lie: take it back and say so. (Should the
        // workflow have started after all, it finds no row and ends itself; a row whose start a
        // sweeper recorded meanwhile stays.)
        await sql`delete from subscriptions where id = ${id} and workflow_started_at is null`;
        c.var.deps.log.error({ err, subscriptionId: id }, 'could not start subscription workflow');
        throw new ApiError(
          'unavailable',
          'the workflow service did not accept the subscription; nothing was created, try again',
        );
      }
      // Unrecorded, the sweeper would find the workflow running and record it: not an error.
      await markWorkflowStarted(sql, id).catch((err: unknown) =>
        c.var.deps.log.warn({ err, subscriptionId: id }, 'could not record the workflow start'),
      );
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
      const { sql, temporal } = c.var.deps;
      await runningSubscription(sql, c.var.agencyId, id);
      // The update answers once the workflow has stored the cancellation.
      await updateSubscription({ sql }, id, () =>
        cancelSubscription(temporal, id, { when: body.when, reason: body.reason ?? null }),
      );
      return c.json(presentSubscription((await getSubscription(sql, c.var.agencyId, id))!), 200);
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
      const { sql, temporal } = c.var.deps;
      const row = await runningSubscription(sql, c.var.agencyId, id);
      const coupon = await snapshotCoupon(sql, c.var.agencyId, couponId, row.terms.currency);
      await updateSubscription({ sql }, id, () => setSubscriptionCoupon(temporal, id, coupon));
      return c.json(presentSubscription((await getSubscription(sql, c.var.agencyId, id))!), 200);
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
      const { sql, temporal } = c.var.deps;
      await runningSubscription(sql, c.var.agencyId, id);
      await updateSubscription({ sql }, id, () => setSubscriptionCoupon(temporal, id, null));
      return c.json(presentSubscription((await getSubscription(sql, c.var.agencyId, id))!), 200);
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
      const { sql, temporal, platformRateMinorPerMinute } = c.var.deps;
      const row = await runningSubscription(sql, c.var.agencyId, id);
      if (body.planId === undefined && body.rateMinorPerMinute === undefined)
        throw invalidField('planId', 'give planId, rateMinorPerMinute or both');
      checkClientRate(body.rateMinorPerMinute, platformRateMinorPerMinute);
      let terms: PlanTerms | undefined;
      if (body.planId !== undefined) {
        const plan = await getPlan(sql, c.var.agencyId, body.planId);
        if (!plan) throw invalidField('planId', `no plan ${body.planId}`);
        if (plan.archivedAt) throw invalidField('planId', `plan ${body.planId} is archived`);
        if (plan.currency !== row.terms.currency)
          throw new ApiError(
            'unprocessable',
            `planId: plan ${plan.id} is in ${plan.currency}, the subscription in ${row.terms.currency}`,
            [{ field: 'planId', message: 'currency differs from the subscription\u2019s' }],
          );
        terms = snapshotTerms(plan, row.terms.taxRateBps);
      }
      // The rate's decision time, on the clock the rate-change outbox uses: a client rate still
      // owed from before this request does not override it when it lands.
      const rate =
        body.rateMinorPerMinute !== undefined
          ? {
              rateMinorPerMinute: body.rateMinorPerMinute,
              rateDecidedAtMs: await databaseNowMs(sql),
            }
          : {};
      await updateSubscription({ sql }, id, () =>
        changeSubscriptionTerms(temporal, id, { ...(terms ? { terms } : {}), ...rate }),
      );
      return c.json(presentSubscription((await getSubscription(sql, c.var.agencyId, id))!), 200);
    },
  );

  return app;
}
