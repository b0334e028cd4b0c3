/**
 * An open-loop load generator at a fixed, evenly paced rate (wrk2-style), for latency at a
 * given arrival rate. Request i is due at start + i / rate whatever happened to the others;
 * its latency runs from that due time to the end of its response, so time spent waiting for
 * a free connection or behind a slow answer counts (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: it limits each connection per second (send back to back
 * until the second's quota is used, then wait for the next second), so a "fixed rate" arrives
 * as a burst of every connection at full speed at the top of each second.
 */
import { Agent, request } from 'node:http';

export interface PacedLoadOptions {
  url: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
}

export interface PacedLoadResult {
  /** Latencies in ms of 2xx answers, sorted. */
  latencies: number[];
  sent: number;
  non2xx: number;
  errors: number;
  /** Answers per second over the run. */
  achievedRate: number;
}

export async function pacedLoad(o: PacedLoadOptions): Promise<PacedLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const url = new URL(o.url);
  const total = Math.round(o.rate * o.seconds);
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();

  const fire = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, headers: o.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - dueAt);
            else non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });

  const inFlight: Promise<void>[] = [];
  await new Promise<void>((finish) => {
    // Timers tick about every millisecond; each tick sends every request now due.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
      while (sent < due) {
        const dueAt = start + (sent / o.rate) * 1000;
        sent++;
        inFlight.push(fire(dueAt).then(() => void done++));
      }
      if (sent < total) setTimeout(tick, 1);
      else finish();
    };
    tick();
  });
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { latencies, sent, non2xx, errors, achievedRate: done / elapsed };
}
