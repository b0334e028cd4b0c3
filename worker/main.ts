/** `npm run worker`: the Temporal worker alone, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfigOrExit, workerConfigSchema } from '../lib/config';
import { createSql } from '../db/client';
import { migrate } from '../db/migrate';
import { createLogger } from '../lib/logger';
import { createWorker, stripeCollectionOf } from './create-worker';

const config = loadConfigOrExit(workerConfigSchema);
const log = createLogger(config.LOG_LEVEL, 'tally-worker');
Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });

const sql = createSql(config.DATABASE_URL);
await migrate(sql);
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  deps: { sql, stripeConfigured: config.stripe !== null },
  stripe: stripeCollectionOf(config.stripe, config.PLATFORM_RATE_MINOR_PER_MINUTE),
  log,
});
log.info(
  { taskQueue: worker.options.taskQueue, temporal: config.TEMPORAL_ADDRESS },
  'worker running',
);
// Worker.run() returns after SIGINT/SIGTERM, once in-flight tasks are done.
await worker.run();
await connection.close();
await sql.end({ timeout: 5 });
log.info('worker stopped');
