/**
 * GET /portal/api/billing's answer: the same data the portal page shows, for agencies that
 * embed their own UI. Money in minor units, rates as exact decimal strings, times in ISO 8601.
 */
import { z } from '@hono/zod-openapi';
import type { PortalBilling } from '../../services/portal-billing';
import { iso, Timestamp } from '../schemas';

const Money = z.number().int();

export const PortalBillingSchema = z
  .object({
    object: z.literal('portal_billing'),
    agency: z.object({ name: z.string() }),
    client: z.object({
      id: z.string(),
      name: z.string(),
      billingMode: z.enum(['stripe', 'manual', 'track_only']),
    }),
    subscription: z
      .object({
        id: z.string(),
        status: z.enum(['scheduled', 'active', 'past_due', 'blocked', 'canceled']),
        startAt: Timestamp,
        currentPeriodStart: Timestamp.nullable(),
        currentPeriodEnd: Timestamp.nullable(),
        cancelAtPeriodEnd: z.boolean(),
        plan: z.object({
          name: z.string(),
          tier: z.string().nullable(),
          currency: z.string(),
          flatFeeMinor: Money,
          rateMinorPerMinute: z.string().nullable(),
          includedMinutes: z.number().int(),
          rhythm: z.string(),
          intervalCount: z.number().int(),
          chatMode: z.boolean(),
          chatsPerMinute: z.string().nullable(),
        }),
      })
      .nullable(),
    usage: z
      .object({
        start: Timestamp,
        end: Timestamp,
        currency: z.string(),
        includedMinutes: z.number().int(),
        usedSeconds: z.number().int(),
        usedMinutes: z.string(),
        includedRemainingSeconds: z.number().int(),
        includedRemainingMinutes: z.string(),
        includedPercentUsed: z.number().int(),
        warning: z.boolean().openapi({ description: 'At or above 90% of the included minutes' }),
        billableSeconds: z.number().int(),
        billableMinutes: z.string(),
        billableAmountMinor: Money,
        rateMinorPerMinute: z.string().nullable(),
        minutesExhausted: z.boolean().nullable(),
        chatEquivalents: z
          .object({
            chatsPerMinute: z.string(),
            used: z.number().int(),
            included: z.number().int(),
            includedRemaining: z.number().int(),
            walletBalance: z.number().int(),
            billable: z.number().int(),
          })
          .nullable(),
        perAgent: z.array(
          z.object({
            agentId: z.string().nullable(),
            agentName: z.string().nullable(),
            seconds: z.number().int(),
            minutes: z.string(),
            billableSeconds: z.number().int(),
          }),
        ),
      })
      .nullable()
      .openapi({ description: 'This period so far; null without a running subscription' }),
    wallet: z.object({
      balanceSeconds: z.number().int(),
      balanceMinutes: z.string(),
      expires: z.literal(false).openapi({ description: 'The wallet never expires' }),
    }),
    packs: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          minutes: z.number().int(),
          priceMinor: Money,
          currency: z.string(),
        }),
      )
      .openapi({
        description: 'Packs assigned to the client (read only: the agency applies them)',
      }),
    paymentRequests: z.array(
      z.object({
        id: z.string(),
        number: z.string().nullable(),
        type: z.enum(['cycle', 'pack', 'one_time']),
        status: z.enum(['pending', 'paid', 'overdue', 'failed', 'canceled']),
        currency: z.string(),
        subtotalMinor: Money,
        discountMinor: Money,
        taxMinor: Money,
        totalMinor: Money,
        issuedAt: Timestamp,
        dueAt: Timestamp,
        graceEndsAt: Timestamp.nullable(),
        paidAt: Timestamp.nullable(),
        pdfUrl: z
          .string()
          .openapi({ description: 'Under this session: /portal/payment-requests/{id}/pdf' }),
        lines: z.array(
          z.object({
            kind: z.string(),
            description: z.string(),
            quantity: z.string().nullable(),
            unitAmountMinor: z.string().nullable(),
            amountMinor: Money,
            periodStart: Timestamp.nullable(),
            periodEnd: Timestamp.nullable(),
          }),
        ),
      }),
    ),
    access: z.object({ allowed: z.boolean(), reasons: z.array(z.string()) }),
    paymentMethod: z
      .object({
        brand: z.string(),
        last4: z.string(),
        expMonth: z.number().int(),
        expYear: z.number().int(),
      })
      .nullable()
      .openapi({ description: 'The card on file (stripe mode); null otherwise' }),
    banners: z.array(
      z.object({
        kind: z.enum([
          'blocked',
          'past_due',
          'payment_failed',
          'outstanding_balance',
          'minutes_exhausted',
          'payment_method_missing',
        ]),
        amounts: z.array(z.object({ currency: z.string(), amountMinor: Money })).optional(),
        graceEndsAt: Timestamp.nullable().optional(),
      }),
    ),
  })
  .openapi('PortalBilling');

type Out = z.infer<typeof PortalBillingSchema>;

export function presentPortalBilling(b: PortalBilling): Out {
  const sub = b.subscription;
  const t = sub?.terms;
  const u = b.usage;
  return {
    object: 'portal_billing',
    agency: b.agency,
    client: { ...b.client, billingMode: b.client.billingMode as Out['client']['billingMode'] },
    subscription:
      sub && t
        ? {
            id: sub.id,
            status: sub.status as NonNullable<Out['subscription']>['status'],
            startAt: sub.startAt.toISOString(),
            currentPeriodStart: iso(sub.currentPeriodStart),
            currentPeriodEnd: iso(sub.currentPeriodEnd),
            cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
            plan: {
              name: t.name,
              tier: t.tier,
              currency: t.currency,
              flatFeeMinor: t.flatFeeMinor,
              rateMinorPerMinute: t.rateMinorPerMinute ?? t.overageRateMinorPerMinute,
              includedMinutes: t.includedMinutes,
              rhythm: t.rhythm,
              intervalCount: t.intervalCount,
              chatMode: t.chatMode,
              chatsPerMinute: t.chatsPerMinute,
            },
          }
        : null,
    usage: u
      ? {
          start: u.start,
          end: u.end,
          currency: u.currency,
          includedMinutes: u.includedMinutes,
          usedSeconds: u.usedSeconds,
          usedMinutes: u.usedMinutes,
          includedRemainingSeconds: u.includedRemainingSeconds,
          includedRemainingMinutes: u.includedRemainingMinutes,
          includedPercentUsed: u.includedPercentUsed,
          warning: u.warning,
          billableSeconds: u.billableSeconds,
          billableMinutes: u.billableMinutes,
          billableAmountMinor: u.billableAmountMinor,
          rateMinorPerMinute: u.rateMinorPerMinute,
          minutesExhausted: u.minutesExhausted,
          chatEquivalents: u.chatEquivalents,
          perAgent: u.perAgent.map((a) => ({
            agentId: a.agentId,
            agentName: a.agentName,
            seconds: a.seconds,
            minutes: a.minutes,
            billableSeconds: a.billableSeconds,
          })),
        }
      : null,
    wallet: {
      balanceSeconds: b.walletBalanceSeconds,
      balanceMinutes: b.walletBalanceMinutes,
      expires: false,
    },
    packs: b.packs,
    paymentRequests: b.requests.map(({ request: r, lines }) => ({
      id: r.id,
      number: r.stripeInvoiceNumber,
      type: r.type,
      status: r.status as Out['paymentRequests'][number]['status'],
      currency: r.currency,
      subtotalMinor: r.subtotalMinor,
      discountMinor: r.discountMinor,
      taxMinor: r.taxMinor,
      totalMinor: r.totalMinor,
      issuedAt: r.issuedAt.toISOString(),
      dueAt: r.dueAt.toISOString(),
      graceEndsAt: iso(r.graceEndsAt),
      paidAt: iso(r.paidAt),
      pdfUrl: `/portal/payment-requests/${r.id}/pdf`,
      lines: lines.map((l) => ({
        kind: l.kind,
        description: l.description,
        quantity: l.quantity,
        unitAmountMinor: l.unitAmountMinor,
        amountMinor: l.amountMinor,
        periodStart: iso(l.periodStart),
        periodEnd: iso(l.periodEnd),
      })),
    })),
    access: b.access,
    paymentMethod: b.card
      ? {
          brand: b.card.brand,
          last4: b.card.last4,
          expMonth: b.card.expMonth,
          expYear: b.card.expYear,
        }
      : null,
    banners: b.banners,
  };
}
