/**
 * Real processes for the crash tests: the worker as `worker/main.ts` in its own process, and a
 * Temporal dev server in a throwaway data dir, both stopped by `stopAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort } from '../../lib/ports';
import { startDevServer, type DevServer } from '../../scripts/lib/dev-server';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface TestProcesses {
  temporal: DevServer;
  /** Starts `worker/main.ts` with `env` on top of ours; resolves once it says it is running. */
  startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess>;
  stopAll(): Promise<void>;
}

export async function startTestProcesses(name: string): Promise<TestProcesses> {
  const dir = await mkdtemp(join(tmpdir(), `tally-${name}-`));
  const temporal = await startDevServer({
    dataDir: dir,
    port: await getFreePort(),
    uiPort: await getFreePort(),
    namespace: 'default',
    signal: new AbortController().signal,
    installRuntime: async () => {},
  });
  const workers: ChildProcess[] = [];
  return {
    temporal,
    startWorker(env) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
        cwd: root,
        env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('worker running')) resolve(child);
        });
        child.once('exit', (code) =>
          reject(new Error(`worker exited (${code}) before running:\n${err}`)),
        );
      });
    },
    async stopAll() {
      for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
      await temporal.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
