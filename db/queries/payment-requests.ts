/** Payment request queries. */
import type { LineDraft, RequestDraft } from '../../billing/invoice';
import { newId } from '../../lib/ids';
import type { AnySql, Sql } from '../client';
import { queueCollection } from './collection';

export type RequestType = 'cycle' | 'pack' | 'one_time';

export interface NewRequest {
  /** Chosen by the caller when it must know the id before the row exists (the workflow does). */
  id?: string;
  agencyId: string;
  clientId: string;
  subscriptionId: string | null;
  type: RequestType;
  periodIndex: number | null;
  status: 'pending' | 'paid';
  draft: RequestDraft;
  issuedAt: Date;
  dueAt: Date;
  graceEndsAt: Date | null;
  idempotencyKey: string;
}

export interface PaymentRequestRow {
  id: string;
  agencyId: string;
  clientId: string;
  subscriptionId: string | null;
  type: RequestType;
  periodIndex: number | null;
  status: string;
  currency: string;
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  totalMinor: number;
  issuedAt: Date;
  dueAt: Date;
  graceEndsAt: Date | null;
  paidAt: Date | null;
  failedAt: Date | null;
  canceledAt: Date | null;
  externalReference: string | null;
  createdAt: Date;
  /** The Stripe invoice it was presented as (stripe mode; migration 0012), else nulls. */
  stripeInvoiceId: string | null;
  stripeInvoiceNumber: string | null;
  stripeHostedInvoiceUrl: string | null;
  stripeInvoicePdf: string | null;
  /** The last failed charge's reason and the next planned retry (Stripe retries; 0013). */
  lastFailureReason: string | null;
  nextRetryAt: Date | null;
}

export interface PaymentRequestLineRow {
  position: number;
  kind: string;
  description: string;
  quantity: string | null;
  unitAmountMinor: string | null;
  amountMinor: number;
  periodStart: Date | null;
  periodEnd: Date | null;
  details: Record<string, unknown> | null;
}

const columns = (sql: AnySql) => sql`
  id, agency_id as "agencyId", client_id as "clientId", subscription_id as "subscriptionId", type,
  period_index as "periodIndex", status, currency, subtotal_minor as "subtotalMinor",
  discount_minor as "discountMinor", tax_minor as "taxMinor", total_minor as "totalMinor",
  issued_at as "issuedAt", due_at as "dueAt", grace_ends_at as "graceEndsAt", paid_at as "paidAt",
  failed_at as "failedAt", canceled_at as "canceledAt", external_reference as "externalReference",
  created_at as "createdAt",
  stripe_invoice_id as "stripeInvoiceId", stripe_invoice_number as "stripeInvoiceNumber",
  stripe_hosted_invoice_url as "stripeHostedInvoiceUrl", stripe_invoice_pdf as "stripeInvoicePdf",
  last_failure_reason as "lastFailureReason", next_retry_at as "nextRetryAt"`;

function lineRow(requestId: string, position: number, line: LineDraft) {
  return {
    request_id: requestId,
    position,
    kind: line.kind,
    description: line.description,
    quantity: line.quantity,
    unit_amount_minor: line.unitAmountMinor,
    amount_minor: line.amountMinor,
    period_start: line.periodStartMs === null ? null : new Date(line.periodStartMs),
    period_end: line.periodEndMs === null ? null : new Date(line.periodEndMs),
    details: line.details as never,
  };
}

/**
 * Inserts a request, its lines and its collection outbox row once per idempotency key; a retry
 * returns the stored one. `created` says whether this call wrote it.
 */
export async function insertPaymentRequest(
  sql: Sql,
  req: NewRequest,
): Promise<{ request: PaymentRequestRow; created: boolean }> {
  return sql.begin((tx) => insertPaymentRequestIn(tx, req));
}

/**
 * The request row's insert, once per idempotency key (`returning id` only when this one wrote
 * it), as the first step of a statement that also writes what goes with it.
 */
function requestInsert(tx: AnySql, id: string, req: NewRequest) {
  return tx`
    insert into payment_requests (
      id, agency_id, client_id, subscription_id, type, period_index, status, currency,
      subtotal_minor, discount_minor, tax_minor, total_minor, issued_at, due_at, grace_ends_at,
      paid_at, idempotency_key)
    values (
      ${id}, ${req.agencyId}, ${req.clientId}, ${req.subscriptionId}, ${req.type}, ${req.periodIndex},
      ${req.status}, ${req.draft.currency}, ${req.draft.subtotalMinor}, ${req.draft.discountMinor},
      ${req.draft.taxMinor}, ${req.draft.totalMinor}, ${req.issuedAt}, ${req.dueAt}, ${req.graceEndsAt},
      ${req.status === 'paid' ? req.issuedAt : null}, ${req.idempotencyKey})
    on conflict (idempotency_key) do nothing
    returning id`;
}

/** insertPaymentRequest inside the caller's transaction. */
export async function insertPaymentRequestIn(
  tx: AnySql,
  req: NewRequest,
): Promise<{ request: PaymentRequestRow; created: boolean }> {
  const id = req.id ?? newId('req');
  // The request and its collection outbox row in one statement (see queueCollection).
  const inserted = await tx<{ id: string }[]>`
    with r as (${requestInsert(tx, id, req)}),
    o as (${queueCollection(tx, req)})
    select id from r`;
  const created = inserted.length === 1;
  if (created && req.draft.lines.length > 0) {
    await tx`insert into payment_request_lines ${tx(req.draft.lines.map((l, i) => lineRow(id, i + 1, l)))}`;
  }
  const [request] = await tx<PaymentRequestRow[]>`
    select ${columns(tx)} from payment_requests where idempotency_key = ${req.idempotencyKey}`;
  return { request: request!, created };
}

/**
 * insertPaymentRequestIn in one statement, for a caller that chose the id and needs nothing
 * back (the subscription workflow): request, lines and collection outbox row, once per
 * idempotency key. Returns whether this call wrote it.
 */
export async function insertRequestOnce(
  tx: AnySql,
  req: NewRequest & { id: string },
): Promise<boolean> {
  // The same rows insertPaymentRequestIn writes (dates serialize as ISO strings in the JSON).
  const lines = req.draft.lines.map((l, i) => lineRow(req.id, i + 1, l));
  const [row] = await tx<{ created: boolean }[]>`
    with r as (${requestInsert(tx, req.id, req)}),
    l as (
      insert into payment_request_lines (request_id, position, kind, description, quantity,
        unit_amount_minor, amount_minor, period_start, period_end, details)
      select r.id, v.position, v.kind, v.description, v.quantity, v.unit_amount_minor, v.amount_minor,
        v.period_start, v.period_end, v.details
      from r, jsonb_to_recordset(${tx.json(lines as never)}) as v(position integer, kind text,
        description text, quantity numeric, unit_amount_minor numeric, amount_minor bigint,
        period_start timestamptz, period_end timestamptz, details jsonb)
      returning 1),
    o as (${queueCollection(tx, req)})
    select exists (select 1 from r) as created`;
  return row!.created;
}

export async function getPaymentRequest(
  sql: Sql,
  agencyId: string,
  id: string,
): Promise<PaymentRequestRow | null> {
  const [row] = await sql<PaymentRequestRow[]>`
    select ${columns(sql)} from payment_requests where id = ${id} and agency_id = ${agencyId}`;
  return row ?? null;
}

export async function getPaymentRequestLines(
  sql: AnySql,
  requestId: string,
): Promise<PaymentRequestLineRow[]> {
  return sql<PaymentRequestLineRow[]>`
    select position, kind, description, trim_scale(quantity)::text as quantity,
      trim_scale(unit_amount_minor)::text as "unitAmountMinor", amount_minor as "amountMinor",
      period_start as "periodStart", period_end as "periodEnd", details
    from payment_request_lines where request_id = ${requestId} order by position`;
}

export interface ListRequestsFilter {
  agencyId: string;
  subscriptionId?: string | undefined;
  clientId?: string | undefined;
  status?: string | undefined;
  type?: string | undefined;
  after?: string | undefined;
  limit: number;
}

/** Newest first; `after` is the id of the last row of the previous page. */
export async function listPaymentRequests(
  sql: Sql,
  f: ListRequestsFilter,
): Promise<PaymentRequestRow[]> {
  return sql<PaymentRequestRow[]>`
    select ${columns(sql)} from payment_requests
    where agency_id = ${f.agencyId}
      ${f.subscriptionId ? sql`and subscription_id = ${f.subscriptionId}` : sql``}
      ${f.clientId ? sql`and client_id = ${f.clientId}` : sql``}
      ${f.status ? sql`and status = ${f.status}` : sql``}
      ${f.type ? sql`and type = ${f.type}` : sql``}
      ${f.after ? sql`and id < ${f.after}` : sql``}
    order by id desc limit ${f.limit}`;
}

export type MarkStatus = 'overdue' | 'paid' | 'failed' | 'canceled';

/** The statuses a request may move to each status from; paid and canceled are final. */
export const REQUEST_TRANSITIONS: Record<MarkStatus, readonly string[]> = {
  overdue: ['pending'],
  paid: ['pending', 'overdue', 'failed'],
  failed: ['pending', 'overdue'],
  canceled: ['pending', 'overdue', 'failed'],
};

/**
 * Moves a request to `status` when the transition is allowed. A request already in `status`
 * counts as done (a retried activity), so the row comes back either way; null means unknown id
 * or a transition that is not allowed. `agencyId` scopes it for the API.
 */
export async function setPaymentRequestStatus(
  sql: AnySql,
  input: {
    requestId: string;
    status: MarkStatus;
    at: Date;
    externalReference?: string | null;
    agencyId?: string;
  },
): Promise<{ row: PaymentRequestRow; changed: boolean } | null> {
  const [row] = await sql<(PaymentRequestRow & { changed: boolean })[]>`
    with target as (
      select id as target_id, status as before from payment_requests
      where id = ${input.requestId}
        ${input.agencyId ? sql`and agency_id = ${input.agencyId}` : sql``}
        and (status = any(${REQUEST_TRANSITIONS[input.status] as string[]}) or status = ${input.status})
      for update
    )
    update payment_requests p set
      status = ${input.status},
      paid_at = case when ${input.status} = 'paid' then coalesce(paid_at, ${input.at}) else paid_at end,
      failed_at = case when ${input.status} = 'failed' then coalesce(failed_at, ${input.at}) else failed_at end,
      canceled_at = case when ${input.status} = 'canceled' then coalesce(canceled_at, ${input.at}) else canceled_at end,
      external_reference = coalesce(${input.externalReference ?? null}, external_reference),
      updated_at = now()
    from target where p.id = target.target_id
    returning ${columns(sql)}, target.before <> ${input.status} as changed`;
  if (!row) return null;
  const { changed, ...request } = row;
  return { row: request, changed };
}
