/**
 * Records the replay fixtures in test/workflow/histories/: representative runs of the
 * subscription and webhook delivery workflows on a time-skipping server, every run of each
 * continue-as-new chain saved as one JSON history. test/workflow/replay.test.ts replays them
 * against the current workflow bundle, so a change that would break running workflows fails
 * `npm test`.
 *
 * Re-record everything (`npm run histories:record`) only when running workflows no longer
 * matter (before a first deployment, or after all of them finished); otherwise keep the old
 * fixtures, make the change replay-safe with `patched()`, and record only the new scenario next
 * to them (`npm run histories:record -- <scenario>`): the other fixtures are left as they are.
 * `legacy-*` fixtures were recorded by earlier workflow code (no scenario here records them): a
 * scenario-only recording keeps them, a full re-recording drops them with everything else.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createSql } from '../db/client';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency } from '../db/queries/agencies';
import { createLogger } from '../lib/logger';
import { queueRateChange } from '../db/queries/rate-changes';
import { registerSearchAttributes } from '../temporal/connection';
import { recordSubscriptionPayment } from '../temporal/subscription-calls';
import { runHistories } from '../temporal/histories';
import { createWorker } from '../worker/create-worker';
import { sweepRateChanges } from '../background/rate-change-sweeper';
import { fixturesReplaced, historyToFixture } from '../test/workflow/history-fixtures';
import { testServerExecutable } from '../tools';

const outDir = fileURLToPath(new URL('../test/workflow/histories/', import.meta.url));
const DAY = 86_400_000;
const SCENARIOS = [
  'monthly-coupon-rate-change-cancel-at-end',
  'dunning-blocked-paid-canceled',
  'weekly-failed-paid-plan-switch',
  'scheduled-canceled-before-start',
  'stale-client-rate-ignored',
  'webhook-delivery-retried',
  'stripe-retries-exhausted-blocked',
] as const;
type ScenarioName = (typeof SCENARIOS)[number];
/** Scenarios to record (all when none is named), checked before anything starts. */
const only = new Set(process.argv.slice(2));
const unknown = [...only].filter((n) => !SCENARIOS.includes(n as ScenarioName));
if (unknown.length > 0) {
  console.error(`no scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}

Runtime.install({ logger: new DefaultLogger('WARN') });
const db = await startEmbeddedPostgres();
const sql = createSql(db.url);
await migrate(sql);
const executable = await testServerExecutable();
const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
await registerSearchAttributes(env.client, 'default');
const worker = await createWorker({
  connection: env.nativeConnection,
  namespace: 'default',
  deps: { sql },
  sweep: false,
});
const running = worker.run();

// A receiver that refuses the first attempt, so the delivery history holds a retry.
let refuse = 1;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(refuse-- > 0 ? 503 : 204).end());
});
await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

const app = createApp({
  sql,
  temporal: env.client,
  log: createLogger('silent'),
  platformRateMinorPerMinute: '15',
  adminKey: undefined,
  stripe: null,
});
const { apiKey } = await createAgency(sql, { name: 'Recorder', webhookUrl: hookUrl });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers, read loosely
type Json = any;
async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i > 400) throw new Error('timed out waiting for the workflow');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const requests = async (subId: string) =>
  (await call('GET', `/v1/payment-requests?subscriptionId=${subId}&limit=100`)).data as Json[];
const sleepUntil = async (ms: number) => env.sleep(Math.max(0, ms - (await env.currentTimeMs())));
async function payAll(subId: string) {
  for (const r of await requests(subId))
    if (r.status !== 'paid')
      await call('POST', `/v1/payment-requests/${r.id}/mark`, { status: 'paid' });
}
async function start(planFields: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const plan = await call('POST', '/v1/plans', {
    name: 'Growth',
    currency: 'USD',
    flatFeeMinor: 4900,
    overageRateMinorPerMinute: '20',
    rhythm: 'month',
    dueDays: 7,
    graceDays: 5,
    ...planFields,
  });
  const client = await call('POST', '/v1/clients', { name: 'Client', rateMinorPerMinute: '25' });
  const sub = await call('POST', '/v1/subscriptions', {
    clientId: client.id,
    planId: plan.id,
    ...extra,
  });
  return { sub, client };
}

/**
 * A scenario drives one workflow through the API and returns its id; `needs`: scenarios run
 * before it for what they leave behind (run, not recorded, when only this one is named).
 */
const scenarios: { name: ScenarioName; needs?: ScenarioName[]; run: () => Promise<string> }[] = [];

// Monthly, coupon for 3 periods, paid on time, a rate change, two renewals, cancel at period end.
scenarios.push({
  name: 'monthly-coupon-rate-change-cancel-at-end',
  async run() {
    const coupon = await call('POST', '/v1/coupons', {
      name: 'Half',
      kind: 'percent',
      percentOff: '50',
      duration: 'repeating',
      durationPeriods: 3,
    });
    const { sub } = await start({}, { couponId: coupon.id });
    await until(async () => (await requests(sub.id)).length === 1);
    await payAll(sub.id);
    await call('POST', `/v1/subscriptions/${sub.id}/change`, { rateMinorPerMinute: '40' });
    for (let n = 2; n <= 3; n++) {
      const row = await call('GET', `/v1/subscriptions/${sub.id}`);
      await sleepUntil(Date.parse(row.currentPeriodEnd));
      await until(async () => (await requests(sub.id)).length === n);
      await payAll(sub.id);
    }
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'period_end' });
    const row = await call('GET', `/v1/subscriptions/${sub.id}`);
    await sleepUntil(Date.parse(row.currentPeriodEnd) + DAY);
    await until(
      async () => (await call('GET', `/v1/subscriptions/${sub.id}`)).status === 'canceled',
    );
    return sub.workflowId;
  },
});

// Dunning: overdue, past due, blocked, paid while blocked, canceled now.
scenarios.push({
  name: 'dunning-blocked-paid-canceled',
  async run() {
    const { sub } = await start({ flatFeeMinor: 3000 });
    await until(async () => (await requests(sub.id)).length === 1);
    const [first] = await requests(sub.id);
    await sleepUntil(Date.parse(first.graceEndsAt));
    await until(
      async () => (await call('GET', `/v1/subscriptions/${sub.id}`)).status === 'blocked',
    );
    await payAll(sub.id);
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now', reason: 'blocked' });
    return sub.workflowId;
  },
});

// Past due then paid back to active; weekly, a plan switch to monthly, failed then paid.
scenarios.push({
  name: 'weekly-failed-paid-plan-switch',
  async run() {
    const monthly = await call('POST', '/v1/plans', {
      name: 'Monthly',
      currency: 'USD',
      flatFeeMinor: 9900,
      rhythm: 'month',
    });
    const { sub } = await start({ flatFeeMinor: 1500, rhythm: 'week', dueDays: 3, graceDays: 3 });
    await until(async () => (await requests(sub.id)).length === 1);
    const [first] = await requests(sub.id);
    await call('POST', `/v1/payment-requests/${first.id}/mark`, { status: 'failed' });
    await sleepUntil(Date.parse(first.dueAt));
    await until(
      async () => (await call('GET', `/v1/subscriptions/${sub.id}`)).status === 'past_due',
    );
    await payAll(sub.id);
    await call('POST', `/v1/subscriptions/${sub.id}/change`, { planId: monthly.id });
    await sleepUntil(
      Date.parse((await call('GET', `/v1/subscriptions/${sub.id}`)).currentPeriodEnd),
    );
    await until(async () => (await requests(sub.id)).length === 2);
    // Past the hand-over to the next run: the rest happens in run 1.
    await env.sleep('2 hours');
    await payAll(sub.id);
    await call('DELETE', `/v1/subscriptions/${sub.id}/coupon`);
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
    return sub.workflowId;
  },
});

// Scheduled start, canceled before it starts.
scenarios.push({
  name: 'scheduled-canceled-before-start',
  async run() {
    const { sub } = await start(
      {},
      { startAt: new Date((await env.currentTimeMs()) + 5 * DAY).toISOString() },
    );
    await until(
      async () => (await call('GET', `/v1/subscriptions/${sub.id}`)).currentPeriodStart !== null,
    );
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
    return sub.workflowId;
  },
});

// A client rate owed from before a change of the subscription's own rate arrives late and is
// ignored (patched 'rate-decided-at'); a client rate decided afterwards is scheduled for the next
// period, and its redelivery taken once (the same patch); one renewal (no usage: the flat fee),
// then cancel now.
scenarios.push({
  name: 'stale-client-rate-ignored',
  async run() {
    const { sub, client } = await start({});
    await until(async () => (await requests(sub.id)).length === 1);
    await payAll(sub.id);
    // Owed as if its PATCH had found Temporal unreachable; the subscription's own rate follows.
    await sql.begin((tx) => queueRateChange(tx, sub.id, '28'));
    await call('POST', `/v1/subscriptions/${sub.id}/change`, { rateMinorPerMinute: '40' });
    if ((await sweepRateChanges(sql, env.client, { olderThanMs: 0 })) !== 1)
      throw new Error('the owed rate was not delivered');
    await call('PATCH', `/v1/clients/${client.id}`, { rateMinorPerMinute: '45' });
    // Delivered again (a second sweeper): the same change, taken once.
    await sql`update rate_change_outbox set delivered_version = 0 where subscription_id = ${sub.id}`;
    if ((await sweepRateChanges(sql, env.client, { olderThanMs: 0 })) !== 1)
      throw new Error('the redelivery did not happen');
    const row = await call('GET', `/v1/subscriptions/${sub.id}`);
    await sleepUntil(Date.parse(row.currentPeriodEnd));
    await until(async () => (await requests(sub.id)).length === 2);
    await payAll(sub.id);
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now' });
    return sub.workflowId;
  },
});

// A webhook delivery with a retry: the receiver refuses the first delivery, of the access
// changes the dunning scenario queues.
scenarios.push({
  name: 'webhook-delivery-retried',
  needs: ['dunning-blocked-paid-canceled'],
  async run() {
    const [row] = await sql<{ id: string }[]>`
      select id from webhook_deliveries where status = 'delivered' and attempts > 1 limit 1`;
    if (!row) throw new Error('no delivery with a retry to record');
    return `webhook-${row.id}`;
  },
});

// Stripe retries (patched 'stripe-retries'): a failed auto-charge as invoice.payment_failed
// hands it to the workflow, retried 3, 5 and 7 days later (this worker has no Stripe set-up, so
// each retry answers failed without a call), past due, blocked when the grace period that
// started then ends, paid while blocked, canceled now.
scenarios.push({
  name: 'stripe-retries-exhausted-blocked',
  async run() {
    const { sub } = await start({ flatFeeMinor: 2000 });
    await until(async () => (await requests(sub.id)).length === 1);
    const [first] = await requests(sub.id);
    await recordSubscriptionPayment(env.client, sub.id, {
      requestId: first.id,
      status: 'failed',
      externalReference: 'in_recorded',
      retry: { days: [3, 5, 7], reason: 'Your card was declined.' },
    });
    for (let n = 1; n <= 3; n++) {
      await until(async () => (await requests(sub.id))[0].nextRetryAt !== null);
      await sleepUntil(Date.parse((await requests(sub.id))[0].nextRetryAt) + 1_000);
      await until(async () => {
        const events = await sql`
          select 1 from events where subject_id = ${sub.id} and type = 'payment_request.retry_failed'`;
        return events.length === n;
      });
    }
    const [exhausted] = await requests(sub.id);
    await sleepUntil(Date.parse(exhausted.graceEndsAt) + 1_000);
    await until(
      async () => (await call('GET', `/v1/subscriptions/${sub.id}`)).status === 'blocked',
    );
    await payAll(sub.id);
    await call('POST', `/v1/subscriptions/${sub.id}/cancel`, { when: 'now', reason: 'blocked' });
    return sub.workflowId;
  },
});

const missing = SCENARIOS.filter((n) => !scenarios.some((s) => s.name === n));
if (missing.length > 0) throw new Error(`no run for scenario ${missing.join(', ')}`);
const wanted = new Set(
  scenarios
    .filter((s) => only.size === 0 || only.has(s.name))
    .flatMap((s) => [s.name, ...(s.needs ?? [])]),
);
const recorded: { name: string; workflowId: string }[] = [];
for (const { name, run } of scenarios) {
  if (!wanted.has(name)) continue;
  const workflowId = await run();
  if (only.size === 0 || only.has(name)) recorded.push({ name, workflowId });
}

await mkdir(outDir, { recursive: true });
for (const file of fixturesReplaced(await readdir(outDir), only)) await rm(`${outDir}${file}`);
for (const { name, workflowId } of recorded) {
  let n = 0;
  for await (const history of runHistories(env.client, workflowId)) {
    const file = `${name}.run${n++}.json`;
    await writeFile(`${outDir}${file}`, historyToFixture(history));
    console.log(`recorded ${file} (${history.events?.length} events)`);
  }
}

worker.shutdown();
await running;
await env.teardown();
receiver.close();
await sql.end({ timeout: 5 });
await db.stop();
