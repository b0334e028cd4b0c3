/**
 * Coupons: a percentage or a fixed amount off, for one request, every request, or N periods.
 * Catalog entries only here; subscriptions carry a copy of the terms, so only the name changes.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { normalizeRate, rateToMicros } from '../../billing/money';
import {
  archiveCoupon,
  getCoupon,
  insertCoupon,
  listCoupons,
  renameCoupon,
  type CouponRow,
} from '../../db/queries/coupons';
import { newId } from '../../lib/ids';
import { commonErrorResponses, invalidField, notFound } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { Currency, IdParam, iso, jsonBody, jsonResponse, MinorAmount, Timestamp } from '../schemas';
import { IncludeArchivedQuery } from './packs';

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

const CouponSchema = CouponFieldsSchema.extend({
  id: z.string(),
  object: z.literal('coupon'),
  archivedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).openapi('Coupon');

type CouponInput = z.infer<typeof CouponFieldsSchema>;

/** The rules between fields; each failure names its field. */
function checkCoupon(c: CouponInput): CouponInput {
  if (c.kind === 'percent') {
    if (c.percentOff === null) throw invalidField('percentOff', 'required for a percent coupon');
    const micros = rateToMicros(c.percentOff);
    if (micros <= 0n || micros > 100_000_000n)
      throw invalidField('percentOff', 'must be above 0 and at most 100');
    if (c.amountOffMinor !== null) throw invalidField('amountOffMinor', 'only for fixed coupons');
    if (c.currency !== null) throw invalidField('currency', 'only for fixed coupons');
  } else {
    if (c.amountOffMinor === null)
      throw invalidField('amountOffMinor', 'required for a fixed coupon');
    if (c.amountOffMinor <= 0) throw invalidField('amountOffMinor', 'must be above 0');
    if (c.currency === null) throw invalidField('currency', 'required for a fixed coupon');
    if (c.percentOff !== null) throw invalidField('percentOff', 'only for percent coupons');
  }
  if (c.duration === 'repeating' && c.durationPeriods === null)
    throw invalidField('durationPeriods', 'required when duration is repeating');
  if (c.duration !== 'repeating' && c.durationPeriods !== null)
    throw invalidField('durationPeriods', 'only when duration is repeating');
  return { ...c, percentOff: c.percentOff === null ? null : normalizeRate(c.percentOff) };
}

function presentCoupon(c: CouponRow) {
  return {
    object: 'coupon' as const,
    ...c,
    archivedAt: iso(c.archivedAt),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const tags = ['coupons'];

export function couponRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/coupons',
      tags,
      summary: 'Create a coupon',
      request: { body: jsonBody(CouponFieldsSchema) },
      responses: { 201: jsonResponse(CouponSchema, 'The coupon'), ...commonErrorResponses },
    }),
    async (c) => {
      const body = checkCoupon(c.req.valid('json'));
      const coupon = await insertCoupon(c.var.deps.sql, c.var.agencyId, newId('cpn'), body);
      return c.json(presentCoupon(coupon), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/coupons',
      tags,
      summary: 'List coupons (active only unless includeArchived)',
      request: { query: PageQuerySchema.extend(IncludeArchivedQuery.shape) },
      responses: {
        200: jsonResponse(pageSchema(CouponSchema, 'CouponPage'), 'A page of coupons'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listCoupons(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        includeArchived: q.includeArchived === 'true',
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentCoupon), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/coupons/{id}',
      tags,
      summary: 'Get a coupon',
      request: { params: IdParam },
      responses: { 200: jsonResponse(CouponSchema, 'The coupon'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const coupon = await getCoupon(c.var.deps.sql, c.var.agencyId, id);
      if (!coupon) throw notFound('coupon', id);
      return c.json(presentCoupon(coupon), 200);
    },
  );

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

  app.openapi(
    createRoute({
      method: 'post',
      path: '/coupons/{id}/archive',
      tags,
      summary: 'Archive a coupon: it can no longer be added to subscriptions',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(CouponSchema, 'The archived coupon'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const coupon = await archiveCoupon(c.var.deps.sql, c.var.agencyId, id);
      if (!coupon) throw notFound('coupon', id);
      return c.json(presentCoupon(coupon), 200);
    },
  );

  return app;
}
