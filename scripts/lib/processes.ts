/** Small process helpers for `npm start`: liveness, commands, waiting, killing process groups. */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * True while a process `pid` exists (signal 0, no `ps`): enough for a child of this process,
 * which Node reaps as soon as it exits. For any other process use isAlive.
 */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else (e.g. the postgres user).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while `pid` runs. A zombie (dead, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  return exists(pid) && !processState(pid).startsWith('Z');
}

/** `ps` state letters for `pid` ('' when there is no such process). */
export function processState(pid: number): string {
  return ps(['-o', 'stat=', '-p', String(pid)]);
}

/** The command line of `pid` ('' when there is no such process). */
export function commandOf(pid: number): string {
  return ps(['-o', 'command=', '-p', String(pid)]);
}

function ps(args: string[]): string {
  try {
    return execFileSync('ps', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return ''; // ps exits 1 when the pid does not exist
  }
}

/** Resolves true once `pid` has exited, false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Signals every process in the group led by `pgid`; quiet if the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Stops a process group politely (`signal`), then with SIGKILL after `graceMs`. Resolves once the
 * leader is gone.
 */
export async function stopGroup(
  pgid: number,
  graceMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  signalGroup(pgid, signal);
  if (await waitForExit(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitForExit(pgid, 5_000);
}

/** Rejects with a message naming `variable` when host:port is already taken. */
export function assertPortFree(port: number, host: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use (${variable}); stop what uses it or set ${variable} to another port`
            : `cannot bind ${host}:${port} (${variable}): ${err.message}`,
        ),
      ),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}
