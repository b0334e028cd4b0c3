/** Serves the API over HTTP; shared by `npm run api` and `npm start`. */
import { serve, type ServerType } from '@hono/node-server';
import type { ApiDeps } from './context';
import { createApp } from './app';

export function startServer(
  deps: ApiDeps,
  port: number,
  hostname: string,
): Promise<{ server: ServerType; port: number }> {
  const app = createApp(deps);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
}
