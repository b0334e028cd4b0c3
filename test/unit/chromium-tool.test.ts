/**
 * Chromium lookup for the browser tests (README, "Tools"): TALLY_CHROMIUM, then PATH; with
 * neither (and no apt-get to install with) the browser tests fail with a message saying how to
 * get it, never skip.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureChromium, findChromium } from '../../tools/chromium';
import { launchBrowser } from '../helpers/browser';

let root: string;
const saved = { PATH: process.env.PATH, TALLY_CHROMIUM: process.env.TALLY_CHROMIUM };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tally-chromium-'));
  await mkdir(join(root, 'bin'));
  process.env.PATH = join(root, 'bin');
  delete process.env.TALLY_CHROMIUM;
});
afterEach(async () => {
  process.env.PATH = saved.PATH;
  if (saved.TALLY_CHROMIUM === undefined) delete process.env.TALLY_CHROMIUM;
  else process.env.TALLY_CHROMIUM = saved.TALLY_CHROMIUM;
  await rm(root, { recursive: true, force: true });
});

describe('chromium lookup', () => {
  it('finds chromium on PATH, and TALLY_CHROMIUM first', async () => {
    const onPath = join(root, 'bin', 'chromium');
    await writeFile(onPath, '#!/bin/sh\n');
    await chmod(onPath, 0o755);
    expect(await findChromium()).toBe(onPath);
    const explicit = join(root, 'my-chromium');
    await writeFile(explicit, '#!/bin/sh\n');
    await chmod(explicit, 0o755);
    process.env.TALLY_CHROMIUM = explicit;
    expect(await findChromium()).toBe(explicit);
  });

  it('an unusable TALLY_CHROMIUM is an error naming the variable', async () => {
    process.env.TALLY_CHROMIUM = join(root, 'nope');
    await expect(findChromium()).rejects.toThrow(/TALLY_CHROMIUM/);
  });

  it('without chromium the browser tests fail saying how to get it', async () => {
    expect(await findChromium()).toBeUndefined();
    await expect(launchBrowser()).rejects.toThrow(/npm run tools -- chromium/);
    await expect(ensureChromium()).rejects.toThrow(/apt-get install chromium/);
  });
});
