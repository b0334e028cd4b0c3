/** Builds the worker: activities get their dependencies here, once. */
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Logger } from '../lib/logger';
import { TASK_QUEUE } from '../workflows/definitions';
import { startSweeper } from './sweeper';
import { sweepRateChanges } from './rate-change-sweeper';
import { sweepSubscriptionStarts } from './subscription-sweeper';
import { sweepWebhookDeliveries } from './webhook-sweeper';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

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
  log?: Logger;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createActivities(options.deps),
    ...options.tuning,
  });
  if (options.sweep !== false) {
    // Every process that runs a worker also starts what a crash left behind.
    const { sql } = options.deps;
    const temporal = worker.client!;
    const common = {
      isRunning: () => !['STOPPED', 'FAILED'].includes(worker.getState()),
      ...(options.log ? { log: options.log } : {}),
    };
    startSweeper({
      ...common,
      what: 'deliveries',
      sweep: () => sweepWebhookDeliveries(sql, temporal),
      intervalMs: 30_000,
    });
    startSweeper({
      ...common,
      what: 'rate changes',
      sweep: () => sweepRateChanges(sql, temporal, options.log ? { log: options.log } : {}),
      intervalMs: 30_000,
    });
    startSweeper({
      ...common,
      what: 'subscriptions',
      sweep: () => sweepSubscriptionStarts(sql, temporal, options.log ? { log: options.log } : {}),
      intervalMs: 30_000,
    });
  }
  return worker;
}
