/**
 * Commit bookkeeping of a subscription workflow run. Handlers and the main loop change the state
 * and queue effects here; only the main loop stores them, one activity per step, so the read
 * model sees states in the order the workflow had them. A handler that must answer after its
 * change is stored waits for the commit that covers it (`stored(changed())`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { accessHolds, type SubscriptionState } from '../billing/subscription';
import type {
  CommitInput,
  CommitResult,
  RenewInput,
  RenewResult,
  SubscriptionMirror,
} from './activity-contract';
import { workflowNowMs } from './clock';
import { CurrentPeriodEndAttr, PlanIdAttr, SubscriptionStatusAttr } from './definitions';
import { commitSubscription, renewSubscription } from './subscription-activities';

/** What the next commit stores beside the state. */
export type Effects = Pick<CommitInput, 'requestUpdates' | 'issue' | 'closedPeriod' | 'events'>;

const noEffects = (): Effects => ({
  requestUpdates: [],
  issue: null,
  closedPeriod: null,
  events: [],
});

/** The effects queued for the next commit, and how far the read model is behind the state. */
export class CommitQueue {
  effects: Effects = noEffects();
  /** Bumped by every change the read model must show. */
  private requested = 0;
  /** The highest `requested` stored. */
  private committed = 0;
  /** Commits of this run, for event dedupe keys. */
  private count = 0;

  /** `onChange`: wakes the main loop, which does the storing. */
  constructor(private readonly onChange: () => void) {}

  /** Notes a change to store; returns the number a handler waits for. */
  changed(): number {
    this.requested += 1;
    this.onChange();
    return this.requested;
  }

  /** Resolves once change `n` (from changed()) is stored. */
  stored(n: number): Promise<void> {
    return condition(() => this.committed >= n);
  }

  /** Whether anything waits to be stored. */
  pendingWork(): boolean {
    const e = this.effects;
    return (
      this.requested > this.committed ||
      e.requestUpdates.length > 0 ||
      e.issue !== null ||
      e.closedPeriod !== null ||
      e.events.length > 0
    );
  }

  /** Takes the queued effects for a commit: the batch, the change it covers, its number. */
  take(): { batch: Effects; upto: number; number: number } {
    const upto = this.requested;
    const batch = this.effects;
    this.effects = noEffects();
    this.count += 1;
    return { batch, upto, number: this.count };
  }

  /** A commit stored every change up to `upto`. */
  done(upto: number): void {
    this.committed = Math.max(this.committed, upto);
  }
}

/** What a commit reads from the subscription entity (workflows/subscription-entity.ts). */
export interface CommitSubject {
  readonly ids: { agencyId: string; clientId: string; subscriptionId: string };
  readonly state: SubscriptionState;
  readonly commits: CommitQueue;
  /** Applies the deadlines that have come by `nowMs`. */
  refresh(nowMs: number): void;
  /** The read model's view of the state, as the next commit stores it. */
  mirror(): SubscriptionMirror;
}

/** Thrown when the subscription row is gone: the workflow has nothing left to own. */
export class Orphaned extends Error {}

/** Operators filter on these in the Temporal UI: upserted only when they change. */
function upsertAttributes(state: SubscriptionState): void {
  const current = workflowInfo().typedSearchAttributes;
  const updates: SearchAttributeUpdatePair[] = [];
  if (current.get(SubscriptionStatusAttr) !== state.status)
    updates.push({ key: SubscriptionStatusAttr, value: state.status });
  if (current.get(CurrentPeriodEndAttr)?.getTime() !== state.periodEndMs)
    updates.push({ key: CurrentPeriodEndAttr, value: new Date(state.periodEndMs) });
  if (current.get(PlanIdAttr) !== state.terms.planId)
    updates.push({ key: PlanIdAttr, value: state.terms.planId });
  if (updates.length > 0) upsertSearchAttributes(updates);
}

type CommonInput = Omit<CommitInput, 'issue' | 'closedPeriod'>;

/**
 * Stores the state and the queued effects as of `atMs` with `send` (one activity). Access is
 * recomputed only when what it depends on (status, holds) changed since the last commit.
 */
async function store<R>(
  sub: CommitSubject,
  atMs: number,
  send: (common: CommonInput, batch: Effects) => Promise<R>,
): Promise<R> {
  const { state, commits } = sub;
  sub.refresh(atMs);
  const { batch, upto, number } = commits.take();
  upsertAttributes(state);
  const accessKey = `${state.status}:${accessHolds(state).join(',')}`;
  const common: CommonInput = {
    ...sub.ids,
    commitKey: `${workflowInfo().runId}:${number}`,
    mirror: sub.mirror(),
    requestUpdates: batch.requestUpdates,
    events: batch.events,
    recomputeAccess: accessKey !== state.accessKey,
  };
  let result: R;
  try {
    result = await send(common, batch);
  } catch (err) {
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === 'SubscriptionNotFound'
    )
      throw new Orphaned(err.cause.message);
    throw err;
  }
  state.accessKey = accessKey;
  commits.done(upto);
  return result;
}

/** Stores the state and everything queued, in one activity (`commitSubscription`). */
export function commit(sub: CommitSubject): Promise<CommitResult> {
  return store(sub, workflowNowMs(), (common, batch) =>
    commitSubscription({ ...common, issue: batch.issue, closedPeriod: batch.closedPeriod }),
  );
}

/**
 * Stores a renewal with the renewal activity, which also closes the period's usage and builds
 * the request. It reads the clock at its boundary: the same in every attempt of its task.
 */
export function commitRenewal(
  sub: CommitSubject,
  renewal: Pick<RenewInput, 'renewal' | 'billable' | 'request'>,
): Promise<RenewResult> {
  return store(sub, renewal.renewal.closed.endMs, (common) =>
    renewSubscription({ ...common, ...renewal }),
  );
}

/**
 * Commits until nothing is left and every handler has answered, or `stop()` says so. Before
 * continue-as-new a cancel stops the wait: its handler waits for the main loop to end the
 * subscription, so the caller ends instead of continuing as new.
 */
export async function settle(sub: CommitSubject, stop: () => boolean): Promise<void> {
  const { commits } = sub;
  for (;;) {
    if (commits.pendingWork()) await commit(sub);
    else if (allHandlersFinished() || stop()) return;
    else await condition(() => commits.pendingWork() || allHandlersFinished() || stop());
  }
}
