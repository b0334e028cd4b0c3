/**
 * The activities the workflows call: every input and result, and the interfaces the workflows
 * proxy. activities/ implements these interfaces (checked with `satisfies`, so tsc fails when
 * the two drift); workflow code imports nothing from activities/, not even types. Imports only
 * billing/ types, so either side can share it.
 *
 * Results of local activities are recorded in histories and read back on replay: a result type
 * changes only in ways that keep every recorded result readable.
 */
import type { PeriodUsage, RequestDraft } from '../billing/invoice';
import type { Period } from '../billing/periods';
import type { RequestStatus, SubscriptionStatus } from '../billing/subscription';
import type { RenewalShape } from '../billing/subscription-requests';
import type { AppliedCoupon, PlanTerms } from '../billing/terms';

// --- Subscription commits ---

/** A status a payment request moves to (a request is issued pending, never moved back to it). */
export type RequestMarkStatus = Exclude<RequestStatus, 'pending'>;

export interface RequestUpdate {
  requestId: string;
  status: RequestMarkStatus;
  atMs: number;
  externalReference: string | null;
  /** Stripe retries: the last failure's reason (null keeps the one stored) and the next retry. */
  failure?: { reason: string | null; nextRetryAtMs: number | null };
  /** The grace end moved (it starts when every Stripe retry failed). */
  graceEndsAtMs?: number;
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
  /** Status or access holds changed since the last commit: recompute the client's access. */
  recomputeAccess: boolean;
}

export interface CommitResult {
  access: { allowed: boolean; reasons: string[]; version: number } | null;
}

/** A renewal: the commit of the new period, with the request still to build from usage. */
export interface RenewInput extends Omit<CommitInput, 'issue' | 'closedPeriod'> {
  /**
   * The renewal as the workflow planned it at the period end (billing/subscription-requests):
   * the periods closed and opened, terms, rates and coupon. The activity counts the closed
   * period's usage and builds the request from this and the usage, nothing else.
   */
  renewal: RenewalShape;
  /** Whether a request may be issued (billed mode, not blocked). */
  billable: boolean;
  /** Id and dates of the request, should there be one. */
  request: Omit<IssueRequest, 'kind' | 'periodIndex' | 'draft'>;
}

/** Recorded in histories (a local activity): keep every field readable as recorded. */
export interface RenewResult extends CommitResult {
  usage: PeriodUsage;
  /** The coupon after this request (counted down when it discounted something). */
  couponAfter: AppliedCoupon | null;
  issued: { id: string; totalMinor: number } | null;
}

// --- Stripe retries ---

export interface RetryChargeInput {
  agencyId: string;
  subscriptionId: string;
  requestId: string;
  /** 1 for the first retry: the pay call's key is collect:<request>:pay.retry<attempt>. */
  attempt: number;
}

export interface RetryChargeResult {
  outcome: 'paid' | 'failed';
  /** Why it failed (the decline message), or null. */
  reason: string | null;
  /** The Stripe invoice charged, when there is one. */
  invoiceId: string | null;
  /** The agency's setting now: what follows when this was the last retry. */
  failedPaymentAction: 'block' | 'cancel';
}

// --- Usage ---

export interface UsageInput {
  agencyId: string;
  clientId: string;
  subscriptionId: string;
  period: Period;
  /** Terms in effect during `period`, and the per-minute rate its usage is billed at. */
  terms: PlanTerms;
  rateMinorPerMinute: string | null;
}

export type LiveUsageInput = UsageInput;

/** Recorded in histories (a local activity): keep every field readable as recorded. */
export interface LiveUsage {
  usage: PeriodUsage;
  minutesExhausted: boolean;
  walletBalanceSeconds: number;
}

export interface CloseInput extends Omit<UsageInput, 'terms' | 'rateMinorPerMinute'> {
  /** The subscription ends with this period: its usage is closed for good. */
  final?: boolean;
  /** Terms and rate of the period; default: as the subscription row mirrors them. */
  terms?: PlanTerms;
  rateMinorPerMinute?: string | null;
}

// --- Webhook delivery ---

export interface DeliverWebhookInput {
  deliveryId: string;
}

export interface DeliverWebhookResult {
  /** The attempt that was accepted (or the recorded count, when it was delivered before). */
  attempts: number;
}

// --- The interfaces the workflows proxy (property syntax: parameters are checked strictly) ---

export interface SubscriptionActivities {
  /** Stores everything one workflow step decided, in one transaction. */
  commitSubscription: (input: CommitInput) => Promise<CommitResult>;
  /** Renews at a period end: closes the usage, builds and stores the request and new period. */
  renewSubscription: (input: RenewInput) => Promise<RenewResult>;
}

export interface UsageActivities {
  /** The current period's counters as stored now, and whether minutes are exhausted. */
  readLiveUsage: (input: LiveUsageInput) => Promise<LiveUsage>;
  /** Closes a period's usage exactly once; a retry returns what the first close stored. */
  getPeriodUsage: (input: CloseInput) => Promise<PeriodUsage>;
}

export interface StripeRetryActivities {
  /** Charges a failed request's Stripe invoice again (one pay call, keyed by the attempt). */
  retryStripePayment: (input: RetryChargeInput) => Promise<RetryChargeResult>;
}

export interface WebhookActivities {
  /** Posts one webhook outbox row to its endpoint; retried until it is accepted. */
  deliverWebhook: (input: DeliverWebhookInput) => Promise<DeliverWebhookResult>;
}

/** Every activity the worker registers for the workflows. */
export type WorkflowActivities = SubscriptionActivities &
  UsageActivities &
  WebhookActivities &
  StripeRetryActivities;
