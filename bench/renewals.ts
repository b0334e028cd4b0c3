/**
 * `npm run bench:renewals [-- --n 10000]`: N subscriptions whose periods end at the same moment,
 * on the Temporal dev server (headless, SQLite file in a temp dir), a throwaway Postgres and an
 * in-process worker. Measures the time from that boundary until every renewal's cycle request is
 * stored, and in the same run a bare baseline: N workflows with one timer to one moment and one
 * insert activity. Also counts history events per period on real histories.
 *
 * Set-up: daily plans, each subscription started two days before the boundary minus a day, so
 * its first run bills period 0, catches up period 1 at once and continues as new; that second run
 * sleeps until the boundary, renews (period 2) and continues as new: a steady-state period run,
 * whose history is the `events/period` figure.
 *
 * Last line: `renewals: <n> in <t> s (<r>/s), baseline <t0> s, ratio <t/t0>, history <h> events/period`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSql } from '../db/client';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency } from '../db/queries/agencies';
import { insertPlan, snapshotTerms } from '../db/queries/plans';
import { newId } from '../lib/ids';
import { getFreePort, waitForPort } from '../lib/ports';
import { ensureTemporalCli } from '../scripts/tools';
import { createWorker } from '../worker/create-worker';
import {
  AgencyIdAttr,
  BillingModeAttr,
  ClientIdAttr,
  PlanIdAttr,
  SEARCH_ATTRIBUTES,
  SubscriptionStatusAttr,
  TASK_QUEUE,
  subscriptionWorkflowId,
  type SubscriptionInput,
} from '../workflows/definitions';

const DAY = 86_400_000;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('n') ?? 1000);
const say = (msg: string) => console.log(`[bench] ${msg}`);
/** Worker tuning shared by both phases, so the comparison is like for like. */
const TUNING = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentLocalActivityExecutions: 200,
  maxConcurrentWorkflowTaskPolls: 8,
  maxConcurrentActivityTaskPolls: 8,
  maxCachedWorkflows: Math.max(2000, N * 2),
};

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function waitCount(count: () => Promise<number>, target: number, what: string) {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const c = await count();
    if (c >= target) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what}: ${c} of ${target} after 30 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sleepUntil(ms: number) {
  await new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));
}

const dir = await mkdtemp(join(tmpdir(), 'tally-bench-renewals-'));
Runtime.install({ logger: new DefaultLogger('ERROR') });
const pg = await startEmbeddedPostgres();
const sql = createSql(pg.url, { max: 60 });
await migrate(sql);

// The dev server, headless, its SQLite file in the temp dir, our search attributes registered.
const port = await getFreePort();
const cli = await ensureTemporalCli();
const server = spawn(
  cli,
  [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    join(dir, 'temporal.db'),
    // A throwaway file: write-ahead log without a sync per commit (same for both phases).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=off',
    '--log-level',
    'error',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type === 'KEYWORD' ? 'Keyword' : 'Datetime'}`,
    ]),
  ],
  { stdio: 'ignore', detached: true },
);
const address = `127.0.0.1:${port}`;
await waitForPort(port, '127.0.0.1', 60_000);
const connection = await Connection.connect({ address });
for (let i = 0; ; i++) {
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    break;
  } catch (err) {
    if (i > 100) throw err;
    await new Promise((r) => setTimeout(r, 200));
  }
}
const client = new Client({ connection, namespace: 'default' });
const native = await NativeConnection.connect({ address });

async function cleanup() {
  await connection.close().catch(() => {});
  await native.close().catch(() => {});
  if (server.pid) process.kill(-server.pid, 'SIGKILL');
  await sql.end({ timeout: 5 });
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}

try {
  // --- Baseline: N workflows, one timer to the same moment, one insert each. ---
  await sql`create table bench_baseline (id text primary key, at timestamptz not null default now())`;
  const baselineWorker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: 'bench-baseline',
    workflowsPath: fileURLToPath(new URL('./baseline-workflow.ts', import.meta.url)),
    activities: {
      async insertBaselineRow(id: string) {
        await sql`insert into bench_baseline (id) values (${id}) on conflict do nothing`;
      },
    },
    ...TUNING,
  });
  const baselineRun = baselineWorker.run();
  const baselineAt = Date.now() + 20_000 + N * 25;
  say(
    `baseline: starting ${N} workflows, all timers at +${((baselineAt - Date.now()) / 1000).toFixed(0)} s`,
  );
  await pool(
    Array.from({ length: N }, (_, i) => `b${i}`),
    50,
    async (id) => {
      await client.workflow.start('baselineRenewalWorkflow', {
        taskQueue: 'bench-baseline',
        workflowId: `baseline-${id}`,
        args: [id, baselineAt],
      });
    },
  );
  if (Date.now() > baselineAt - 2000)
    throw new Error('baseline set-up ran past its boundary; raise the lead');
  await sleepUntil(baselineAt);
  const baselineDone = await waitCount(
    async () => (await sql<{ n: number }[]>`select count(*)::int as n from bench_baseline`)[0]!.n,
    N,
    'baseline rows',
  );
  const t0 = (baselineDone - baselineAt) / 1000;
  say(`baseline: ${N} inserts ${t0.toFixed(2)} s after the boundary`);
  baselineWorker.shutdown();
  await baselineRun;

  // --- Renewals: N subscriptions whose periods end at the same moment. ---
  const worker = await createWorker({
    connection: native,
    namespace: 'default',
    deps: { sql },
    tuning: TUNING,
    sweepWebhooks: false,
  });
  const workerRun = worker.run();
  const { agency } = await createAgency(sql, { name: 'Bench', webhookUrl: null });
  const plan = await insertPlan(sql, agency.id, newId('pln'), {
    name: 'Daily',
    tier: null,
    description: null,
    currency: 'USD',
    flatFeeMinor: 100,
    overageRateMinorPerMinute: '20',
    includedMinutes: 0,
    rhythm: 'day',
    intervalCount: 1,
    dueDays: 7,
    graceDays: 7,
    packsAllowed: false,
    chatMode: false,
    chatsPerMinute: null,
    taxBehavior: 'exclusive',
  });
  const terms = snapshotTerms(plan);
  const boundary = Date.now() + 30_000 + N * 40;
  const anchor = boundary - 2 * DAY;
  const subs = Array.from({ length: N }, () => ({ id: newId('sub'), clientId: newId('cli') }));
  for (let i = 0; i < N; i += 1000) {
    const chunk = subs.slice(i, i + 1000);
    await sql`insert into clients ${sql(chunk.map((s) => ({ id: s.clientId, agency_id: agency.id, name: s.clientId })))}`;
    await sql`insert into subscriptions ${sql(
      chunk.map((s) => ({
        id: s.id,
        agency_id: agency.id,
        client_id: s.clientId,
        plan_id: plan.id,
        terms: sql.json({ ...terms, rateMinorPerMinute: null } as never) as never,
        billing_mode: 'manual',
        status: 'active',
        start_at: new Date(anchor),
        workflow_id: subscriptionWorkflowId(s.id),
      })),
    )}`;
  }
  say(
    `renewals: starting ${N} subscriptions, boundary at +${((boundary - Date.now()) / 1000).toFixed(0)} s`,
  );
  const firstRuns = new Map<string, string>();
  await pool(subs, 50, async (s) => {
    const input: SubscriptionInput = {
      subscriptionId: s.id,
      agencyId: agency.id,
      clientId: s.clientId,
      billingMode: 'manual',
      terms,
      rateMinorPerMinute: null,
      agentIds: [],
      startAtMs: anchor,
      coupon: null,
    };
    const handle = await client.workflow.start('subscriptionWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: subscriptionWorkflowId(s.id),
      args: [input],
      typedSearchAttributes: new TypedSearchAttributes([
        { key: AgencyIdAttr, value: agency.id },
        { key: ClientIdAttr, value: s.clientId },
        { key: PlanIdAttr, value: plan.id },
        { key: BillingModeAttr, value: 'manual' },
        { key: SubscriptionStatusAttr, value: 'active' },
      ]),
    });
    firstRuns.set(s.id, handle.firstExecutionRunId);
  });
  const requestsOf = async (period: number) =>
    (
      await sql<{ n: number }[]>`
        select count(*)::int as n from payment_requests where period_index = ${period}`
    )[0]!.n;
  await waitCount(() => requestsOf(1), N, 'set-up (periods 0 and 1)');
  if (Date.now() > boundary - 2000)
    throw new Error('set-up ran past the boundary; raise the lead and run again');
  say(`renewals: set-up done ${((boundary - Date.now()) / 1000).toFixed(0)} s before the boundary`);
  await sleepUntil(boundary);
  const renewalsDone = await waitCount(() => requestsOf(2), N, 'renewal requests');
  const t = (renewalsDone - boundary) / 1000;
  say(`renewals: ${N} cycle requests stored ${t.toFixed(2)} s after the boundary`);

  // Exactly one request per subscription and period.
  const [dupes] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select subscription_id, period_index from payment_requests
      group by 1, 2 having count(*) > 1) d`;
  if (dupes!.n > 0) throw new Error(`${dupes!.n} periods have more than one request`);

  // History per period: the run that slept to the boundary and renewed, on a sample.
  const sizes: number[] = [];
  for (const s of subs.slice(0, 5)) {
    const first = await client.workflow
      .getHandle(subscriptionWorkflowId(s.id), firstRuns.get(s.id))
      .fetchHistory();
    const next =
      first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!;
    const handle = client.workflow.getHandle(subscriptionWorkflowId(s.id), next);
    let history = await handle.fetchHistory();
    // The boundary run ends with continue-as-new a moment after its request is stored.
    for (
      let i = 0;
      !history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes && i < 100;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      history = await handle.fetchHistory();
    }
    sizes.push(history.events!.length);
  }
  say(
    `history of the boundary run (one period) on ${sizes.length} subscriptions: ${sizes.join(', ')} events`,
  );
  const h = Math.max(...sizes);

  worker.shutdown();
  await workerRun;
  await cleanup();
  console.log(
    `renewals: ${N} in ${t.toFixed(2)} s (${Math.round(N / t)}/s), baseline ${t0.toFixed(2)} s, ratio ${(t / t0).toFixed(2)}, history ${h} events/period`,
  );
} catch (err) {
  await cleanup();
  throw err;
}
