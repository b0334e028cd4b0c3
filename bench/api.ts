/**
 * `npm run bench:api`: GET /v1/clients/{id} and GET /v1/plans/{id} at a fixed 2,000 req/s on
 * loopback, against DATABASE_URL or a throwaway embedded Postgres; the API server runs in a
 * child process (bench/api-server.ts) so the load generator does not share its event loop.
 *
 * Per route: a 3 s warm-up, then the measured run with an evenly paced open-loop generator
 * (bench/paced-load.ts; latency from each request's due time, so queueing counts), then an
 * autocannon run at the same `overallRate` for reference. Autocannon paces per second (each
 * connection sends back to back until its quota for the second is used), so its figures are
 * latency under bursts of all connections at full speed, not at an even 2,000 req/s.
 *
 * The last line is `api: p50 <x> ms, p99 <y> ms at <n> req/s` from the paced runs: the worse
 * route's p50 and p99, at the lower achieved rate. Also printed: the server's CPU time per
 * request and the machine's load average, since on a small shared machine other processes
 * move the tail more than the server does.
 *
 * Env: BENCH_RATE (2000), BENCH_SECONDS (12), BENCH_CONNECTIONS (50), BENCH_PG_MAX (server
 * pool, 20 as in `npm run api`), BENCH_CPU_PROF (directory for a CPU profile of the server).
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
import { pacedLoad } from './paced-load';

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

const ms = (x: number) => x.toFixed(2);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

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

interface Paced {
  name: string;
  p50: number;
  p99: number;
  achievedRate: number;
}

async function measure(name: string, url: string, key: string): Promise<Paced> {
  const headers = { authorization: `Bearer ${key}` };
  await pacedLoad({ url, headers, rate, seconds: 3, connections }); // JIT, pool, key cache

  const cpuBefore = await serverCpu();
  const ownBefore = process.cpuUsage();
  const paced = await pacedLoad({ url, headers, rate, seconds, connections });
  const own = process.cpuUsage(ownBefore);
  const serverMicros = (await serverCpu()) - cpuBefore;
  const l = paced.latencies;
  if (paced.non2xx > 0 || paced.errors > 0)
    throw new Error(`${name}: ${paced.non2xx} non-2xx answers, ${paced.errors} errors`);
  console.log(
    `${name}: ${paced.sent} requests paced at ${rate} req/s (${paced.achievedRate.toFixed(0)} answered/s), ` +
      `p50 ${ms(percentile(l, 50))} ms, p90 ${ms(percentile(l, 90))} ms, ` +
      `p99 ${ms(percentile(l, 99))} ms, p99.9 ${ms(percentile(l, 99.9))} ms, max ${ms(l[l.length - 1]!)} ms; ` +
      `server CPU ${(serverMicros / paced.sent).toFixed(0)} \u00b5s/request; ` +
      `load generator ${((100 * (own.user + own.system)) / (seconds * 1e6)).toFixed(0)}% of a core`,
  );

  const times: number[] = [];
  const instance = autocannon({ url, connections, overallRate: rate, duration: seconds, headers });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) times.push(responseTime);
  });
  const ac = await instance;
  times.sort((a, b) => a - b);
  console.log(
    `  autocannon (per-second bursts): ${ac.requests.total} requests, ` +
      `p50 ${ms(percentile(times, 50))} ms, p99 ${ms(percentile(times, 99))} ms, ` +
      `corrected p99 ${ac.latency.p99} ms; non-2xx ${ac.non2xx}, errors ${ac.errors + ac.timeouts}`,
  );
  return {
    name,
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    achievedRate: paced.achievedRate,
  };
}

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
  console.log(
    `bench:api: ${rate} req/s for ${seconds} s per route, ${connections} connections, ` +
      `server pool ${process.env.BENCH_PG_MAX ?? 20}, node ${process.version}, ${cpus().length} CPUs, ` +
      `postgres ${embedded ? 'embedded' : 'DATABASE_URL'}, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const results = [
    await measure('GET /v1/clients/{id}', `${base}/v1/clients/${client.id}`, apiKey.key),
    await measure('GET /v1/plans/{id}', `${base}/v1/plans/${plan.id}`, apiKey.key),
  ];
  console.log(`load average after: ${loadavg()[0]!.toFixed(2)}`);
  const p50 = Math.max(...results.map((f) => f.p50));
  const p99 = Math.max(...results.map((f) => f.p99));
  const achieved = Math.min(...results.map((f) => f.achievedRate));
  console.log(
    `target: p99 under 5 ms at 2000 req/s: ${p99 < 5 && rate >= 2000 && achieved >= 0.98 * rate ? 'met' : 'MISSED'}`,
  );
  console.log(`api: p50 ${ms(p50)} ms, p99 ${ms(p99)} ms at ${achieved.toFixed(0)} req/s`);
} finally {
  child.disconnect();
  await new Promise((r) => child.once('exit', r));
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}
