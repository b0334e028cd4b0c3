/**
 * `<data>/start.json` records which processes an `npm start` runs, so the next one can refuse to
 * share the data dir with a live run, and clean up after a run that was killed (kill -9, a crash)
 * before it could stop its Temporal dev server and Postgres.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopLeftoverPostgres } from './dev-postgres';
import { commandOf, isAlive, stopGroup } from './processes';

export interface RunState {
  runner: number;
  temporal: number | null;
  postgres: number | null;
}

const stateFile = (dataDir: string) => join(dataDir, 'start.json');

async function readState(dataDir: string): Promise<RunState | null> {
  try {
    return JSON.parse(await readFile(stateFile(dataDir), 'utf8')) as RunState;
  } catch {
    return null;
  }
}

export async function writeRunState(dataDir: string, state: RunState): Promise<void> {
  await writeFile(stateFile(dataDir), `${JSON.stringify(state)}\n`);
}

export async function clearRunState(dataDir: string): Promise<void> {
  await rm(stateFile(dataDir), { force: true });
}

/**
 * Makes `dataDir` ours: throws if another `npm start` is using it; stops what a dead one left
 * running. Returns a line per cleanup, for the user. Command lines are checked before any kill,
 * because a recorded pid may belong to an unrelated process by now.
 */
export async function claimDataDir(dataDir: string, postgresDir: string): Promise<string[]> {
  const previous = await readState(dataDir);
  const notes: string[] = [];
  if (previous && previous.runner !== process.pid && isAlive(previous.runner)) {
    if (commandOf(previous.runner).includes('start-runner')) {
      throw new Error(
        `another npm start (pid ${previous.runner}) is using ${dataDir}; stop it first, ` +
          `or give this one its own TALLY_DATA_DIR and ports`,
      );
    }
  }
  if (previous?.temporal && isAlive(previous.temporal)) {
    if (commandOf(previous.temporal).includes('start-dev')) {
      await stopGroup(previous.temporal, 10_000);
      notes.push(
        `stopped a Temporal dev server left running by an earlier run (pid ${previous.temporal})`,
      );
    }
  }
  const pg = await stopLeftoverPostgres(postgresDir);
  if (pg !== null) notes.push(`stopped a Postgres left running by an earlier run (pid ${pg})`);
  return notes;
}
