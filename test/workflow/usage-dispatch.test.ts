/**
 * How stored usage reaches the workflows (README, "Usage metering"): coalesced per subscription
 * (many batches, one signal carrying their total), under a global signal budget per second, and
 * at most one signal per subscription per gap; an outbox row waits until its workflow was
 * signaled. Counted from the workflows' own histories on the time-skipping server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../services/usage-ingest';
import { createDispatcher } from '../../background/usage-dispatcher';
import { createLogger } from '../../lib/logger';
import { createFixture, type Fixture } from '../helpers/usage-fixtures';
import { subscriptionWorkflowId, usageSignal } from '../../workflows/definitions';
import { liveState, startHarness, waitFor, waitForRequests, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

let seq = 0;

/** One batch of voice seconds, stored at the test server's clock (no signal sent). */
async function store(f: Fixture, seconds: number) {
  const now = await h.env.currentTimeMs();
  const res = await ingestBatch(
    h.db.sql,
    h.api.agencyId,
    [
      {
        id: `d${++seq}`,
        client: f.clientId,
        metric: 'voice_seconds',
        quantity: seconds,
        time: new Date(now).toISOString(),
      },
    ],
    now,
  );
  expect(res.rejected).toEqual([]);
}

async function usageSignals(f: Fixture): Promise<number> {
  const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(f.subscriptionId));
  const { events } = await handle.fetchHistory();
  return (events ?? []).filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === usageSignal.name,
  ).length;
}

const outboxRows = async () =>
  (await h.db.sql`select count(*)::int as n from usage_outbox`)[0]!.n as number;

describe('usage dispatch', () => {
  it('coalesces batches per subscription, keeps to the budget and the gap, loses nothing', async () => {
    const fs: Fixture[] = [];
    for (let i = 0; i < 3; i++) fs.push(await createFixture(h.api));
    for (const f of fs) await waitForRequests(h.api, f.subscriptionId, 1);
    const [a, b, c] = fs as [Fixture, Fixture, Fixture];

    const dispatcher = createDispatcher({
      sql: h.db.sql,
      temporal: h.env.client,
      log: createLogger('silent'),
      minGapMs: 60_000,
      maxPerSecond: 2,
    });
    // Three batches for A, one each for B and C: five outbox rows, three workflows owed.
    await store(a, 60);
    await store(a, 120);
    await store(a, 180);
    await store(b, 30);
    await store(c, 45);
    expect(await outboxRows()).toBe(5);

    // A budget of 2 a second: the first round signals two workflows, A (owed first) among them.
    expect(await dispatcher.tick()).toBe(2);
    expect(await usageSignals(a)).toBe(1);
    expect((await usageSignals(b)) + (await usageSignals(c))).toBe(1);
    expect(await outboxRows()).toBe(1);

    // The third follows as the budget refills.
    let sent = 0;
    await waitFor(async () => {
      sent += await dispatcher.tick();
      return (await outboxRows()) === 0;
    }, 'outbox drained');
    expect(sent).toBe(1);
    // One signal per workflow, carrying every batch stored before it.
    for (const f of fs) expect(await usageSignals(f)).toBe(1);
    await waitFor(async () => (await liveState(h, a.subscriptionId)).usage.totalSeconds === 360);
    await waitFor(async () => (await liveState(h, b.subscriptionId)).usage.totalSeconds === 30);
    await waitFor(async () => (await liveState(h, c.subscriptionId)).usage.totalSeconds === 45);

    // Within the gap, A is not signaled again: its new row waits, nothing is lost.
    await store(a, 15);
    await new Promise((r) => setTimeout(r, 1_100)); // the budget is full again
    expect(await dispatcher.tick()).toBe(0);
    expect(await outboxRows()).toBe(1);
    expect(await usageSignals(a)).toBe(1);

    // Another dispatcher (a restart, say) delivers it.
    const next = createDispatcher({
      sql: h.db.sql,
      temporal: h.env.client,
      log: createLogger('silent'),
      minGapMs: 0,
    });
    expect(await next.tick()).toBe(1);
    expect(await outboxRows()).toBe(0);
    await waitFor(async () => (await liveState(h, a.subscriptionId)).usage.totalSeconds === 375);
    expect(await usageSignals(a)).toBe(2);
    for (const f of fs)
      await h.api.call('POST', `/v1/subscriptions/${f.subscriptionId}/cancel`, { when: 'now' });
  });
});
