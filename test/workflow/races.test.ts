/**
 * Handlers that arrive while a renewal is in flight, on the time-skipping server with fake
 * activities (no database): the renewal activity waits on a gate the test opens, so each race is
 * forced, not hoped for. A cancel must end the subscription (not deadlock waiting to continue as
 * new), a usage signal must be folded by the next run, a coupon attached meanwhile must be kept,
 * and the new request must be payable at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { NO_USAGE, type PeriodUsage } from '../../billing/invoice';
import { growthTerms } from '../helpers/plan-terms';
import type { CommitInput, RenewInput, RenewResult } from '../../workflows/activity-contract';
import { renewalRequest, shouldIssue } from '../../billing/subscription-requests';
import {
  TASK_QUEUE,
  cancelUpdate,
  recordPaymentUpdate,
  setCouponUpdate,
  stateQuery,
  usageSignal,
  type SubscriptionInput,
} from '../../workflows/definitions';
import type { subscriptionWorkflow } from '../../workflows/subscription';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { sendWhileRenewing } from '../../temporal/subscription-calls';
import { waitFor } from './harness';

const terms = growthTerms({ planId: 'pln_1', includedMinutes: 0 });

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const commits: CommitInput[] = [];
const renewals: RenewInput[] = [];
const folds: string[] = [];
let gate: { open: () => void; promise: Promise<void> } | null = null;
let renewing = false;

function newGate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { open, promise };
}

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: {
      async commitSubscription(input: CommitInput) {
        commits.push(input);
        return { access: null };
      },
      async renewSubscription(input: RenewInput): Promise<RenewResult> {
        renewals.push(input);
        renewing = true;
        await gate?.promise;
        renewing = false;
        const plan = renewalRequest(input.renewal, NO_USAGE);
        return {
          access: null,
          usage: NO_USAGE,
          couponAfter: plan.couponAfter,
          issued: shouldIssue(input.billable, plan.draft)
            ? { id: input.request.requestId, totalMinor: plan.draft.totalMinor }
            : null,
        };
      },
      async getPeriodUsage(): Promise<PeriodUsage> {
        return NO_USAGE;
      },
      async readLiveUsage(input: { subscriptionId: string }) {
        folds.push(input.subscriptionId);
        return {
          usage: { ...NO_USAGE, totalSeconds: 120 },
          minutesExhausted: false,
          walletBalanceSeconds: 0,
        };
      },
    },
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

let n = 0;
async function startSubscription(workflowTaskTimeout?: string) {
  const id = `sub_race${++n}`;
  const input: SubscriptionInput = {
    subscriptionId: id,
    agencyId: 'agy_1',
    clientId: `cli_${n}`,
    billingMode: 'manual',
    terms,
    rateMinorPerMinute: null,
    agentIds: [],
    startAtMs: null,
    coupon: null,
  };
  const handle = await env.client.workflow.start<typeof subscriptionWorkflow>(
    'subscriptionWorkflow',
    {
      taskQueue: TASK_QUEUE,
      workflowId: `subscription-${id}`,
      args: [input],
      ...(workflowTaskTimeout ? { workflowTaskTimeout } : {}),
    },
  );
  await waitFor(async () => (await handle.query(stateQuery)).status === 'active', 'active');
  return { id, handle };
}

/** Moves the clock to the period end with the renewal held at the gate. */
async function holdRenewal(handle: Awaited<ReturnType<typeof startSubscription>>['handle']) {
  gate = newGate();
  const { periodEnd } = await handle.query(stateQuery);
  const sleeping = env.sleep(Date.parse(periodEnd) - (await env.currentTimeMs()));
  await waitFor(async () => renewing, 'renewal under way');
  return sleeping;
}

describe('handlers during a renewal', () => {
  it('a cancel during the renewal ends the subscription instead of deadlocking', async () => {
    const { handle } = await startSubscription();
    const sleeping = await holdRenewal(handle);
    const cancel = sendWhileRenewing(() =>
      handle.executeUpdate(cancelUpdate, { args: [{ when: 'now', reason: 'race' }] }),
    );
    await new Promise((r) => setTimeout(r, 200));
    gate!.open();
    await sleeping;
    const view = await cancel;
    expect(view.status).toBe('canceled');
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'canceled', periodIndex: 1 });
    const last = commits.at(-1)!;
    expect(last.mirror.status).toBe('canceled');
    expect(last.events.map((e) => e.type)).toContain('subscription.canceled');
  });

  it('the renewal\u2019s request shows no amount until it is issued', async () => {
    // The renewal runs as a local activity: its workflow task stays open meanwhile and a query
    // waits for the task's heartbeats (16 s with the default 10 s task timeout, measured); a
    // short task timeout keeps that wait short.
    const { handle } = await startSubscription('2s');
    // Paid, so the subscription is still billable at the period end.
    const [first] = (await handle.query(stateQuery)).openRequests;
    await handle.executeUpdate(recordPaymentUpdate, {
      args: [{ requestId: first!.id, status: 'paid' }],
    });
    const sleeping = await holdRenewal(handle);
    const renewal = renewals.at(-1)!;
    const during = (await handle.query(stateQuery)).openRequests.find(
      (r) => r.id === renewal.request.requestId,
    );
    expect(during).toMatchObject({ periodIndex: 1, status: 'pending', totalMinor: null });
    gate!.open();
    await sleeping;
    await waitFor(async () => {
      const r = (await handle.query(stateQuery)).openRequests.find(
        (o) => o.id === renewal.request.requestId,
      );
      return r?.totalMinor != null;
    }, 'issued');
    const issued = (await handle.query(stateQuery)).openRequests.find(
      (r) => r.id === renewal.request.requestId,
    );
    expect(issued!.totalMinor).toBe(terms.flatFeeMinor);
    await handle.executeUpdate(cancelUpdate, { args: [{ when: 'now' }] });
  });

  it('a usage signal during the renewal is folded by the next run', async () => {
    const { id, handle } = await startSubscription();
    const sleeping = await holdRenewal(handle);
    const before = folds.filter((f) => f === id).length;
    await handle.signal(usageSignal, { throughSeq: 7 });
    gate!.open();
    await sleeping;
    await waitFor(async () => (await handle.query(stateQuery)).periodIndex === 1, 'renewed');
    await waitFor(async () => folds.filter((f) => f === id).length > before, 'folded');
    expect((await handle.query(stateQuery)).usage.totalSeconds).toBe(120);
    await handle.executeUpdate(cancelUpdate, { args: [{ when: 'now' }] });
  });

  it('a coupon attached during the renewal is kept; the new request can be paid at once', async () => {
    const { handle } = await startSubscription();
    // Paid, so the subscription is still active (billable) at the period end.
    const [first] = (await handle.query(stateQuery)).openRequests;
    await handle.executeUpdate(recordPaymentUpdate, {
      args: [{ requestId: first!.id, status: 'paid' }],
    });
    const sleeping = await holdRenewal(handle);
    const coupon = {
      couponId: 'cpn_1',
      name: 'Later',
      kind: 'percent' as const,
      percentOff: '10',
      amountOffMinor: null,
      duration: 'once' as const,
      remaining: 1,
    };
    const attach = sendWhileRenewing(() =>
      handle.executeUpdate(setCouponUpdate, { args: [coupon] }),
    );
    const renewal = renewals.at(-1)!;
    const pay = sendWhileRenewing(() =>
      handle.executeUpdate(recordPaymentUpdate, {
        args: [{ requestId: renewal.request.requestId, status: 'paid' }],
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    gate!.open();
    await sleeping;
    await attach;
    expect(await pay).toMatchObject({ id: renewal.request.requestId, status: 'paid' });
    await waitFor(async () => (await handle.query(stateQuery)).periodIndex === 1, 'renewed');
    const state = await handle.query(stateQuery);
    expect(state.coupon).toEqual(coupon);
    expect(state.openRequests.map((r) => r.id)).not.toContain(renewal.request.requestId);
    const paid = commits.flatMap((c) => c.requestUpdates);
    expect(paid).toContainEqual(
      expect.objectContaining({ requestId: renewal.request.requestId, status: 'paid' }),
    );
    await handle.executeUpdate(cancelUpdate, { args: [{ when: 'now' }] });
  });
});
