/**
 * The contract between the API, the worker, the tests and the subscription workflow: task
 * queue, workflow ids, search attributes, signals, queries and updates with their payloads.
 * Imports only @temporalio/workflow (and pure billing types), so every side can share it. The
 * activities' inputs, results and interfaces are in ./activity-contract.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PeriodUsage } from '../billing/invoice';
import type { AgentTotals } from '../billing/pools';
import type {
  OpenRequest,
  PendingChange,
  SubscriptionState,
  SubscriptionStatus,
} from '../billing/subscription';
import type { AppliedCoupon, BillingMode, PlanTerms } from '../billing/terms';
import type { DeliverWebhookInput, DeliverWebhookResult } from './activity-contract';

export const TASK_QUEUE = 'tally-billing';

export const subscriptionWorkflowId = (subscriptionId: string): string =>
  `subscription-${subscriptionId}`;

/**
 * The workflows the worker registers (workflows/index.ts checks these signatures against the
 * functions), by name: temporal/ starts them by name, importing no workflow code.
 */
export const SUBSCRIPTION_WORKFLOW = 'subscriptionWorkflow';
export type SubscriptionWorkflow = (input: SubscriptionInput) => Promise<SubscriptionView>;
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';
export type WebhookDeliveryWorkflow = (input: DeliverWebhookInput) => Promise<DeliverWebhookResult>;

/** One delivery workflow per outbox row: starting it twice is a no-op. */
export const webhookDeliveryWorkflowId = (deliveryId: string): string => `webhook-${deliveryId}`;

/** Custom search attributes, registered on the dev server and in docker-compose. */
export const AgencyIdAttr = defineSearchAttributeKey('AgencyId', 'KEYWORD');
export const ClientIdAttr = defineSearchAttributeKey('ClientId', 'KEYWORD');
export const PlanIdAttr = defineSearchAttributeKey('PlanId', 'KEYWORD');
export const SubscriptionStatusAttr = defineSearchAttributeKey('SubscriptionStatus', 'KEYWORD');
export const BillingModeAttr = defineSearchAttributeKey('BillingMode', 'KEYWORD');
export const CurrentPeriodEndAttr = defineSearchAttributeKey('CurrentPeriodEnd', 'DATETIME');

/** Name and type of each custom search attribute, for registering them on a server. */
export const SEARCH_ATTRIBUTES = {
  AgencyId: 'KEYWORD',
  ClientId: 'KEYWORD',
  PlanId: 'KEYWORD',
  SubscriptionStatus: 'KEYWORD',
  BillingMode: 'KEYWORD',
  CurrentPeriodEnd: 'DATETIME',
} as const;

/** Activity failures retrying cannot fix: listed as non-retryable on both sides. */
export const DOMAIN_ERRORS = ['SubscriptionNotFound', 'WebhookDeliveryNotFound'] as const;

/**
 * Every reason a subscription workflow's update validators refuse a request (the failure's
 * type). The workflow throws these; the API maps each to its HTTP error (api/errors); callers
 * branch on them by name, never by a string literal of their own.
 */
export const Rejection = {
  /** The period just ended and the renewal is running: send again a moment later. */
  RenewalInProgress: 'RenewalInProgress',
  SubscriptionCanceled: 'SubscriptionCanceled',
  SubscriptionBlocked: 'SubscriptionBlocked',
  RequestNotOpen: 'RequestNotOpen',
  InvalidTransition: 'InvalidTransition',
  InvalidStatus: 'InvalidStatus',
  InvalidCancel: 'InvalidCancel',
  InvalidChange: 'InvalidChange',
  InvalidRate: 'InvalidRate',
  CurrencyMismatch: 'CurrencyMismatch',
  InvalidCoupon: 'InvalidCoupon',
} as const;
export type RejectionType = (typeof Rejection)[keyof typeof Rejection];

// The state types live with the billing rules that read them; re-exported as part of the contract.
export type {
  OpenRequest,
  PendingChange,
  RequestStatus,
  SubscriptionState,
  SubscriptionStatus,
} from '../billing/subscription';

/** What starts a subscription workflow. */
export interface SubscriptionInput {
  subscriptionId: string;
  agencyId: string;
  clientId: string;
  billingMode: BillingMode;
  terms: PlanTerms;
  /** The client's per-minute rate frozen at start; falls back to the plan's overage rate. */
  rateMinorPerMinute: string | null;
  agentIds: string[];
  /** When the first period starts; null means when the workflow first runs. */
  startAtMs: number | null;
  coupon: AppliedCoupon | null;
  /**
   * After a renewal the run continues as new within this spread (default an hour, at most a
   * tenth of a period), at a moment fixed by the subscription id: a mass renewal stores its
   * requests first and hands over to new runs afterwards, spread out.
   */
  handoverSpreadMs?: number;
  /** Carried across continue-as-new; absent on the first run. */
  state?: SubscriptionState;
}

export interface SubscriptionView {
  subscriptionId: string;
  status: SubscriptionStatus;
  billingMode: BillingMode;
  planId: string;
  /** The per-minute rate billed for this period's usage. */
  rateMinorPerMinute: string | null;
  periodIndex: number;
  periodStart: string;
  periodEnd: string;
  openRequests: (Omit<OpenRequest, 'dueAtMs' | 'graceEndsAtMs'> & {
    dueAt: string;
    graceEndsAt: string;
  })[];
  cancelAtPeriodEnd: boolean;
  coupon: AppliedCoupon | null;
  pendingChange:
    | (Omit<PendingChange, 'requestedAtMs' | 'effectiveAtMs'> & {
        requestedAt: string;
        effectiveAt: string;
      })
    | null;
  usage: PeriodUsage;
  /** Access holds the workflow asserts on top of its status (e.g. minutes_exhausted). */
  accessHolds: string[];
  nextTimer: {
    kind: 'period_end' | 'due' | 'grace_end' | 'payment_retry' | 'start';
    at: string;
  } | null;
}

export interface RecordPaymentInput {
  requestId: string;
  status: 'paid' | 'failed' | 'canceled';
  externalReference?: string | null;
  /**
   * A failed Stripe auto-charge: the workflow retries it on this schedule (the agency's
   * stripeRetryDays when it failed). Absent for manual marks, which are never retried.
   */
  retry?: { days: number[]; reason: string | null };
}

export interface CancelInput {
  /** `now` ends the subscription at once (final usage request); `period_end` at renewal. */
  when: 'now' | 'period_end';
  reason?: string | null;
}

export interface ChangeTermsInput {
  terms?: PlanTerms | null;
  rateMinorPerMinute?: string | null;
  /**
   * When the rate was decided (epoch ms, Postgres's clock). A rate decided before the one the
   * subscription has is ignored: deliveries from the rate-change outbox can land late.
   */
  rateDecidedAtMs?: number;
}

export const stateQuery = defineQuery<SubscriptionView>('state');
export const recordPaymentUpdate = defineUpdate<OpenRequest | null, [RecordPaymentInput]>(
  'recordPayment',
);
export const cancelUpdate = defineUpdate<SubscriptionView, [CancelInput]>('cancel');
/** Answers the pending change (null when a stale rate was all it carried, and none is pending). */
export const changeTermsUpdate = defineUpdate<PendingChange | null, [ChangeTermsInput]>(
  'changeTerms',
);
export const setCouponUpdate = defineUpdate<AppliedCoupon | null, [AppliedCoupon | null]>(
  'setCoupon',
);
/** A period's usage totals as the dispatcher read them from Postgres, after the events were stored. */
export interface UsageSignalLive {
  periodIndex: number;
  walletBalanceSeconds: number;
  totals: AgentTotals[];
}

/**
 * Usage was stored: fold it into the pools. `throughSeq` is a dispatch generation (strictly
 * increasing; older ones are ignored). `live`, when it is for the workflow's current period,
 * is folded at once; otherwise the workflow reads its period from Postgres itself.
 */
export const usageSignal = defineSignal<[{ throughSeq: number; live?: UsageSignalLive }]>('usage');
