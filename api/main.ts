/** `npm run api`: the HTTP API alone, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { apiConfigSchema, loadConfigOrExit } from '../lib/config';
import { createSql } from '../db/client';
import { createStripePlatform } from '../collection/stripe/client';
import { migrate } from '../db/migrate';
import { createLogger } from '../lib/logger';
import { connectTemporal } from '../temporal/connection';
import { startServer } from './server';

const config = loadConfigOrExit(apiConfigSchema);
const log = createLogger(config.LOG_LEVEL, 'tally-api');
const sql = createSql(config.DATABASE_URL, { max: 20 });
await migrate(sql);
const temporal = await connectTemporal(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
const { server, port } = await startServer(
  {
    sql,
    temporal,
    log,
    platformRateMinorPerMinute: config.PLATFORM_RATE_MINOR_PER_MINUTE,
    adminKey: config.TALLY_ADMIN_KEY,
    stripe: config.stripe ? createStripePlatform(config.stripe) : null,
  },
  config.PORT,
  config.HOST,
  { usageDispatch: config.USAGE_DISPATCH, usageSignalsPerSecond: config.USAGE_SIGNALS_PER_SECOND },
);
log.info({ url: `http://${config.HOST}:${port}` }, 'api listening');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void Promise.all([sql.end({ timeout: 5 }), temporal.connection.close()]).then(() =>
      process.exit(0),
    );
  });
}
