/**
 * GET /docs in a real browser with every request outside the server aborted: Swagger UI
 * renders the API reference from files this server serves, nothing from a CDN.
 */
import type { ServerType } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../api/server';
import { launchBrowser, offlineContext, screenshot } from '../helpers/browser';
import { testApiDeps } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/db';
import { unreachableTemporalClient } from '../helpers/lazy-temporal';

let db: TestDb;
let server: ServerType;
let origin: string;
let browser: Browser;
const temporal = unreachableTemporalClient();

beforeAll(async () => {
  db = await createTestDb();
  const started = await startServer(testApiDeps(db.sql, temporal), 0, '127.0.0.1', {
    usageDispatch: 'paused',
  });
  server = started.server;
  origin = `http://127.0.0.1:${started.port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await temporal.connection.close();
  await db?.drop();
});

describe('/docs in a browser, offline', () => {
  it('renders the API reference with no network beyond the server and no CSP violation', async () => {
    const { context, blocked } = await offlineContext(browser, origin);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${origin}/docs`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    // Swagger UI has fetched /openapi.json and drawn the operations.
    await page.locator('.info .title', { hasText: 'Tally API' }).waitFor({ timeout: 30_000 });
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    await expect
      .poll(() => page.locator('.opblock-summary-path', { hasText: '/v1/clients' }).count())
      .toBeGreaterThan(0);
    await screenshot(page, 'docs', 'api-reference');
    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
