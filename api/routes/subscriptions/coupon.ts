/**
 * /v1/subscriptions/{id}/coupon: attach (POST) or remove (DELETE) the coupon from the next
 * request on. Both are one service call (setSubscriptionCoupon, null removes).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { setSubscriptionCoupon } from '../../../services/subscription-changes';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { newApp } from '../../hono';
import { SubscriptionSchema, presentSubscription } from '../../presenters/subscription';
import { IdParam, jsonBody, jsonResponse } from '../../schemas';

const tags = ['subscriptions'];
const path = '/subscriptions/{id}/coupon';
const responses = {
  200: jsonResponse(SubscriptionSchema, 'The subscription'),
  ...commonErrorResponses,
  ...conflictResponse,
};

export function subscriptionCouponRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path,
      tags,
      summary: 'Attach a coupon (replaces any other) from the next request on',
      request: {
        params: IdParam,
        body: jsonBody(z.object({ couponId: z.string().min(1) })),
      },
      responses,
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { couponId } = c.req.valid('json');
      const row = await setSubscriptionCoupon(c.var.deps, c.var.agencyId, id, couponId);
      return c.json(presentSubscription(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path,
      tags,
      summary: 'Remove the coupon from the next request on',
      request: { params: IdParam },
      responses,
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await setSubscriptionCoupon(c.var.deps, c.var.agencyId, id, null);
      return c.json(presentSubscription(row), 200);
    },
  );

  return app;
}
