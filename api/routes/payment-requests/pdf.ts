/** GET /v1/payment-requests/{id}/pdf: the request as a PDF (rendered by services/invoice-pdf). */
import { createRoute, z } from '@hono/zod-openapi';
import { paymentRequestPdf } from '../../../services/invoice-pdf';
import { commonErrorResponses } from '../../errors';
import { notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { IdParam } from '../../schemas';

export function invoicePdfRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/payment-requests/{id}/pdf',
      tags: ['payment requests'],
      summary: 'Download a payment request as PDF (usage lines with per-agent breakdown)',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The PDF',
          content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const pdf = await paymentRequestPdf(c.var.deps.sql, c.var.agencyId, id);
      if (!pdf) throw notFound('payment request', id);
      return c.body(new Uint8Array(pdf), 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="${id}.pdf"`,
      }) as never;
    },
  );
  return app;
}
