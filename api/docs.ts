/**
 * GET /docs: the interactive API reference over /openapi.json, served entirely from this server
 * (Swagger UI's files from the `swagger-ui-dist` package, read once), so it works offline and
 * behind a strict Content-Security-Policy: no CDN, no inline script.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import type { AppEnv } from './context';

const ASSETS = '/docs/assets';

/** Nothing but this server: the page, its scripts, styles and the document it reads. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Starts Swagger UI on the page: a file, not an inline script, so the CSP needs no exception.
 * `validatorUrl: null`: by default it would fetch a validity badge from swagger.io.
 */
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tally API reference</title>
  <link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png">
  <link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${ASSETS}/swagger-ui-bundle.js"></script>
  <script src="${ASSETS}/init.js"></script>
</body>
</html>
`;

/** The files the page loads, by name, with their content type. */
const FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

let loaded: Map<string, Buffer> | null = null;
/** Swagger UI's files, read from the package on first use. */
function assets(): Map<string, Buffer> {
  if (loaded) return loaded;
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  loaded = new Map(Object.keys(FILES).map((name) => [name, readFileSync(join(dir, name))]));
  loaded.set('init.js', Buffer.from(INIT_JS));
  return loaded;
}

/** Registers the docs page and its assets on the app. */
export function registerDocs(app: Hono<AppEnv>): void {
  app.get('/docs', (c) => {
    c.header('content-security-policy', DOCS_CSP);
    return c.html(PAGE);
  });
  app.get(`${ASSETS}/:file`, (c) => {
    const name = c.req.param('file');
    const body = assets().get(name);
    if (!body) return c.notFound();
    const type = name === 'init.js' ? 'text/javascript; charset=utf-8' : FILES[name]!;
    c.header('content-type', type);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(new Uint8Array(body));
  });
}
