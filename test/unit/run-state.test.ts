/**
 * `.data/start.json` (README, "Two commands"): a second `npm start` on the same data dir refuses
 * to run, naming the other run and TALLY_DATA_DIR; after a run killed outright, the next start
 * stops the Temporal dev server it left behind; a recorded pid that now belongs to another
 * program is left alone. Stand-in processes carry the command-line words the checks look for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDataDir, writeRunState } from '../../scripts/lib/run-state';
import { isAlive, waitForExit } from '../../scripts/lib/processes';

let dataDir: string;
let postgresDir: string;
const started: ChildProcess[] = [];

/** A long-running node process whose command line ends with `word`; its own group if `group`. */
async function standIn(word: string, group = false): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', word], {
    stdio: 'ignore',
    detached: group,
  });
  started.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child.pid!;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tally-run-state-'));
  postgresDir = join(dataDir, 'postgres');
});
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.pid !== undefined && isAlive(child.pid)) {
      child.kill('SIGKILL');
      await waitForExit(child.pid, 5_000);
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('claiming the data dir', () => {
  it('refuses while another npm start runs on it, naming its pid and TALLY_DATA_DIR', async () => {
    const runner = await standIn('start-runner');
    await writeRunState(dataDir, { runner, temporal: null, postgres: null });
    const claim = claimDataDir(dataDir, postgresDir);
    await expect(claim).rejects.toThrow(`another npm start (pid ${runner}) is using ${dataDir}`);
    await expect(claimDataDir(dataDir, postgresDir)).rejects.toThrow(/TALLY_DATA_DIR/);
    expect(isAlive(runner)).toBe(true);
  });

  it('stops the dev server a killed run left behind, and says so', async () => {
    const deadRunner = await standIn('start-runner');
    started[0]!.kill('SIGKILL');
    await waitForExit(deadRunner, 5_000);
    const devServer = await standIn('start-dev', true);
    await writeRunState(dataDir, { runner: deadRunner, temporal: devServer, postgres: null });
    const notes = await claimDataDir(dataDir, postgresDir);
    expect(notes).toEqual([
      `stopped a Temporal dev server left running by an earlier run (pid ${devServer})`,
    ]);
    expect(await waitForExit(devServer, 5_000)).toBe(true);
  });

  it('leaves alone a recorded pid that now belongs to another program', async () => {
    const stranger = await standIn('something-else', true);
    await writeRunState(dataDir, { runner: stranger, temporal: stranger, postgres: null });
    expect(await claimDataDir(dataDir, postgresDir)).toEqual([]);
    expect(isAlive(stranger)).toBe(true);
  });

  it('claims a fresh data dir without a word', async () => {
    expect(await claimDataDir(dataDir, postgresDir)).toEqual([]);
  });
});
