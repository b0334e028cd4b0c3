// Shared helpers for tool provisioning: where the cache lives, how we log, and the first two
// lookup steps (explicit env var, then PATH) that every tool goes through.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/** Thrown when a tool cannot be found or built; the message says how to get it. */
export class ToolUnavailableError extends Error {
  override name = 'ToolUnavailableError';
}

/** `TALLY_CACHE_DIR`, or `~/.cache/tally`. Shared by all checkouts so a build is done once. */
export function cacheDir(): string {
  const explicit = process.env.TALLY_CACHE_DIR;
  return explicit ? resolve(explicit) : join(homedir(), '.cache', 'tally');
}

/**
 * Progress goes to stderr so `npm run tools` can print bare paths on stdout for scripts to
 * capture (`TEMPORAL=$(npm run -s tools temporal)`).
 */
export function log(tool: string, message: string): void {
  process.stderr.write(`[tools] ${tool}: ${message}\n`);
}

/** True for a regular file we may execute (a directory is "executable" too, so check). */
export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Step 1 of every lookup: an explicit path in `envVar` wins. If it is set but unusable we throw
 * rather than fall through, because silently using a different binary than the one the user
 * asked for makes for confusing bugs.
 */
export async function fromEnv(envVar: string, tool: string): Promise<string | undefined> {
  const value = process.env[envVar];
  if (!value) return undefined;
  const path = resolve(value);
  if (!(await isExecutableFile(path))) {
    throw new ToolUnavailableError(
      `${envVar}=${value} is set but is not an executable file. ` +
        `Fix the path, or unset ${envVar} to let Tally find or build ${tool} itself.`,
    );
  }
  return path;
}

/** Step 2: the first executable called `name` on PATH, like `command -v`. */
export async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
