/** A payment request (invoice) with its lines, as the API shows it. */
import { z } from '@hono/zod-openapi';
import type { PaymentRequestLineRow, PaymentRequestRow } from '../../db/queries/payment-requests';
import { iso, Timestamp } from '../schemas';

export const PaymentRequestStatus = z.enum(['pending', 'paid', 'overdue', 'failed', 'canceled']);
export const PaymentRequestType = z.enum(['cycle', 'pack', 'one_time']);

const LineSchema = z
  .object({
    position: z.number().int(),
    kind: z.enum(['recurring', 'usage', 'late_usage', 'discount', 'tax', 'pack', 'one_time']),
    description: z.string(),
    quantity: z.string().nullable(),
    unitAmountMinor: z.string().nullable(),
    amountMinor: z.number().int(),
    periodStart: Timestamp.nullable(),
    periodEnd: Timestamp.nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('PaymentRequestLine');

const StripeInvoiceSchema = z
  .object({
    id: z.string().openapi({ example: 'in_1Q2w3E4r5T6y' }),
    number: z.string().nullable(),
    hostedInvoiceUrl: z.string().nullable().openapi({ description: 'Where the client pays' }),
    invoicePdf: z.string().nullable(),
  })
  .openapi('PaymentRequestStripeInvoice');

export const PaymentRequestSchema = z
  .object({
    id: z.string(),
    object: z.literal('payment_request'),
    clientId: z.string(),
    subscriptionId: z.string().nullable(),
    type: PaymentRequestType,
    periodIndex: z.number().int().nullable(),
    status: PaymentRequestStatus,
    currency: z.string(),
    subtotalMinor: z.number().int(),
    discountMinor: z.number().int(),
    taxMinor: z.number().int(),
    totalMinor: z.number().int(),
    issuedAt: Timestamp,
    dueAt: Timestamp,
    graceEndsAt: Timestamp.nullable(),
    paidAt: Timestamp.nullable(),
    failedAt: Timestamp.nullable(),
    canceledAt: Timestamp.nullable(),
    externalReference: z.string().nullable(),
    stripeInvoice: StripeInvoiceSchema.nullable().openapi({
      description:
        'The Stripe invoice on the agency\u2019s connected account that presents this request (stripe mode); null otherwise. Number and URLs are null until Stripe finalizes it.',
    }),
    lastFailureReason: z.string().nullable().openapi({
      description:
        'Why the last charge of this request failed (stripe mode: the card’s decline message); null when none failed',
    }),
    nextRetryAt: Timestamp.nullable().openapi({
      description:
        'When the engine charges the card again (Stripe retries); null when no retry is planned (none failed, paid, or every retry failed)',
    }),
    lines: z.array(LineSchema).optional(),
  })
  .openapi('PaymentRequest');

/** A payment request row (and its lines, when given) as the API answers it. */
export function presentPaymentRequest(r: PaymentRequestRow, lines?: PaymentRequestLineRow[]) {
  return {
    object: 'payment_request' as const,
    id: r.id,
    clientId: r.clientId,
    subscriptionId: r.subscriptionId,
    type: r.type,
    periodIndex: r.periodIndex,
    status: r.status as z.infer<typeof PaymentRequestStatus>,
    currency: r.currency,
    subtotalMinor: r.subtotalMinor,
    discountMinor: r.discountMinor,
    taxMinor: r.taxMinor,
    totalMinor: r.totalMinor,
    issuedAt: r.issuedAt.toISOString(),
    dueAt: r.dueAt.toISOString(),
    graceEndsAt: iso(r.graceEndsAt),
    paidAt: iso(r.paidAt),
    failedAt: iso(r.failedAt),
    canceledAt: iso(r.canceledAt),
    externalReference: r.externalReference,
    stripeInvoice: r.stripeInvoiceId
      ? {
          id: r.stripeInvoiceId,
          number: r.stripeInvoiceNumber,
          hostedInvoiceUrl: r.stripeHostedInvoiceUrl,
          invoicePdf: r.stripeInvoicePdf,
        }
      : null,
    lastFailureReason: r.lastFailureReason,
    nextRetryAt: iso(r.nextRetryAt),
    ...(lines
      ? {
          lines: lines.map((l) => ({
            ...l,
            kind: l.kind as z.infer<typeof LineSchema>['kind'],
            periodStart: iso(l.periodStart),
            periodEnd: iso(l.periodEnd),
          })),
        }
      : {}),
  };
}
