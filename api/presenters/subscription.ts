/** The subscription as the API shows it (row, and with ?live=true the workflow's own state). */
import { z } from '@hono/zod-openapi';
import type { SubscriptionRow } from '../../db/queries/subscriptions';
import { iso, Timestamp } from '../schemas';

export const SubscriptionStatus = z.enum([
  'scheduled',
  'active',
  'past_due',
  'blocked',
  'canceled',
]);

const LiveSchema = z
  .object({
    status: SubscriptionStatus,
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

export const SubscriptionSchema = z
  .object({
    id: z.string(),
    object: z.literal('subscription'),
    clientId: z.string(),
    planId: z.string(),
    status: SubscriptionStatus,
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

/** A subscription row as the API answers it. */
export function presentSubscription(s: SubscriptionRow) {
  return {
    object: 'subscription' as const,
    id: s.id,
    clientId: s.clientId,
    planId: s.planId,
    status: s.status as z.infer<typeof SubscriptionStatus>,
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
