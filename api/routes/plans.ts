/** Plans: the agency's catalog of billing plans. Editing never touches running subscriptions. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  archivePlan,
  getPlan,
  insertPlan,
  listPlans,
  updatePlan,
  type PlanRow,
} from '../../db/queries/plans';
import { commonErrorResponses } from '../errors';
import { checkPlan, checkPlanUpdate } from '../../services/plans';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { Currency, jsonResponse, MinorAmount, Rate } from '../schemas';
import { catalogEntrySchema, catalogRoutes, presentCatalogEntry } from '../resource-routes';

const PlanFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  tier: z.string().trim().min(1).max(100).nullable().default(null),
  description: z.string().max(2000).nullable().default(null),
  currency: Currency,
  flatFeeMinor: MinorAmount.default(0),
  overageRateMinorPerMinute: Rate.nullable()
    .default(null)
    .openapi({ description: 'Per-minute overage rate; null: no overage allowed' }),
  includedMinutes: z.number().int().min(0).max(10_000_000).default(0),
  rhythm: z.enum(['day', 'week', 'month', 'year']),
  intervalCount: z.number().int().min(1).max(366).default(1),
  dueDays: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(7)
    .openapi({ description: 'Payment due window: due date = issue date + dueDays' }),
  graceDays: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(7)
    .openapi({ description: 'Days after the due date before the subscription is blocked' }),
  packsAllowed: z.boolean().default(false),
  chatMode: z.boolean().default(false),
  chatsPerMinute: Rate.nullable()
    .default(null)
    .openapi({ description: 'Chat mode: chats equivalent to one minute' }),
  taxBehavior: z.enum(['inclusive', 'exclusive']).default('exclusive'),
});

const PlanSchema = catalogEntrySchema(PlanFieldsSchema, 'plan', 'Plan');

export const presentPlan = (p: PlanRow) => presentCatalogEntry('plan', p);

const tags = ['plans'];

export function planRoutes() {
  const app = newApp();
  const catalog = catalogRoutes(app, {
    path: '/plans',
    tags,
    noun: 'plan',
    idPrefix: 'pln',
    fields: PlanFieldsSchema,
    schema: PlanSchema,
    pageName: 'PlanPage',
    present: presentPlan,
    descriptions: { entry: 'The plan', page: 'A page of plans', archived: 'The archived plan' },
    queries: {
      insert: insertPlan,
      list: listPlans,
      get: getPlan,
      archive: archivePlan,
      update: updatePlan,
    },
  });
  catalog.create('Create a plan', checkPlan);

  // Not the standard list, in the document only: its includeArchived has no description.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/plans',
      tags,
      summary: 'List plans (active only unless includeArchived)',
      request: {
        query: PageQuerySchema.extend({
          includeArchived: z.enum(['true', 'false']).default('false'),
        }),
      },
      responses: {
        200: jsonResponse(pageSchema(PlanSchema, 'PlanPage'), 'A page of plans'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listPlans(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        includeArchived: q.includeArchived === 'true',
        after: q.after,
        limit: q.limit,
      });
      return c.json({ ...pageOf(rows.map(presentPlan), q.limit) }, 200);
    },
  );

  catalog.get('Get a plan');

  // The cross-field rules hold for the plan as it will be, and a plan in use keeps its currency.
  catalog.update('Update a plan (running subscriptions keep their snapshot)', checkPlanUpdate);

  catalog.archive('Archive a plan: it can no longer be assigned');

  return app;
}
