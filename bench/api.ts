/**
 * `npm run bench:api`: GET /v1/clients/{id} and GET /v1/plans/{id} under a fixed request rate
 * on loopback (autocannon), against DATABASE_URL or a throwaway embedded Postgres.
 *
 * Latencies are each response's own time (exact, sub-millisecond), plus autocannon's p99 with
 * its coordinated-omission correction (whole milliseconds) as a cross-check. The last line is
 * `api: p50 <x> ms, p99 <y> ms at <n> req/s`: the worse endpoint's p50 and p99, at the lower
 * achieved rate. Env: BENCH_RATE (2000), BENCH_SECONDS (12), BENCH_CONNECTIONS (50),
 * BENCH_PG_MAX (the server's Postgres pool, 20 as in `npm run api`), BENCH_CPU_PROF (a
 * directory: write a CPU profile of the server there).
 *
 * The machine's load average is printed before and after: on a small shared machine, other
 * processes' CPU use moves the tail more than anything the server does.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { createSql } from '../db/client';
import { startEmbeddedPostgres, type EmbeddedDb } from '../db/embedded';
import { migrate } from '../db/migrate';
import { createAgency } from '../db/queries/agencies';
import { insertClient } from '../db/queries/clients';
import { insertPlan } from '../db/queries/plans';
import { newId } from '../lib/ids';

/** The slice of autocannon's API used here (it ships no types; loaded without a global shim). */
interface AutocannonResult {
  requests: { total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void,
  ): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  overallRate: number;
  duration: number;
  headers: Record<string, string>;
}) => AutocannonInstance;

const rate = Number(process.env.BENCH_RATE ?? 2000);
const seconds = Number(process.env.BENCH_SECONDS ?? 12);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Figures {
  name: string;
  requests: number;
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  correctedP99: number;
  cpuMicrosPerRequest: number;
  non2xx: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The server's CPU time (user + system), in microseconds. */
function serverCpu(): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      child.off('message', onMessage);
      resolve(cpu.user + cpu.system);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

async function load(
  name: string,
  url: string,
  key: string,
  durationSeconds: number,
): Promise<Figures> {
  const times: number[] = [];
  const cpuBefore = await serverCpu();
  const instance = autocannon({
    url,
    connections,
    overallRate: rate,
    duration: durationSeconds,
    headers: { authorization: `Bearer ${key}` },
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) times.push(responseTime);
  });
  const result = await instance;
  const cpu = (await serverCpu()) - cpuBefore;
  times.sort((a, b) => a - b);
  return {
    name,
    requests: result.requests.total,
    achievedRate: result.requests.total / durationSeconds,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
    correctedP99: result.latency.p99,
    cpuMicrosPerRequest: cpu / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const ms = (x: number) => x.toFixed(2);

let embedded: EmbeddedDb | null = null;
const databaseUrl = process.env.DATABASE_URL ?? (embedded = await startEmbeddedPostgres()).url;
const sql = createSql(databaseUrl, { max: 2 });
const child = fork(new URL('./api-server.ts', import.meta.url), {
  env: { ...process.env, DATABASE_URL: databaseUrl },
  execArgv: [
    ...process.execArgv,
    ...(process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : []),
  ],
  stdio: 'inherit',
});
try {
  await migrate(sql);
  const { agency, apiKey } = await createAgency(sql, { name: 'Bench Agency', webhookUrl: null });
  const client = await insertClient(sql, agency.id, newId('cli'), {
    externalId: null,
    name: 'Bench Client',
    email: 'bench@example.com',
    billingMode: 'manual',
    billingEnabled: true,
    rateMinorPerMinute: '25',
    disabled: false,
    planId: null,
  });
  const plan = await insertPlan(sql, agency.id, newId('pln'), {
    name: 'Bench Plan',
    tier: 'pro',
    description: null,
    currency: 'USD',
    flatFeeMinor: 4900,
    overageRateMinorPerMinute: '20',
    includedMinutes: 500,
    rhythm: 'month',
    intervalCount: 1,
    dueDays: 7,
    graceDays: 7,
    packsAllowed: true,
    chatMode: false,
    chatsPerMinute: null,
    taxBehavior: 'exclusive',
  });

  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`API server exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const targets = [
    { name: 'GET /v1/clients/{id}', url: `${base}/v1/clients/${client.id}` },
    { name: 'GET /v1/plans/{id}', url: `${base}/v1/plans/${plan.id}` },
  ];

  console.log(
    `bench:api: ${rate} req/s for ${seconds} s per route, ${connections} connections, ` +
      `server pool ${process.env.BENCH_PG_MAX ?? 20}, node ${process.version}, ${cpus().length} CPUs, ` +
      `postgres ${embedded ? 'embedded' : 'DATABASE_URL'}, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const results: Figures[] = [];
  for (const target of targets) {
    await load(target.name, target.url, apiKey.key, 3); // warm-up: JIT, pool, key cache
    const f = await load(target.name, target.url, apiKey.key, seconds);
    results.push(f);
    console.log(
      `${f.name}: ${f.requests} requests (${f.achievedRate.toFixed(0)} req/s), ` +
        `p50 ${ms(f.p50)} ms, p90 ${ms(f.p90)} ms, p99 ${ms(f.p99)} ms, max ${ms(f.max)} ms; ` +
        `autocannon p99 (coordinated-omission corrected, whole ms) ${f.correctedP99} ms; ` +
        `server CPU ${f.cpuMicrosPerRequest.toFixed(0)} \u00b5s/request; ` +
        `non-2xx ${f.non2xx}, errors ${f.errors}`,
    );
  }
  console.log(`load average after: ${loadavg()[0]!.toFixed(2)}`);
  const bad = results.find((f) => f.non2xx > 0 || f.errors > 0);
  if (bad) throw new Error(`${bad.name}: ${bad.non2xx} non-2xx answers, ${bad.errors} errors`);
  const p50 = Math.max(...results.map((f) => f.p50));
  const p99 = Math.max(...results.map((f) => f.p99));
  const achieved = Math.min(...results.map((f) => f.achievedRate));
  console.log(
    `target: p99 under 5 ms at 2000 req/s: ${p99 < 5 && achieved >= 0.98 * 2000 ? 'met' : 'MISSED'}`,
  );
  console.log(`api: p50 ${ms(p50)} ms, p99 ${ms(p99)} ms at ${achieved.toFixed(0)} req/s`);
} finally {
  child.disconnect();
  await new Promise((r) => child.once('exit', r));
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}
