/** Builds the worker: activities get their dependencies here, once. */
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { startSweepers, type StripeCollection } from '../background/sweepers';
import { createStripePlatform } from '../collection/stripe/client';
import type { StripeSettings } from '../lib/config';
import type { Logger } from '../lib/logger';
import { TASK_QUEUE } from '../workflows/definitions';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The worker's Stripe collection from the parsed config: null when the platform has no set-up. */
export function stripeCollectionOf(
  stripe: StripeSettings | null,
  platformRateMinorPerMinute: string,
): StripeCollection | null {
  return stripe ? { platform: createStripePlatform(stripe), platformRateMinorPerMinute } : null;
}

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled here. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  tuning?: Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentLocalActivityExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentActivityTaskPolls'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxCachedWorkflows'
    | 'workflowThreadPoolSize'
    | 'stickyQueueScheduleToStartTimeout'
  >;
  /**
   * Run the sweepers next to the worker (default true): webhook deliveries, rate changes not yet
   * delivered to their subscriptions, and subscription workflows a crash left unstarted.
   */
  sweep?: boolean;
  /** The platform's Stripe set-up for the presenter; absent or null: stripe mode stays manual. */
  stripe?: StripeCollection | null;
  log?: Logger;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createActivities({ stripe: options.stripe?.platform ?? null, ...options.deps }),
    ...options.tuning,
  });
  if (options.sweep !== false) {
    // Every process that runs a worker also starts what a crash left behind.
    startSweepers({
      sql: options.deps.sql,
      temporal: worker.client!,
      isRunning: () => !['STOPPED', 'FAILED'].includes(worker.getState()),
      stripe: options.stripe ?? null,
      ...(options.log ? { log: options.log } : {}),
    });
  }
  return worker;
}
