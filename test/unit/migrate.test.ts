/** Migrations: empty to latest, idempotent re-run, and the runner's refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../../db/client';
import { loadMigrations, migrate, migrationsDir } from '../../db/migrate';

let admin: Sql;
const created: string[] = [];

/** An empty database (not the migrated template). */
async function emptyDb(): Promise<Sql> {
  return createSql(await emptyDbUrl(), { max: 2 });
}

async function emptyDbUrl(): Promise<string> {
  const name = `m_${randomBytes(6).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  created.push(name);
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-migrations-'));
  await cp(migrationsDir, dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  admin = createSql(inject('pgAdminUrl'), { max: 1 });
});
afterAll(async () => {
  for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('migrations', () => {
  it('takes an empty database to the latest version, and a second run changes nothing', async () => {
    const sql = await emptyDb();
    const files = await loadMigrations();
    const applied = await migrate(sql);
    expect(applied).toEqual(files.map((m) => m.version));
    const tables =
      await sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`;
    const before =
      await sql`select version, checksum, applied_at from schema_migrations order by version`;
    expect(await migrate(sql)).toEqual([]);
    expect(
      await sql`select version, checksum, applied_at from schema_migrations order by version`,
    ).toEqual(before);
    expect(
      (
        await sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`
      )[0]!.n,
    ).toBe(tables[0]!.n);
    await sql.end();
  });

  it('runs safely from two processes at once', async () => {
    // Two separate clients, as the API and the worker would be when started together.
    const url = await emptyDbUrl();
    const [a, b] = [createSql(url, { max: 1 }), createSql(url, { max: 1 })];
    const results = await Promise.all([migrate(a), migrate(b)]);
    // Each version applied exactly once, by one of them.
    expect(results.flat().sort((x, y) => x - y)).toEqual(
      (await loadMigrations()).map((m) => m.version),
    );
    await Promise.all([a.end(), b.end()]);
  });

  it('refuses a gap in the numbering', async () => {
    const dir = await copyOfMigrations();
    const count = (await readdir(dir)).filter((f) => f.endsWith('.sql')).length;
    await writeFile(
      join(dir, `${String(count + 2).padStart(4, '0')}_skipped_one.sql`),
      'select 1;',
    );
    await expect(loadMigrations(dir)).rejects.toThrow(/gap or duplicate: expected \d+/);
    const sql = await emptyDb();
    await expect(migrate(sql, dir)).rejects.toThrow(/gap/);
    expect((await sql`select to_regclass('schema_migrations') as t`)[0]!.t).toBeNull();
    await sql.end();
    await rm(dir, { recursive: true });
  });

  it('refuses an applied migration that was edited', async () => {
    const dir = await copyOfMigrations();
    const sql = await emptyDb();
    await migrate(sql, dir);
    await appendFile(join(dir, '0001_init.sql'), '\n-- a later edit\n');
    await expect(migrate(sql, dir)).rejects.toThrow(
      /migration 1 \(init\) was edited after it was applied/,
    );
    await sql.end();
    await rm(dir, { recursive: true });
  });

  it('refuses a database that is ahead of the code', async () => {
    const dir = await copyOfMigrations();
    const sql = await emptyDb();
    await migrate(sql);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    await rm(join(dir, files[files.length - 1]!));
    await expect(migrate(sql, dir)).rejects.toThrow(/that this code does not know/);
    await sql.end();
    await rm(dir, { recursive: true });
  });

  it('refuses a badly named file', async () => {
    const dir = await copyOfMigrations();
    await writeFile(join(dir, '9_bad name.sql'), 'select 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/not named NNNN_name.sql/);
    await rm(dir, { recursive: true });
  });
});
