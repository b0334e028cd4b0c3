/** POST /v1/subscriptions/{id}/change: plan and/or rate from the next period. */
import { createRoute, z } from '@hono/zod-openapi';
import { changeSubscription } from '../../../services/subscription-changes';
import { commonErrorResponses, conflictResponse, unprocessableResponse } from '../../errors';
import { newApp } from '../../hono';
import { SubscriptionSchema, presentSubscription } from '../../presenters/subscription';
import { IdParam, jsonBody, jsonResponse, Rate } from '../../schemas';

const tags = ['subscriptions'];

export function subscriptionChangeRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions/{id}/change',
      tags,
      summary: 'Switch plan and/or per-minute rate, effective from the next period',
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .object({
              planId: z.string().min(1).optional(),
              rateMinorPerMinute: Rate.nullable()
                .optional()
                .openapi({ description: 'null: bill usage at the plan\u2019s overage rate' }),
            })
            .strict(),
        ),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription, with its pending change'),
        ...commonErrorResponses,
        ...conflictResponse,
        ...unprocessableResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const row = await changeSubscription(c.var.deps, c.var.agencyId, id, body);
      return c.json(presentSubscription(row), 200);
    },
  );

  return app;
}
