/** POST /v1/subscriptions/{id}/cancel: now (final usage request at once) or at the period end. */
import { createRoute, z } from '@hono/zod-openapi';
import { cancelSubscription } from '../../../services/subscription-changes';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { newApp } from '../../hono';
import { SubscriptionSchema, presentSubscription } from '../../presenters/subscription';
import { IdParam, jsonBody, jsonResponse } from '../../schemas';

const tags = ['subscriptions'];

export function subscriptionCancelRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscriptions/{id}/cancel',
      tags,
      summary: 'Cancel now (final usage request at once) or at the end of the period',
      request: {
        params: IdParam,
        body: jsonBody(
          z.object({
            when: z.enum(['now', 'period_end']),
            reason: z.string().trim().min(1).max(500).optional(),
          }),
        ),
      },
      responses: {
        200: jsonResponse(SubscriptionSchema, 'The subscription'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      // The update answers once the workflow has stored the cancellation.
      const row = await cancelSubscription(c.var.deps, c.var.agencyId, id, {
        when: body.when,
        reason: body.reason ?? null,
      });
      return c.json(presentSubscription(row), 200);
    },
  );

  return app;
}
