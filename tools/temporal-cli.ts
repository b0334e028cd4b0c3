// The Temporal CLI, used for `temporal server start-dev` (dev server with the Web UI).
// Verified with the v1.5.1 build (Server 1.29.1, UI 2.42.1): search attributes are registered at
// start with a repeatable `--search-attribute NAME=Type` flag, e.g.
//   temporal server start-dev --port 7233 --ui-port 8233 --db-filename .data/temporal.db \
//     --search-attribute AgencyId=Keyword
// and restarting with the same flags on an existing --db-filename is fine (idempotent).
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { join } from 'node:path';
import { cacheDir, log, ToolUnavailableError } from './common';
import { ensureGoTool, type GoToolSpec } from './go-tool';
import { sdkCanDownload } from './sdk-download';

export const TEMPORAL_CLI_VERSION = '1.5.1';

export const temporalCliSpec: GoToolSpec = {
  tool: 'temporal',
  binary: 'temporal',
  envVar: 'TALLY_TEMPORAL_CLI',
  goPackage: `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
  // Same ldflags as upstream's goreleaser: strip symbols (252 -> 213 MB) and stamp the version,
  // which otherwise reads "0.0.0-DEV".
  goFlags: [
    `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
  ],
  extraHelp: 'with internet access, use devServerExecutable() and let the Temporal SDK download it',
};

/**
 * Path to the `temporal` CLI. Lookup: `$TALLY_TEMPORAL_CLI` (must be executable), `temporal` on
 * PATH, `<cache>/bin/temporal`, else `go install` of v1.5.1 into the cache.
 *
 * Never returns a download sentinel: it throws a {@link ToolUnavailableError} that says how to get
 * the CLI. Callers that can let the SDK download it should use {@link devServerExecutable}.
 */
export function ensureTemporalCli(): Promise<string> {
  return ensureGoTool(temporalCliSpec);
}

/**
 * The dev server as the SDK wants it, for `TestWorkflowEnvironment.createLocal({ server: {
 * executable } })`: `{ type: 'existing-path' }` from {@link ensureTemporalCli}; or, when that
 * fails and the SDK's download host is reachable, `{ type: 'cached-download' }` so the SDK
 * fetches the CLI itself (into `<cache>/sdk-download`). An explicit but broken
 * `$TALLY_TEMPORAL_CLI` is always an error, never a reason to download.
 */
export async function devServerExecutable(): Promise<EphemeralServerExecutable> {
  try {
    return { type: 'existing-path', path: await ensureTemporalCli() };
  } catch (err) {
    if (!(err instanceof ToolUnavailableError) || process.env.TALLY_TEMPORAL_CLI) throw err;
    if (!(await sdkCanDownload())) throw err;
    log('temporal', 'not available locally; the Temporal SDK will download it');
    return { type: 'cached-download', downloadDir: join(cacheDir(), 'sdk-download') };
  }
}
