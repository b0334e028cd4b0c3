/**
 * One run, one throwaway Postgres (or DATABASE_URL), migrated once into a template database
 * that each test file clones; the time-skipping Temporal test server located or built; the
 * workflow bundle built once; stripe-mock started on a free loopback port. Nothing here is
 * skipped: a missing tool fails the run with a message that says how to get it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createSql } from '../db/client';
import { startEmbeddedPostgres, type EmbeddedDb } from '../db/embedded';
import { migrate } from '../db/migrate';
import { testServerExecutable } from '../tools';
import { workflowsPath } from '../worker/create-worker';
import { startStripeMock } from './helpers/stripe-mock';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    testServer: string;
    workflowBundlePath: string;
    stripeMockUrl: string;
  }
}

const TEMPLATE = 'tally_template';

export default async function setup(project: TestProject) {
  const started = Date.now();
  let db: EmbeddedDb | null = null;
  const adminUrl = process.env.DATABASE_URL ?? (db = await startEmbeddedPostgres()).url;
  const admin = createSql(adminUrl, { max: 1 });
  await admin.unsafe(`drop database if exists ${TEMPLATE}`);
  await admin.unsafe(`create database ${TEMPLATE}`);
  const templateUrl = withDatabase(adminUrl, TEMPLATE);
  const template = createSql(templateUrl, { max: 1 });
  await migrate(template);
  await template.end();

  const executable = await testServerExecutable();
  if (executable.type !== 'existing-path') {
    throw new Error(
      'the time-skipping test server is not available locally; run `npm run tools -- test-server` to see why',
    );
  }

  const dir = await mkdtemp(join(tmpdir(), 'tally-test-'));
  const bundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const workflowBundlePath = join(dir, 'workflows.js');
  await writeFile(workflowBundlePath, bundle.code);
  const stripeMock = await startStripeMock();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', TEMPLATE);
  project.provide('testServer', executable.path);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('stripeMockUrl', stripeMock.url);
  console.log(
    `[test] setup ready in ${Date.now() - started} ms (postgres ${db ? 'embedded' : 'DATABASE_URL'})`,
  );

  return async () => {
    await admin.end({ timeout: 5 });
    await stripeMock.stop();
    await db?.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};
