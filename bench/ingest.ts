/**
 * `npm run bench:ingest`: usage ingestion end to end on loopback. A Temporal dev server
 * (headless, in memory), a throwaway Postgres, the worker and the API as child processes; 1,000
 * active subscriptions; usage posted through HTTP in batches of 500 by concurrent posters; then
 * we wait until every event is reflected in its workflow (the `state` query's folded counters)
 * and check the totals against what was posted and what Postgres holds. In the same run, a raw
 * `COPY` of the same events into a scratch table with the same indexes gives the ceiling.
 *
 * Each event is one minute (60 s), so a workflow's folded seconds / 60 is its event count. Each
 * poster owns a slice of the subscriptions and posts its batches one after another, so per
 * subscription the cumulative count after each batch is known: a batch's events are reflected
 * when the workflow's count reaches it. Latency is from the POST's answer to the first state
 * query that shows it, on a sample of every 25th subscription polled every 500 ms (a query costs
 * Temporal about what a signal does, so polling all of them would slow what is measured); it
 * includes that polling delay. The rest are checked once posting is done, and every workflow's
 * total at the end. About 1% of events are sent again in a later batch (must count once).
 *
 * Env: BENCH_SUBSCRIPTIONS (1000), BENCH_EVENTS_PER_SUB (300), BENCH_POSTERS (6),
 * BENCH_FSYNC (on: Postgres fsyncs its WAL like production; off for a faster, unsafe run),
 * BENCH_SAMPLE_EVERY (25: every n-th subscription is polled while posting, for the latency).
 * Last line: `ingest: <e> events/s, p99 to workflow <l> ms, lost <x>, double <y>, raw copy <c>
 * events/s, ratio <e/c>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, Connection } from '@temporalio/client';
import { createSql, type Sql } from '../db/client';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency, insertApiKey } from '../db/queries/agencies';
import { getFreePort, waitForPort } from '../lib/ports';
import { stateQuery, subscriptionWorkflowId } from '../workflows/definitions';
import { startBenchTemporal } from './dev-server';

const SUBS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
const PER_SUB = Number(process.env.BENCH_EVENTS_PER_SUB ?? 300);
const POSTERS = Number(process.env.BENCH_POSTERS ?? 6);
const BATCH = 500;
const FSYNC = (process.env.BENCH_FSYNC ?? 'on') !== 'off';
const REFLECT_TIMEOUT_MS = 300_000;
/** Every n-th subscription is polled while posting, for the latency figure. */
const SAMPLE_EVERY = Number(process.env.BENCH_SAMPLE_EVERY ?? 25);
const SAMPLE_POLL_MS = 500;
const OTHERS_POLL_MS = 2_000;

const say = (msg: string) => console.log(`[bench] ${msg}`);
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

function child(name: string, script: string, env: Record<string, string>): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  c.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  children.push(c);
  return c;
}

async function startTemporal() {
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-temporal-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { address, child: c, serviceRequests } = await startBenchTemporal(dir);
  children.push(c);
  return { address, pid: c.pid!, serviceRequests };
}

async function api<T = any>(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Sub {
  id: string;
  clientId: string;
  clientExt: string;
  agents: string[];
}

async function setUp(base: string, key: string, sql: Sql): Promise<Sub[]> {
  const plan = await api(base, key, 'POST', '/v1/plans', {
    name: 'Bench',
    currency: 'USD',
    flatFeeMinor: 2500,
    overageRateMinorPerMinute: '5',
    includedMinutes: 0,
    rhythm: 'month',
  });
  const subs: Sub[] = new Array(SUBS);
  await pool([...Array(SUBS).keys()], 16, async (i) => {
    const clientExt = `bench-client-${i}`;
    const client = await api(base, key, 'POST', '/v1/clients', {
      name: `Client ${i}`,
      externalId: clientExt,
    });
    const agents: string[] = [];
    for (let a = 0; a < 3; a++) {
      const ext = `bench-agent-${i}-${a}`;
      await api(base, key, 'POST', `/v1/clients/${client.id}/agents`, {
        name: `Agent ${a}`,
        externalId: ext,
      });
      agents.push(ext);
    }
    const sub = await api(base, key, 'POST', '/v1/subscriptions', {
      clientId: client.id,
      planId: plan.id,
    });
    subs[i] = { id: sub.id, clientId: client.id, clientExt, agents };
  });
  // Every workflow has run its first step (the first request is stored) before usage flows.
  for (;;) {
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from payment_requests where type = 'cycle'`;
    if (row!.n >= SUBS) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return subs;
}

interface Batch {
  poster: number;
  body: string;
  /** New events per subscription index in this batch. */
  fresh: Map<number, number>;
  size: number;
  answeredAt: number;
}

/** Pre-built request bodies (not timed): per poster, its batches in order. */
function buildBatches(subs: Sub[], timeIso: string) {
  const perPoster: Batch[][] = Array.from({ length: POSTERS }, () => []);
  const events: { id: string; sub: number; agent: number }[] = [];
  let duplicates = 0;
  for (let p = 0; p < POSTERS; p++) {
    const mine = subs.map((_, i) => i).filter((i) => i % POSTERS === p);
    const queue: { id: string; sub: number; agent: number }[] = [];
    for (let n = 0; n < PER_SUB; n++)
      for (const s of mine) queue.push({ id: `b-${s}-${n}`, sub: s, agent: (s + n) % 3 });
    const sent: typeof queue = [];
    while (queue.length > 0) {
      const take = queue.splice(0, BATCH);
      const fresh = new Map<number, number>();
      for (const e of take) fresh.set(e.sub, (fresh.get(e.sub) ?? 0) + 1);
      const body = take.map((e) => e);
      // About 1%: an event of an earlier batch again (its id already stored: counted once).
      for (let k = 0; k < take.length / 100 && sent.length > 0; k++) {
        body.push(sent[(sent.length * 7919 + k * 104729) % sent.length]!);
        duplicates++;
      }
      sent.push(...take);
      events.push(...take);
      const json = body.map((e, j) => ({
        id: e.id,
        // Half by Tally id, half by the agency's external id; agents by external id.
        client: j % 2 === 0 ? subs[e.sub]!.clientId : subs[e.sub]!.clientExt,
        agent: subs[e.sub]!.agents[e.agent],
        metric: 'voice_seconds',
        quantity: 60,
        time: timeIso,
      }));
      perPoster[p]!.push({
        poster: p,
        body: JSON.stringify({ events: json }),
        fresh,
        size: body.length,
        answeredAt: 0,
      });
    }
  }
  return { perPoster, events, duplicates };
}

async function rawCopy(
  sql: Sql,
  agencyId: string,
  subs: Sub[],
  events: { id: string; sub: number; agent: number }[],
  timeIso: string,
) {
  await sql`create table bench_copy (like usage_events including all)`;
  const agentIds = await sql<
    { id: string; externalId: string }[]
  >`select id, external_id as "externalId" from agents`;
  const byExt = new Map(agentIds.map((a) => [a.externalId, a.id]));
  const lines = events.map(
    (e) =>
      `${agencyId}\t${e.id}\t${subs[e.sub]!.clientId}\t${byExt.get(subs[e.sub]!.agents[e.agent]!)}\t${subs[e.sub]!.id}\tvoice_seconds\t60\t${timeIso}\n`,
  );
  const started = performance.now();
  const stream =
    await sql`copy bench_copy (agency_id, event_id, client_id, agent_id, subscription_id, metric, quantity, occurred_at) from stdin`.writable();
  await pipeline(
    (function* () {
      for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
    })(),
    stream as Writable,
  );
  const seconds = (performance.now() - started) / 1000;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bench_copy`;
  await sql`drop table bench_copy`;
  if (row!.n !== events.length) throw new Error(`copy stored ${row!.n} of ${events.length}`);
  return events.length / seconds;
}

/** CPU seconds (user + system) of each process tree we started, and of the whole machine. */
function cpuSnapshot(roots: Record<string, number>): Record<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const info = new Map<number, { ppid: number; cpu: number }>();
  for (const pid of procs) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      info.set(Number(pid), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / ticks });
    } catch {
      // gone meanwhile
    }
  }
  const rootOf = (pid: number): string | null => {
    for (let p = pid, hops = 0; p > 1 && hops < 10; p = info.get(p)?.ppid ?? 0, hops++)
      for (const [name, root] of Object.entries(roots)) if (root === p) return name;
    return null;
  };
  const out: Record<string, number> = {};
  for (const [pid, { cpu }] of info) {
    const name = rootOf(pid);
    if (name) out[name] = (out[name] ?? 0) + cpu;
  }
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  out.machine = (user! + nice! + system! + irq! + softirq! + steal!) / ticks;
  return out;
}

function postgresPid(port: number): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args[0]!.endsWith('/postgres') && args.includes(String(port))) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return -1;
}

async function main() {
  say(
    `${SUBS} subscriptions x ${PER_SUB} events, batches of ${BATCH}, ${POSTERS} posters, fsync ${FSYNC ? 'on' : 'off'}; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-pg-'));
  // A directory of our own keeps fsync on (the throwaway default turns it off); removed at the end.
  const db = await startEmbeddedPostgres(FSYNC ? { dir } : {});
  cleanups.push(async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const sql = createSql(db.url, { max: 8 });
  cleanups.unshift(() => sql.end({ timeout: 5 }));
  await migrate(sql);
  const {
    address: temporalAddress,
    pid: temporalPid,
    serviceRequests: temporalRequests,
  } = await startTemporal();
  const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress, LOG_LEVEL: 'warn' };
  const workerChild = child('worker', 'bench/ingest-worker.ts', env);
  const apiPort = await getFreePort();
  const apiChild = child('api', 'api/main.ts', {
    ...env,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
  });
  await waitForPort(apiPort, '127.0.0.1', 120_000);
  const base = `http://127.0.0.1:${apiPort}`;
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection });
  cleanups.unshift(() => connection.close());

  const { agency, apiKey } = await createAgency(sql, { name: 'Bench Agency', webhookUrl: null });
  const ingest = await insertApiKey(sql, agency.id, 'ingest', 'bench');
  let t = performance.now();
  const subs = await setUp(base, apiKey.key, sql);
  say(
    `set up ${SUBS} subscriptions (workflows running) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const timeIso = new Date().toISOString();
  const { perPoster, events, duplicates } = buildBatches(subs, timeIso);
  const posted = events.length;
  say(`posting ${posted} events (+${duplicates} repeats) in ${perPoster.flat().length} requests`);

  // Per subscription: cumulative fresh count after each of its batches, and what is reflected.
  const expected = new Array<number>(SUBS).fill(0);
  const pending: { sub: number; upto: number; count: number; batch: Batch }[][] = Array.from(
    { length: SUBS },
    () => [],
  );
  let accepted = 0;
  let answeredDuplicates = 0;
  let postingDone = false;
  const latencies: { ms: number; weight: number }[] = [];

  const roots = {
    postgres: postgresPid(db.port),
    api: apiChild.pid!,
    worker: workerChild.pid!,
    temporal: temporalPid,
    bench: process.pid,
  };
  const requestsBefore = await temporalRequests();
  const cpuBefore = cpuSnapshot(roots);
  const started = performance.now();
  const posters = perPoster.map(async (batches) => {
    for (const b of batches) {
      const res = await fetch(`${base}/v1/usage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest.key}`, 'content-type': 'application/json' },
        body: b.body,
      });
      const json = (await res.json()) as {
        accepted: number;
        duplicates: string[];
        rejected: unknown[];
      };
      if (res.status !== 200 || json.rejected.length > 0)
        throw new Error(`POST /v1/usage: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      b.answeredAt = performance.now();
      accepted += json.accepted;
      answeredDuplicates += json.duplicates.length;
      for (const [s, n] of b.fresh) {
        expected[s]! += n;
        pending[s]!.push({ sub: s, upto: expected[s]!, count: n, batch: b });
      }
    }
  });
  const posting = Promise.all(posters).then(() => {
    postingDone = true;
    return performance.now();
  });

  // Cycle over subscriptions with unreflected batches, reading the workflow's folded counters
  // (the `state` query). While posting, only a sample is polled (a query costs the worker as much
  // as a signal); latency is measured on that sample. Then every subscription is checked.
  const sampled = (s: number) => s % SAMPLE_EVERY === 0;
  const reflect = (async () => {
    if (process.env.USAGE_DISPATCH === 'paused') return false;
    const deadline = Date.now() + REFLECT_TIMEOUT_MS;
    const polledAt = new Array<number>(SUBS).fill(0);
    for (;;) {
      const now = performance.now();
      const behind = [...Array(SUBS).keys()].filter((s) => pending[s]!.length > 0);
      if (behind.length === 0 && postingDone) return true;
      if (Date.now() > deadline) return false;
      // A query costs the server and the worker about what a signal does: the sample is polled
      // every SAMPLE_POLL_MS while posting; the others only once posting is done, less often.
      const due = behind.filter((s) =>
        sampled(s)
          ? now - polledAt[s]! >= SAMPLE_POLL_MS
          : postingDone && now - polledAt[s]! >= OTHERS_POLL_MS,
      );
      if (due.length === 0) {
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      await pool(due, 8, async (s) => {
        polledAt[s] = performance.now();
        const state = await temporal.workflow
          .getHandle(subscriptionWorkflowId(subs[s]!.id))
          .query(stateQuery)
          .catch(() => null); // a query timing out under load is asked again later
        if (!state) return;
        const at = performance.now();
        const count = state.usage.totalSeconds / 60;
        const list = pending[s]!;
        while (list.length > 0 && list[0]!.upto <= count) {
          const p = list.shift()!;
          if (sampled(s)) latencies.push({ ms: at - p.batch.answeredAt, weight: p.count });
        }
      });
    }
  })();
  const postedAt = await posting;
  const cpuAfter = cpuSnapshot(roots);
  const ingestRate = accepted / ((postedAt - started) / 1000);
  say(
    `posted in ${((postedAt - started) / 1000).toFixed(2)} s: ${accepted} accepted, ${answeredDuplicates} duplicates reported`,
  );
  const used = Object.fromEntries(
    Object.keys(cpuAfter).map((k) => [k, (cpuAfter[k] ?? 0) - (cpuBefore[k] ?? 0)]),
  );
  const ours = ['postgres', 'api', 'worker', 'temporal', 'bench'].reduce(
    (a, k) => a + (used[k] ?? 0),
    0,
  );
  say(
    `CPU while posting (core-seconds of ${((cpus().length * (postedAt - started)) / 1000).toFixed(1)} on ${cpus().length} CPUs): ` +
      ['postgres', 'api', 'worker', 'temporal', 'bench']
        .map((k) => `${k} ${(used[k] ?? 0).toFixed(1)}`)
        .join(', ') +
      `, other processes ${Math.max(0, used.machine! - ours).toFixed(1)}`,
  );
  // What Temporal's CPU went to: the dispatcher's signals, the workflow tasks they cause, and
  // this bench's own state queries.
  const requestsAfter = await temporalRequests();
  const served = (op: string) => (requestsAfter.get(op) ?? 0) - (requestsBefore.get(op) ?? 0);
  const signals = served('SignalWorkflowExecution');
  say(
    `Temporal while posting: ${signals} usage signals, ${served('RespondWorkflowTaskCompleted')} workflow tasks, ` +
      `${served('QueryWorkflow')} state queries; ${signals > 0 ? (((used.temporal ?? 0) * 1000) / signals).toFixed(1) : '-'} ms of Temporal CPU per signal (its queries included)`,
  );
  const allReflected = process.env.USAGE_DISPATCH === 'paused' ? false : await reflect;
  say(
    `reflected in every workflow ${((performance.now() - postedAt) / 1000).toFixed(2)} s after the last answer${allReflected ? '' : ' (TIMED OUT)'}`,
  );

  // Totals: workflows (final query of each) and Postgres, against what was posted.
  const stored = new Map(
    (
      await sql<{ id: string; n: number }[]>`
      select subscription_id as id, count(*)::int as n from usage_events group by subscription_id`
    ).map((r) => [r.id, r.n]),
  );
  let lost = 0;
  let double = Math.max(0, accepted - posted);
  await pool([...Array(SUBS).keys()], 16, async (s) => {
    const handle = temporal.workflow.getHandle(subscriptionWorkflowId(subs[s]!.id));
    const state = await handle.query(stateQuery).catch(() => handle.query(stateQuery));
    const inWorkflow = state.usage.totalSeconds / 60;
    const inPostgres = stored.get(subs[s]!.id) ?? 0;
    const want = PER_SUB;
    lost += Math.max(0, want - Math.min(inWorkflow, inPostgres));
    double += Math.max(0, Math.max(inWorkflow, inPostgres) - want);
  });
  const sorted: number[] = [];
  for (const l of latencies.sort((a, b) => a.ms - b.ms))
    for (let i = 0; i < l.weight; i++) sorted.push(l.ms);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  say(
    `to workflow: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms over ${sorted.length} events of ${Math.ceil(SUBS / SAMPLE_EVERY)} sampled subscriptions`,
  );

  t = performance.now();
  const copyRate = await rawCopy(sql, agency.id, subs, events, timeIso);
  say(`raw COPY of the same ${posted} events in ${((performance.now() - t) / 1000).toFixed(2)} s`);

  say(
    `load average at the end ${loadavg()[0]!.toFixed(2)} (other work on the machine skews every figure)`,
  );
  console.log(
    `ingest: ${Math.round(ingestRate)} events/s, p99 to workflow ${Math.round(p99)} ms, lost ${lost}, double ${double}, raw copy ${Math.round(copyRate)} events/s, ratio ${(ingestRate / copyRate).toFixed(2)}`,
  );
}

async function shutdown(code: number) {
  for (const c of children.reverse()) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of cleanups) await f().catch(() => {});
  process.exit(code);
}

// Whatever happens, the children (Temporal, worker, API) do not outlive the bench.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

main().then(
  () => shutdown(0),
  (err) => {
    console.error(err);
    void shutdown(1);
  },
);
