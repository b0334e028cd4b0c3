/**
 * What a client portal session shows (the page and GET /portal/api/billing): the agency's name,
 * the client's plan and subscription, this period's usage, the wallet, the packs assigned, the
 * payment requests with their lines, the card on file (stripe mode) and the banners. Read only,
 * built from the same services and queries the agency's API reads, for the session's client
 * only. Never the platform fee or the agency's margin.
 */
import { formatMinutes } from '../billing/pools';
import { portalBanners, type Banner } from '../billing/portal-banners';
import type { StripePlatform } from '../collection/stripe/client';
import type { Sql } from '../db/client';
import { readClientAccess } from '../db/queries/access';
import { getAgency } from '../db/queries/agencies';
import { getClientStripe, type ClientCard } from '../db/queries/client-stripe';
import {
  getPaymentRequestLines,
  listPaymentRequests,
  type PaymentRequestLineRow,
  type PaymentRequestRow,
} from '../db/queries/payment-requests';
import { getLiveSubscription, type SubscriptionRow } from '../db/queries/subscriptions';
import { notFound } from '../lib/errors';
import { accessPolicy } from './access';
import { requireClient } from './clients';
import { clientUsageReport } from './client-usage';
import { listPacksOfClient } from './packs';
import type { PeriodReport } from './usage-report';

/** The newest requests shown (the page is a summary; the PDFs keep the detail). */
export const PORTAL_REQUEST_LIMIT = 50;

export interface PortalBilling {
  agency: { name: string };
  client: { id: string; name: string; billingMode: string };
  subscription: SubscriptionRow | null;
  usage: Omit<PeriodReport, 'economics'> | null;
  walletBalanceSeconds: number;
  walletBalanceMinutes: string;
  packs: { id: string; name: string; minutes: number; priceMinor: number; currency: string }[];
  requests: { request: PaymentRequestRow; lines: PaymentRequestLineRow[] }[];
  access: { allowed: boolean; reasons: string[] };
  card: ClientCard | null;
  banners: Banner[];
}

type Deps = { sql: Sql; platformRateMinorPerMinute: string; stripe: StripePlatform | null };

/** The billing of the agency's client `clientId`, as its portal users see it. */
export async function portalBilling(
  deps: Deps,
  agencyId: string,
  clientId: string,
): Promise<PortalBilling> {
  const { sql } = deps;
  const client = await requireClient(sql, agencyId, clientId);
  const [agency, subscription, report, packs, requests, access, stripeSide] = await Promise.all([
    getAgency(sql, agencyId),
    getLiveSubscription(sql, agencyId, clientId),
    clientUsageReport(deps, agencyId, clientId),
    listPacksOfClient(sql, { agencyId, clientId, includeArchived: false, limit: 100 }),
    listPaymentRequests(sql, { agencyId, clientId, limit: PORTAL_REQUEST_LIMIT }),
    readClientAccess(sql, agencyId, clientId, accessPolicy(deps.stripe)),
    client.billingMode === 'stripe' ? getClientStripe(sql, agencyId, clientId) : null,
  ]);
  if (!agency || !access) throw notFound('client', clientId);
  const withLines = await Promise.all(
    requests.map(async (request) => ({
      request,
      lines: await getPaymentRequestLines(sql, request.id),
    })),
  );
  let usage: PortalBilling['usage'] = null;
  if (report.period) {
    // The platform fee and the agency's margin are the agency's business, not the client's.
    const { economics: _economics, ...rest } = report.period;
    usage = rest;
  }
  return {
    agency: { name: agency.name },
    client: { id: client.id, name: client.name, billingMode: client.billingMode },
    subscription,
    usage,
    walletBalanceSeconds: report.walletBalanceSeconds,
    walletBalanceMinutes: formatMinutes(report.walletBalanceSeconds),
    packs: packs.map(({ id, name, minutes, priceMinor, currency }) => ({
      id,
      name,
      minutes,
      priceMinor,
      currency,
    })),
    requests: withLines,
    access: { allowed: access.allowed, reasons: access.reasons },
    card: stripeSide?.card ?? null,
    banners: portalBanners({
      subscriptionStatus: subscription?.status ?? null,
      accessReasons: access.reasons,
      minutesExhausted: report.period?.minutesExhausted ?? null,
      requests: requests.map((r) => ({
        status: r.status,
        currency: r.currency,
        totalMinor: r.totalMinor,
        graceEndsAt: r.graceEndsAt,
      })),
    }),
  };
}
