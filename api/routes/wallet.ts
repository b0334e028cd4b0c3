/**
 * The wallet and add-on packs. Applying a pack (assigned to the client, where its plan allows
 * packs) credits the wallet at once and issues a `pack` payment request, pending or already paid
 * as the agency says; pack requests have no grace period and never touch a subscription's status.
 * The wallet is a ledger that never expires and outlives periods and subscriptions.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { formatMinutes } from '../../billing/pools';
import { getClient } from '../../db/queries/clients';
import type { PaymentRequestLineRow, PaymentRequestRow } from '../../db/queries/payment-requests';
import { listLedger, walletBalance, type LedgerRow } from '../../db/queries/wallet';
import { applyPack } from '../../services/packs';
import { ApiError, commonErrorResponses, conflictResponse, notFound } from '../errors';
import { newApp } from '../hono';
import { PageQuerySchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp } from '../schemas';

const LedgerEntrySchema = z
  .object({
    id: z.string(),
    seconds: z.number().int().openapi({ description: 'Credit (positive) or debit (negative)' }),
    minutes: z.string(),
    reason: z.enum(['pack', 'usage', 'adjustment']),
    reference: z.string().openapi({
      description:
        'What caused it: `pack:<request>`, `usage:<subscription>:<period>` or `late:<subscription>:<period>`',
    }),
    createdAt: Timestamp,
  })
  .openapi('WalletLedgerEntry');

const WalletSchema = z
  .object({
    object: z.literal('wallet'),
    clientId: z.string(),
    balanceSeconds: z.number().int(),
    balanceMinutes: z.string(),
    neverExpires: z.literal(true),
    ledger: z.object({ data: z.array(LedgerEntrySchema), nextCursor: z.string().nullable() }),
  })
  .openapi('Wallet');

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

const presentLedger = (r: LedgerRow) => ({
  ...r,
  minutes: formatMinutes(r.seconds),
  createdAt: r.createdAt.toISOString(),
});

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

const tags = ['wallet and packs'];

export function walletRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/clients/{id}/packs/{packId}/apply',
      tags,
      summary: 'Apply an add-on pack: credit the wallet now and issue a pack payment request',
      request: {
        params: IdParam.extend({
          packId: z
            .string()
            .min(1)
            .max(64)
            .openapi({ param: { name: 'packId', in: 'path' } }),
        }),
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

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/wallet',
      tags,
      summary: 'The client\u2019s wallet: balance (never expires) and ledger, newest first',
      request: { params: IdParam, query: PageQuerySchema },
      responses: { 200: jsonResponse(WalletSchema, 'The wallet'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const { sql } = c.var.deps;
      if (!(await getClient(sql, c.var.agencyId, id))) throw notFound('client', id);
      if (q.after !== undefined && !/^\d{1,18}$/.test(q.after))
        throw new ApiError('validation_failed', 'after: not a ledger cursor', [
          { field: 'after', message: 'must be the nextCursor of a previous page' },
        ]);
      const [balance, rows] = await Promise.all([
        walletBalance(sql, id),
        listLedger(sql, { agencyId: c.var.agencyId, clientId: id, after: q.after, limit: q.limit }),
      ]);
      return c.json(
        {
          object: 'wallet' as const,
          clientId: id,
          balanceSeconds: balance,
          balanceMinutes: formatMinutes(balance),
          neverExpires: true as const,
          ledger: {
            data: rows.map(presentLedger),
            nextCursor: rows.length === q.limit ? rows[rows.length - 1]!.id : null,
          },
        },
        200,
      );
    },
  );

  return app;
}
