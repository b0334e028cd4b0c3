/**
 * The usage dispatcher: tells subscription workflows that usage was stored. It reads the outbox
 * that ingest transactions write, and signals each named workflow (`usageSignal`) at most once
 * per `minGapMs` and within a global budget of signals per second (oldest owed first), so every
 * batch stored meanwhile is coalesced into one signal, well under Temporal's per-workflow
 * guidance. Each signal carries a recount of the workflow's current period, read from Postgres
 * after the outbox rows (so it includes every event they announce). An outbox row is deleted
 * only after every workflow it names was signaled: a crash anywhere loses nothing, the rows wait
 * for the next dispatcher, and a repeated signal counts nothing twice (it carries a recount).
 *
 * One dispatcher runs at a time across API processes (a session advisory lock); the others wait
 * to take over. Signals carry a dispatch generation from a Postgres sequence, strictly increasing
 * across restarts, so a workflow ignores an older one that arrives late.
 */
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client';
import { deleteOutbox, nextDispatchSeq, readOutbox } from '../db/queries/usage';
import { liveTotals } from '../db/queries/usage-periods';
import type { Logger } from '../lib/logger';
import { isWorkflowGone } from '../temporal/rejections';
import { signalUsage } from '../temporal/subscription-calls';
import type { UsageSignalLive } from '../workflows/definitions';

// One key per purpose: the migration runner holds 7247756 ("tally" on a phone keypad).
const LEADER_LOCK = 72477565;

export interface DispatcherOptions {
  sql: Sql;
  temporal: Client;
  log: Logger;
  /** Poll interval when the outbox was empty. */
  idleMs?: number;
  /** Least time between two signals to one workflow. */
  minGapMs?: number;
  /** Signals in flight at once. */
  concurrency?: number;
  /**
   * Signals per second across all workflows (a token bucket). Under load every workflow is still
   * signaled, oldest owed first, just less often: each signal then carries more batches.
   */
  maxPerSecond?: number;
  /** Outbox rows read per round. */
  batch?: number;
}

export interface Dispatcher {
  /** One round: read, signal what is due, delete what is done. Returns signals sent. */
  tick(): Promise<number>;
  stop(): Promise<void>;
}

/** The dispatch logic without leadership or a loop (tests drive `tick` directly). */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const minGapMs = o.minGapMs ?? 250;
  const concurrency = o.concurrency ?? 32;
  const batch = o.batch ?? 5_000;
  const maxPerSecond = o.maxPerSecond ?? 200;
  let tokens = maxPerSecond;
  let refilledAt = Date.now();
  const lastSignal = new Map<string, number>();
  // Subscription -> when it was first seen owed and not yet signaled (oldest go first).
  const owedSince = new Map<string, number>();
  const failures: { subscriptionId: string; err: unknown }[] = [];
  // Outbox row id -> subscriptions not yet signaled since the row was read.
  const pending = new Map<number, Set<string>>();

  async function signal(
    subscriptionId: string,
    throughSeq: number,
    live: UsageSignalLive | undefined,
  ): Promise<boolean> {
    try {
      await signalUsage(o.temporal, subscriptionId, throughSeq, live);
      return true;
    } catch (err) {
      // A finished workflow has nothing left to fold: its close already read Postgres.
      if (isWorkflowGone(err)) return true;
      failures.push({ subscriptionId, err });
      return false;
    }
  }

  async function tick(): Promise<number> {
    const rows = await readOutbox(o.sql, batch);
    const ids = new Set(rows.map((r) => r.id));
    for (const id of pending.keys()) if (!ids.has(id)) pending.delete(id);
    for (const r of rows) if (!pending.has(r.id)) pending.set(r.id, new Set(r.subscriptionIds));
    const now = Date.now();
    const owed = new Set<string>();
    for (const subs of pending.values()) for (const s of subs) owed.add(s);
    for (const s of owed) if (!owedSince.has(s)) owedSince.set(s, now);
    tokens = Math.min(maxPerSecond, tokens + ((now - refilledAt) * maxPerSecond) / 1000);
    refilledAt = now;
    const due = [...owed]
      .filter((s) => now - (lastSignal.get(s) ?? 0) >= minGapMs)
      .sort((a, b) => owedSince.get(a)! - owedSince.get(b)!)
      .slice(0, Math.floor(tokens));
    if (due.length === 0) {
      await deleteDone();
      return 0;
    }
    tokens -= due.length;
    const seq = await nextDispatchSeq(o.sql);
    // The totals travel with the signal (read after the outbox rows, so they include every event
    // the rows announce): the workflow folds them without reading Postgres itself.
    const live = new Map(
      (await liveTotals(o.sql, due)).map((t) => [
        t.subscriptionId,
        {
          periodIndex: t.periodIndex,
          walletBalanceSeconds: t.walletBalanceSeconds,
          totals: t.totals,
        },
      ]),
    );
    const done = new Set<string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, due.length) }, async () => {
        while (next < due.length) {
          const s = due[next++]!;
          lastSignal.set(s, Date.now());
          if (await signal(s, seq, live.get(s))) done.add(s);
        }
      }),
    );
    if (failures.length > 0) {
      // One line per round, not per workflow: Temporal being down fails them all.
      o.log.warn(
        { failed: failures.length, first: failures[0] },
        'usage signals failed; their outbox rows stay for the next round',
      );
      failures.length = 0;
    }
    for (const subs of pending.values()) for (const s of done) subs.delete(s);
    for (const s of done) owedSince.delete(s);
    await deleteDone();
    if (lastSignal.size > 100_000) {
      for (const [s, t] of lastSignal) if (now - t > minGapMs) lastSignal.delete(s);
    }
    return done.size;
  }

  async function deleteDone(): Promise<void> {
    const finished = [...pending.entries()].filter(([, subs]) => subs.size === 0).map(([id]) => id);
    await deleteOutbox(o.sql, finished);
    for (const id of finished) pending.delete(id);
  }

  return { tick, stop: async () => {} };
}

/**
 * Runs the dispatcher in this process: waits for leadership, then loops (at once while there is
 * work, `idleMs` apart when there is none). `stop()` ends the loop and releases leadership.
 */
export function startUsageDispatcher(o: DispatcherOptions): Dispatcher {
  const d = createDispatcher(o);
  const idleMs = o.idleMs ?? 50;
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wakeUp = () => {
        clearTimeout(t);
        r();
      };
    });

  const loop = (async () => {
    const conn = await o.sql.reserve();
    try {
      while (!stopped) {
        const [row] = await conn<
          { ok: boolean }[]
        >`select pg_try_advisory_lock(${LEADER_LOCK}) as ok`;
        if (row?.ok) break;
        await sleep(1_000);
      }
      while (!stopped) {
        let sent = 0;
        try {
          sent = await d.tick();
        } catch (err) {
          o.log.error({ err }, 'usage dispatch round failed');
          await sleep(1_000);
        }
        // Busy: go again after a breath; idle: poll.
        await sleep(sent > 0 ? 5 : idleMs);
      }
    } finally {
      await conn`select pg_advisory_unlock_all()`.catch(() => {});
      conn.release();
    }
  })().catch((err) => o.log.error({ err }, 'usage dispatcher stopped'));

  return {
    tick: d.tick,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
