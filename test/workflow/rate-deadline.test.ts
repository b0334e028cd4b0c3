/**
 * A rate delivery whose workflow does not answer (its worker gone) gives up after its deadline
 * and leaves the rate owed for the next sweep, instead of holding a sweeper forever. In a file of
 * its own: the time-skipping server stops skipping time after an update that was never answered,
 * so tests that sleep through periods cannot share its server.
 */
import { describe, expect, it } from 'vitest';
import { deliverRateChange } from '../../services/client-rates';
import { getRateChange, queueRateChange } from '../../db/queries/rate-changes';
import { subscriptionWorkflowId } from '../../workflows/definitions';
import {
  createClient,
  createPlan,
  startSubscription,
  useHarness,
  waitForRequests,
} from './harness';

const h = useHarness({ sweep: false });

describe('rate delivery deadline', () => {
  it('a rate update the workflow does not answer gives up after its deadline, still owed', async () => {
    const plan = await createPlan(h.api, { flatFeeMinor: 1000, overageRateMinorPerMinute: '20' });
    const client = await createClient(h.api, { rateMinorPerMinute: '25' });
    const sub = await startSubscription(h.api, { clientId: client.id, planId: plan.id });
    await waitForRequests(h.api, sub.id, 1);
    // The workflow's worker is gone: its run is replaced by one on a task queue nobody polls.
    const workflowId = subscriptionWorkflowId(sub.id);
    await h.env.client.workflow.getHandle(workflowId).terminate('test: no worker');
    const unanswered = await h.env.client.workflow.start('subscriptionWorkflow', {
      taskQueue: 'tally-test-no-worker',
      workflowId,
      args: [{}],
    });
    await h.db.sql.begin((tx) => queueRateChange(tx, sub.id, '30'));
    const started = Date.now();
    await expect(
      deliverRateChange({ sql: h.db.sql, temporal: h.env.client }, sub.id),
    ).rejects.toThrow();
    // It waited for the update about 5 s, not forever; the rate is left for the next sweep.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await getRateChange(h.db.sql, sub.id)).toMatchObject({
      version: 1,
      deliveredVersion: 0,
    });
    await unanswered.terminate('test: done');
    // Its workflow is gone for good: the row ends too, so no sweeper keeps trying.
    await h.db.sql`update subscriptions set status = 'canceled' where id = ${sub.id}`;
    await h.db.sql`delete from rate_change_outbox where subscription_id = ${sub.id}`;
  }, 30_000);
});
