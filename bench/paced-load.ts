/**
 * An open-loop load generator at a fixed, evenly paced rate (wrk2-style), for latency at a
 * given arrival rate. Request i is due at start + i / rate whatever happened to the others;
 * its latency runs from that due time to the end of its response, so time spent waiting for
 * a free connection or behind a slow answer counts (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: it limits each connection per second (send back to back
 * until the second's quota is used, then wait for the next second), so a "fixed rate" arrives
 * as a burst of every connection at full speed at the top of each second.
 *
 * Raw keep-alive sockets and one pre-built request: on a two-core machine the generator shares
 * the CPU with the server and Postgres, so it should cost as little as it can (node:http's
 * client costs about three times as much per request). One request at a time per connection;
 * answers must carry Content-Length (anything else counts as an error).
 */
import { connect, type Socket } from 'node:net';

export interface PacedLoadOptions {
  url: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
}

export interface PacedLoadResult {
  /** Latencies in ms of 200 answers, sorted. */
  latencies: number[];
  sent: number;
  non2xx: number;
  errors: number;
  /** Answers per second over the run. */
  achievedRate: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

interface Connection {
  socket: Socket;
  buffer: Buffer;
  dueAt: number | null;
}

export async function pacedLoad(o: PacedLoadOptions): Promise<PacedLoadResult> {
  const url = new URL(o.url);
  const request = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      Object.entries(o.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
  );
  const total = Math.round(o.rate * o.seconds);
  const latencies: number[] = [];
  const waiting: number[] = []; // due times of requests with no free connection yet
  const idle: Connection[] = [];
  let sent = 0;
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let allAnswered: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allAnswered = resolve));

  const send = (conn: Connection, dueAt: number) => {
    conn.dueAt = dueAt;
    conn.socket.write(request);
  };
  const complete = (conn: Connection, ok: boolean | null) => {
    if (ok === true) latencies.push(performance.now() - conn.dueAt!);
    else if (ok === false) non2xx++;
    else errors++;
    conn.dueAt = null;
    if (++answered === total) allAnswered();
    if (conn.socket.destroyed) return; // a broken connection is not used again
    const next = waiting.shift();
    if (next !== undefined) send(conn, next);
    else idle.push(conn);
  };
  const onData = (conn: Connection, chunk: Buffer) => {
    conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
    const end = conn.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = conn.buffer.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      conn.buffer = Buffer.alloc(0);
      return complete(conn, null);
    }
    const size = end + 4 + Number(length[1]);
    if (conn.buffer.length < size) return;
    conn.buffer = conn.buffer.subarray(size);
    complete(conn, head.startsWith('HTTP/1.1 200'));
  };

  // The server may close a keep-alive connection that sat idle (Node's keepAliveTimeout): a
  // closed connection leaves the idle list, its request (if any) counts as an error, and a
  // fresh one takes its place, so a quiet connection never swallows a request.
  let running = true;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const conn: Connection = {
        socket: connect(Number(url.port), url.hostname),
        buffer: Buffer.alloc(0),
        dueAt: null,
      };
      conn.socket.setNoDelay(true);
      conn.socket.on('data', (chunk) => onData(conn, chunk));
      conn.socket.on('error', reject); // before connecting: the run cannot start
      conn.socket.on('close', () => {
        const at = idle.indexOf(conn);
        if (at >= 0) idle.splice(at, 1);
        if (conn.dueAt !== null) complete(conn, null);
        if (running) void open().catch(() => errors++);
      });
      conn.socket.once('connect', () => {
        const next = waiting.shift();
        if (next !== undefined) send(conn, next);
        else idle.push(conn);
        resolve();
      });
    });
  await Promise.all(Array.from({ length: o.connections }, open));

  const start = performance.now();
  // Timers tick about every millisecond; each tick sends every request now due.
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
    while (sent < due) {
      const dueAt = start + (sent / o.rate) * 1000;
      sent++;
      const conn = idle.pop();
      if (conn) send(conn, dueAt);
      else waiting.push(dueAt);
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  running = false;
  for (const conn of idle) conn.socket.destroy();
  latencies.sort((a, b) => a - b);
  return { latencies, sent, non2xx, errors, achievedRate: answered / elapsed };
}
