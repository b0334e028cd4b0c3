/**
 * Coupons: a percentage or a fixed amount off, for one request, every request, or N periods.
 * Catalog entries only here; subscriptions carry a copy of the terms, so only the name changes.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  archiveCoupon,
  getCoupon,
  insertCoupon,
  listCoupons,
  renameCoupon,
  type CouponRow,
} from '../../db/queries/coupons';
import { commonErrorResponses } from '../errors';
import { notFound } from '../../lib/errors';
import { checkCoupon } from '../../services/coupons';
import { newApp } from '../hono';
import { Currency, IdParam, jsonBody, jsonResponse, MinorAmount } from '../schemas';
import { catalogEntrySchema, catalogRoutes, presentCatalogEntry } from '../resource-routes';

const PercentOff = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,4})?$/, 'must be a decimal string of percent, e.g. "25" or "12.5"')
  .openapi({ description: 'Percent off, exact decimal string (up to 4 decimals)', example: '20' });

const CouponFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(['percent', 'fixed']),
  percentOff: PercentOff.nullable()
    .default(null)
    .openapi({ description: 'For `percent` coupons: above 0, at most 100' }),
  amountOffMinor: MinorAmount.nullable()
    .default(null)
    .openapi({ description: 'For `fixed` coupons: minor units off each discounted request' }),
  currency: Currency.nullable()
    .default(null)
    .openapi({ description: 'For `fixed` coupons: the currency of amountOffMinor' }),
  duration: z.enum(['once', 'forever', 'repeating']).openapi({
    description: '`once`: the next request; `forever`; `repeating`: durationPeriods periods',
  }),
  durationPeriods: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .nullable()
    .default(null)
    .openapi({ description: 'For `repeating` coupons: how many periods' }),
});

const CouponSchema = catalogEntrySchema(CouponFieldsSchema, 'coupon', 'Coupon');

const presentCoupon = (c: CouponRow) => presentCatalogEntry('coupon', c);

const tags = ['coupons'];

export function couponRoutes() {
  const app = newApp();
  const catalog = catalogRoutes(app, {
    path: '/coupons',
    tags,
    noun: 'coupon',
    idPrefix: 'cpn',
    fields: CouponFieldsSchema,
    schema: CouponSchema,
    pageName: 'CouponPage',
    present: presentCoupon,
    descriptions: {
      entry: 'The coupon',
      page: 'A page of coupons',
      archived: 'The archived coupon',
    },
    queries: { insert: insertCoupon, list: listCoupons, get: getCoupon, archive: archiveCoupon },
  });
  catalog.create('Create a coupon', checkCoupon);
  catalog.list('List coupons (active only unless includeArchived)');
  catalog.get('Get a coupon');

  // Not the standard update: only the name changes.
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/coupons/{id}',
      tags,
      summary: 'Rename a coupon (its terms are fixed once created)',
      request: {
        params: IdParam,
        body: jsonBody(z.object({ name: CouponFieldsSchema.shape.name }).strict()),
      },
      responses: { 200: jsonResponse(CouponSchema, 'The coupon'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const coupon = await renameCoupon(
        c.var.deps.sql,
        c.var.agencyId,
        id,
        c.req.valid('json').name,
      );
      if (!coupon) throw notFound('coupon', id);
      return c.json(presentCoupon(coupon), 200);
    },
  );

  catalog.archive('Archive a coupon: it can no longer be added to subscriptions');

  return app;
}
