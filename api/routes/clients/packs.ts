/**
 * Packs of a client: the assignment (the only packs that client sees or can buy) and applying one,
 * which credits the wallet at once and issues a `pack` payment request; both are services/packs.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type {
  PaymentRequestLineRow,
  PaymentRequestRow,
} from '../../../db/queries/payment-requests';
import {
  applyPack,
  assignClientPack,
  listPacksOfClient,
  unassignClientPack,
} from '../../../services/packs';
import { commonErrorResponses, conflictResponse } from '../../errors';
import { newApp } from '../../hono';
import { PageQuerySchema, pageOf, pageSchema } from '../../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp } from '../../schemas';
import { IncludeArchivedQuery } from '../../resource-routes';
import { PackSchema, presentPack } from '../../presenters/pack';

const AssignPackSchema = z.object({ packId: z.string().min(1).max(64) });

const PackParams = IdParam.extend({
  packId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'packId', in: 'path' } }),
});

const ApplyPackSchema = z.object({
  status: z
    .enum(['pending', 'paid'])
    .default('pending')
    .openapi({ description: 'How the pack request starts: pending (collect later) or paid' }),
});

const PackRequestSchema = z
  .object({
    id: z.string(),
    type: z.literal('pack'),
    status: z.enum(['pending', 'paid']),
    currency: z.string(),
    totalMinor: z.number().int(),
    issuedAt: Timestamp,
    dueAt: Timestamp,
    graceEndsAt: Timestamp.nullable(),
    paidAt: Timestamp.nullable(),
    lines: z.array(
      z.object({
        kind: z.string(),
        description: z.string(),
        quantity: z.string().nullable(),
        unitAmountMinor: z.string().nullable(),
        amountMinor: z.number().int(),
      }),
    ),
  })
  .openapi('PackRequest');

const PackApplicationSchema = z
  .object({
    object: z.literal('pack_application'),
    clientId: z.string(),
    packId: z.string(),
    creditedSeconds: z.number().int(),
    walletBalanceSeconds: z.number().int(),
    paymentRequest: PackRequestSchema,
  })
  .openapi('PackApplication');

const presentPackRequest = (r: PaymentRequestRow, lines: PaymentRequestLineRow[]) => ({
  id: r.id,
  type: 'pack' as const,
  status: r.status as 'pending' | 'paid',
  currency: r.currency,
  totalMinor: r.totalMinor,
  issuedAt: r.issuedAt.toISOString(),
  dueAt: r.dueAt.toISOString(),
  graceEndsAt: iso(r.graceEndsAt),
  paidAt: iso(r.paidAt),
  lines: lines.map((l) => ({
    kind: l.kind,
    description: l.description,
    quantity: l.quantity,
    unitAmountMinor: l.unitAmountMinor,
    amountMinor: l.amountMinor,
  })),
});

const tags = ['packs'];

export function clientPackRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/packs',
      tags,
      summary: 'Assign a pack to a client (201; 200 when it already was)',
      request: { params: IdParam, body: jsonBody(AssignPackSchema) },
      responses: {
        200: jsonResponse(PackSchema, 'The pack, already assigned'),
        201: jsonResponse(PackSchema, 'The pack, now assigned'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { packId } = c.req.valid('json');
      const { pack, created } = await assignClientPack(c.var.deps.sql, c.var.agencyId, id, packId);
      return created ? c.json(presentPack(pack), 201) : c.json(presentPack(pack), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/packs',
      tags,
      summary: 'List the packs assigned to a client (active only unless includeArchived)',
      request: { params: IdParam, query: PageQuerySchema.extend(IncludeArchivedQuery.shape) },
      responses: {
        200: jsonResponse(pageSchema(PackSchema, 'ClientPackPage'), 'A page of packs'),
        ...commonErrorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const rows = await listPacksOfClient(c.var.deps.sql, {
        agencyId: c.var.agencyId,
        clientId: id,
        includeArchived: q.includeArchived === 'true',
        after: q.after,
        limit: q.limit,
      });
      return c.json(pageOf(rows.map(presentPack), q.limit), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/clients/{id}/packs/{packId}',
      tags,
      summary: 'Unassign a pack from a client',
      request: { params: PackParams },
      responses: { 204: { description: 'Unassigned' }, ...commonErrorResponses },
    }),
    async (c) => {
      const { id, packId } = c.req.valid('param');
      await unassignClientPack(c.var.deps.sql, c.var.agencyId, id, packId);
      return c.body(null, 204);
    },
  );

  return app;
}

/** Mounted apart from the assignment routes, where the wallet routes were (route order). */
export function clientPackApplyRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/packs/{packId}/apply',
      tags: ['wallet and packs'],
      summary: 'Apply an add-on pack: credit the wallet now and issue a pack payment request',
      request: {
        params: PackParams,
        body: jsonBody(ApplyPackSchema),
      },
      responses: {
        201: jsonResponse(PackApplicationSchema, 'Credited, with the pack request'),
        ...commonErrorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { id, packId } = c.req.valid('param');
      const { status } = c.req.valid('json');
      const result = await applyPack(c.var.deps.sql, c.var.agencyId, id, packId, status);
      return c.json(
        {
          object: 'pack_application' as const,
          clientId: id,
          packId,
          creditedSeconds: result.seconds,
          walletBalanceSeconds: result.balance,
          paymentRequest: presentPackRequest(result.request, result.lines),
        },
        201,
      );
    },
  );

  return app;
}
