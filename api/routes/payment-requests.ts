/**
 * Payment requests (invoices): cycle, pack and one-time, with their lines. Marking a cycle request
 * goes through its subscription's workflow (which owns dunning and status); pack and one-time
 * requests never touch a subscription's status, so they are marked in Postgres directly, as are
 * the requests of a subscription that has ended.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getPaymentRequest,
  getPaymentRequestLines,
  listPaymentRequests,
  type PaymentRequestLineRow,
  type PaymentRequestRow,
} from '../../db/queries/payment-requests';
import { recordPaymentOutcome } from '../../services/payments';
import { commonErrorResponses, conflictResponse, notFound } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp } from '../schemas';

const MarkSchema = z.object({
  status: z.enum(['paid', 'failed', 'canceled']),
  externalReference: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'The agency\u2019s own reference (bank transfer id, receipt number)' }),
});
const Status = z.enum(['pending', 'paid', 'overdue', 'failed', 'canceled']);
const Type = z.enum(['cycle', 'pack', 'one_time']);

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

const PaymentRequestSchema = z
  .object({
    id: z.string(),
    object: z.literal('payment_request'),
    clientId: z.string(),
    subscriptionId: z.string().nullable(),
    type: Type,
    periodIndex: z.number().int().nullable(),
    status: Status,
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
    lines: z.array(LineSchema).optional(),
  })
  .openapi('PaymentRequest');

export function presentPaymentRequest(r: PaymentRequestRow, lines?: PaymentRequestLineRow[]) {
  return {
    object: 'payment_request' as const,
    id: r.id,
    clientId: r.clientId,
    subscriptionId: r.subscriptionId,
    type: r.type,
    periodIndex: r.periodIndex,
    status: r.status as z.infer<typeof Status>,
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

const tags = ['payment requests'];

export function paymentRequestRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/payment-requests',
      tags,
      summary: 'List payment requests, newest first',
      request: {
        query: PageQuerySchema.extend({
          subscriptionId: z.string().optional(),
          clientId: z.string().optional(),
          status: Status.optional(),
          type: Type.optional(),
        }),
      },
      responses: {
        200: jsonResponse(
          pageSchema(PaymentRequestSchema, 'PaymentRequestPage'),
          'A page of payment requests',
        ),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listPaymentRequests(c.var.deps.sql, { agencyId: c.var.agencyId, ...q });
      return c.json(
        pageOf(
          rows.map((r) => presentPaymentRequest(r)),
          q.limit,
        ),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/payment-requests/{id}',
      tags,
      summary: 'Get a payment request with its lines',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(PaymentRequestSchema, 'The payment request'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await getPaymentRequest(c.var.deps.sql, c.var.agencyId, id);
      if (!row) throw notFound('payment request', id);
      return c.json(
        presentPaymentRequest(row, await getPaymentRequestLines(c.var.deps.sql, id)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/payment-requests/{id}/mark',
      tags,
      summary: 'Record a manual collection outcome: paid, failed or canceled',
      description:
        'For a cycle request the subscription\u2019s workflow validates and applies it (a payment before the grace end makes a past-due subscription active again; a blocked one stays blocked). Pack and one-time requests never change a subscription.',
      request: { params: IdParam, body: jsonBody(MarkSchema) },
      responses: {
        200: jsonResponse(PaymentRequestSchema, 'The payment request'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const mark = c.req.valid('json');
      const updated = await recordPaymentOutcome(c.var.deps, {
        agencyId: c.var.agencyId,
        requestId: id,
        status: mark.status,
        externalReference: mark.externalReference ?? null,
        source: 'manual',
      });
      const lines = await getPaymentRequestLines(c.var.deps.sql, id);
      return c.json(presentPaymentRequest(updated, lines), 200);
    },
  );

  return app;
}
