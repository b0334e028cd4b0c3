/**
 * POST /v1/payment-requests/{id}/mark: a manual collection outcome, recorded by the one payment
 * outcome service (services/payments.ts) a collector's webhook uses too.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getPaymentRequestLines } from '../../../db/queries/payment-requests';
import { recordPaymentOutcome } from '../../../services/payments';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { newApp } from '../../hono';
import { PaymentRequestSchema, presentPaymentRequest } from '../../presenters/payment-request';
import { IdParam, jsonBody, jsonResponse } from '../../schemas';

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
const tags = ['payment requests'];

export function paymentRequestMarkRoutes() {
  const app = newApp();

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
      });
      const lines = await getPaymentRequestLines(c.var.deps.sql, id);
      return c.json(presentPaymentRequest(updated, lines), 200);
    },
  );

  return app;
}
