/**
 * The API server for `npm run bench:api`, run as a child process so the load generator does
 * not share its event loop. Serves on loopback and reports its port over IPC.
 *
 * The Temporal client sits on a lazy connection: the benchmarked GETs never call Temporal, so
 * no server is needed (a route that did would fail, not hang: no retry interceptor).
 */
import { Client, Connection } from '@temporalio/client';
import { createSql } from '../db/client';
import { createLogger } from '../lib/logger';
import { startServer } from '../api/server';

const url = process.env.DATABASE_URL;
if (!url || !process.send) throw new Error('bench/api-server.ts is started by bench/api.ts');

const sql = createSql(url, { max: Number(process.env.BENCH_PG_MAX ?? 20) });
const temporal = new Client({
  connection: Connection.lazy({ address: '127.0.0.1:7233', interceptors: [] }),
});
// Logging every request to stdout would measure the logger: warnings and errors only.
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn', 'tally-bench-api');
const { server, port } = await startServer(
  {
    sql,
    temporal,
    log,
    platformRateMinorPerMinute: process.env.PLATFORM_RATE_MINOR_PER_MINUTE ?? '15',
    adminKey: undefined,
    stripe: null,
  },
  0,
  '127.0.0.1',
);
process.send({ port });
// The driver asks for CPU time around each run: CPU per request does not depend on what else
// the machine is doing, unlike latency.
process.on('message', (m) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => {
  server.close();
  void sql.end({ timeout: 2 }).then(() => process.exit(0));
});
