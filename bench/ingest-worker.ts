/**
 * The worker process of `npm run bench:ingest`: the production worker (worker/create-worker.ts)
 * with the tuning bench:renewals uses, so 1,000 workflows stay cached and fold usage in parallel.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createSql } from '../db/client';
import { createWorker } from '../worker/create-worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const sql = createSql(process.env.DATABASE_URL!, { max: 20 });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await createWorker({
  connection,
  namespace: 'default',
  deps: { sql },
  tuning: {
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentLocalActivityExecutions: 200,
    maxConcurrentWorkflowTaskPolls: 8,
    maxConcurrentActivityTaskPolls: 8,
    maxCachedWorkflows: 4000,
  },
});
process.once('SIGTERM', () => worker.shutdown());
await worker.run();
await connection.close();
await sql.end({ timeout: 5 });
