/**
 * Usage activities: the live counters the workflow folds on a usage signal, and the period close
 * that bills it. Postgres is the source of truth: both read the stored events, so a lost or
 * repeated signal can delay the live counters but never change what is billed.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PeriodUsage } from '../billing/invoice';
import { allocateLate, allocatePools, liveUsage, type AgentTotals } from '../billing/pools';
import type { PlanTerms } from '../billing/terms';
import type { AnySql, Sql } from '../db/client';
import {
  getClose,
  insertClose,
  lateTotals,
  listCloses,
  lockSubscriptionUsage,
  maxUsageSeq,
  periodTotals,
  updateCloseSnapshot,
  type CloseSnapshot,
} from '../db/queries/usage-periods';
import { addLedgerRow, lockWallet, walletBalance } from '../db/queries/wallet';
import type {
  CloseInput,
  LiveUsage,
  LiveUsageInput,
  UsageActivities,
} from '../workflows/activity-contract';

export interface UsageActivityDeps {
  sql: Sql;
}

const poolTerms = (t: Pick<PlanTerms, 'includedMinutes' | 'chatMode' | 'chatsPerMinute'>) => ({
  includedMinutes: t.includedMinutes,
  chatMode: t.chatMode,
  chatsPerMinute: t.chatsPerMinute,
});

/** The period's terms and rate: as given, else as the subscription row mirrors them. */
async function termsOf(
  tx: AnySql,
  input: CloseInput,
): Promise<{ terms: PlanTerms; rateMinorPerMinute: string | null }> {
  if (input.terms && input.rateMinorPerMinute !== undefined)
    return { terms: input.terms, rateMinorPerMinute: input.rateMinorPerMinute };
  const [row] = await tx<{ terms: PlanTerms & { rateMinorPerMinute?: string | null } }[]>`
    select terms from subscriptions where id = ${input.subscriptionId}`;
  const terms = input.terms ?? row!.terms;
  return {
    terms,
    rateMinorPerMinute:
      input.rateMinorPerMinute !== undefined
        ? input.rateMinorPerMinute
        : (row!.terms.rateMinorPerMinute ?? terms.overageRateMinorPerMinute),
  };
}

export function createUsageActivities({ sql }: UsageActivityDeps) {
  return {
    /**
     * The current period's counters as stored now (a recount, so folding is idempotent and
     * order-free) and whether minutes are exhausted. Read-only: the workflow records the 90%
     * warning when the counters it folds first reach it.
     */
    async readLiveUsage(input: LiveUsageInput): Promise<LiveUsage> {
      const { period, terms } = input;
      const [totals, balance] = await Promise.all([
        periodTotals(sql, input.subscriptionId, period.startMs, period.endMs),
        walletBalance(sql, input.clientId),
      ]);
      return {
        ...liveUsage({
          totals,
          terms: poolTerms(terms),
          rateMinorPerMinute: input.rateMinorPerMinute,
          walletBalanceSeconds: balance,
        }),
        walletBalanceSeconds: balance,
      };
    },

    /**
     * Closes a period: counts its events (and late events of earlier periods) exactly once,
     * spends the pools, debits the wallet, and returns the usage the request bills. Idempotent:
     * a retry returns what the first close stored. `within`: run inside the caller's transaction
     * (a renewal stores its request in the same one); otherwise in its own.
     */
    async getPeriodUsage(input: CloseInput, within?: AnySql): Promise<PeriodUsage> {
      const { subscriptionId, clientId, agencyId, period } = input;
      const close = async (tx: AnySql): Promise<PeriodUsage> => {
        // Waits for in-flight ingest of this subscription and holds new ingest off until commit.
        if (!(await lockSubscriptionUsage(tx, subscriptionId))) {
          throw ApplicationFailure.create({
            type: 'SubscriptionNotFound',
            message: `subscription ${subscriptionId} has no row`,
            nonRetryable: true,
          });
        }
        const done = await getClose(tx, subscriptionId, period.index);
        if (done) return done.snapshot.usage;
        const { terms, rateMinorPerMinute } = await termsOf(tx, input);

        const closes = await listCloses(tx, subscriptionId);
        const prevSeq = closes.reduce((m, c) => Math.max(m, c.throughSeq), 0);
        const throughSeq = Math.max(prevSeq, await maxUsageSeq(tx, subscriptionId));
        await lockWallet(tx, clientId);
        let wallet = await walletBalance(tx, clientId);

        // Late usage: stored since the last close, dated in an earlier period.
        const late = await lateTotals(tx, subscriptionId, prevSeq, throughSeq, period.startMs);
        const byPeriod = new Map<number, AgentTotals[]>();
        const stray: AgentTotals[] = []; // dated in no closed period: billed with this one
        for (const r of late) {
          if (r.periodIndex === null) stray.push(r);
          else byPeriod.set(r.periodIndex, [...(byPeriod.get(r.periodIndex) ?? []), r]);
        }
        const lateUsage = [];
        let lateWallet = 0;
        for (const close of closes) {
          const totals = byPeriod.get(close.periodIndex);
          if (!totals) continue;
          const snap = close.snapshot;
          const l = allocateLate({
            period: {
              periodIndex: close.periodIndex,
              startMs: close.startAt.getTime(),
              endMs: close.endAt.getTime(),
              allowanceSeconds: snap.usage.allowanceSeconds ?? snap.includedMinutes * 60,
              includedSeconds:
                snap.usage.includedSeconds + snap.late.reduce((a, x) => a + x.includedSeconds, 0),
              rateMinorPerMinute: snap.rateMinorPerMinute,
            },
            totals,
            terms: poolTerms(snap),
            walletAvailableSeconds: wallet,
          });
          wallet -= l.walletSeconds;
          lateWallet += l.walletSeconds;
          lateUsage.push(l);
          await updateCloseSnapshot(tx, subscriptionId, close.periodIndex, {
            ...snap,
            late: [...snap.late, { ...l, billedWithPeriodIndex: period.index }],
          });
        }

        const onTime = await periodTotals(
          tx,
          subscriptionId,
          period.startMs,
          period.endMs,
          throughSeq,
        );
        const usage: PeriodUsage = {
          ...allocatePools({
            totals: [...onTime, ...stray],
            terms: poolTerms(terms),
            walletAvailableSeconds: wallet,
          }),
          late: lateUsage,
        };
        const debit = (seconds: number, reference: string) =>
          seconds > 0
            ? addLedgerRow(tx, {
                agencyId,
                clientId,
                seconds: -seconds,
                reason: 'usage',
                reference,
              })
            : Promise.resolve(false);
        await debit(lateWallet, `late:${subscriptionId}:${period.index}`);
        await debit(usage.walletSeconds, `usage:${subscriptionId}:${period.index}`);

        const snapshot: CloseSnapshot = {
          usage,
          ...poolTerms(terms),
          rateMinorPerMinute,
          flatFeeMinor: terms.flatFeeMinor,
          currency: terms.currency,
          late: [],
        };
        await insertClose(tx, {
          subscriptionId,
          periodIndex: period.index,
          agencyId,
          clientId,
          startMs: period.startMs,
          endMs: period.endMs,
          throughSeq,
          final: input.final ?? false,
          snapshot,
        });
        return usage;
      };
      return within ? close(within) : sql.begin(close);
    },
  } satisfies UsageActivities;
}
