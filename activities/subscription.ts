/**
 * Activities the subscription workflow calls. Everything the workflow decides reaches Postgres
 * in one transaction per step: `commitSubscription` for a status change, a payment recorded, a
 * change scheduled; `renewSubscription` at each period end, which also closes the period's usage
 * and builds the request with the pure billing rules, so a renewal is one activity.
 *
 * Idempotent: request ids are chosen by the workflow and keyed by subscription, period and kind;
 * event dedupe keys derive from the workflow run and commit number; status updates accept a
 * request already in the target status; the usage close returns what it stored the first time;
 * access is recomputed and only a real change is stored. A retried activity writes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NO_USAGE, type PeriodUsage } from '../billing/invoice';
import { renewalRequest, shouldIssue } from '../billing/subscription-requests';
import type { AnySql, Sql } from '../db/client';
import { recomputeAccess, type AccessChange, type AccessPolicy } from '../db/queries/access';
import { recordEvents, type NewEvent } from '../db/queries/events';
import { insertRequestOnce, setPaymentRequestStatus } from '../db/queries/payment-requests';
import {
  clearRequestRetry,
  recordRequestRetry,
  setRequestGraceEnd,
} from '../db/queries/request-stripe';
import { syncSubscriptionAndPeriods, type PeriodRow } from '../db/queries/subscriptions';
import type {
  CloseInput,
  CommitInput,
  CommitResult,
  IssueRequest,
  RenewInput,
  RenewResult,
  SubscriptionActivities,
} from '../workflows/activity-contract';
import { dispatchDeliveries } from '../temporal/webhook-deliveries';

export interface SubscriptionActivityDeps {
  sql: Sql;
  /**
   * Closes a period's usage (the usage pools), inside the given transaction; without it, a
   * period has no usage.
   */
  periodUsage?: (input: CloseInput, tx: AnySql) => Promise<PeriodUsage>;
  /**
   * Whether the platform has a Stripe set-up (the worker's STRIPE_* group): stripe-mode
   * auto-charge clients then need a card on file (`payment_method_missing`). Absent: false.
   */
  stripeConfigured?: boolean;
}

/** Stores one workflow step: request statuses, a new request, the mirror, events, access. */
async function commitIn(
  tx: AnySql,
  input: CommitInput,
  policy: AccessPolicy,
): Promise<AccessChange | null> {
  const { agencyId, clientId, subscriptionId } = input;
  const events: NewEvent[] = [];
  for (const u of input.requestUpdates) {
    const done = await setPaymentRequestStatus(tx, {
      requestId: u.requestId,
      status: u.status,
      at: new Date(u.atMs),
      externalReference: u.externalReference,
    });
    // The workflow owns cycle requests: a mismatch here is a bug to see, not to retry.
    if (!done) {
      Context.current().log.warn(`payment request not in a state to become ${u.status}`, {
        requestId: u.requestId,
      });
      continue;
    }
    // Stripe retries: the failure's reason and the next retry, cleared once settled.
    if (u.failure)
      await recordRequestRetry(tx, u.requestId, {
        reason: u.failure.reason,
        nextRetryAt: u.failure.nextRetryAtMs === null ? null : new Date(u.failure.nextRetryAtMs),
      });
    else if (u.status === 'paid' || u.status === 'canceled')
      await clearRequestRetry(tx, u.requestId);
    if (u.graceEndsAtMs !== undefined)
      await setRequestGraceEnd(tx, u.requestId, new Date(u.graceEndsAtMs));
    if (!done.changed) continue;
    events.push({
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

  const writes: Promise<unknown>[] = [];
  const i = input.issue;
  if (i) {
    writes.push(
      insertRequestOnce(tx, {
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
      }),
    );
    events.push({
      agencyId,
      type: 'payment_request.issued',
      clientId,
      subjectType: 'payment_request',
      subjectId: i.requestId,
      data: {
        subscriptionId,
        kind: i.kind,
        periodIndex: i.periodIndex,
        totalMinor: i.draft.totalMinor,
        currency: i.draft.currency,
        dueAt: new Date(i.dueAtMs).toISOString(),
      },
      dedupeKey: `issued:${i.requestId}`,
    });
  }

  const m = input.mirror;
  const periods: PeriodRow[] = [];
  const c = input.closedPeriod;
  if (c) {
    periods.push({
      index: c.period.index,
      startAt: new Date(c.period.startMs),
      endAt: new Date(c.period.endMs),
      closedAt: new Date(c.closedAtMs),
      usage: c.usage,
    });
  }
  if (c?.period.index !== m.period.index) {
    periods.push({
      index: m.period.index,
      startAt: new Date(m.period.startMs),
      endAt: new Date(m.period.endMs),
      closedAt: null,
      usage: null,
    });
  }
  const synced = syncSubscriptionAndPeriods(
    tx,
    {
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
    },
    periods,
  );
  input.events.forEach((e, n) =>
    events.push({
      agencyId,
      type: e.type,
      clientId,
      subjectType: 'subscription',
      subjectId: subscriptionId,
      data: e.data,
      dedupeKey: `${input.commitKey}:${n}:${e.type}`,
    }),
  );
  // Independent statements, sent together: postgres.js pipelines them in the transaction.
  writes.push(recordEvents(tx, events));
  const [found] = await Promise.all([synced, ...writes]);
  if (!found) {
    throw ApplicationFailure.create({
      type: 'SubscriptionNotFound',
      message: `subscription ${subscriptionId} has no row`,
      nonRetryable: true,
    });
  }
  return input.recomputeAccess ? recomputeAccess(tx, clientId, policy) : null;
}

export function createSubscriptionActivities({
  sql,
  periodUsage,
  stripeConfigured = false,
}: SubscriptionActivityDeps) {
  const policy: AccessPolicy = { stripeConfigured };
  /** Runs a commit, then hands a webhook it queued to its delivery workflow. */
  async function commitAndDispatch<T extends { change: AccessChange | null }>(
    run: (tx: AnySql) => Promise<T>,
  ) {
    const done = await sql.begin(run);
    const change = done.change;
    if (change?.deliveryId) {
      // Committed: start its delivery now; if this fails the sweeper starts it later.
      await dispatchDeliveries(sql, Context.current().client, [change.deliveryId]).catch(
        (err: Error) =>
          Context.current().log.warn('webhook dispatch deferred to the sweeper', {
            error: err.message,
          }),
      );
    }
    const access = change
      ? { allowed: change.state.allowed, reasons: change.state.reasons, version: change.version }
      : null;
    return { ...done, access };
  }

  return {
    /** Stores everything one workflow step decided, in one transaction. */
    async commitSubscription(input: CommitInput): Promise<CommitResult> {
      const { access } = await commitAndDispatch(async (tx) => ({
        change: await commitIn(tx, input, policy),
      }));
      return { access };
    },

    /**
     * Renews at a period end as the workflow planned it: closes the period's usage, builds the
     * request from the plan and the usage (flat fee of the new period, usage of the closed one
     * at its own rate, coupon, tax) and stores it with the new period, in one activity. Retried, the close returns the usage it stored and the request
     * keeps its id, so the same request is built and stored once.
     */
    async renewSubscription(input: RenewInput): Promise<RenewResult> {
      const { renewal } = input;
      // One transaction: the usage close and what it bills are stored together.
      const done = await commitAndDispatch(async (tx) => {
        const usage = periodUsage
          ? await periodUsage(
              {
                agencyId: input.agencyId,
                clientId: input.clientId,
                subscriptionId: input.subscriptionId,
                period: renewal.closed,
                final: false,
                terms: renewal.closedTerms,
                rateMinorPerMinute: renewal.usageRateMinorPerMinute,
              },
              tx,
            )
          : NO_USAGE;
        const plan = renewalRequest(renewal, usage);
        const couponAfter = input.billable ? plan.couponAfter : renewal.coupon;
        const issue: IssueRequest | null =
          input.billable && shouldIssue(true, plan.draft)
            ? {
                ...input.request,
                kind: 'cycle',
                periodIndex: renewal.next.index,
                draft: plan.draft,
              }
            : null;
        // The mirror's coupon is the one after this request, which only the draft tells.
        const change = await commitIn(
          tx,
          {
            ...input,
            mirror: { ...input.mirror, coupon: couponAfter },
            issue,
            closedPeriod: { period: renewal.closed, usage, closedAtMs: renewal.closed.endMs },
          },
          policy,
        );
        return { change, usage, couponAfter, issue };
      });
      return {
        access: done.access,
        usage: done.usage,
        couponAfter: done.couponAfter,
        issued: done.issue
          ? { id: done.issue.requestId, totalMinor: done.issue.draft.totalMinor }
          : null,
      };
    },
  } satisfies SubscriptionActivities;
}
