/**
 * Activities the subscription workflow calls. Each is idempotent: request ids and event dedupe
 * keys derive from subscription, period and kind, enforced by unique constraints, so a retried
 * activity never inserts twice.
 */
import { ApplicationFailure } from '@temporalio/common';
import { NO_USAGE, type PeriodUsage, type RequestDraft } from '../billing/invoice';
import type { Period } from '../billing/periods';
import type { Sql } from '../db/client';
import { recordEvent } from '../db/queries/events';
import { insertPaymentRequest, setPaymentRequestStatus } from '../db/queries/payment-requests';
import { syncSubscription } from '../db/queries/subscriptions';
import type { AppliedCoupon } from '../billing/terms';

export interface SubscriptionActivityDeps {
  sql: Sql;
}

/** Domain failures: retrying cannot help, so the workflow sees them at once. */
export const NON_RETRYABLE_ERRORS = ['SubscriptionNotFound', 'PaymentRequestNotFound'] as const;

export interface IssueRequestInput {
  agencyId: string;
  clientId: string;
  subscriptionId: string;
  periodIndex: number;
  /** `cycle` at a renewal (or the start); `final` when the subscription is canceled. */
  kind: 'cycle' | 'final';
  draft: RequestDraft;
  issuedAtMs: number;
  dueAtMs: number;
  graceEndsAtMs: number;
}

export interface IssuedRequest {
  id: string;
  totalMinor: number;
  created: boolean;
}

export interface SyncInput {
  subscriptionId: string;
  agencyId: string;
  clientId: string;
  status: string;
  startAtMs: number;
  period: Period;
  cancelAtPeriodEnd: boolean;
  coupon: AppliedCoupon | null;
  canceledAtMs: number | null;
  cancelReason: string | null;
  /** An event for the agency feed, recorded once per dedupe key. */
  event: { type: string; data: Record<string, unknown>; dedupeKey: string } | null;
}

export function createSubscriptionActivities({ sql }: SubscriptionActivityDeps) {
  return {
    /** Stores a cycle (or final) payment request with its lines, once per subscription period. */
    async issueCycleRequest(input: IssueRequestInput): Promise<IssuedRequest> {
      const { request, created } = await insertPaymentRequest(sql, {
        agencyId: input.agencyId,
        clientId: input.clientId,
        subscriptionId: input.subscriptionId,
        type: 'cycle',
        periodIndex: input.periodIndex,
        status: 'pending',
        draft: input.draft,
        issuedAt: new Date(input.issuedAtMs),
        dueAt: new Date(input.dueAtMs),
        graceEndsAt: new Date(input.graceEndsAtMs),
        idempotencyKey: `${input.subscriptionId}:${input.kind}:${input.periodIndex}`,
      });
      if (created) {
        await recordEvent(sql, {
          agencyId: input.agencyId,
          type: 'payment_request.issued',
          clientId: input.clientId,
          subjectType: 'payment_request',
          subjectId: request.id,
          data: {
            subscriptionId: input.subscriptionId,
            periodIndex: input.periodIndex,
            totalMinor: request.totalMinor,
            currency: request.currency,
          },
          dedupeKey: `issued:${request.id}`,
        });
      }
      return { id: request.id, totalMinor: request.totalMinor, created };
    },

    /** Mirrors the workflow's state into Postgres (and the agency's event feed). */
    async syncSubscription(input: SyncInput): Promise<void> {
      await sql.begin(async (tx) => {
        const row = await syncSubscription(tx, {
          subscriptionId: input.subscriptionId,
          status: input.status,
          startAt: new Date(input.startAtMs),
          periodIndex: input.period.index,
          periodStart: new Date(input.period.startMs),
          periodEnd: new Date(input.period.endMs),
          cancelAtPeriodEnd: input.cancelAtPeriodEnd,
          coupon: input.coupon,
          canceledAt: input.canceledAtMs === null ? null : new Date(input.canceledAtMs),
          cancelReason: input.cancelReason,
        });
        if (!row) {
          throw ApplicationFailure.create({
            type: 'SubscriptionNotFound',
            message: `subscription ${input.subscriptionId} has no row`,
            nonRetryable: true,
          });
        }
        if (input.event) {
          await recordEvent(tx, {
            agencyId: input.agencyId,
            type: input.event.type,
            clientId: input.clientId,
            subjectType: 'subscription',
            subjectId: input.subscriptionId,
            data: input.event.data,
            dedupeKey: input.event.dedupeKey,
          });
        }
      });
    },

    /** Sets a payment request's status in Postgres, with the event for the feed. */
    async setRequestStatus(input: {
      agencyId: string;
      clientId: string;
      requestId: string;
      status: 'paid' | 'failed' | 'canceled' | 'overdue';
      atMs: number;
      externalReference: string | null;
    }): Promise<void> {
      await sql.begin(async (tx) => {
        const row = await setPaymentRequestStatus(tx as unknown as Sql, {
          requestId: input.requestId,
          status: input.status,
          at: new Date(input.atMs),
          externalReference: input.externalReference,
        });
        if (!row) {
          throw ApplicationFailure.create({
            type: 'PaymentRequestNotFound',
            message: `payment request ${input.requestId} not found`,
            nonRetryable: true,
          });
        }
        await recordEvent(tx, {
          agencyId: input.agencyId,
          type:
            input.status === 'overdue'
              ? 'payment_request.overdue'
              : `payment_request.${input.status}`,
          clientId: input.clientId,
          subjectType: 'payment_request',
          subjectId: input.requestId,
          data: {
            status: input.status,
            externalReference: input.externalReference,
            totalMinor: row.totalMinor,
          },
          dedupeKey: `request:${input.requestId}:${input.status}:${input.atMs}`,
        });
      });
    },

    /**
     * Usage of a closed period, for the invoice. The seam the usage pools fill: until usage
     * events are ingested there is none.
     */
    async getPeriodUsage(_input: { subscriptionId: string; period: Period }): Promise<PeriodUsage> {
      return NO_USAGE;
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
