/**
 * A client's usage as the agency reads it: this period (or none without a running subscription)
 * and the history by period, newest first, each built by services/usage-report.ts.
 */
import type { Sql } from '../db/client';
import { getClient } from '../db/queries/clients';
import { getLiveSubscription } from '../db/queries/subscriptions';
import { agentNames, listClientCloses } from '../db/queries/usage-periods';
import { walletBalance } from '../db/queries/wallet';
import { notFound } from '../lib/errors';
import { closedPeriodReport, currentPeriodReport, type PeriodReport } from './usage-report';

type Deps = { sql: Sql; platformRateMinorPerMinute: string };

/** What every report of a client starts from: its live subscription, wallet and agent names. */
async function clientBasis(sql: Sql, agencyId: string, clientId: string) {
  if (!(await getClient(sql, agencyId, clientId))) throw notFound('client', clientId);
  const [sub, balance, names] = await Promise.all([
    getLiveSubscription(sql, agencyId, clientId),
    walletBalance(sql, clientId),
    agentNames(sql, clientId),
  ]);
  return { sub, balance, names };
}

/** This period's report (null without a running subscription) and the wallet balance. */
export async function clientUsageReport(
  deps: Deps,
  agencyId: string,
  clientId: string,
): Promise<{ walletBalanceSeconds: number; period: PeriodReport | null }> {
  const { sql, platformRateMinorPerMinute } = deps;
  const { sub, balance, names } = await clientBasis(sql, agencyId, clientId);
  const period = sub
    ? await currentPeriodReport(sql, sub, balance, names, platformRateMinorPerMinute)
    : null;
  return { walletBalanceSeconds: balance, period };
}

/**
 * Up to `limit` periods, newest first: the current one first on the first page (`before` null),
 * then closed ones starting before `before`. `nextCursor` is the start of the page's last period.
 */
export async function clientUsageHistory(
  deps: Deps,
  agencyId: string,
  clientId: string,
  page: { limit: number; before: Date | null },
): Promise<{ data: PeriodReport[]; nextCursor: string | null }> {
  const { sql, platformRateMinorPerMinute } = deps;
  const { before } = page;
  const { sub, balance, names } = await clientBasis(sql, agencyId, clientId);
  const current =
    before === null && sub
      ? await currentPeriodReport(sql, sub, balance, names, platformRateMinorPerMinute)
      : null;
  const limit = page.limit - (current ? 1 : 0);
  const closes =
    limit > 0 ? await listClientCloses(sql, { agencyId, clientId, before, limit }) : [];
  const data = [
    ...(current ? [current] : []),
    ...(await Promise.all(
      closes.map((cl) => closedPeriodReport(sql, cl, balance, names, platformRateMinorPerMinute)),
    )),
  ];
  // A page filled by the current period alone continues with the periods before it.
  const last = closes.length === limit ? closes[closes.length - 1] : undefined;
  const nextCursor = last ? last.startAt.toISOString() : limit === 0 ? current!.start : null;
  return { data, nextCursor };
}
