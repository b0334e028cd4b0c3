/**
 * The Temporal dev server both Temporal benchmarks run against: headless on loopback, Tally's
 * search attributes registered (the same flags as `npm start`), state in a throwaway SQLite file
 * under `dir` with a write-ahead log and no sync per commit, and its Prometheus metrics on a
 * free loopback port (`serviceRequests` counts the requests it served, by operation). Resolves
 * once the namespace answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { getFreePort, waitForPort } from '../lib/ports';
import { ensureTemporalCli } from '../tools';
import { searchAttributeFlags } from '../tools/search-attribute-flags';

export interface BenchTemporal {
  address: string;
  /** Requests the server has served so far, by operation (e.g. SignalWorkflowExecution). */
  serviceRequests(): Promise<Map<string, number>>;
  child: ChildProcess;
}

export async function startBenchTemporal(dir: string): Promise<BenchTemporal> {
  const cli = await ensureTemporalCli();
  const port = await getFreePort();
  const metricsPort = await getFreePort();
  const child = spawn(
    cli,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--db-filename',
      join(dir, 'temporal.db'),
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=off',
      ...searchAttributeFlags(),
      '--metrics-port',
      String(metricsPort),
      '--log-level',
      'error',
    ],
    // Its own process group: a bench's Ctrl-C reaches the bench, which stops it.
    { stdio: 'ignore', detached: true },
  );
  const address = `127.0.0.1:${port}`;
  await waitForPort(port, '127.0.0.1', 60_000);
  const connection = await Connection.connect({ address });
  try {
    for (let i = 0; ; i++) {
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await connection.close();
  }
  const serviceRequests = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const counts = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^service_requests\{.*?operation="([^"]+)".*\} (\S+)$/.exec(line);
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]));
    }
    return counts;
  };
  return { address, child, serviceRequests };
}
