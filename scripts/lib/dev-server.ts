/**
 * The Temporal dev server for `npm start`: `temporal server start-dev` with the Web UI on, state in
 * a SQLite file under the data dir, and Tally's custom search attributes registered at launch.
 * We spawn the CLI ourselves (own process group, output to a log file) so we choose the flags and
 * can stop the whole group; without a local CLI, the Temporal SDK downloads and runs it.
 */
import { spawn } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { temporalAnswers } from '../../temporal/connection';
import { defineSearchAttributeKey } from '@temporalio/common';
import { devServerExecutable } from '../../tools';
import { searchAttributeFlags } from '../../tools/search-attribute-flags';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import { signalGroup, stopGroup } from './processes';

export interface DevServerOptions {
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Aborted when the user presses Ctrl-C while we wait for the server. */
  signal: AbortSignal;
  /** Installs the Temporal Core runtime; needed before the SDK may run the server for us. */
  installRuntime: () => Promise<void>;
  /** Called as soon as the process exists, so a forced exit can kill it even before it is ready. */
  onSpawn?: (pid: number) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  /** Leader of the process group we spawned; null when the SDK runs the server. */
  pid: number | null;
  logFile: string;
  /** Resolves with the reason when the server process ends, for whatever cause. */
  exited: Promise<string>;
  stop(): Promise<void>;
  /** For a forced exit: no waiting. */
  kill(): void;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/** Starts the dev server and resolves once its gRPC API, namespace and Web UI all answer. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const executable = await devServerExecutable();
  const dbFilename = join(options.dataDir, 'temporal.db');
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://127.0.0.1:${options.uiPort}`;
  if (executable.type !== 'existing-path') {
    return startWithSdk(options, executable, { dbFilename, address, uiUrl });
  }

  const logFile = join(options.dataDir, 'temporal.log');
  // The log is appended to across runs: remember where this run starts, for error messages.
  const logStart = await stat(logFile).then(
    (s) => s.size,
    () => 0,
  );
  const log = await open(logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    dbFilename,
    ...(options.namespace === 'default' ? [] : ['--namespace', options.namespace]),
    ...searchAttributeFlags(),
    '--log-level',
    'warn',
    '--color',
    'never',
  ];
  // detached: its own process group, so a terminal's Ctrl-C reaches us, not it, and we stop it
  // last, after the worker; the log file (not a pipe) keeps it writable even if we die first.
  const child = spawn(executable.path, args, {
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  let exited: string | null = null;
  const exitedPromise = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolveExit(exited);
    });
    child.once('error', (err) => {
      exited = `could not start: ${err.message}`;
      resolveExit(exited);
    });
  });
  const pid = child.pid;
  if (pid !== undefined) options.onSpawn?.(pid);

  const lastLines = async () => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    const lines = text.slice(logStart).trimEnd().split('\n').slice(-20);
    return lines.join('\n') || '(no output)';
  };

  const server: DevServer = {
    address,
    uiUrl,
    pid: pid ?? null,
    logFile,
    exited: exitedPromise,
    async stop() {
      if (pid !== undefined && exited === null) await stopGroup(pid, STOP_GRACE_MS);
    },
    kill() {
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    },
  };

  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited !== null) {
        throw new Error(
          `the Temporal dev server (${executable.path}) exited before it was ready (${exited}).\n` +
            `Last lines of ${logFile}:\n${await lastLines()}`,
        );
      }
      options.signal.throwIfAborted();
      if (Date.now() > deadline) {
        throw new Error(
          `the Temporal dev server did not answer on ${address} and ${uiUrl} within ` +
            `${READY_TIMEOUT_MS / 1000} s.\nLast lines of ${logFile}:\n${await lastLines()}`,
        );
      }
      if (await answers(address, options.namespace, uiUrl)) return server;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** One readiness probe: gRPC system info, the namespace, and the Web UI's front page. */
async function answers(address: string, namespace: string, uiUrl: string): Promise<boolean> {
  if (!(await temporalAnswers(address, namespace))) return false;
  try {
    const ui = await fetch(uiUrl, { signal: AbortSignal.timeout(1_000) });
    return ui.ok;
  } catch {
    return false;
  }
}

/** No local CLI but the SDK can download it: let the SDK run the dev server with our settings. */
async function startWithSdk(
  options: DevServerOptions,
  executable: Awaited<ReturnType<typeof devServerExecutable>>,
  at: { dbFilename: string; address: string; uiUrl: string },
): Promise<DevServer> {
  // Loaded only here: the testing package is a dev dependency and heavy to import.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  await options.installRuntime();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      port: options.port,
      ui: true,
      uiPort: options.uiPort,
      dbFilename: at.dbFilename,
      namespace: options.namespace,
      searchAttributes: Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) =>
        defineSearchAttributeKey(name, type),
      ),
    },
  });
  return {
    address: at.address,
    uiUrl: at.uiUrl,
    pid: null,
    logFile: '(the Temporal SDK runs this server; its output is not kept)',
    // The SDK does not say when its server dies; the health endpoint will.
    exited: new Promise<string>(() => {}),
    stop: () => env.teardown(),
    kill: () => void env.teardown().catch(() => {}),
  };
}
