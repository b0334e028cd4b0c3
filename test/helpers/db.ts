/** A fresh database per test file, cloned from the migrated template (fast, isolated). */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../../db/client';

export interface TestDb {
  sql: Sql;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = createSql(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name} template ${inject('pgTemplate')}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const sql = createSql(url, { max: 10 });
  return {
    sql,
    url,
    async drop() {
      await sql.end({ timeout: 5 });
      const a = createSql(adminUrl, { max: 1 });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
