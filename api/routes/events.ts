/**
 * The agency's event feed, newest first: payment requests issued, overdue, paid, failed or
 * canceled; subscriptions past due, blocked, canceled, renewed; access changes. The same
 * `access.changed` events are pushed to the agency's webhook as campaigns.paused / resumed.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { listEvents, type EventRow } from '../../db/queries/events';
import { commonErrorResponses } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { jsonResponse, Timestamp } from '../schemas';

const EventSchema = z
  .object({
    id: z.string(),
    object: z.literal('event'),
    type: z.string().openapi({
      example: 'subscription.past_due',
      description:
        'payment_request.{issued,overdue,paid,failed,canceled}, subscription.{active,past_due,blocked,canceled,renewed,cancel_scheduled,change_scheduled,coupon_applied,coupon_removed}, access.changed',
    }),
    clientId: z.string().nullable(),
    subjectType: z.string(),
    subjectId: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: Timestamp,
  })
  .openapi('Event');

export function presentEvent(e: EventRow) {
  return { object: 'event' as const, ...e, createdAt: e.createdAt.toISOString() };
}

export function eventRoutes() {
  const app = newApp();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['events'],
      summary: 'List events, newest first',
      request: {
        query: PageQuerySchema.extend({
          type: z.string().min(1).max(100).optional().openapi({ example: 'access.changed' }),
          clientId: z.string().min(1).max(64).optional(),
        }),
      },
      responses: {
        200: jsonResponse(pageSchema(EventSchema, 'EventPage'), 'A page of events'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listEvents(c.var.deps.sql, { agencyId: c.var.agencyId, ...q });
      return c.json(pageOf(rows.map(presentEvent), q.limit), 200);
    },
  );
  return app;
}
