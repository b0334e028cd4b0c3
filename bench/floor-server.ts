/**
 * The floor of `npm run bench:api`: a bare Node HTTP server on loopback, in its own process like
 * the API server, answering `GET /<bytes>` with a constant JSON body of that many bytes and the
 * headers a JSON answer carries. The same generator against it, in the same run, gives the least
 * latency this machine allows at that rate; the API's p99 is reported as a ratio to it.
 */
import { createServer } from 'node:http';

if (!process.send) throw new Error('bench/floor-server.ts is started by bench/api.ts');

const bodies = new Map<number, Buffer>();
const bodyOf = (bytes: number) => {
  let b = bodies.get(bytes);
  if (!b) {
    // A JSON string padded to the size: `"xxxx...x"`.
    b = Buffer.from(`"${'x'.repeat(Math.max(0, bytes - 2))}"`);
    bodies.set(bytes, b);
  }
  return b;
};

const server = createServer((req, res) => {
  const bytes = Number((req.url ?? '/').slice(1)) || 2;
  const body = bodyOf(Math.min(bytes, 1_000_000));
  res.writeHead(200, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': body.length,
  });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m) => {
  if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
