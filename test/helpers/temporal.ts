/** A time-skipping Temporal test server per test file, and a worker with real activities. */
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { StripeCollection } from '../../background/sweepers';
import type { Sql } from '../../db/client';
import { createWorker } from '../../worker/create-worker';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import { registerSearchAttributes } from '../../temporal/connection';

let runtimeInstalled = false;

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServer') } },
  });
  // The test server, like a real one, rejects search attributes it was not told about.
  await registerSearchAttributes(env.client, env.namespace ?? 'default');
  return env;
}

export async function createTestWorker(
  env: TestWorkflowEnvironment,
  sql: Sql,
  taskQueue?: string,
  options: { sweep?: boolean; stripeConfigured?: boolean; stripe?: StripeCollection | null } = {},
): Promise<Worker> {
  return createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    deps: { sql, stripeConfigured: options.stripeConfigured ?? false },
    ...(taskQueue ? { taskQueue } : {}),
    ...(options.sweep === false ? { sweep: false } : {}),
    ...(options.stripe ? { stripe: options.stripe } : {}),
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
}

export { SEARCH_ATTRIBUTES };
