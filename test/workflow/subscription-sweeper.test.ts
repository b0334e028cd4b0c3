/**
 * A subscription row whose workflow was never started (the API died between inserting the row
 * and starting the workflow) is found by the sweeper next to the worker and started from the
 * row, so it bills; a row the API just inserted is left to the API.
 */
import { describe, expect, it } from 'vitest';
import { getPlan, snapshotTerms } from '../../db/queries/plans';
import { getRateChange, queueRateChange } from '../../db/queries/rate-changes';
import { insertSubscription } from '../../db/queries/subscriptions';
import { newId } from '../../lib/ids';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import { sweepSubscriptionStarts } from '../../background/subscription-sweeper';
import {
  createClient,
  createPlan,
  startSubscription,
  useHarness,
  waitFor,
  waitForRequests,
} from './harness';

// This file sweeps by itself: the worker's own sweeper would race it.
const h = useHarness({ sweep: false });

const startedAt = async (id: string) =>
  (
    await h.db.sql<{ at: Date | null }[]>`
      select workflow_started_at as at from subscriptions where id = ${id}`
  )[0]!.at;

/** Inserts a row as the API does, then nothing: as if the process died right after. */
async function orphanRow(planId: string, clientId: string, ageMs: number) {
  const plan = (await getPlan(h.db.sql, h.api.agencyId, planId))!;
  const id = newId('sub');
  await insertSubscription(h.db.sql, {
    id,
    agencyId: h.api.agencyId,
    clientId,
    planId,
    terms: { ...snapshotTerms(plan), rateMinorPerMinute: '25' },
    agentIds: [],
    billingMode: 'manual',
    status: 'active',
    startAt: new Date(Date.now() - ageMs),
    coupon: null,
    workflowId: subscriptionWorkflowId(id),
  });
  await h.db.sql`
    update subscriptions set created_at = now() - make_interval(secs => ${ageMs / 1000})
    where id = ${id}`;
  return id;
}

describe('the subscription sweeper', () => {
  it('records the start of a workflow the API started', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 4900 });
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    expect(await startedAt(sub.id)).not.toBeNull();
    await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
  });

  it('starts the workflow of a row a crash left behind, which then bills', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 4900 });
    const left = await createClient(h.api);
    const fresh = await createClient(h.api);
    const orphan = await orphanRow(plan.id, left.id, 120_000);
    // Inserted a moment ago: the API that inserted it is still starting its workflow.
    const inFlight = await orphanRow(plan.id, fresh.id, 0);

    expect(await sweepSubscriptionStarts(h.db.sql, h.env.client)).toBe(1);
    expect(await startedAt(orphan)).not.toBeNull();
    const [first] = await waitForRequests(h.api, orphan, 1);
    expect(first).toMatchObject({ type: 'cycle', totalMinor: 4900 });
    const live = await h.api.call('GET', `/v1/subscriptions/${orphan}`);
    expect(live.body.status).toBe('active');

    // Done: swept again, nothing; the young row is still the API's.
    expect(await sweepSubscriptionStarts(h.db.sql, h.env.client)).toBe(0);
    expect(await startedAt(inFlight)).toBeNull();
    // Until it is started, a change to it is refused as retryable, not as "ended".
    const cancel = await h.api.call('POST', `/v1/subscriptions/${inFlight}/cancel`, {
      when: 'now',
    });
    expect(cancel.status).toBe(503);
    expect(cancel.body.error.code).toBe('unavailable');
    const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(inFlight));
    await expect(handle.describe()).rejects.toThrow();
    await h.api.call('POST', `/v1/subscriptions/${orphan}/cancel`, { when: 'now' });
    // Taken back (as the API does when the start fails), it leaves no rate owed behind.
    await h.db.sql.begin((tx) => queueRateChange(tx, inFlight, '30'));
    await h.db.sql`delete from subscriptions where id = ${inFlight}`;
    expect(await getRateChange(h.db.sql, inFlight)).toBeNull();
  });

  it('never starts a second run of a workflow that already ended (canceled before its start was recorded)', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 4900 });
    const client = await createClient(h.api);
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, sub.id, 1);
    const handle = h.env.client.workflow.getHandle(subscriptionWorkflowId(sub.id));
    const firstRun = (await handle.describe()).runId;
    expect(
      (await h.api.call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' })).status,
    ).toBe(200);
    await waitFor(
      async () =>
        (await h.api.call('GET', `/v1/subscriptions/${sub.id}`)).body.status === 'canceled',
      'canceled',
    );
    // As if the start had never been recorded and a sweeper read the row while it was live.
    const [row] = await h.db.sql`
      update subscriptions set workflow_started_at = null, status = 'active',
        created_at = now() - interval '2 minutes'
      where id = ${sub.id} returning id`;
    expect(row).toBeDefined();
    expect(await sweepSubscriptionStarts(h.db.sql, h.env.client)).toBe(1);
    expect(await startedAt(sub.id)).not.toBeNull();
    // The ended run was not started again: the latest run is still the first one, ended.
    const latest = await handle.describe();
    expect(latest.runId).toBe(firstRun);
    expect(latest.status.name).toBe('COMPLETED');
    await h.db.sql`update subscriptions set status = 'canceled' where id = ${sub.id}`;
  });

  it('starts a row left unstarted longer than a period from now, not from its start', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 700, rhythm: 'day' });
    const client = await createClient(h.api);
    const orphan = await orphanRow(plan.id, client.id, 3 * 86_400_000);
    expect(await sweepSubscriptionStarts(h.db.sql, h.env.client)).toBe(1);
    // One request, for a period that starts now: no catch-up of three days already past due.
    const requests = await waitForRequests(h.api, orphan, 1);
    expect(requests).toHaveLength(1);
    expect(Date.parse(requests[0].dueAt)).toBeGreaterThan(Date.now());
    await h.api.call('POST', `/v1/subscriptions/${orphan}/cancel`, { when: 'now' });
  });
});
