// Race safety for builds. Two layers, on purpose:
// - Correctness comes from atomic publication: every artefact is built under a temp name in the
//   same directory tree and `rename`d into place, so a reader never sees a half-written file even
//   if two builders race or one is killed midway.
// - The lock file only avoids *duplicate work* (two terminals each spending five minutes on
//   `go install`). If it is ever wrong (stale-lock races, shared home over NFS), the worst case is
//   a redundant build, never a corrupt tool.
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode, log, sleep } from './common';

// A build that has not touched its lock for this long is assumed abandoned (e.g. a container
// that was killed shares our home dir, so its pid means nothing here).
const STALE_AFTER_MS = 60 * 60 * 1000;
const NOTE_EVERY_MS = 10_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return errnoCode(err) === 'EPERM';
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  try {
    const [content, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const pid = Number.parseInt(content, 10);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 5_000;
    return !pidAlive(pid) || Date.now() - info.mtimeMs > STALE_AFTER_MS;
  } catch (err) {
    // Vanished between our failed create and this read: not stale, just retry the create.
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Runs `fn` while holding an exclusive lock file. Waiters print a note every ~10s so a second
 * `npm run tools` does not look hung while the first one builds.
 */
export async function withLock<T>(
  lockPath: string,
  tool: string,
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true });
  const started = Date.now();
  let lastNote = started;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath)) {
      log(tool, `removing stale lock ${lockPath}`);
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() - lastNote >= NOTE_EVERY_MS) {
      const secs = Math.round((Date.now() - started) / 1000);
      log(tool, `waiting for another process that holds ${lockPath}... ${secs}s elapsed`);
      lastNote = Date.now();
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Writes `content` to `path` atomically (temp file in the same directory, then rename). */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, content, { mode });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
