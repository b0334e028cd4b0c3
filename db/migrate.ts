/**
 * Forward-only migrations: numbered plain SQL files in db/migrations (`0001_name.sql`), applied in
 * order, each in its own transaction, recorded with a checksum. Refuses a gap in the numbering,
 * an applied migration whose file changed or vanished, and a database ahead of the code.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from './client';

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads and checks the migration files: numbered 1..N with no gap or duplicate. */
export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} is not named NNNN_name.sql`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(
        `migration numbering has a gap or duplicate: expected ${i + 1}, found ${m.version} (${m.name})`,
      );
    }
  });
  return migrations;
}

/** Applies pending migrations; returns the versions applied. Safe to run from several processes. */
export async function migrate(sql: Sql, dir = migrationsDir): Promise<number[]> {
  const migrations = await loadMigrations(dir);
  return sql.begin(async (tx) => {
    // One runner at a time: api and worker may start together against the same database.
    await tx`select pg_advisory_xact_lock(7247756)`; // "tally" on a phone keypad
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const applied = await tx<{ version: number; name: string; checksum: string }[]>`
      select version, name, checksum from schema_migrations order by version`;
    for (const row of applied) {
      const file = migrations[row.version - 1];
      if (!file) {
        throw new MigrationError(
          `database has migration ${row.version} (${row.name}) that this code does not know: is the code older than the database?`,
        );
      }
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.version} (${row.name}) was edited after it was applied: add a new migration instead`,
        );
      }
    }
    const done: number[] = [];
    for (const m of migrations.slice(applied.length)) {
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      done.push(m.version);
    }
    return done;
  });
}
