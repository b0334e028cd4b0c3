/**
 * A payment request's Stripe invoice (migration 0012): which invoice presents it, its number and
 * URLs, and the watermark of the invoice events applied to it. Kept apart from the request's
 * status, which only services/payments.ts changes.
 */
import type { AnySql } from '../client';

/** What Stripe says about the invoice of a request; null fields leave what is stored. */
export interface RequestInvoiceFacts {
  invoiceId: string;
  number?: string | null;
  hostedUrl?: string | null;
  pdfUrl?: string | null;
}

/**
 * Records the request's invoice (first id wins: a request keeps the invoice it was presented
 * as) and whatever number and URLs are known. False when the request has another invoice.
 */
export async function recordRequestInvoice(
  sql: AnySql,
  requestId: string,
  f: RequestInvoiceFacts,
): Promise<boolean> {
  const rows = await sql`
    update payment_requests set
      stripe_invoice_id = coalesce(stripe_invoice_id, ${f.invoiceId}),
      stripe_invoice_number = coalesce(${f.number ?? null}, stripe_invoice_number),
      stripe_hosted_invoice_url = coalesce(${f.hostedUrl ?? null}, stripe_hosted_invoice_url),
      stripe_invoice_pdf = coalesce(${f.pdfUrl ?? null}, stripe_invoice_pdf)
    where id = ${requestId} and (stripe_invoice_id is null or stripe_invoice_id = ${f.invoiceId})
    returning 1`;
  return rows.length === 1;
}

/** The request an invoice event is about, as the event handler needs it. */
export interface InvoiceRequest {
  requestId: string;
  status: string;
  invoiceId: string | null;
  /** `created` of the latest invoice event applied; null: none yet. */
  eventCreated: Date | null;
}

/**
 * The agency's request for an invoice: the one that recorded the invoice id, else the one the
 * invoice's metadata names (an event that overtook the collector's own record). Never another
 * agency's. Read without a lock: the outcome is written by the payments service on its own
 * connection (and the event's account lock already orders an agency's events).
 */
export async function findInvoiceRequest(
  sql: AnySql,
  agencyId: string,
  invoiceId: string,
  metadataRequestId: string | null,
): Promise<InvoiceRequest | null> {
  const [row] = await sql<InvoiceRequest[]>`
    select id as "requestId", status, stripe_invoice_id as "invoiceId",
      stripe_event_created as "eventCreated"
    from payment_requests
    where agency_id = ${agencyId}
      and (stripe_invoice_id = ${invoiceId} or id = ${metadataRequestId ?? ''})
    order by (stripe_invoice_id = ${invoiceId}) desc nulls last
    limit 1`;
  return row ?? null;
}

/** Moves the request's invoice-event watermark forward to `created` (never back). */
export async function advanceInvoiceEventWatermark(
  sql: AnySql,
  requestId: string,
  created: Date,
): Promise<void> {
  await sql`
    update payment_requests set
      stripe_event_created = greatest(coalesce(stripe_event_created, ${created}), ${created})
    where id = ${requestId}`;
}

/** The invoice recorded for a request, or null (the collector's resume after 24 h reads it). */
export async function getRequestInvoiceId(sql: AnySql, requestId: string): Promise<string | null> {
  const [row] = await sql<{ invoiceId: string | null }[]>`
    select stripe_invoice_id as "invoiceId" from payment_requests where id = ${requestId}`;
  return row?.invoiceId ?? null;
}

/**
 * Stripe retries (migration 0013): the reason of the request's last failed charge (null keeps
 * the one stored) and when the workflow charges it next (null: no retry planned).
 */
export async function recordRequestRetry(
  sql: AnySql,
  requestId: string,
  r: { reason: string | null; nextRetryAt: Date | null },
): Promise<void> {
  await sql`
    update payment_requests set
      last_failure_reason = coalesce(${r.reason}, last_failure_reason),
      next_retry_at = ${r.nextRetryAt}
    where id = ${requestId}`;
}

/** A request settled (paid, canceled): no retry is planned any more. */
export async function clearRequestRetry(sql: AnySql, requestId: string): Promise<void> {
  await sql`update payment_requests set next_retry_at = null
    where id = ${requestId} and next_retry_at is not null`;
}

/** The grace end moved: it starts once every Stripe retry failed. */
export async function setRequestGraceEnd(
  sql: AnySql,
  requestId: string,
  graceEndsAt: Date,
): Promise<void> {
  await sql`update payment_requests set grace_ends_at = ${graceEndsAt} where id = ${requestId}`;
}

/** The reason a charge of the request failed (the collector's declined first charge). */
export async function recordFailureReason(
  sql: AnySql,
  requestId: string,
  reason: string,
): Promise<void> {
  await sql`update payment_requests set last_failure_reason = ${reason} where id = ${requestId}`;
}
