/**
 * `npm run bench:api`: GET /v1/clients/{id}, GET /v1/plans/{id} and GET /v1/clients/{id}/access
 * at a fixed 2,000 req/s on loopback, against DATABASE_URL or a throwaway embedded Postgres; the
 * API server runs in a child process (bench/api-server.ts) so the load generator does not share
 * its event loop.
 *
 * The floor, in the same run: the same generator against a bare Node HTTP server in its own
 * process (bench/floor-server.ts) answering a constant body of the route's size. Per route: a 3 s
 * warm-up of both, then the route and its floor measured in alternating slices, with an evenly
 * paced open-loop generator (bench/paced-load.ts; latency from each request's due time, so
 * queueing counts). With BENCH_AUTOCANNON=1 an autocannon run at the same `overallRate` follows
 * for reference (autocannon paces per second: bursts of all connections at full speed).
 *
 * The last line is `api: p99 <t> ms, floor p99 <f> ms, ratio <t/f> (worst of client, plan,
 * access) at <n> req/s`: the route with the highest ratio of p99s, its floor, at the lowest
 * achieved rate. Also printed: the server's CPU time per request, the machine's load average and
 * the command that reproduces the run, since on a small shared machine other processes move the
 * tail more than the server does.
 *
 * Env: BENCH_RATE (2000), BENCH_SECONDS (12), BENCH_CONNECTIONS (50), BENCH_PG_MAX (server
 * pool, 20 as in `npm run api`), BENCH_CPU_PROF (directory for a CPU profile of the server),
 * BENCH_ROUNDS (4: route and floor alternate in this many slices each), BENCH_AUTOCANNON (1: also
 * an autocannon run per route).
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
import { reproduce } from './reproduce';

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
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4));

const ms = (x: number) => x.toFixed(2);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

let embedded: EmbeddedDb | null = null;
const databaseUrl = process.env.DATABASE_URL ?? (embedded = await startEmbeddedPostgres()).url;
const sql = createSql(databaseUrl, { max: 2 });
const floor = fork(new URL('./floor-server.ts', import.meta.url), {
  execArgv: process.execArgv,
  stdio: 'inherit',
});
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

/** A server's CPU time (user + system), in microseconds. */
function serverCpu(server = child): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      server.off('message', onMessage);
      resolve(cpu.user + cpu.system);
    };
    server.on('message', onMessage);
    server.send('cpu');
  });
}

interface Paced {
  name: string;
  p50: number;
  p99: number;
  achievedRate: number;
}

const autocannonToo = process.env.BENCH_AUTOCANNON === '1';

interface Run {
  latencies: number[];
  sent: number;
  answeredPerSecond: number;
  serverMicros: number;
  ownMicros: number;
}

/** One paced slice against `url`; throws on any non-2xx answer. */
async function pacedSlice(
  name: string,
  url: string,
  headers: Record<string, string>,
  server: typeof child,
  sliceSeconds: number,
): Promise<Run> {
  const cpuBefore = await serverCpu(server);
  const ownBefore = process.cpuUsage();
  const paced = await pacedLoad({ url, headers, rate, seconds: sliceSeconds, connections });
  const own = process.cpuUsage(ownBefore);
  const serverMicros = (await serverCpu(server)) - cpuBefore;
  if (paced.non2xx > 0 || paced.errors > 0)
    throw new Error(`${name}: ${paced.non2xx} non-2xx answers, ${paced.errors} errors`);
  return {
    latencies: paced.latencies,
    sent: paced.sent,
    answeredPerSecond: paced.achievedRate,
    serverMicros,
    ownMicros: own.user + own.system,
  };
}

/** The slices of one target merged and printed as one line. */
function summarize(name: string, runs: Run[]): Paced {
  const l = runs.flatMap((r) => r.latencies).sort((x, y) => x - y);
  const sent = runs.reduce((a, r) => a + r.sent, 0);
  const serverMicros = runs.reduce((a, r) => a + r.serverMicros, 0);
  const ownMicros = runs.reduce((a, r) => a + r.ownMicros, 0);
  const achievedRate = Math.min(...runs.map((r) => r.answeredPerSecond));
  console.log(
    `${name}: ${sent} requests paced at ${rate} req/s (at least ${achievedRate.toFixed(0)} answered/s), ` +
      `p50 ${ms(percentile(l, 50))} ms, p90 ${ms(percentile(l, 90))} ms, ` +
      `p99 ${ms(percentile(l, 99))} ms, p99.9 ${ms(percentile(l, 99.9))} ms, max ${ms(l[l.length - 1]!)} ms; ` +
      `server CPU ${(serverMicros / sent).toFixed(0)} \u00b5s/request; ` +
      `load generator ${((100 * ownMicros) / (seconds * 1e6)).toFixed(0)}% of a core`,
  );
  return { name, p50: percentile(l, 50), p99: percentile(l, 99), achievedRate };
}

async function measure(
  name: string,
  url: string,
  key: string,
  floorBase: string,
): Promise<{ route: Paced; floor: Paced; bytes: number }> {
  const headers = { authorization: `Bearer ${key}` };
  const probe = await fetch(url, { headers });
  if (probe.status !== 200) throw new Error(`${name}: ${probe.status} ${await probe.text()}`);
  const bytes = Buffer.byteLength(await probe.text());
  const floorUrl = `${floorBase}/${bytes}`;
  // JIT, pool, key cache; the floor warmed the same way.
  await pacedLoad({ url, headers, rate, seconds: 3, connections });
  await pacedLoad({ url: floorUrl, headers, rate, seconds: 3, connections });

  // Route and floor take turns in short slices, so both see the same background load.
  const routeRuns: Run[] = [];
  const floorRuns: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    routeRuns.push(await pacedSlice(name, url, headers, child, seconds / rounds));
    floorRuns.push(await pacedSlice('floor', floorUrl, headers, floor, seconds / rounds));
  }
  const route = summarize(name, routeRuns);
  const floorRun = summarize(`  floor (bare node:http, ${bytes} bytes)`, floorRuns);

  if (autocannonToo) {
    const times: number[] = [];
    const instance = autocannon({
      url,
      connections,
      overallRate: rate,
      duration: seconds,
      headers,
    });
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
  }
  console.log(
    `  ratio of p99s ${(route.p99 / floorRun.p99).toFixed(2)}; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  return { route, floor: floorRun, bytes };
}

const portOf = (server: typeof child, what: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('message', (m) => resolve((m as { port: number }).port));
    server.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
const floorPort = portOf(floor, 'floor server');
const apiPort = portOf(child, 'API server');

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

  const base = `http://127.0.0.1:${await apiPort}`;
  const floorBase = `http://127.0.0.1:${await floorPort}`;
  console.log(
    `bench:api: ${rate} req/s for ${seconds} s per route, ${connections} connections, ` +
      `server pool ${process.env.BENCH_PG_MAX ?? 20}, node ${process.version}, ${cpus().length} CPUs, ` +
      `postgres ${embedded ? 'embedded' : 'DATABASE_URL'}, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const results = [
    await measure('GET /v1/clients/{id}', `${base}/v1/clients/${client.id}`, apiKey.key, floorBase),
    await measure('GET /v1/plans/{id}', `${base}/v1/plans/${plan.id}`, apiKey.key, floorBase),
    await measure(
      'GET /v1/clients/{id}/access',
      `${base}/v1/clients/${client.id}/access`,
      apiKey.key,
      floorBase,
    ),
  ];
  console.log(`load average after: ${loadavg()[0]!.toFixed(2)}`);
  const worst = results.reduce((a, b) =>
    b.route.p99 / b.floor.p99 > a.route.p99 / a.floor.p99 ? b : a,
  );
  const achieved = Math.min(
    ...results.flatMap((r) => [r.route.achievedRate, r.floor.achievedRate]),
  );
  const ratio = worst.route.p99 / worst.floor.p99;
  console.log(
    `target: p99 at most 2x the floor at 2000 req/s (${worst.route.name}): ${ratio <= 2 && rate >= 2000 && achieved >= 0.98 * rate ? 'met' : 'MISSED'}`,
  );
  console.log(`reproduce: ${reproduce()}`);
  console.log(
    `api: p99 ${ms(worst.route.p99)} ms, floor p99 ${ms(worst.floor.p99)} ms, ratio ${ratio.toFixed(2)} (worst of client, plan, access) at ${achieved.toFixed(0)} req/s`,
  );
} finally {
  for (const server of [child, floor]) {
    server.disconnect();
    await new Promise((r) => server.once('exit', r));
  }
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}
