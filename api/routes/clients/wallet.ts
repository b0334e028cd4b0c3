/** GET /v1/clients/{id}/wallet: the balance (never expires) and the ledger, newest first. */
import { createRoute, z } from '@hono/zod-openapi';
import { formatMinutes } from '../../../billing/pools';
import { getClient } from '../../../db/queries/clients';
import { listLedger, walletBalance, type LedgerRow } from '../../../db/queries/wallet';
import { commonErrorResponses } from '../../errors';
import { ApiError, notFound } from '../../../lib/errors';
import { newApp } from '../../hono';
import { PageQuerySchema } from '../../pagination';
import { IdParam, jsonResponse, Timestamp } from '../../schemas';

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

const presentLedger = (r: LedgerRow) => ({
  ...r,
  minutes: formatMinutes(r.seconds),
  createdAt: r.createdAt.toISOString(),
});

const tags = ['wallet and packs'];

export function walletRoutes() {
  const app = newApp();

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
