/**
 * Tool lookup (README, "Tools"): an explicit path in the tool's variable first (an unusable one
 * is an error naming the variable, never skipped), then PATH, then the shared cache
 * (TALLY_CACHE_DIR); with none of them and no Go to build with, an error that says how to get
 * the tool. A made-up tool, so nothing is built or downloaded.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolUnavailableError } from '../../tools/common';
import { ensureGoTool, type GoToolSpec } from '../../tools/go-tool';

const spec: GoToolSpec = {
  tool: 'fake-tool',
  binary: 'tally-fake-tool',
  envVar: 'TALLY_FAKE_TOOL',
  goPackage: 'example.com/fake-tool@v0.0.1',
};

let root: string;
const saved = {
  PATH: process.env.PATH,
  TALLY_CACHE_DIR: process.env.TALLY_CACHE_DIR,
  TALLY_FAKE_TOOL: process.env.TALLY_FAKE_TOOL,
};

async function executable(path: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, 0o755);
  return path;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tally-tools-'));
  await mkdir(join(root, 'empty-path'));
  process.env.PATH = join(root, 'empty-path'); // no `go`, no tool
  process.env.TALLY_CACHE_DIR = join(root, 'cache');
  delete process.env.TALLY_FAKE_TOOL;
});
afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await rm(root, { recursive: true, force: true });
});

describe('tool lookup', () => {
  it('with nothing found and no Go, says how to get the tool', async () => {
    const err = await ensureGoTool(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain('fake-tool: not found');
    expect(message).toContain('Go is not installed');
    expect(message).toContain('npm run tools fake-tool');
    expect(message).toContain('put `tally-fake-tool` on PATH');
    expect(message).toContain('set TALLY_FAKE_TOOL=/path/to/tally-fake-tool');
  });

  it('finds it in the cache, then on PATH before the cache, then the variable before both', async () => {
    const cached = await executable(join(root, 'cache', 'bin', 'tally-fake-tool'));
    expect(await ensureGoTool(spec)).toBe(cached);

    const onPath = await executable(join(root, 'on-path', 'tally-fake-tool'));
    process.env.PATH = `${join(root, 'empty-path')}:${join(root, 'on-path')}`;
    expect(await ensureGoTool(spec)).toBe(onPath);

    const explicit = await executable(join(root, 'explicit', 'my-build'));
    process.env.TALLY_FAKE_TOOL = explicit;
    expect(await ensureGoTool(spec)).toBe(explicit);
  });

  it('refuses an unusable explicit path instead of falling back, naming the variable', async () => {
    await executable(join(root, 'cache', 'bin', 'tally-fake-tool'));
    process.env.TALLY_FAKE_TOOL = join(root, 'nowhere');
    await expect(ensureGoTool(spec)).rejects.toThrow(
      /TALLY_FAKE_TOOL=.*nowhere is set but is not an executable file/,
    );
  });
});
