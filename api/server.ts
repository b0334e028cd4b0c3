/** Serves the API over HTTP; shared by `npm run api` and `npm start`. */
import { serve, type ServerType } from '@hono/node-server';
import type { ApiDeps } from './context';
import { createApp } from './app';
import { startUsageDispatcher } from '../background/usage-dispatcher';

export function startServer(
  deps: ApiDeps,
  port: number,
  hostname: string,
  options: { usageDispatch?: 'on' | 'paused'; usageSignalsPerSecond?: number } = {},
): Promise<{ server: ServerType; port: number }> {
  const app = createApp(deps);
  const dispatcher =
    options.usageDispatch === 'paused'
      ? null
      : startUsageDispatcher({ ...deps, maxPerSecond: options.usageSignalsPerSecond });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
      resolve({ server, port: info.port }),
    );
    // The dispatcher signals workflows of stored usage; it stops with the server.
    server.once('close', () => void dispatcher?.stop());
  });
}
