/**
 * Payment requests (invoices): cycle, pack and one-time, with their lines. Recording an outcome is
 * payment-requests/mark.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  getPaymentRequest,
  getPaymentRequestLines,
  listPaymentRequests,
} from '../../db/queries/payment-requests';
import { commonErrorResponses } from '../errors';
import { notFound } from '../../lib/errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import {
  PaymentRequestSchema,
  PaymentRequestStatus as Status,
  PaymentRequestType as Type,
  presentPaymentRequest,
} from '../presenters/payment-request';
import { IdParam, jsonResponse } from '../schemas';

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

  return app;
}
