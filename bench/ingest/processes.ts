/**
 * The ingest bench's processes: the children it starts (Temporal, the worker, the API), what it
 * cleans up, and a shutdown that leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchTemporal } from '../dev-server';

export const children: ChildProcess[] = [];
export const cleanups: (() => Promise<void>)[] = [];

/** Starts `script` under tsx as a child whose stderr is echoed with `[name]` in front. */
export function child(name: string, script: string, env: Record<string, string>): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  c.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  children.push(c);
  return c;
}

/** A headless in-memory Temporal dev server in a directory removed at the end. */
export async function startTemporal() {
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-temporal-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { address, child: c, serviceRequests } = await startBenchTemporal(dir);
  children.push(c);
  return { address, pid: c.pid!, serviceRequests };
}

/** The pid of the postmaster listening on `port`, or -1. */
export function postgresPid(port: number): number {
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

/** Stops the children (SIGTERM, then SIGKILL), runs the cleanups and exits with `code`. */
export async function shutdown(code: number) {
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
