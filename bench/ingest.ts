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
 * Then two paced runs (bench/ingest/effects.ts) at 50% and 90% of the rate the first run
 * reached, each with its own effect subscriptions crossing their 90% warning and spending their
 * included minutes: p99 from the HTTP answer of the crossing event to its effect stored (the
 * `usage.threshold_90` event; `campaigns.paused` with its webhook row). After them, every
 * subscription's stored events are counted against what was posted (lost, double).
 *
 * Env: BENCH_SUBSCRIPTIONS (1000), BENCH_EVENTS_PER_SUB (300), BENCH_POSTERS (6),
 * BENCH_FSYNC (on: Postgres fsyncs its WAL like production; off for a faster, unsafe run),
 * BENCH_SAMPLE_EVERY (25: every n-th subscription is polled while posting, for the latency),
 * BENCH_PACED_SECONDS (20 per paced run; 0: none), BENCH_EFFECT_SUBS (20 per paced run).
 * USAGE_DISPATCH=paused measures the store path alone (no signals, no reflection, no paced runs).
 * Before the last line it prints the command that reproduces the run. Last line: `ingest: <e>
 * events/s, raw copy <c> events/s, ratio <e/c>, lost <x>, double <y>, effect p99 <ms> ms at 50%,
 * <ms> ms at 90%`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createSql } from '../db/client';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency, insertApiKey } from '../db/queries/agencies';
import { getFreePort, waitForPort } from '../lib/ports';
import { stateQuery, subscriptionWorkflowId } from '../workflows/definitions';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EFFECTS_PLAN, pacedRun, type PacedResult } from './ingest/effects';
import { buildBatches, pool, rawCopy, setUp, type Batch, LOAD_PLAN } from './ingest/load';
import { reproduce } from './reproduce';
import { cpuSnapshot, percentile } from './ingest/measure';
import { child, cleanups, postgresPid, shutdown, startTemporal } from './ingest/processes';
import {
  BATCH,
  EFFECT_SUBS,
  FSYNC,
  OTHERS_POLL_MS,
  PACED_SECONDS,
  PER_SUB,
  POSTERS,
  REFLECT_TIMEOUT_MS,
  SAMPLE_EVERY,
  SAMPLE_POLL_MS,
  say,
  SUBS,
} from './ingest/settings';

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

  // The agency's webhook endpoint: answers every delivery at once (the rows are what is measured).
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  cleanups.unshift(() => new Promise((r) => sink.close(() => r())));
  const webhookUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hooks`;
  const { agency, apiKey } = await createAgency(sql, { name: 'Bench Agency', webhookUrl });
  const ingest = await insertApiKey(sql, agency.id, 'ingest', 'bench');
  let t = performance.now();
  const subs = await setUp(base, apiKey.key, sql);
  const paced = PACED_SECONDS > 0 && process.env.USAGE_DISPATCH !== 'paused';
  const effectSubs = paced
    ? await setUp(base, apiKey.key, sql, {
        count: 2 * EFFECT_SUBS,
        prefix: 'fx',
        plan: EFFECTS_PLAN,
        agentsEach: 1,
        waitForRequests: SUBS + 2 * EFFECT_SUBS,
      })
    : [];
  say(
    `set up ${SUBS} subscriptions on ${LOAD_PLAN.name} and ${effectSubs.length} on ${EFFECTS_PLAN.name} (workflows running) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
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

  // Paced runs at 50% and 90% of the rate reached: the effects of crossing events.
  const effect: Record<string, PacedResult> = {};
  if (paced) {
    for (const share of [50, 90]) {
      const rate = (ingestRate * share) / 100;
      const mine = effectSubs.slice(
        share === 50 ? 0 : EFFECT_SUBS,
        share === 50 ? EFFECT_SUBS : 2 * EFFECT_SUBS,
      );
      const r = await pacedRun({
        label: `p${share}`,
        base,
        key: ingest.key,
        sql,
        load: subs,
        effects: mine,
        rate,
        seconds: PACED_SECONDS,
        timeIso,
      });
      effect[share] = r;
      const p = (l: number[]) => percentile(l, 99).toFixed(0);
      const both = [...r.latencies.warning, ...r.latencies.paused].sort((a, b) => a - b);
      say(
        `paced at ${share}% (${Math.round(rate)} events/s asked, ${Math.round(r.achievedRate)} accepted/s, ${PACED_SECONDS} s): ` +
          `effect p99 ${p(both)} ms over ${both.length} crossings (90% warning p50 ${percentile(r.latencies.warning, 50).toFixed(0)} / p99 ${p(r.latencies.warning)} ms, ` +
          `campaigns.paused + webhook row p50 ${percentile(r.latencies.paused, 50).toFixed(0)} / p99 ${p(r.latencies.paused)} ms)` +
          `${r.missing > 0 ? `, ${r.missing} MISSING after 120 s` : ''}; load average ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    // Every event of the paced runs stored once.
    const want = new Map<string, number>(subs.map((s) => [s.id, PER_SUB]));
    for (const r of Object.values(effect))
      for (const [id, n] of r.perSub) want.set(id, (want.get(id) ?? 0) + n);
    const have = new Map(
      (
        await sql<{ id: string; n: number }[]>`
        select subscription_id as id, count(*)::int as n from usage_events group by subscription_id`
      ).map((r) => [r.id, r.n]),
    );
    let pacedLost = 0;
    let pacedDouble = 0;
    for (const [id, n] of want) {
      pacedLost += Math.max(0, n - (have.get(id) ?? 0));
      pacedDouble += Math.max(0, (have.get(id) ?? 0) - n);
    }
    say(`after the paced runs, stored against posted: lost ${pacedLost}, double ${pacedDouble}`);
    lost += pacedLost;
    double += pacedDouble;
  }
  const effectP99 = (share: number) => {
    const r = effect[share];
    if (!r) return '-';
    const both = [...r.latencies.warning, ...r.latencies.paused].sort((a, b) => a - b);
    return `${percentile(both, 99).toFixed(0)}${r.missing > 0 ? '+' : ''}`;
  };

  say(
    `load average at the end ${loadavg()[0]!.toFixed(2)} (other work on the machine skews every figure)`,
  );
  say(`reproduce: ${reproduce()}`);
  console.log(
    `ingest: ${Math.round(ingestRate)} events/s, raw copy ${Math.round(copyRate)} events/s, ratio ${(ingestRate / copyRate).toFixed(2)}, lost ${lost}, double ${double}, effect p99 ${effectP99(50)} ms at 50%, ${effectP99(90)} ms at 90%`,
  );
}

main().then(
  () => shutdown(0),
  (err) => {
    console.error(err);
    void shutdown(1);
  },
);
