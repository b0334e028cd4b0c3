/**
 * A real browser for test/browser: Debian's Chromium driven by playwright-core (no browser
 * download). Never skipped: without Chromium the test fails with a message saying how to get it.
 * Every request that leaves the test server's origin is aborted and recorded, so a page that
 * would need the internet (a CDN) shows up as a failure, not a slow pass.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_HELP, findChromium } from '../../tools/chromium';

/** Where screenshots go (gitignored); printed so a reader of the run can open them. */
export const SCREENSHOT_DIR = resolve('test-results');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await findChromium();
  if (!executablePath) throw new Error(`no Chromium for the browser tests. ${CHROMIUM_HELP}`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export interface OfflineContext {
  context: BrowserContext;
  /** URLs the page tried to reach outside the server (each was aborted). */
  blocked: string[];
}

/** A browser context that can reach `origin` and nothing else. */
export async function offlineContext(
  browser: Browser,
  origin: string,
  options: { width?: number; height?: number; locale?: string } = {},
): Promise<OfflineContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    locale: options.locale ?? 'en-US',
    acceptDownloads: true,
  });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url === origin || url.startsWith('data:')) {
      return route.continue();
    }
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  return { context, blocked };
}

/** Saves a full-page screenshot under test-results/<folder>/<name>.png and prints its path. */
export async function screenshot(page: Page, folder: string, name: string): Promise<string> {
  const dir = join(SCREENSHOT_DIR, folder);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`[screenshot] ${path}`);
  return path;
}
