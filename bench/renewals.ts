/**
 * `npm run bench:renewals [-- --n 10000]`: N subscriptions whose periods end at the same moment,
 * on the Temporal dev server (headless, SQLite file in a temp dir), a throwaway Postgres and an
 * in-process worker. Measures the time from that boundary until every renewal's cycle request is
 * stored, and in the same run a bare baseline: N workflows with one timer to one moment and one
 * insert activity. Also counts history events per period on real histories.
 *
 * Set-up: a daily plan; N subscriptions started a day before the boundary (their first run bills
 * period 0 and sleeps to the boundary), and a few probes started four days before (runs 0-2 catch
 * up at once, run 3 sleeps to the same boundary). Before the boundary the set-up must be quiet
 * (every workflow asleep on its timer). `events/period` is the largest history of a probe's runs
 * 1-3: one period each, the same size whichever period it is. (A run hands over to the next one
 * within an hour after its renewal; probes within 5 s so their boundary run is complete here.)
 *
 * Before the last line it prints the command that reproduces the run (`reproduce: ...`).
 * Last line: `renewals: <n> in <t> s (<r>/s), baseline <t0> s, ratio <t/t0>, history <h> events/period`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSql } from '../db/client';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency } from '../db/queries/agencies';
import { insertPlan, snapshotTerms } from '../db/queries/plans';
import { newId } from '../lib/ids';
import { createWorker } from '../worker/create-worker';
import { startBenchTemporal } from './dev-server';
import { reproduce } from './reproduce';
import { startSearchAttributes } from '../temporal/subscription-start';
import {
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
const num = (name: string, fallback: number) => Number(arg(name) ?? fallback);
const TUNING = {
  maxConcurrentWorkflowTaskExecutions: num('wft', 100),
  maxConcurrentActivityTaskExecutions: num('acts', 100),
  maxConcurrentLocalActivityExecutions: num('acts', 100),
  maxConcurrentWorkflowTaskPolls: num('polls', 8),
  maxConcurrentActivityTaskPolls: num('polls', 8),
  maxCachedWorkflows: Math.max(2000, N * 2),
  workflowThreadPoolSize: 2,
  // A busy worker may take a while to get to a cached workflow's task: waiting beats the
  // default 10 s timeout, after which the task moves to the normal queue and is replayed.
  stickyQueueScheduleToStartTimeout: '60s',
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

/** Where the time of a renewal goes, from the histories of a sample of boundary runs. */
async function explain(runs: { workflowId: string; runId: string }[]) {
  const gaps = new Map<string, number[]>();
  for (const { workflowId, runId } of runs) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events!;
    const at = (i: number) => {
      const t = events[i]!.eventTime!;
      return Number(t.seconds) * 1000 + Math.round((t.nanos ?? 0) / 1e6);
    };
    const name = (i: number) => String(events[i]!.eventType).replace('EVENT_TYPE_', '');
    for (let i = 1; i < events.length; i++) {
      const k = `${name(i - 1)} -> ${name(i)}`;
      gaps.set(k, [...(gaps.get(k) ?? []), at(i) - at(i - 1)]);
    }
  }
  for (const [k, v] of gaps) {
    v.sort((a, b) => a - b);
    say(`  ${k}: median ${v[v.length >> 1]} ms, max ${v.at(-1)} ms`);
  }
}

/** The runs of a continue-as-new chain that have ended, with their history sizes. */
async function runChain(workflowId: string, firstRunId: string) {
  const runs: { runId: string; events: number }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const next: string | null | undefined =
      events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) break; // the current run, still going
    runs.push({ runId, events: events.length });
    runId = next;
  }
  return runs;
}

/** Waits until none of the workflows has a task in flight (each sleeps on its timer). */
async function waitIdle(workflowIds: string[]) {
  const busy = async () => {
    let n = 0;
    await pool(workflowIds, 20, async (id) => {
      const d = await client.workflow.getHandle(id).describe();
      if (d.raw.pendingWorkflowTask || (d.raw.pendingActivities?.length ?? 0) > 0) n++;
    });
    return n;
  };
  for (let i = 0; (await busy()) > 0; i++) {
    if (i > 600) throw new Error('set-up never went quiet');
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function sleepUntil(ms: number) {
  await new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));
}

const dir = await mkdtemp(join(tmpdir(), 'tally-bench-renewals-'));
Runtime.install({ logger: new DefaultLogger('ERROR') });
const pg = await startEmbeddedPostgres();
const sql = createSql(pg.url, { max: num('pool', 40) });
await migrate(sql);

const temporal = await startBenchTemporal(dir);
const address = temporal.address;
const connection = await Connection.connect({ address });
const client = new Client({ connection, namespace: 'default' });
const native = await NativeConnection.connect({ address });

async function cleanup() {
  await connection.close().catch(() => {});
  await native.close().catch(() => {});
  if (temporal.child.pid) process.kill(-temporal.child.pid, 'SIGKILL');
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
  const baselineAt = Date.now() + 20_000 + N * 30;
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
    sweep: false,
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
  const boundary = Date.now() + 40_000 + N * 60;
  // N subscriptions whose first period ends at the boundary, and a few probes started four
  // periods back, whose runs 1-3 catch up at once and whose run 3 sleeps to the same boundary:
  // their histories show the size of a period's run after several periods.
  const PROBES = 5;
  const subs = Array.from({ length: N + PROBES }, (_, i) => ({
    id: newId('sub'),
    clientId: newId('cli'),
    anchor: boundary - (i < N ? 1 : 4) * DAY,
    probe: i >= N,
  }));
  for (let i = 0; i < subs.length; i += 1000) {
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
        start_at: new Date(s.anchor),
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
      startAtMs: s.anchor,
      coupon: null,
      // Probes hand over within seconds, so their boundary run ends while the bench waits.
      ...(s.probe ? { handoverSpreadMs: 5_000 } : {}),
    };
    const handle = await client.workflow.start('subscriptionWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: subscriptionWorkflowId(s.id),
      args: [input],
      typedSearchAttributes: startSearchAttributes({
        agencyId: agency.id,
        clientId: s.clientId,
        planId: plan.id,
        billingMode: 'manual',
        status: 'active',
      }),
    });
    firstRuns.set(s.id, handle.firstExecutionRunId);
  });
  const count = async (where: 'before' | 'at') =>
    (
      await sql<{ n: number }[]>`
        select count(*)::int as n from payment_requests
        where ${where === 'at' ? sql`issued_at = ${new Date(boundary)}` : sql`issued_at < ${new Date(boundary)}`}`
    )[0]!.n;
  // Set-up: every first request (and the probes' catch-up requests) stored, every run asleep.
  await waitCount(() => count('before'), N + 4 * PROBES, 'set-up requests');
  await waitIdle(subs.map((s) => subscriptionWorkflowId(s.id)));
  if (Date.now() > boundary - 2000)
    throw new Error('set-up ran past the boundary; raise the lead and run again');
  say(`renewals: set-up done ${((boundary - Date.now()) / 1000).toFixed(0)} s before the boundary`);
  await sleepUntil(boundary);
  const renewalsDone = await waitCount(() => count('at'), N + PROBES, 'renewal requests');
  const t = (renewalsDone - boundary) / 1000;
  say(`renewals: ${N} cycle requests stored ${t.toFixed(2)} s after the boundary`);

  // Exactly one request per subscription and period.
  const [dupes] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select subscription_id, period_index from payment_requests
      group by 1, 2 having count(*) > 1) d`;
  if (dupes!.n > 0) throw new Error(`${dupes!.n} periods have more than one request`);

  // History per period, measured: every run of the probes (one period each).
  const chains: number[][] = [];
  const boundaryRuns: { workflowId: string; runId: string }[] = [];
  for (const s of subs.slice(N)) {
    let runs = await runChain(subscriptionWorkflowId(s.id), firstRuns.get(s.id)!);
    // Run 3 hands over (continues as new) a few seconds after its request is stored.
    for (let i = 0; runs.length < 4 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runs = await runChain(subscriptionWorkflowId(s.id), firstRuns.get(s.id)!);
    }
    chains.push(runs.map((r) => r.events));
    boundaryRuns.push({ workflowId: subscriptionWorkflowId(s.id), runId: runs[3]!.runId });
  }
  say(
    `history per run (periods 0-3, run 3 slept to the boundary): ${chains.map((c) => c.join('/')).join(', ')}`,
  );
  const h = Math.max(...chains.flatMap((c) => c.slice(1)));
  if (process.argv.includes('--explain')) {
    for (const s of subs.slice(0, 40))
      boundaryRuns.push({ workflowId: subscriptionWorkflowId(s.id), runId: firstRuns.get(s.id)! });
    await explain(boundaryRuns);
  }

  worker.shutdown();
  await workerRun;
  await cleanup();
  console.log(`[bench] reproduce: ${reproduce()}`);
  console.log(
    `renewals: ${N} in ${t.toFixed(2)} s (${Math.round(N / t)}/s), baseline ${t0.toFixed(2)} s, ratio ${(t / t0).toFixed(2)}, history ${h} events/period`,
  );
} catch (err) {
  await cleanup();
  throw err;
}
