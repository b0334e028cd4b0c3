/**
 * Usage reports: this period (used, remaining, wallet, billable, per agent, chat equivalents)
 * and the history by period, each with the platform fee and the agency's margin.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { formatMinutes } from '../../../billing/pools';
import { clientUsageHistory, clientUsageReport } from '../../../services/client-usage';
import { commonErrorResponses } from '../../errors';
import { ApiError } from '../../../lib/errors';
import { newApp } from '../../hono';
import { IdParam, jsonResponse, Timestamp, TimestampInput } from '../../schemas';

const Counts = {
  chatInteractions: z.number().int(),
  conversations: z.number().int(),
  valueCounts: z
    .record(z.string(), z.number().int())
    .openapi({ description: 'value_count events by the boolean property they count' }),
};

const PeriodReportSchema = z
  .object({
    id: z.string().openapi({ description: '<subscriptionId>:<periodIndex>' }),
    subscriptionId: z.string(),
    periodIndex: z.number().int(),
    start: Timestamp,
    end: Timestamp,
    closed: z.boolean().openapi({ description: 'false: the current period, counts provisional' }),
    currency: z.string(),
    includedMinutes: z.number().int(),
    rateMinorPerMinute: z.string().nullable(),
    usedSeconds: z.number().int(),
    usedMinutes: z.string(),
    includedSeconds: z.number().int(),
    includedRemainingSeconds: z.number().int(),
    includedRemainingMinutes: z.string(),
    includedPercentUsed: z.number().int(),
    warning: z.boolean().openapi({ description: 'At or above 90% of the included minutes' }),
    walletSeconds: z
      .number()
      .int()
      .openapi({ description: 'Drawn from the wallet for this period' }),
    walletBalanceSeconds: z.number().int().openapi({ description: 'The wallet now' }),
    billableSeconds: z.number().int(),
    billableMinutes: z.string(),
    billableAmountMinor: z.number().int(),
    lateSeconds: z
      .number()
      .int()
      .openapi({ description: 'Usage that arrived after the period closed (billed later)' }),
    minutesExhausted: z.boolean().nullable(),
    ...Counts,
    chatEquivalents: z
      .object({
        chatsPerMinute: z.string(),
        used: z.number().int(),
        included: z.number().int(),
        includedRemaining: z.number().int(),
        walletBalance: z.number().int(),
        billable: z.number().int(),
      })
      .nullable()
      .openapi({ description: 'Chat mode: the minute amounts as whole chats' }),
    perAgent: z.array(
      z.object({
        agentId: z.string().nullable(),
        agentName: z.string().nullable(),
        seconds: z.number().int(),
        minutes: z.string(),
        billableSeconds: z.number().int(),
        ...Counts,
      }),
    ),
    economics: z.object({
      flatFeeMinor: z.number().int(),
      usageAmountMinor: z.number().int(),
      revenueMinor: z.number().int(),
      platformRateMinorPerMinute: z.string(),
      platformFeeMinor: z
        .number()
        .int()
        .openapi({ description: 'Every metered minute at the platform rate' }),
      marginMinor: z.number().int().openapi({ description: 'Revenue minus the platform fee' }),
      marginMinorPerMinute: z.string().nullable(),
    }),
  })
  .openapi('UsagePeriod');

const UsageReportSchema = z
  .object({
    object: z.literal('usage_report'),
    clientId: z.string(),
    walletBalanceSeconds: z.number().int(),
    walletBalanceMinutes: z.string(),
    period: PeriodReportSchema.nullable().openapi({
      description: 'The current period; null without a running subscription',
    }),
  })
  .openapi('UsageReport');

const HistorySchema = z
  .object({ data: z.array(PeriodReportSchema), nextCursor: z.string().nullable() })
  .openapi('UsageHistory');

const tags = ['usage'];

export function reportRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/usage',
      tags,
      summary: 'Usage this period: used, remaining, wallet, billable, per agent, chat equivalents',
      request: { params: IdParam },
      responses: { 200: jsonResponse(UsageReportSchema, 'The report'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const report = await clientUsageReport(c.var.deps, c.var.agencyId, id);
      return c.json(
        {
          object: 'usage_report' as const,
          clientId: id,
          walletBalanceSeconds: report.walletBalanceSeconds,
          walletBalanceMinutes: formatMinutes(report.walletBalanceSeconds),
          period: report.period,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/clients/{id}/usage/history',
      tags,
      summary: 'Usage by period, newest first (the current period first), with fees and margins',
      request: {
        params: IdParam,
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(12),
          after: TimestampInput.optional().openapi({
            description: 'Cursor: the nextCursor of the previous page (a period start)',
          }),
        }),
      },
      responses: { 200: jsonResponse(HistorySchema, 'A page of periods'), ...commonErrorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const before = q.after === undefined ? null : new Date(q.after);
      if (before && Number.isNaN(before.getTime()))
        throw new ApiError('validation_failed', 'after: not a cursor', [
          { field: 'after', message: 'must be the nextCursor of a previous page' },
        ]);
      const page = await clientUsageHistory(c.var.deps, c.var.agencyId, id, {
        limit: q.limit,
        before,
      });
      return c.json(page, 200);
    },
  );

  return app;
}
