/**
 * Activities the subscription workflow calls. Everything the workflow decides reaches Postgres
 * through one activity, `commitSubscription`, in one transaction: request status changes, a new
 * request, the closed period, the subscription mirror, feed events and the client's access (with
 * its webhook outbox row). One activity per renewal keeps renewals cheap at scale.
 *
 * Idempotent: the request's key derives from subscription, period and kind; event dedupe keys
 * from the workflow run and commit number; status updates accept a request already in the
 * target status; access is recomputed and only a real change is stored. A retried commit
 * therefore writes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PeriodUsage, RequestDraft } from '../billing/invoice';
import type { Period } from '../billing/periods';
import type { AppliedCoupon, PlanTerms } from '../billing/terms';
import type { Sql } from '../db/client';
import { recomputeAccess } from '../db/queries/access';
import { recordEvent } from '../db/queries/events';
import {
  insertPaymentRequestIn,
  setPaymentRequestStatus,
  type MarkStatus,
} from '../db/queries/payment-requests';
import { closePeriod, syncSubscription } from '../db/queries/subscriptions';
import type { SubscriptionStatus } from '../workflows/definitions';
import { dispatchDeliveries } from './webhooks';

export interface SubscriptionActivityDeps {
  sql: Sql;
}

export interface RequestUpdate {
  requestId: string;
  status: MarkStatus;
  atMs: number;
  externalReference: string | null;
}

export interface IssueRequest {
  /** Chosen by the workflow, so the request is open in its state before the row exists. */
  requestId: string;
  /** `cycle` at the start and each renewal; `final` when the subscription ends. */
  kind: 'cycle' | 'final';
  periodIndex: number;
  draft: RequestDraft;
  issuedAtMs: number;
  dueAtMs: number;
  graceEndsAtMs: number;
}

/** What the read model shows of the workflow's state. */
export interface SubscriptionMirror {
  status: SubscriptionStatus;
  startAtMs: number;
  terms: PlanTerms;
  rateMinorPerMinute: string | null;
  period: Period;
  cancelAtPeriodEnd: boolean;
  coupon: AppliedCoupon | null;
  pendingChange: Record<string, unknown> | null;
  accessHolds: string[];
  canceledAtMs: number | null;
  cancelReason: string | null;
}

export interface CommitInput {
  agencyId: string;
  clientId: string;
  subscriptionId: string;
  /** Unique per commit of a workflow run (run id and commit number): dedupes feed events. */
  commitKey: string;
  mirror: SubscriptionMirror;
  requestUpdates: RequestUpdate[];
  issue: IssueRequest | null;
  closedPeriod: { period: Period; usage: PeriodUsage; closedAtMs: number } | null;
  events: { type: string; data: Record<string, unknown> }[];
}

export interface CommitResult {
  issued: { id: string; totalMinor: number } | null;
  access: { allowed: boolean; reasons: string[]; version: number } | null;
}

export function createSubscriptionActivities({ sql }: SubscriptionActivityDeps) {
  return {
    /** Stores everything one workflow step decided, in one transaction. */
    async commitSubscription(input: CommitInput): Promise<CommitResult> {
      const { agencyId, clientId, subscriptionId } = input;
      const result = await sql.begin(async (tx) => {
        for (const u of input.requestUpdates) {
          const done = await setPaymentRequestStatus(tx, {
            requestId: u.requestId,
            status: u.status,
            at: new Date(u.atMs),
            externalReference: u.externalReference,
          });
          // The workflow owns cycle requests: a mismatch here is a bug to see, not to retry.
          if (!done) {
            Context.current().log.warn('payment request not in a state to become ' + u.status, {
              requestId: u.requestId,
            });
            continue;
          }
          if (done.changed) {
            await recordEvent(tx, {
              agencyId,
              type: `payment_request.${u.status}`,
              clientId,
              subjectType: 'payment_request',
              subjectId: u.requestId,
              data: {
                subscriptionId,
                status: u.status,
                externalReference: u.externalReference,
                totalMinor: done.row.totalMinor,
                currency: done.row.currency,
              },
              dedupeKey: `request:${u.requestId}:${u.status}`,
            });
          }
        }

        let issued: CommitResult['issued'] = null;
        if (input.issue) {
          const i = input.issue;
          const { request, created } = await insertPaymentRequestIn(tx, {
            id: i.requestId,
            agencyId,
            clientId,
            subscriptionId,
            type: 'cycle',
            periodIndex: i.periodIndex,
            status: 'pending',
            draft: i.draft,
            issuedAt: new Date(i.issuedAtMs),
            dueAt: new Date(i.dueAtMs),
            graceEndsAt: new Date(i.graceEndsAtMs),
            idempotencyKey: `${subscriptionId}:${i.kind}:${i.periodIndex}`,
          });
          issued = { id: request.id, totalMinor: request.totalMinor };
          if (created) {
            await recordEvent(tx, {
              agencyId,
              type: 'payment_request.issued',
              clientId,
              subjectType: 'payment_request',
              subjectId: request.id,
              data: {
                subscriptionId,
                kind: i.kind,
                periodIndex: i.periodIndex,
                totalMinor: request.totalMinor,
                currency: request.currency,
                dueAt: request.dueAt.toISOString(),
              },
              dedupeKey: `issued:${request.id}`,
            });
          }
        }

        if (input.closedPeriod) {
          const c = input.closedPeriod;
          await closePeriod(tx, {
            subscriptionId,
            agencyId,
            index: c.period.index,
            startAt: new Date(c.period.startMs),
            endAt: new Date(c.period.endMs),
            closedAt: new Date(c.closedAtMs),
            usage: c.usage,
          });
        }

        const m = input.mirror;
        const row = await syncSubscription(tx, {
          subscriptionId,
          status: m.status,
          startAt: new Date(m.startAtMs),
          planId: m.terms.planId,
          terms: { ...m.terms, rateMinorPerMinute: m.rateMinorPerMinute },
          periodIndex: m.period.index,
          periodStart: new Date(m.period.startMs),
          periodEnd: new Date(m.period.endMs),
          cancelAtPeriodEnd: m.cancelAtPeriodEnd,
          coupon: m.coupon,
          pendingChange: m.pendingChange,
          accessHolds: m.accessHolds,
          canceledAt: m.canceledAtMs === null ? null : new Date(m.canceledAtMs),
          cancelReason: m.cancelReason,
        });
        if (!row) {
          throw ApplicationFailure.create({
            type: 'SubscriptionNotFound',
            message: `subscription ${subscriptionId} has no row`,
            nonRetryable: true,
          });
        }
        for (const [i, e] of input.events.entries()) {
          await recordEvent(tx, {
            agencyId,
            type: e.type,
            clientId,
            subjectType: 'subscription',
            subjectId: subscriptionId,
            data: e.data,
            dedupeKey: `${input.commitKey}:${i}:${e.type}`,
          });
        }
        const change = await recomputeAccess(tx, clientId);
        return { issued, change };
      });

      if (result.change?.deliveryId) {
        // Committed: start its delivery now; if this fails the sweeper starts it later.
        await dispatchDeliveries(sql, Context.current().client, [result.change.deliveryId]).catch(
          (err: Error) =>
            Context.current().log.warn('webhook dispatch deferred to the sweeper', {
              error: err.message,
            }),
        );
      }
      const c = result.change;
      return {
        issued: result.issued,
        access: c
          ? { allowed: c.state.allowed, reasons: c.state.reasons, version: c.version }
          : null,
      };
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
