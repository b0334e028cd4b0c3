/**
 * The collection presenter: hands every issued payment request to its collector, from the
 * collection outbox written in the request's own transaction. A round claims small batches of
 * due rows with a lease (FOR UPDATE SKIP LOCKED, so presenters on several workers take different
 * rows), calls each collector outside any transaction, and records the answer; a failure is
 * retried with exponential backoff. A presenter that dies mid-call leaves its rows leased; they
 * are claimed again when the lease runs out, and the collector's idempotency keys make the second
 * call do nothing twice.
 */
import { PermanentCollectionError } from '../collection/collector';
import { collectorFor, defaultCollectors, type Collectors } from '../collection/registry';
import { loadCollectionRequest } from '../collection/request';
import type { Sql } from '../db/client';
import {
  claimDueCollections,
  recordCollectionFailure,
  recordPresented,
  recordSkipped,
  type ClaimedCollection,
} from '../db/queries/collection';
import type { Logger } from '../lib/logger';

export interface PresentOptions {
  sql: Sql;
  /** Collectors by billing mode (default: today's, see collection/registry.ts). */
  collectors?: Collectors;
  log?: Logger;
  /** The time to present at (tests move it); default Postgres's clock. */
  now?: Date;
  /** Rows claimed at once (default 10). */
  batch?: number;
  /** How long a claim holds a row before another presenter may take it (default 5 min). */
  leaseMs?: number;
  /** Attempts before a row is given up as failed_permanently (default 12). */
  maxAttempts?: number;
  /** First retry delay (default 30 s), doubled per attempt up to `maxBackoffMs` (default 6 h). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface PresentReport {
  presented: number;
  /** Paid or canceled before their turn: nothing to collect. */
  skipped: number;
  /** Failed this time, due again later. */
  retrying: number;
  /** Failed for good (a permanent error, or out of attempts). */
  gaveUp: number;
}

/** A round never claims more than this many batches, so it always ends. */
const MAX_BATCHES = 100;

/** The delay before retrying after failed attempt `attempt` (1-based): doubling, capped. */
export function collectionBackoffMs(attempt: number, baseMs = 30_000, maxMs = 6 * 3_600_000) {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
}

/** Presents every due outbox row once (a one-shot round); returns what became of them. */
export async function presentDueRequests(o: PresentOptions): Promise<PresentReport> {
  const batch = o.batch ?? 10;
  const report: PresentReport = { presented: 0, skipped: 0, retrying: 0, gaveUp: 0 };
  for (let i = 0; i < MAX_BATCHES; i++) {
    const claims = await claimDueCollections(o.sql, {
      now: o.now ?? null,
      limit: batch,
      leaseMs: o.leaseMs ?? 5 * 60_000,
    });
    const outcomes = await Promise.all(claims.map((c) => presentOne(o, c)));
    for (const outcome of outcomes) if (outcome) report[outcome] += 1;
    if (claims.length < batch) break;
  }
  return report;
}

/**
 * One claimed row: load, present, record. Null when nothing was recorded: the database failed, or
 * the claim went stale (another presenter holds the row since this lease ran out).
 */
async function presentOne(
  o: PresentOptions,
  claim: ClaimedCollection,
): Promise<keyof PresentReport | null> {
  const now = o.now ?? null;
  try {
    const request = await loadCollectionRequest(o.sql, claim);
    if (request && (request.status === 'paid' || request.status === 'canceled')) {
      return (await recordSkipped(o.sql, claim)) ? 'skipped' : null;
    }
    const collector = collectorFor(claim.billingMode, o.collectors ?? defaultCollectors);
    try {
      if (!request) throw new PermanentCollectionError(`request ${claim.requestId} not found`);
      const result = await collector.present(request);
      const recorded = await recordPresented(o.sql, claim, {
        collector: collector.name,
        externalId: result.externalId,
        hostedUrl: result.hostedUrl,
        now,
      });
      return recorded ? 'presented' : null;
    } catch (err) {
      const giveUp =
        err instanceof PermanentCollectionError || claim.attempt >= (o.maxAttempts ?? 12);
      const retryInMs = giveUp
        ? null
        : collectionBackoffMs(claim.attempt, o.backoffMs, o.maxBackoffMs);
      const recorded = await recordCollectionFailure(o.sql, claim, {
        error: errorText(err),
        retryInMs,
        now,
      });
      if (!recorded) return null;
      o.log?.warn(
        {
          err,
          requestId: claim.requestId,
          attempt: claim.attempt,
          collector: collector.name,
          retryInMs,
        },
        giveUp
          ? 'payment request not presented; giving up'
          : 'payment request not presented; will retry',
      );
      return giveUp ? 'gaveUp' : 'retrying';
    }
  } catch (err) {
    // The database failed us (reading or recording): the row stays leased and is claimed again.
    o.log?.warn({ err, requestId: claim.requestId }, 'collection not recorded; the lease retries');
    return null;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
