// Lookup-or-build for tools we compile from Go source (the Temporal CLI, stripe-mock). Neither
// ships in a package registry we can reach, but the Go module proxy serves their source, so a
// machine with Go can always build them.
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cacheDir,
  findOnPath,
  fromEnv,
  isExecutableFile,
  log,
  ToolUnavailableError,
} from './common';
import { withLock } from './file-lock';
import { runWithProgress } from './run-with-progress';

export interface GoToolSpec {
  /** Name used in logs and errors, e.g. "temporal". */
  tool: string;
  /** Binary name on PATH and in `<cache>/bin`. */
  binary: string;
  envVar: string;
  /** `go install` target, e.g. `github.com/temporalio/cli/cmd/temporal@v1.5.1`. */
  goPackage: string;
  /** Extra `go install` flags (e.g. `-ldflags=...` to stamp the version the release would). */
  goFlags?: readonly string[];
  /** Appended to the "how to get it" error, for tool-specific alternatives. */
  extraHelp?: string;
}

/** `<cache>/bin/<binary>`: where a build lands and where step 3 looks. */
export function cachedBinaryPath(spec: GoToolSpec): string {
  return join(cacheDir(), 'bin', spec.binary);
}

/** Steps 1-3 (env var, PATH, cache) without building. */
export async function findGoTool(spec: GoToolSpec): Promise<string | undefined> {
  const explicit = await fromEnv(spec.envVar, spec.tool);
  if (explicit) return explicit;
  const onPath = await findOnPath(spec.binary);
  if (onPath) return onPath;
  const cached = cachedBinaryPath(spec);
  return (await isExecutableFile(cached)) ? cached : undefined;
}

export function howToGet(spec: GoToolSpec, reason: string): ToolUnavailableError {
  return new ToolUnavailableError(
    `${spec.tool}: ${reason}\n` +
      `To fix, do one of:\n` +
      `  - install Go 1.23+ (https://go.dev/dl) and run \`npm run tools ${spec.tool}\`, which runs\n` +
      `    \`go install ${spec.goPackage}\` into ${join(cacheDir(), 'bin')}\n` +
      `  - put \`${spec.binary}\` on PATH\n` +
      `  - set ${spec.envVar}=/path/to/${spec.binary}` +
      (spec.extraHelp ? `\n  - ${spec.extraHelp}` : ''),
  );
}

/** Step 4: `go install` into a private temp GOBIN, then rename into `<cache>/bin`. */
async function buildGoTool(spec: GoToolSpec, go: string): Promise<string> {
  const target = cachedBinaryPath(spec);
  const lock = join(cacheDir(), 'locks', `${spec.binary}.lock`);
  return withLock(lock, spec.tool, async () => {
    // Someone may have finished the same build while we waited for the lock.
    if (await isExecutableFile(target)) return target;
    const tmpRoot = join(cacheDir(), 'tmp');
    await mkdir(tmpRoot, { recursive: true });
    await mkdir(join(cacheDir(), 'bin'), { recursive: true });
    // Same filesystem as `bin/`, so the final rename is atomic.
    const gobin = await mkdtemp(join(tmpRoot, `${spec.binary}-`));
    try {
      log(spec.tool, `building from source; the first build can take several minutes`);
      await runWithProgress(
        spec.tool,
        go,
        ['install', ...(spec.goFlags ?? []), spec.goPackage],
        // CGO off: both tools are pure Go, and a static binary matches the upstream releases.
        { env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' } },
      );
      await rename(join(gobin, spec.binary), target);
      log(spec.tool, `installed ${target}`);
      return target;
    } finally {
      await rm(gobin, { recursive: true, force: true });
    }
  });
}

/** Steps 1-4 and 6: find the tool, else build it with Go, else throw with instructions. */
export async function ensureGoTool(spec: GoToolSpec): Promise<string> {
  const found = await findGoTool(spec);
  if (found) return found;
  const go = await findOnPath('go');
  if (!go) {
    const checked = `${spec.envVar}, PATH, ${cachedBinaryPath(spec)}`;
    throw howToGet(spec, `not found (checked ${checked}) and Go is not installed.`);
  }
  try {
    return await buildGoTool(spec, go);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw howToGet(spec, `building with Go failed: ${message}`);
  }
}
